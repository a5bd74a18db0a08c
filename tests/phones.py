"""Simulated phones for end-to-end tests: each homologated desk/DECT/video model with its
real User-Agent shape and its real boot file order (phones.md §2-§4), and real parsers
for what comes back (XML for Polycom and Grandstream, key = value for Yealink)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class SimPhone:
    catalog_key: str
    model_arg: str  # what an installer types for --model
    mac: str
    firmware: str  # the firmware this simulated phone runs
    lines: int  # lines it may hold: firmware_catalog.allowed_lines (homologated AND on the device)

    @property
    def vendor(self) -> str:
        return self.catalog_key.split("-", 1)[0]

    def user_agent(self, firmware: str | None = None, phase: str = "Application") -> str:
        fw = firmware or self.firmware
        colon_mac = ":".join(self.mac[i : i + 2] for i in range(0, 12, 2))
        if self.vendor == "polycom":
            token = {"polycom-ip331": "SoundPointIP-SPIP_331", "polycom-ip550": "SoundPointIP-SPIP_550",
                     "polycom-vvx600": "VVX-VVX_600"}[self.catalog_key]
            return f"FileTransport Polycom{token}-UA/{fw} Type/{phase}"
        if self.vendor == "grandstream":
            hw = self.model_arg + (" V1.2A" if self.model_arg == "GXV3275" else "")
            return f"Grandstream Model HW {hw} SW {fw} DevId {self.mac}"
        return f"Yealink SIP-{self.model_arg} {fw} {colon_mac}"

    def boot_files(self) -> list[tuple[str, str, bool]]:
        """(file name, request phase, must be served) in the order the phone asks."""
        m = self.mac
        if self.vendor == "polycom":
            part = {"polycom-ip331": "2345-12365-001", "polycom-ip550": "2345-12500-001",
                    "polycom-vvx600": "3111-44600-001"}[self.catalog_key]
            return [
                (f"{m}.cfg", "Updater", True),
                (f"{part}.sip.ld", "Updater", False),  # no image in the firmware folder
                (f"{m}.cfg", "Application", True),
                (f"{m}-user.cfg", "Application", True),
                ("common.cfg", "Application", True),
                (f"{m}-phone.cfg", "Application", False),
                (f"{m}-directory.xml", "Application", False),
            ]
        if self.vendor == "grandstream":
            return [
                (f"cfg{m}", "Application", False),  # legacy binary name: we serve XML only
                (f"cfg{m}.xml", "Application", True),
            ]
        code = {"yealink-t19p": "031", "yealink-t20p": "007", "yealink-t21p": "034"}[self.catalog_key]
        return [(f"y000000000{code}.cfg", "Application", True), (f"{m}.cfg", "Application", True)]

    def device_file(self) -> str:
        return {"polycom": f"{self.mac}-user.cfg", "grandstream": f"cfg{self.mac}.xml", "yealink": f"{self.mac}.cfg"}[self.vendor]

    def common_file(self) -> str:
        code = {"yealink-t19p": "031", "yealink-t20p": "007", "yealink-t21p": "034"}
        return {"polycom": "common.cfg", "grandstream": "cfg.xml"}.get(self.vendor) or f"y000000000{code[self.catalog_key]}.cfg"


DESK_PHONES = [
    SimPhone("polycom-ip331", "IP331", "0004f2000331", "4.0.13.1445", 2),
    SimPhone("polycom-ip550", "IP550", "0004f2000550", "4.0.13.1445", 1),
    SimPhone("polycom-vvx600", "VVX600", "64167f000600", "5.8.1.7278", 1),
    SimPhone("grandstream-gxp1610", "GXP1610", "000b82001610", "1.0.4.106", 1),  # homologated 2, device 1
    SimPhone("grandstream-gxp1620", "GXP1620", "000b82001620", "1.0.4.106", 2),
    SimPhone("grandstream-gxp1628", "GXP1628", "c074ad001628", "1.0.4.106", 2),
    SimPhone("grandstream-gxp1630", "GXP1630", "000b82001630", "1.0.4.106", 3),
    SimPhone("grandstream-gxv3275", "GXV3275", "000b82003275", "1.0.3.198", 6),
    SimPhone("grandstream-dp750", "DP750", "000b82000750", "1.0.4.2", 5),  # homologated 5, base 10
    SimPhone("yealink-t19p", "T19P", "001565000019", "31.72.0.75", 1),
    SimPhone("yealink-t20p", "T20P", "001565000020", "9.73.0.50", 1),  # homologated 1, device 2
    SimPhone("yealink-t21p", "T21P", "001565000021", "34.72.0.75", 1),
]


# -- parsers -----------------------------------------------------------------------------------
def parse_polycom(body: bytes) -> dict[str, str]:
    """Every attribute of every element (Polycom parameters are XML attributes)."""
    params: dict[str, str] = {}
    for element in ET.fromstring(body).iter():
        for name, value in element.attrib.items():
            params.setdefault(name, value)  # first occurrence wins, as on the phone
    return params


def parse_grandstream(body: bytes) -> dict[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "gs_provision"
    config = root.find("config")
    assert config is not None
    return {child.tag: (child.text or "") for child in config}


def parse_yealink(body: bytes) -> dict[str, str]:
    lines = body.decode("utf-8").splitlines()
    assert lines[0].strip() == "#!version:1.0.0.1", lines[0]
    params: dict[str, str] = {}
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        assert sep, f"not a key = value line: {line!r}"
        params[key.strip()] = value.strip()
    return params


def parse(vendor: str, body: bytes) -> dict[str, str]:
    return {"polycom": parse_polycom, "grandstream": parse_grandstream, "yealink": parse_yealink}[vendor](body)


def accounts(vendor: str, catalog_key: str, params: dict[str, str]) -> dict[int, tuple[str, str]]:
    """Line number -> (SIP user, server) for every account the config enables."""
    found: dict[int, tuple[str, str]] = {}
    for n in range(1, 17):
        if vendor == "polycom":
            user = params.get(f"reg.{n}.auth.userId")
            server = params.get(f"reg.{n}.server.1.address", "")
        elif vendor == "yealink":
            if params.get(f"account.{n}.enable") != "1":
                continue
            user = params.get(f"account.{n}.auth_name")
            server = params.get(f"account.{n}.sip_server.1.address", "")
        elif catalog_key == "grandstream-dp750":
            user = params.get(f"P{4089 + n}") if n <= 10 else None  # auth id array P4090+n
            server = params.get("P47", "")
        else:
            # GXP16xx accounts 1-3, GXV3275 accounts 4-6 (auth id, SIP server)
            keys = {1: ("P36", "P47"), 2: ("P405", "P402"), 3: ("P505", "P502"),
                    4: ("P605", "P602"), 5: ("P1705", "P1702"), 6: ("P1805", "P1802")}
            if n not in keys:
                continue
            user, server = params.get(keys[n][0]), params.get(keys[n][1], "")
        if user:
            found[n] = (user, server)
    return found


# Bogota (UTC-5, no DST) in each Grandstream model's own time zone list (issue 15 item 3).
GRANDSTREAM_TIME_ZONES = {"grandstream-gxv3275": "COT5", "grandstream-dp750": "TZH+5"}  # else GXP16xx "EST5"


def time_zone_ok(vendor: str, params: dict[str, str], catalog_key: str = "") -> bool:
    if vendor == "polycom":
        return params.get("tcpIpApp.sntp.gmtOffset") == "-18000"
    if vendor == "grandstream":
        zone = params.get("P64", "")
        if zone == "customize":
            return params.get("P246") == "COT+5"
        return zone == GRANDSTREAM_TIME_ZONES.get(catalog_key, "EST5")
    return params.get("local_time.time_zone") == "-5"


_GRANDSTREAM_SECRETS = {"P2", "P34", "P406", "P506", "P606", "P1706", "P1806", *(f"P{4120 + n}" for n in range(10))}


def secret_values(vendor: str, params: dict[str, str]) -> set[str]:
    """Password values in a parsed device config (SIP accounts and the phone admin)."""
    if vendor == "grandstream":
        values = {v for k, v in params.items() if k in _GRANDSTREAM_SECRETS}
    else:
        values = {v for k, v in params.items() if "password" in k.lower()}
    values = {v.split(":", 1)[-1] if v.startswith("admin:") else v for v in values}
    return {v for v in values if len(v) >= 8}


def provisioning_url(vendor: str, params: dict[str, str]) -> str | None:
    """The URL a phone will provision from after applying a parsed device config (None: the
    config does not move it), and only if DHCP option 66 may no longer override it."""
    if vendor == "polycom":
        name, kind = params.get("device.prov.serverName"), params.get("device.prov.serverType", "")
        if not name or params.get("device.dhcp.bootSrvUseOpt") != "Static":
            return None
        return f"{kind.lower()}://{name}"
    if vendor == "grandstream":
        path = params.get("P237")
        if not path or params.get("P145") != "0":
            return None
        scheme = {"1": "http", "2": "https"}[params["P212"]]
        return f"{scheme}://{path}/"
    url = params.get("auto_provision.server.url")
    if not url or params.get("auto_provision.dhcp_option.enable") != "0":
        return None
    assert params.get("static.auto_provision.server.url") == url  # V80+ name, the same place
    return url
