"""Polycom file names (pure): every name its phones ask for, and what the name alone says.

Names are normalised (no leading "/", lower case); phones.md §2.1, §2.2.

    000000000000.cfg          MASTER  served (renderer.py): the family-wide master
    <mac>.cfg                 MASTER  served: the master with only the device's model child;
                                      Yealink's device file has the same name: claimed `shared`
    common.cfg                COMMON  served: tenant-wide settings
    <mac>-user.cfg            DEVICE  served: registrations and passwords (sensitive)
    <mac>-phone/-web/-license.cfg, -directory.xml, -calls.xml, -app.log, -boot.log,
    sip.cfg, phone1.cfg       OTHER   asked for, answered 404 on purpose: overrides and logs the
                                      phone writes back, stock CONFIG_FILES [WZ-PC] [ORYK];
                                      <mac>-phone.cfg is answered from the upload store once the
                                      phone has written it (provisioner.uploads)
    <part>.sip.ld, sip.ld     FIRMWARE images, served from the firmware folder

Only the application (not the Updater, the boot loader) asks for the names marked `app` below:
a User-Agent without a Type/ token is trusted for the version only on those.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from firmware_catalog import Catalog
from provisioner.values import Role, UploadKind
from provisioner.vendors.vendor import MAC, FileInfo, NameRule, group_mac, image_rule

NAME = "polycom"
DEVICE_FILE = "{mac}-user.cfg"  # the per-device file `provisioner render MAC` shows

MASTER_CFG = re.compile(MAC + r"\.cfg")  # also 000000000000.cfg, which the rules match first
USER_CFG = re.compile(MAC + r"-user\.cfg")
_PART = r"[0-9]{4}-[0-9]{5}-[0-9]{3}"


def _named(role: Role, *, app: bool, shared: bool = False) -> Callable[[re.Match[str], Catalog], FileInfo]:
    return lambda m, _: FileInfo(role, NAME, mac=group_mac(m), application_phase=app, shared=shared)


def _image_by_part(found: re.Match[str], catalog: Catalog) -> FileInfo:
    entry = catalog.by_part_number(found["part"])
    return FileInfo(Role.FIRMWARE, NAME, found["part"], entry.key if entry else None)


RULES: tuple[NameRule, ...] = (
    (re.compile(r"000000000000\.cfg"), _named(Role.MASTER, app=False)),
    (USER_CFG, _named(Role.DEVICE, app=True)),
    (re.compile(r"common\.cfg"), _named(Role.COMMON, app=True)),
    (re.compile(MAC + r"-(?:(?:phone|web|license)\.cfg|(?:directory|calls)\.xml|app\.log)"), _named(Role.OTHER, app=True)),
    (re.compile(MAC + r"-boot\.log"), _named(Role.OTHER, app=False)),  # uploaded by the Updater [ORYK]
    (re.compile(r"(?:sip|phone1)\.cfg"), _named(Role.OTHER, app=True)),  # stock CONFIG_FILES [WZ-PC]
    (re.compile(r"(?P<part>" + _PART + r")(?:\." + _PART + r")?\.sip\.ld"), _image_by_part),
    (re.compile(r"sip\.ld"), image_rule(NAME)),
    (MASTER_CFG, _named(Role.MASTER, app=False, shared=True)),  # or Yealink's <mac>.cfg
)


# What the phones write back with HTTP PUT to the directory they provision from (the master's
# LOG_FILE_DIRECTORY and OVERRIDES_DIRECTORY, empty: that same directory) [POLY-AG31] [ORYK]:
# the Updater's boot log, the application's log, and the user's override file (settings
# changed on the phone; created since UCS 3.3.0 and read back at every boot) [POLY-FAQ].
# <mac>-web.cfg (changes made in the phone's web UI) is not accepted: nothing here needs it.
UPLOADS: tuple[tuple[re.Pattern[str], UploadKind], ...] = (
    (re.compile(MAC + r"-app\.log"), UploadKind.APP_LOG),
    (re.compile(MAC + r"-boot\.log"), UploadKind.BOOT_LOG),
    (re.compile(MAC + r"-phone\.cfg"), UploadKind.OVERRIDE),
)
