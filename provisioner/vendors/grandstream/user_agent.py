"""Grandstream's provisioning User-Agent (pure); samples in samples.py.

    Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859
    Grandstream Model HW GXV3240 V1.6B SW 1.0.1.27 DevId 000b82632815   (hardware revision token)
"""

from __future__ import annotations

import re

from provisioner.vendors.grandstream.files import NAME
from provisioner.vendors.vendor import user_agent_rule

_UA = re.compile(
    r"^Grandstream\s+Model\s+HW\s+(?P<model>[A-Za-z0-9_]+)(?:\s+V[^\s]{1,16})?\s+SW\s+(?P<version>[0-9][0-9A-Za-z._-]{0,31})"
    r"(?:\s+DevId\s+(?P<mac>[0-9A-Fa-f:.-]{12,17}))?",
    re.IGNORECASE,
)

parse = user_agent_rule(NAME, _UA, trim_version=False)
