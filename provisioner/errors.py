"""The provisioner's exception tree. Callers catch by meaning; one place maps it to answers
(provisioner.web.errors: Spanish pages for people, JSON for the API, nothing for phones, whose
one 404 is the config handler's; the CLI prints the message and exits 1).

    ProvisionerError
    ├── RenderError                          a vendor cannot write a config as asked
    │   └── UnsupportedSetting (ValueError)  a tenant or line value the phone cannot take
    │       └── UnwritableSecret             (provisioner.vendors.yealink.renderer) a password key = value cannot carry
    ├── InputError (ValueError)              a person's value we refuse; the message says how to fix it
    │   ├── NotFoundError (LookupError)      no tenant / phone / user / ticket by that name
    │   ├── ConflictError                    it exists already, or the current state refuses it
    │   ├── MalformedInput                   not even well-formed: broken JSON or form, an id out of range
    │   └── ImportingError                   (provisioner.importing.errors) an extension list to fix
    │       ├── UnreadableFile               not a CSV/XLSX we can read, unknown sheet, no header row
    │       ├── UnknownTenant (NotFoundError)  no tenant with that slug
    │       └── FileChanged (ConflictError)  (provisioner.importing.api) not the file previewed
    ├── AccessDenied                         who asks may not do this (role, CSRF token)
    ├── SnmpError                            (provisioner.snmp.errors) a phone's SNMP agent did not answer as asked
    │   ├── UnsupportedVendor                the vendor has no SNMP agent we know how to read
    │   ├── AgentError                       the agent answered with an SNMP error-status
    │   └── RequestFailed                    the request was not made, or the engine failed
    └── SettingsError (ValueError)           a PROVISIONER_* setting or serve option out of range

A name in parentheses is a second base class: catching it catches this one too.
tests/test_errors.py checks this drawing against the classes. Messages are written for the
person who must act on them; no secret ever goes into one.
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


class MalformedInput(InputError):
    """A request that is not even well-formed: broken JSON or form data, a number out of range."""


class AccessDenied(ProvisionerError):
    """The person asking may not do this: wrong role, or a form without its CSRF token."""


class SettingsError(ProvisionerError, ValueError):
    """A setting (environment or `serve` option) that cannot be used."""
