"""The provisioner's exception tree. Callers catch by meaning; one place maps it to answers
(provisioner.web.errors: Spanish pages for people, JSON for the API, the one 404 for phones;
the CLI prints the message and exits 2).

    ProvisionerError
    ├── RenderError                     a vendor cannot write a config as asked
    │   └── UnsupportedSetting (ValueError)  a tenant or line value the phone cannot take
    ├── InputError (ValueError)         a person's value we refuse; the message says how to fix it
    │   ├── NotFoundError (LookupError) no tenant / phone / user / ticket by that name
    │   └── ConflictError               it exists already, or the current state refuses it
    ├── AdminError                      (kept name) a request the operator must correct
    ├── ImportingError                  (provisioner.importing.errors) an extension list to fix
    ├── SnmpError                       (provisioner.snmp.errors) a phone's SNMP agent did not answer as asked
    └── SettingsError (ValueError)      a PROVISIONER_* setting or serve option out of range

Messages are written for the person who must act on them; no secret ever goes into one.
"""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base of every error the provisioner raises on purpose."""


class RenderError(ProvisionerError):
    """A vendor cannot write a config for this phone as asked."""


class UnsupportedSetting(RenderError, ValueError):
    """A tenant or line value the phone's config format cannot carry (e.g. an unknown transport)."""


class InputError(ProvisionerError, ValueError):
    """A value from a person (CLI option, form field, API body) that we refuse."""


class NotFoundError(InputError, LookupError):
    """Nothing by that name: tenant, phone, user, ticket."""


class ConflictError(InputError):
    """It exists already, or its current state refuses the change."""


class SettingsError(ProvisionerError, ValueError):
    """A setting (environment or `serve` option) that cannot be used."""
