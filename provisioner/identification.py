"""What a request tells about the phone that made it: file name + User-Agent -> Identification (pure).

    identify(filename, user_agent, catalog)
        clean_filename   strip one leading '/', refuse path tricks, allow only a vendor's folder
        classify         the name alone: every registered vendor's claim (role, MAC, model hint)
        parse_user_agent the UA alone: the first registered vendor whose parser reads it
        decide           one claim: a vendor's own name beats a shared one; between shared
                         claims (<mac>.cfg: Polycom master or Yealink device) the UA's vendor,
                         else the MAC's OUI, decides
        merge            UA beats the name for vendor/model; the name's MAC beats the UA's;
                         the version is trusted only where the UA (or the name) makes it the app's

No vendor is named here: the rules, parsers and samples live in provisioner/vendors/<vendor>/.

Certainty (values.Certainty):
    CERTAIN     a User-Agent named the model and agreed with the file name
    PROBABLE    the file name named the model (Polycom part number, Yealink common-file code,
                Grandstream cfg<model>.xml), or a UA named it but disagreed with the file name
    IMPROBABLE  only the vendor is known (a vendor-specific file name, or the MAC's OUI)
    NONE        nothing is known (a shared name from an unknown OUI, an unknown name)

A FIRMWARE request carries catalog_key when exactly one catalog row uses that image name
(34.72.0.75.rom), even without a model token: the GXP16xx share gxp1600fw.bin, so it has none.
"""

from __future__ import annotations


from firmware_catalog import Catalog
from provisioner.values import Certainty, Identification, Role
from provisioner.vendors import REGISTERED, request_folders, vendor_from_oui
from provisioner.vendors.vendor import FileInfo, UserAgentInfo

MAX_NAME = 255
MAX_USER_AGENT = 512
_FOLDERS = request_folders()


# -- file names ------------------------------------------------------------------------------
def clean_filename(filename: str | None) -> tuple[str, str] | None:
    """(folder, lower-case name) for a plausible phone request, None for anything hostile.

    One leading '/' is stripped; the only folders allowed are the vendors' own (Grandstream/).
    """
    if not filename or len(filename) > MAX_NAME:
        return None
    name = filename[1:] if filename.startswith("/") else filename
    if not name or name.startswith("/") or ".." in name or "\\" in name or not name.isprintable():
        return None
    folder, _, base = name.rpartition("/")
    if not base or (folder and folder.lower() not in _FOLDERS):
        return None
    return folder.lower(), base.lower()


def normalize_filename(filename: str) -> str:
    """The name vendor renderers see: clean_filename's name (no leading '/', no vendor folder,
    lower case); "" for a name clean_filename refuses, which no vendor serves."""
    cleaned = clean_filename(filename)
    return cleaned[1] if cleaned else ""


def classify(folder: str, name: str, catalog: Catalog) -> tuple[FileInfo, ...]:
    """Every registered vendor's claim on the name (its first matching rule), in registration
    order; below a folder only the vendors that use that folder are asked."""
    claims = []
    for vendor in REGISTERED:
        if folder and folder not in vendor.folders:
            continue
        for pattern, build in vendor.name_rules:
            found = pattern.fullmatch(name)
            if found:
                claims.append(build(found, catalog))
                break
    return tuple(claims)


def decide(claims: tuple[FileInfo, ...], ua_vendor: str | None) -> FileInfo:
    """One answer from the vendors' claims on a name.

    A name only one vendor uses wins outright. Names several vendors' phones ask for
    (`shared`) go to the UA's vendor, else to the vendor the MAC's OUI names; when neither
    decides, the claims' role if they agree, else DEVICE: served only to an assigned phone,
    by its assigned model's vendor.
    """
    for claim in claims:
        if not claim.shared:
            return claim
    if not claims:
        return FileInfo(Role.UNKNOWN)
    by_vendor = {claim.vendor: claim for claim in claims}
    chosen = by_vendor.get(ua_vendor if ua_vendor else vendor_from_oui(claims[0].mac))
    if chosen is not None:
        return chosen
    roles = {claim.role for claim in claims}
    return FileInfo(roles.pop() if len(roles) == 1 else Role.DEVICE, mac=claims[0].mac)


# -- User-Agent ------------------------------------------------------------------------------
def parse_user_agent(user_agent: str | None) -> UserAgentInfo | None:
    """The vendor, model token, version and MAC a provisioning User-Agent carries, or None."""
    if not user_agent:
        return None
    text = user_agent.strip()[:MAX_USER_AGENT]
    for vendor in REGISTERED:
        found = vendor.parse_user_agent(text)
        if found is not None:
            return found
    return None


# -- putting it together ---------------------------------------------------------------------
def identify(filename: str, user_agent: str | None, catalog: Catalog) -> Identification:
    cleaned = clean_filename(filename)
    if cleaned is None:
        return Identification(Role.UNKNOWN)
    ua = parse_user_agent(user_agent)
    info = decide(classify(*cleaned, catalog), ua.vendor if ua else None)
    return _from_file(info) if ua is None else _merge(info, ua, catalog)


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
    """A UA may carry a boot loader's version (Polycom's Updater [WZ-PC]): its parser says so;
    when it cannot tell, only a name just the application asks for makes it the app's."""
    if ua.version_is_app is not None:
        return ua.version_is_app
    return info.application_phase and info.vendor == ua.vendor


__all__ = [
    "FileInfo",
    "UserAgentInfo",
    "classify",
    "clean_filename",
    "decide",
    "identify",
    "normalize_filename",
    "parse_user_agent",
]
