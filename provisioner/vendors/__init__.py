"""Vendor modules, registered in one tuple. Each is a plain module with:

    NAME: str
    def render(filename: str, ctx: RenderContext) -> RenderedFile | None
"""

from types import ModuleType

from provisioner.vendors import grandstream, polycom, yealink

VENDOR_MODULES: tuple[ModuleType, ...] = (polycom, grandstream, yealink)
VENDORS: dict[str, ModuleType] = {module.NAME: module for module in VENDOR_MODULES}

# The per-device file each vendor's phones ask for (what `provisioner render MAC` shows).
_DEVICE_FILES = {"polycom": "{mac}-user.cfg", "grandstream": "cfg{mac}.xml", "yealink": "{mac}.cfg"}


def device_filename(vendor: str, mac: str) -> str:
    return _DEVICE_FILES[vendor].format(mac=mac)
