"""What one vendor package provides, and the plain values its parts produce (pure).

A vendor package (provisioner/vendors/<vendor>/) builds one `Vendor` and
provisioner/vendors/__init__.py registers it in a tuple. Identification, the SNMP parser, the
catalog self-check and the service loop over the registered vendors; none of them names one.

    name_rules        (pattern, name match + catalog -> FileInfo): every name its phones ask for,
                      served or answered 404 on purpose; `folders` it may ask below
    parse_user_agent  text -> UserAgentInfo: vendor, model token, version, MAC
    snmp_oids, parse_snmp   what to GET, and {oid: text} -> SnmpReading
    render            (normalised name, RenderContext) -> RenderedFile | None (None: not served)
    secret_parameters the parameters of its files whose value is a secret (SIP and admin
                      passwords, SNMP communities, provisioning paths holding a key or token):
                      a pattern whose `value` group provisioner.masking hides
    ouis, device_file, firmware_file_name, templates   facts: MAC prefixes, names, folder
    ua_samples, snmp_samples   wire samples; the tests run every registered vendor's

A name may be claimed by two vendors (Polycom's master <mac>.cfg is Yealink's device file): such
a rule marks its claim `shared`, and the User-Agent or the MAC's OUI decides between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from firmware_catalog import Catalog
from provisioner.mac import normalize_mac
from provisioner.snmp.reading import SnmpReading
from provisioner.values import Certainty, Identification, RenderContext, RenderedFile, Role, UploadKind

NO_MAC = "000000000000"  # Polycom's "any phone" name, not a MAC
MAC = r"(?P<mac>[0-9a-f]{12})"  # a MAC in a normalised (lower-case) file name


@dataclass(frozen=True)
class UserAgentInfo:
    vendor: str
    model: str  # token as the UA spells it: "SPIP_331", "VVX_600", "GXP1620", "T21P"
    firmware: str | None
    mac: str | None
    phase: str | None = None  # the request phase the UA states, lower case: "updater" | "application"
    # Whether `firmware` is the application's version: True yes; False no (a boot loader's,
    # e.g. Polycom's Updater); None the UA cannot tell: trusted only for a name that only the
    # application asks for (FileInfo.application_phase).
    version_is_app: bool | None = True


@dataclass(frozen=True)
class FileInfo:
    """What the file name alone says."""

    role: Role
    vendor: str | None = None
    model: str | None = None  # a model token the name carries (part number, common-file stem, cfg<model>)
    catalog_key: str | None = None
    mac: str | None = None
    application_phase: bool = False  # only the phone's application (not its boot loader) asks for this name
    shared: bool = False  # another vendor's phones ask for this name too: the UA or OUI decides


NameRule = tuple[re.Pattern[str], Callable[[re.Match[str], Catalog], FileInfo]]


@dataclass(frozen=True)
class UaSample:
    """A User-Agent + file name and what identify() must answer (tests/test_identification.py).

    `source` is the phones.md source key for samples quoted there verbatim; "pattern [KEY]"
    marks a realistic sample built from the documented shape for a homologated model whose real
    string is not public (MACs use the vendor's OUI; versions are the homologated ones unless
    stated).
    """

    user_agent: str
    filename: str
    expected: Identification
    source: str


@dataclass(frozen=True)
class SnmpSample:
    """An SNMP answer and what the vendor's parser must make of it (tests/test_snmp_parse.py).

    `real` says whether the sysDescr shape was seen in a public capture; every other row is a
    GUESS at a shape (no public sysDescr exists for any homologated model, phones.md §7) and
    must be replaced by a lab capture per model: `snmpget -v2c -c <community> -On <phone>
    <the vendor's snmp_oids>`. Firmware values are the homologated ones (service-model.md §9).
    """

    name: str
    varbinds: dict[str, str]
    model: str | None
    firmware: str | None
    mac: str | None
    real: bool
    source: str


@dataclass(frozen=True)
class Vendor:
    """Everything the pipeline knows about one vendor's phones."""

    name: str  # as catalog rows spell it: "polycom"
    templates: str  # its folder under templates/phones/
    render: Callable[[str, RenderContext], RenderedFile | None]  # None: this vendor does not serve the name
    name_rules: tuple[NameRule, ...]  # every name its phones ask for, first match wins
    device_file: str  # the per-device file, "{mac}-user.cfg": what `provisioner render MAC` shows
    firmware_file_name: str | None  # the image name its phones ask for, from the row: "{firmware}.rom"
    parse_user_agent: Callable[[str], UserAgentInfo | None]
    ua_samples: tuple[UaSample, ...]
    ouis: tuple[str, ...]  # MAC prefixes: a hint only (OUIs get resold)
    folders: tuple[str, ...] = ()  # folders its phones put before a name ("grandstream" for Grandstream/)
    snmp_oids: tuple[str, ...] = ()  # what to GET, in order; () when its phones have no agent we know
    parse_snmp: Callable[[Mapping[str, str]], SnmpReading] | None = None
    snmp_samples: tuple[SnmpSample, ...] = ()
    secret_parameters: re.Pattern[str] | None = None
    # Names its phones write back with HTTP PUT (logs, override files): (pattern with a `mac`
    # group, kind), matched against the normalised name; () when its phones upload nothing.
    uploads: tuple[tuple[re.Pattern[str], UploadKind], ...] = ()


# -- building blocks for name rules and User-Agent parsers -------------------------------------
def wire_mac(text: str | None) -> str | None:
    """A MAC as a phone wrote it, normalised; None for none and for Polycom's all-zero name."""
    mac = normalize_mac(text)
    return None if mac == NO_MAC else mac


def group_mac(found: re.Match[str]) -> str | None:
    return wire_mac(found.groupdict().get("mac"))


def user_agent_rule(vendor: str, pattern: re.Pattern[str], *, trim_version: bool) -> Callable[[str], UserAgentInfo | None]:
    """A parser for a User-Agent that is one pattern, matched at the start, with `model`,
    `version` and an optional `mac` group; the model token upper case, `trim_version` drops a
    trailing "." from the version."""

    def parse(text: str) -> UserAgentInfo | None:
        found = pattern.match(text)
        if found is None:
            return None
        version = found["version"].rstrip(".") if trim_version else found["version"]
        return UserAgentInfo(vendor, found["model"].upper(), version, wire_mac(found["mac"]))

    return parse


def image_rule(vendor: str) -> Callable[[re.Match[str], Catalog], FileInfo]:
    """A firmware image name: the catalog row when exactly one of the vendor's rows uses it."""

    def classify_image(found: re.Match[str], catalog: Catalog) -> FileInfo:
        users = [e for e in catalog.by_firmware_file(found.string) if e.vendor == vendor]
        return FileInfo(Role.FIRMWARE, vendor, catalog_key=users[0].key if len(users) == 1 else None)

    return classify_image


def identified(
    role: Role, vendor: str, model: str, key: str | None, firmware: str | None, mac: str | None,
    certainty: Certainty = Certainty.CERTAIN, reported: str | None = None,
) -> Identification:
    """A sample's expected answer; `reported` is the UA's version when it is not trusted."""
    return Identification(role, vendor, model, key, firmware, mac, certainty, reported or firmware)
