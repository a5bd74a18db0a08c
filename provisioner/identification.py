"""What a request tells about the phone that made it: file name + User-Agent -> Identification (pure).

    identify(filename, user_agent, catalog)
        clean_filename   strip one leading '/', refuse path tricks, allow only a Grandstream/ folder
        classify         the name alone: role, vendor, MAC, model hint (part number, common-file code...)
        parse_user_agent the UA alone: vendor, model token, version, MAC, Polycom request phase
        merge            UA beats the name for vendor/model; the name's MAC beats the UA's;
                         the version is trusted only where the request phase makes it the app's

Certainty (values.Certainty):
    CERTAIN     a User-Agent named the model and agreed with the file name
    PROBABLE    the file name named the model (Polycom part number, Yealink common-file code,
                Grandstream cfg<model>.xml), or a UA named it but disagreed with the file name
    IMPROBABLE  only the vendor is known (a vendor-specific file name, or the MAC's OUI)
    NONE        nothing is known (an ambiguous <mac>.cfg from an unknown OUI, an unknown name)

A FIRMWARE request carries catalog_key when exactly one catalog row uses that image name
(34.72.0.75.rom), even without a model token: the GXP16xx share gxp1600fw.bin, so it has none.
Real wire samples and their expected answers live beside this module in ua_samples.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from firmware_catalog import Catalog
from provisioner.mac import normalize_mac, vendor_from_oui
from provisioner.values import Certainty, Identification, Role

POLYCOM, GRANDSTREAM, YEALINK = "polycom", "grandstream", "yealink"
GRANDSTREAM_FOLDER = "grandstream"
MAX_NAME = 255
MAX_USER_AGENT = 512
_NO_MAC = "000000000000"  # Polycom's "any phone" name, not a MAC


# -- User-Agent ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserAgentInfo:
    vendor: str
    model: str  # token as the UA spells it: "SPIP_331", "VVX_600", "GXP1620", "T21P"
    firmware: str | None
    mac: str | None
    phase: str | None = None  # Polycom "Type/" token, lower case: "updater" | "application"


_POLYCOM_UA = re.compile(r"Polycom(?P<family>[A-Za-z]+)-(?P<model>[A-Za-z0-9_]+?)-UA/(?P<version>[0-9][0-9.]{0,31})")
_POLYCOM_SN = re.compile(r"\(SN:\s*(?P<mac>[0-9A-Fa-f]{12})\)")
_POLYCOM_TYPE = re.compile(r"\bType/(?P<phase>[A-Za-z]+)")
_GRANDSTREAM_UA = re.compile(
    r"^Grandstream\s+Model\s+HW\s+(?P<model>[A-Za-z0-9_]+)(?:\s+V[^\s]{1,16})?\s+SW\s+(?P<version>[0-9][0-9A-Za-z._-]{0,31})"
    r"(?:\s+DevId\s+(?P<mac>[0-9A-Fa-f:.-]{12,17}))?",
    re.IGNORECASE,
)
_YEALINK_UA = re.compile(
    r"^Yealink\s+(?:SIP(?:\s+VP)?-)?(?P<model>[A-Za-z0-9_]+)\s+(?P<version>[0-9][0-9.]{0,31})"
    r"(?:\s+(?P<mac>[0-9A-Fa-f:.-]{12,17}))?",
    re.IGNORECASE,
)


def parse_user_agent(user_agent: str | None) -> UserAgentInfo | None:
    """The vendor, model token, version and MAC a provisioning User-Agent carries, or None."""
    if not user_agent:
        return None
    text = user_agent.strip()[:MAX_USER_AGENT]
    return _polycom_ua(text) or _grandstream_ua(text) or _yealink_ua(text)


def _polycom_ua(text: str) -> UserAgentInfo | None:
    found = _POLYCOM_UA.search(text)
    if found is None:
        return None
    rest = text[found.end() :]
    serial = _POLYCOM_SN.search(rest)
    phase = _POLYCOM_TYPE.search(rest)
    return UserAgentInfo(
        POLYCOM, found["model"], found["version"].rstrip("."), _mac(serial["mac"] if serial else None),
        phase["phase"].lower() if phase else None,
    )


def _grandstream_ua(text: str) -> UserAgentInfo | None:
    found = _GRANDSTREAM_UA.match(text)
    if found is None:
        return None
    return UserAgentInfo(GRANDSTREAM, found["model"].upper(), found["version"], _mac(found["mac"]))


def _yealink_ua(text: str) -> UserAgentInfo | None:
    found = _YEALINK_UA.match(text)
    if found is None:
        return None
    return UserAgentInfo(YEALINK, found["model"].upper(), found["version"].rstrip("."), _mac(found["mac"]))


def _mac(text: str | None) -> str | None:
    mac = normalize_mac(text)
    return None if mac == _NO_MAC else mac


# -- file names ------------------------------------------------------------------------------
def clean_filename(filename: str | None) -> tuple[str, str] | None:
    """(folder, lower-case name) for a plausible phone request, None for anything hostile.

    One leading '/' is stripped; the only folder allowed is Grandstream/ (its option-66 value).
    """
    if not filename or len(filename) > MAX_NAME:
        return None
    name = filename[1:] if filename.startswith("/") else filename
    if not name or name.startswith("/") or ".." in name or "\\" in name or not name.isprintable():
        return None
    folder, _, base = name.rpartition("/")
    if not base or folder.lower() not in ("", GRANDSTREAM_FOLDER):
        return None
    return folder.lower(), base.lower()


@dataclass(frozen=True)
class FileInfo:
    """What the file name alone says."""

    role: Role
    vendor: str | None = None
    model: str | None = None  # a model token the name carries (part number, common-file stem, cfg<model>)
    catalog_key: str | None = None
    mac: str | None = None
    application_phase: bool = False  # Polycom: only the application asks for this name
    ambiguous_mac_cfg: bool = False  # <mac>.cfg: Polycom master or Yealink device


_MAC = r"(?P<mac>[0-9a-f]{12})"
_PART = r"[0-9]{4}-[0-9]{5}-[0-9]{3}"
Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Catalog], FileInfo]]


def _polycom(role: Role, *, app: bool) -> Callable[[re.Match[str], Catalog], FileInfo]:
    return lambda m, _: FileInfo(role, POLYCOM, mac=_group_mac(m), application_phase=app)


def _group_mac(found: re.Match[str]) -> str | None:
    return _mac(found.groupdict().get("mac"))


def _polycom_image(found: re.Match[str], catalog: Catalog) -> FileInfo:
    entry = catalog.by_part_number(found["part"])
    return FileInfo(Role.FIRMWARE, POLYCOM, found["part"], entry.key if entry else None)


def _yealink_common(found: re.Match[str], catalog: Catalog) -> FileInfo:
    entry = catalog.by_common_file_code(found["code"])
    return FileInfo(Role.COMMON, YEALINK, f"y000000000{found['code']}", entry.key if entry else None)


def _grandstream_common(found: re.Match[str], catalog: Catalog) -> FileInfo:
    model = found["model"].upper()
    entry = catalog.find(model, vendor=GRANDSTREAM)
    return FileInfo(Role.COMMON, GRANDSTREAM, model, entry.key if entry else None)


def _image(vendor: str) -> Callable[[re.Match[str], Catalog], FileInfo]:
    def classify_image(found: re.Match[str], catalog: Catalog) -> FileInfo:
        users = [e for e in catalog.by_firmware_file(found.string) if e.vendor == vendor]
        return FileInfo(Role.FIRMWARE, vendor, catalog_key=users[0].key if len(users) == 1 else None)

    return classify_image


def _mac_cfg(found: re.Match[str], _: Catalog) -> FileInfo:
    return FileInfo(Role.DEVICE, mac=_group_mac(found), ambiguous_mac_cfg=True)


# Every name the homologated desk phones ask for (phones.md §2.1, §2.2, §3.1, §3.3, §4.1, §4.3).
ROOT_RULES: tuple[Rule, ...] = (
    (re.compile(r"000000000000\.cfg"), _polycom(Role.MASTER, app=False)),
    (re.compile(_MAC + r"-user\.cfg"), _polycom(Role.DEVICE, app=True)),
    (re.compile(r"common\.cfg"), _polycom(Role.COMMON, app=True)),
    (re.compile(_MAC + r"-(?:(?:phone|web|license)\.cfg|(?:directory|calls)\.xml|app\.log)"), _polycom(Role.OTHER, app=True)),
    (re.compile(_MAC + r"-boot\.log"), _polycom(Role.OTHER, app=False)),  # uploaded by the Updater [ORYK]
    (re.compile(r"(?:sip|phone1)\.cfg"), _polycom(Role.OTHER, app=True)),  # stock CONFIG_FILES [WZ-PC]
    (re.compile(r"(?P<part>" + _PART + r")(?:\." + _PART + r")?\.sip\.ld"), _polycom_image),
    (re.compile(r"sip\.ld"), _image(POLYCOM)),
    (re.compile(r"y0{9}(?P<code>[0-9]{3})\.cfg"), _yealink_common),
    (re.compile(r"[0-9]+(?:\.[0-9]+){3}\.rom"), _image(YEALINK)),
    (re.compile(_MAC + r"\.cfg"), _mac_cfg),
)
GRANDSTREAM_RULES: tuple[Rule, ...] = (
    (re.compile(r"cfg" + _MAC + r"(?:\.xml|\.bin)?"), lambda m, _: FileInfo(Role.DEVICE, GRANDSTREAM, mac=_group_mac(m))),
    (re.compile(r"cfg(?P<model>[a-z]{2,4}[0-9]{3,5}[a-z]?)\.xml"), _grandstream_common),
    (re.compile(r"cfg\.xml"), lambda m, _: FileInfo(Role.COMMON, GRANDSTREAM)),
    (re.compile(r"[a-z]{2,4}[0-9]{3,5}fw\.bin"), _image(GRANDSTREAM)),
)
ALL_RULES = ROOT_RULES + GRANDSTREAM_RULES


def classify(folder: str, name: str, catalog: Catalog) -> FileInfo:
    """The file name's own answer; names under Grandstream/ only match Grandstream's names."""
    rules = GRANDSTREAM_RULES if folder else ALL_RULES
    for pattern, build in rules:
        found = pattern.fullmatch(name)
        if found:
            return build(found, catalog)
    return FileInfo(Role.UNKNOWN)


# -- putting it together ---------------------------------------------------------------------
def identify(filename: str, user_agent: str | None, catalog: Catalog) -> Identification:
    cleaned = clean_filename(filename)
    if cleaned is None:
        return Identification(Role.UNKNOWN)
    ua = parse_user_agent(user_agent)
    info = classify(*cleaned, catalog)
    if info.ambiguous_mac_cfg:
        info = _resolve_mac_cfg(info, ua.vendor if ua else None)
    return _from_file(info) if ua is None else _merge(info, ua, catalog)


def _resolve_mac_cfg(info: FileInfo, ua_vendor: str | None) -> FileInfo:
    """<mac>.cfg is Polycom's master file or Yealink's device file: vendor from UA, else OUI."""
    vendor = ua_vendor
    if vendor is None:
        hint = vendor_from_oui(info.mac)
        vendor = hint if hint in (POLYCOM, YEALINK) else None  # Grandstream phones never ask for it
    role = Role.MASTER if vendor == POLYCOM else Role.DEVICE
    return replace(info, role=role, vendor=vendor, application_phase=False)


def _from_file(info: FileInfo) -> Identification:
    if info.model is not None:
        certainty = Certainty.PROBABLE
    else:
        certainty = Certainty.IMPROBABLE if info.vendor else Certainty.NONE
    return Identification(
        info.role, info.vendor, info.model, info.catalog_key, mac=info.mac, certainty=certainty,
    )


def _merge(info: FileInfo, ua: UserAgentInfo, catalog: Catalog) -> Identification:
    entry = catalog.find(ua.model, vendor=ua.vendor)
    catalog_key = entry.key if entry else None
    disagree = (
        (info.vendor is not None and info.vendor != ua.vendor)
        or (info.mac is not None and ua.mac is not None and info.mac != ua.mac)
        or (info.model is not None and info.catalog_key != catalog_key)
    )
    return Identification(
        role=info.role,
        vendor=ua.vendor,
        model=ua.model,
        catalog_key=catalog_key,
        firmware=ua.firmware if _trust_version(info, ua) else None,
        mac=info.mac or ua.mac,
        certainty=Certainty.PROBABLE if disagree else Certainty.CERTAIN,
        reported_firmware=ua.firmware,
    )


def _trust_version(info: FileInfo, ua: UserAgentInfo) -> bool:
    """Polycom's early requests carry the boot loader's version, not the application's [WZ-PC]."""
    if ua.vendor != POLYCOM:
        return True
    if ua.phase is not None:
        return ua.phase == "application"
    return info.application_phase and info.vendor == POLYCOM
