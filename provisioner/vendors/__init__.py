"""The vendors this server provisions: one package each, registered in one tuple (pure).

    provisioner/vendors/vendor.py   the `Vendor` every package builds, and the values its parts make
    provisioner/vendors/<vendor>/
        __init__.py     VENDOR = Vendor(...): the parts below, its OUIs, its firmware image name
        files.py        every name its phones ask for: served, shared with another vendor, 404 on purpose
        user_agent.py   its provisioning User-Agent -> UserAgentInfo
        snmp.py         the OIDs to GET from its SNMP agent and what the answer means
        renderer.py     its config files, from templates/phones/<its templates folder>/
        samples.py      wire samples of all the above (User-Agents, SNMP answers)

Built-in vendors are registered exactly as an added one would be (as datasette registers its
built-in plugins): import the package, add its VENDOR to REGISTERED. Identification, the SNMP
parser, `provisioner catalog check` and the service loop over REGISTERED; they never name a
vendor. The order is the order User-Agents and file names are tried in.
"""

from collections.abc import Mapping

from provisioner.mac import normalize_mac

from provisioner.vendors import grandstream, polycom, yealink
from provisioner.vendors.vendor import Vendor

REGISTERED: tuple[Vendor, ...] = (polycom.VENDOR, grandstream.VENDOR, yealink.VENDOR)
VENDORS: Mapping[str, Vendor] = {vendor.name: vendor for vendor in REGISTERED}
_OUI_VENDOR = {oui: vendor.name for vendor in REGISTERED for oui in vendor.ouis}


def vendor_from_oui(mac: str | None) -> str | None:
    """The registered vendor whose OUI the MAC carries (a hint only: OUIs get resold), else None."""
    normalized = normalize_mac(mac)
    return _OUI_VENDOR.get(normalized[:6]) if normalized else None


def device_filename(vendor: str, mac: str) -> str:
    """The per-device file a phone of `vendor` asks for: what `provisioner render MAC` shows."""
    return VENDORS[vendor].device_file.format(mac=mac)


def firmware_file_names() -> dict[str, str]:
    """Vendor -> the image name its phones ask for, from a catalog row's fields (catalog check)."""
    return {v.name: v.firmware_file_name for v in REGISTERED if v.firmware_file_name}


def request_folders() -> frozenset[str]:
    """The folders any vendor's phones put before a file name (lower case)."""
    return frozenset(folder for vendor in REGISTERED for folder in vendor.folders)
