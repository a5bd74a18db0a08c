"""Grandstream file names (pure): every name its phones ask for, and what the name alone says.

Names are normalised (no leading "/", lower case). Grandstream phones may ask below a
"Grandstream/" folder (its option-66 value [WZ-GINST]); no other vendor's names are read there.
phones.md §3.1, §3.3.

    cfg<mac>.xml        DEVICE  served (renderer.py): accounts and passwords (sensitive)
    cfg<mac>, cfg<mac>.bin  DEVICE  legacy binary names, answered 404 on purpose: the phone
                                then asks for the XML
    cfg<model>.xml      COMMON  served: tenant-wide settings (e.g. cfggxp1620.xml)
    cfg.xml             COMMON  served: tenant-wide settings
    <family>fw.bin      FIRMWARE images, served from the firmware folder (gxp1600fw.bin)
"""

from __future__ import annotations

import re

from firmware_catalog import Catalog
from provisioner.values import Role
from provisioner.vendors.vendor import MAC, FileInfo, NameRule, group_mac, image_rule

NAME = "grandstream"
FOLDER = "grandstream"  # "Grandstream/cfg<mac>.xml", matched without case
DEVICE_FILE = "cfg{mac}.xml"  # the per-device file `provisioner render MAC` shows


def _common(found: re.Match[str], catalog: Catalog) -> FileInfo:
    model = found["model"].upper()
    entry = catalog.find(model, vendor=NAME)
    return FileInfo(Role.COMMON, NAME, model, entry.key if entry else None)


RULES: tuple[NameRule, ...] = (
    (re.compile(r"cfg" + MAC + r"(?:\.xml|\.bin)?"), lambda m, _: FileInfo(Role.DEVICE, NAME, mac=group_mac(m))),
    (re.compile(r"cfg(?P<model>[a-z]{2,4}[0-9]{3,5}[a-z]?)\.xml"), _common),
    (re.compile(r"cfg\.xml"), lambda m, _: FileInfo(Role.COMMON, NAME)),
    (re.compile(r"[a-z]{2,4}[0-9]{3,5}fw\.bin"), image_rule(NAME)),
)
