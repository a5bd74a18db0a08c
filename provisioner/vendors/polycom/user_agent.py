"""Polycom's provisioning User-Agent (pure); samples in samples.py.

    FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater
    FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application

The Updater (boot loader) reports its own version, not the application's [WZ-PC] [ORYK]: the
version is the application's only when Type/Application says so; without a Type/ token
(old UCS) the file name decides (FileInfo.application_phase).
"""

from __future__ import annotations

import re

from provisioner.vendors.polycom.files import NAME
from provisioner.vendors.vendor import UserAgentInfo, wire_mac

_UA = re.compile(r"Polycom(?P<family>[A-Za-z]+)-(?P<model>[A-Za-z0-9_]+?)-UA/(?P<version>[0-9][0-9.]{0,31})")
_SN = re.compile(r"\(SN:\s*(?P<mac>[0-9A-Fa-f]{12})\)")
_TYPE = re.compile(r"\bType/(?P<phase>[A-Za-z]+)")


def parse(text: str) -> UserAgentInfo | None:
    found = _UA.search(text)
    if found is None:
        return None
    rest = text[found.end() :]
    serial = _SN.search(rest)
    phase_token = _TYPE.search(rest)
    phase = phase_token["phase"].lower() if phase_token else None
    return UserAgentInfo(
        NAME, found["model"], found["version"].rstrip("."), wire_mac(serial["mac"] if serial else None), phase,
        version_is_app=None if phase is None else phase == "application",
    )
