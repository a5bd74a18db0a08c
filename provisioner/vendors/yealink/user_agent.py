"""Yealink's provisioning User-Agent (pure); samples in samples.py.

    Yealink SIP-T20P 9.72.0.30 00:15:65:5e:16:7c
    Yealink SIP-T20P 9.73.0.50 001565202020          (MAC without colons [FPX-IDX])
    yealink SIP VP-T49G 51.80.0.100 00:15:65:aa:bb:cc
"""

from __future__ import annotations

import re

from provisioner.vendors.vendor import user_agent_rule
from provisioner.vendors.yealink.files import NAME

_UA = re.compile(
    r"^Yealink\s+(?:SIP(?:\s+VP)?-)?(?P<model>[A-Za-z0-9_]+)\s+(?P<version>[0-9][0-9.]{0,31})"
    r"(?:\s+(?P<mac>[0-9A-Fa-f:.-]{12,17}))?",
    re.IGNORECASE,
)

parse = user_agent_rule(NAME, _UA, trim_version=True)
