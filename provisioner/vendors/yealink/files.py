"""Yealink file names (pure): every name its phones ask for, and what the name alone says.

Names are normalised (no leading "/", lower case); phones.md §4.1, §4.3.

    y000000000XXX.cfg  COMMON  served (renderer.py) for the model whose common-file code is XXX
    <mac>.cfg          DEVICE  served: accounts and passwords (sensitive); Polycom's master has
                               the same name: claimed `shared`
    <version>.rom      FIRMWARE images, served from the firmware folder (34.72.0.75.rom)
"""

from __future__ import annotations

import re

from firmware_catalog import Catalog
from provisioner.values import Role
from provisioner.vendors.vendor import MAC, FileInfo, NameRule, group_mac, image_rule

NAME = "yealink"
DEVICE_FILE = "{mac}.cfg"  # the per-device file `provisioner render MAC` shows

COMMON_CFG = re.compile(r"y0{9}(?P<code>[0-9]{3})\.cfg")
DEVICE_CFG = re.compile(MAC + r"\.cfg")


def _common(found: re.Match[str], catalog: Catalog) -> FileInfo:
    entry = catalog.by_common_file_code(found["code"])
    return FileInfo(Role.COMMON, NAME, f"y000000000{found['code']}", entry.key if entry else None)


RULES: tuple[NameRule, ...] = (
    (COMMON_CFG, _common),
    (re.compile(r"[0-9]+(?:\.[0-9]+){3}\.rom"), image_rule(NAME)),
    (DEVICE_CFG, lambda m, _: FileInfo(Role.DEVICE, NAME, mac=group_mac(m), shared=True)),  # or Polycom's master
)
