"""The site onboarding kit (pure): what a customer's network must do before the first phone boots.

    tenant facts + firewall data file + N calls  ──▶  Kit  ──▶  Markdown (here) or HTML (a template)

Everything a person reads is Spanish and comes from here or from provisioner.labels. Sources
of each vendor fact: shared/reference/network.md (§1 options, §3 DHCP servers, §4 SIP ALG),
which names the public manual each came from; the rules are the operator's rulebook
(shared/reference/service-model.md §8). No I/O: the caller reads the data file and the
database and passes text and values in.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from provisioner.errors import InputError, SettingsError

KBPS_PER_CALL = 100  # the rulebook's budget per simultaneous call (G.711 is ~87 kbps on Ethernet)
DEFAULT_SUBNET = "192.0.2.0/24"  # documentation range: the installer types the voice VLAN's own
MAX_CALLS = 100_000
PROTOCOLS = ("UDP", "TCP")
_PORTS = re.compile(r"[0-9]{1,5}(-[0-9]{1,5})?")
_HOST = re.compile(r"[A-Za-z0-9.:_-]{1,253}")
# A URL goes inside double quotes in every DHCP server's syntax: nothing that could end the
# quote, start a comment or a new line, or be read as a RouterOS variable.
_SAFE_URL = re.compile(r"[A-Za-z]+://[A-Za-z0-9.:\[\]_~%/+-]+")


@dataclass(frozen=True)
class FirewallRule:
    service: str
    protocol: str  # UDP or TCP
    ports: str  # "5060" or "10000-60000"
    destinations: tuple[str, ...]  # hosts, or "@sip" / "@provisioning" before resolve
    direction: str = "saliente"


@dataclass(frozen=True)
class ExpectedPhone:
    """One extension of the tenant and the phone it is expected on (if already assigned)."""

    extension: str
    name: str
    department: str
    mac: str | None
    model: str | None  # e.g. "Yealink T21P"
    line: int | None


@dataclass(frozen=True)
class Site:
    """What the kit is made from: the tenant's facts, already read by the caller."""

    tenant_name: str
    slug: str
    option66_http: str
    option66_tftp: str
    sip_server: str
    sip_port: int
    sip_transport: str
    phones: tuple[ExpectedPhone, ...] = ()


@dataclass(frozen=True)
class Snippet:
    key: str  # dnsmasq, dhcpd, kea, mikrotik, windows, fortigate, sophos
    title: str
    language: str  # for the Markdown fence
    text: str
    checked_by: str = ""  # the tool that checks it in the tests, if Debian has one
    note: str = ""  # Spanish: what the installer must adapt before pasting it


@dataclass(frozen=True)
class Kit:
    site: Site
    subnet: str
    calls: int
    bandwidth_kbps: int
    snippets: tuple[Snippet, ...]
    sip_alg: tuple[Snippet, ...]
    firewall: tuple[FirewallRule, ...]
    vlan_qos: tuple[str, ...]
    phones: tuple[ExpectedPhone, ...] = field(default=())
    warnings: tuple[str, ...] = ()  # Spanish: what makes this kit unusable as it stands


# ---- inputs ---------------------------------------------------------------------------------

def parse_firewall_rules(text: str, source: str = "firewall_rules.toml") -> tuple[FirewallRule, ...]:
    """The operator's data file -> rules; every mistake names the rule and field to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{source}: no es TOML válido ({error})") from None
    rows = data.get("rule")
    if not isinstance(rows, list) or not rows:
        raise SettingsError(f"{source}: falta al menos una tabla [[rule]]")
    rules = []
    for number, row in enumerate(rows, start=1):
        where = f"{source}, regla {number}"
        if not isinstance(row, dict):
            raise SettingsError(f"{where}: debe ser una tabla")
        service, protocol, ports = row.get("service"), row.get("protocol"), row.get("ports")
        destinations, direction = row.get("destinations"), row.get("direction", "saliente")
        if not isinstance(service, str) or not service.strip() or len(service) > 80:
            raise SettingsError(f"{where}: 'service' debe ser un texto de 1 a 80 caracteres")
        if not isinstance(protocol, str) or protocol.upper() not in PROTOCOLS:
            raise SettingsError(f"{where}: 'protocol' debe ser UDP o TCP")
        if not isinstance(ports, (str, int)) or not _valid_ports(str(ports)):
            raise SettingsError(f"{where}: 'ports' debe ser un puerto (1-65535) o un rango 'desde-hasta'")
        if (not isinstance(destinations, list) or not destinations
                or not all(isinstance(d, str) and (d in ("@sip", "@provisioning") or _HOST.fullmatch(d)) for d in destinations)):
            raise SettingsError(f"{where}: 'destinations' debe ser una lista de hosts, '@sip' o '@provisioning'")
        if direction not in ("saliente", "entrante"):
            raise SettingsError(f"{where}: 'direction' debe ser 'saliente' o 'entrante'")
        rules.append(FirewallRule(service.strip(), protocol.upper(), str(ports), tuple(destinations), direction))
    return tuple(rules)


def _valid_ports(text: str) -> bool:
    if not _PORTS.fullmatch(text):
        return False
    low, _, high = text.partition("-")
    return 1 <= int(low) <= 65535 and (not high or int(low) <= int(high) <= 65535)


def check_calls(calls: int) -> int:
    if not 1 <= calls <= MAX_CALLS:
        raise InputError(f"el número de llamadas simultáneas debe estar entre 1 y {MAX_CALLS}")
    return calls


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    """The voice network the snippets are written for: IPv4, /8 to /29, not a host address."""
    try:
        network = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError:
        raise InputError(f"la red {text[:50]!r} no es una red IPv4 válida (ejemplo: 10.20.30.0/24)") from None
    if not 8 <= network.prefixlen <= 29:
        raise InputError("la red de voz debe tener un prefijo entre /8 y /29")
    return network


def bandwidth_kbps(calls: int) -> int:
    """Internet bandwidth, each way, for `calls` simultaneous calls (rulebook: 100 kbps per call)."""
    return check_calls(calls) * KBPS_PER_CALL


def resolve_rules(rules: tuple[FirewallRule, ...], site: Site) -> tuple[FirewallRule, ...]:
    """Replace @sip / @provisioning by this tenant's hosts; add the provisioning ports actually in use."""
    provisioning = urlsplit(site.option66_http)
    prov_host = provisioning.hostname or ""
    names = {"@sip": site.sip_server, "@provisioning": prov_host}
    resolved = [
        FirewallRule(r.service, r.protocol, r.ports,
                     tuple(dict.fromkeys(names.get(d, d) for d in r.destinations)), r.direction)
        for r in rules
    ]
    extra: list[FirewallRule] = []
    http_port = provisioning.port or (443 if provisioning.scheme == "https" else 80)
    extra.append(FirewallRule(f"Aprovisionamiento {provisioning.scheme.upper()}", "TCP", str(http_port), (prov_host,)))
    tftp = urlsplit(site.option66_tftp)
    extra.append(FirewallRule("Aprovisionamiento TFTP", "UDP", str(tftp.port or 69), (tftp.hostname or prov_host,)))
    sip_protocol = "TCP" if site.sip_transport in ("tcp", "tls") else "UDP"
    extra.append(FirewallRule(f"SIP de esta central ({site.sip_transport.upper()})", sip_protocol, str(site.sip_port), (site.sip_server,)))
    for rule in extra:
        if not any(_covers(r, rule) for r in resolved):
            resolved.append(rule)
    return tuple(resolved)


def _covers(rule: FirewallRule, wanted: FirewallRule) -> bool:
    low, _, high = rule.ports.partition("-")
    port = int(wanted.ports)
    return (rule.protocol == wanted.protocol and int(low) <= port <= int(high or low)
            and set(wanted.destinations) <= set(rule.destinations))


# ---- DHCP snippets --------------------------------------------------------------------------

def safe_url(url: str) -> str:
    """The URL as it may go between double quotes in a DHCP server's configuration."""
    if not _SAFE_URL.fullmatch(url) or len(url) > 250:
        raise SettingsError(f"la URL de aprovisionamiento {url[:80]!r} tiene caracteres que no pueden ir en una opción DHCP")
    return url


def dhcp_snippets(url: str, subnet: ipaddress.IPv4Network) -> tuple[Snippet, ...]:
    """Option 66 (every vendor) and 160 (Polycom's preferred) = the tenant's URL, per DHCP server."""
    url = safe_url(url)
    hosts = list(subnet.hosts())
    router, first, last = hosts[0], hosts[min(len(hosts) - 1, max(1, round(len(hosts) * 0.39)))], hosts[-1]  # a /24: .100-.254
    mask, net = subnet.netmask, subnet.network_address
    kea = {
        "Dhcp4": {
            "interfaces-config": {"interfaces": ["*"]},
            "lease-database": {"type": "memfile", "lfc-interval": 3600},
            "option-def": [{"name": "polycom-prov", "code": 160, "type": "string", "space": "dhcp4"}],
            "subnet4": [{
                "id": 1, "subnet": str(subnet), "pools": [{"pool": f"{first} - {last}"}],
                "option-data": [
                    {"name": "routers", "data": str(router)},
                    {"name": "tftp-server-name", "data": url},
                    {"name": "polycom-prov", "data": url, "always-send": True},
                ],
            }],
        }
    }
    return (
        Snippet("dnsmasq", "dnsmasq", "ini", "\n".join([
            f"# Aprovisionamiento de teléfonos: red de voz {subnet}",
            f"dhcp-range={first},{last},{mask},12h",
            f"dhcp-option=3,{router}",
            f'dhcp-option=66,"{url}"',
            f'dhcp-option-force=160,"{url}"',
        ]) + "\n", "dnsmasq --test",
            "Guárdelo como /etc/dnsmasq.d/telefonos.conf; agregue interface=<interfaz de la VLAN de voz> si dnsmasq atiende varias redes."),
        Snippet("dhcpd", "ISC dhcpd (dhcpd.conf)", "text", "\n".join([
            "option polycom-prov code 160 = text;  # opción 160 de Polycom (66 ya existe: tftp-server-name)",
            f"subnet {net} netmask {mask} {{",
            f"  range {first} {last};",
            f"  option routers {router};",
            f'  option tftp-server-name "{url}";',
            f'  option polycom-prov "{url}";',
            "}",
        ]) + "\n", "dhcpd -t"),
        Snippet("kea", "ISC Kea (kea-dhcp4.conf, JSON)", "json", json.dumps(kea, indent=2) + "\n", "kea-dhcp4 -t",
                "Cambie \"*\" por la interfaz de la VLAN de voz; la opción 160 va siempre (always-send), la 66 cuando el teléfono la pide."),
        Snippet("mikrotik", "MikroTik RouterOS", "text", "\n".join([
            f"/ip dhcp-server option add name=prov66 code=66 value=\"'{url}'\"",
            f"/ip dhcp-server option add name=prov160 code=160 value=\"'{url}'\"",
            f'/ip dhcp-server network set [find address="{subnet}"] dhcp-option=prov66,prov160',
        ]) + "\n", "", "La red DHCP de la VLAN de voz ya debe existir en /ip dhcp-server network."),
        Snippet("windows", "Windows Server (PowerShell)", "powershell", "\n".join([
            f'Set-DhcpServerv4OptionValue -ScopeId {net} -OptionId 66 -Value "{url}"',
            'Add-DhcpServerv4OptionDefinition -OptionId 160 -Name "Provisioning URL" -Type String',
            f'Set-DhcpServerv4OptionValue -ScopeId {net} -OptionId 160 -Value "{url}"',
        ]) + "\n", "", "En la consola de DHCP la opción 66 aparece como \"066 Boot Server Host Name\"."),
        Snippet("fortigate", "FortiGate (CLI de FortiOS)", "text", "\n".join([
            "config system dhcp server",
            "  edit <id del servidor DHCP de la VLAN de voz>",
            "    config options",
            "      edit 1",
            "        set code 66",
            "        set type string",
            f'        set value "{url}"',
            "      next",
            "      edit 2",
            "        set code 160",
            "        set type string",
            f'        set value "{url}"',
            "      next",
            "    end",
            "  next",
            "end",
        ]) + "\n", "", "Use el id del servidor DHCP de la interfaz de voz (config system dhcp server / show)."),
        Snippet("sophos", "Sophos", "text", "\n".join([
            "Sophos UTM 9: Network Services > DHCP > Options > New DHCP Option",
            f'  Código 66, tipo Text, valor "{url}", alcance: el servidor DHCP de la red {subnet}.',
            f'  Código 160, tipo Text, valor "{url}", mismo alcance.',
            "Sophos Firewall (SFOS/XG): Network > DHCP > el servidor de la VLAN de voz > DHCP options:",
            f'  agregue la opción 66 (tipo Text) y la 160 (tipo Text) con el valor "{url}".',
        ]) + "\n"),
    )


def sip_alg_steps() -> tuple[Snippet, ...]:
    """SIP ALG off, with the exact commands (network.md §4 and its sources)."""
    return (
        Snippet("fortigate", "Fortinet FortiGate", "text", "\n".join([
            "config system settings",
            "  set default-voip-alg-mode kernel-helper-based",
            "end",
            "config system session-helper",
            "  show",
            "  # busque la entrada con 'set name sip' (suele ser la 13) y bórrela:",
            "  delete <id>",
            "end",
            "config voip profile",
            "  edit default",
            "    config sip",
            "      set status disable",
            "    end",
            "  next",
            "end",
            "# Quite cualquier perfil VoIP de las políticas de la VLAN de voz, y luego",
            "# (interrumpe el tráfico en curso: hágalo en la ventana de mantenimiento):",
            "diagnose sys session clear",
        ]) + "\n"),
        Snippet("sophos", "Sophos", "text", "\n".join([
            "# Sophos Firewall (SFOS/XG), consola del equipo (menú 4, Device Console):",
            "system system_modules sip unload",
            "system system_modules show   # 'sip' debe quedar como unloaded",
            "# Sophos UTM 9: Network Protection > VoIP > SIP: desactive 'SIP protocol support'.",
        ]) + "\n"),
        Snippet("mikrotik", "MikroTik RouterOS", "text", "\n".join([
            "/ip firewall service-port set sip disabled=yes",
            "# Borre las conexiones SIP ya rastreadas (o reinicie el equipo):",
            "/ip firewall connection remove [find where dst-address~\":5060\" protocol=udp]",
        ]) + "\n"),
    )


VLAN_QOS = (
    "Ponga los teléfonos en una VLAN de voz propia, con su propio servidor DHCP (o ámbito) y la opción 66.",
    "Marque el audio (RTP) con DSCP EF (46) y la señalización SIP con CS3 (24); respete esas marcas en los switches y en el enlace a internet.",
    "Sin hubs ni switches en cascada: cada teléfono conectado a un switch administrable (con PoE si los teléfonos lo usan).",
    "Los tiempos de sesión UDP del firewall deben ser más largos que el re-registro de los teléfonos (p. ej. 300 s o más), o se pierden las llamadas entrantes.",
    "Se sugiere un segundo enlace a internet (WAN redundante).",
    "Deje acceso remoto para el equipo de implementación durante el despliegue.",
)


def build_kit(site: Site, rules: tuple[FirewallRule, ...], calls: int | None = None, subnet: str = DEFAULT_SUBNET) -> Kit:
    """The whole kit. `calls` defaults to every expected extension talking at once (at least 1)."""
    network = parse_subnet(subnet)
    calls = check_calls(calls if calls is not None else max(1, len(site.phones)))
    return Kit(
        site=site, subnet=str(network), calls=calls, bandwidth_kbps=bandwidth_kbps(calls),
        snippets=dhcp_snippets(site.option66_http, network), sip_alg=sip_alg_steps(),
        firewall=resolve_rules(rules, site), vlan_qos=VLAN_QOS, phones=site.phones, warnings=kit_warnings(site),
    )


def kit_warnings(site: Site) -> tuple[str, ...]:
    """A kit pointing phones at this machine's loopback would send them nowhere."""
    host = (urlsplit(site.option66_http).hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return ("La URL de aprovisionamiento apunta a esta misma máquina (" + host + "): configure "
                "PROVISIONER_PUBLIC_URL con la dirección que los teléfonos alcanzan antes de entregar este kit.",)
    return ()


def megabits(kbps: int) -> str:
    return f"{kbps / 1000:.1f}".replace(".", ",")


# ---- Markdown -------------------------------------------------------------------------------

def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(kit: Kit) -> str:
    site = kit.site
    out = [
        f"# Kit de implementación: {site.tenant_name} ({site.slug})",
        "",
        *[f"> **Atención:** {warning}\n" for warning in kit.warnings],
        "## 1. Cadena de la opción 66 (DHCP)",
        "",
        f"- **HTTP(S), la recomendada:** `{site.option66_http}`",
        f"- **TFTP** (solo si la red no deja salir HTTP(S)): `{site.option66_tftp}`",
        f"- **Opción 160** (Polycom la prefiere; Grandstream también la lee): `{site.option66_http}`",
        "",
        "Los teléfonos piden la opción 66 por sí mismos. Use la URL completa, terminada en `/`:",
        "un nombre de host solo haría que Yealink use TFTP y Polycom FTP.",
        "",
        "## 2. Configuración del servidor DHCP",
        "",
        f"Escrita para la red de voz `{kit.subnet}`: cambie la red, el rango y el router por los de su VLAN de voz.",
    ]
    for snippet in kit.snippets:
        out += ["", f"### {snippet.title}", "", f"```{snippet.language}", snippet.text.rstrip("\n"), "```"]
        out += ["", snippet.note] if snippet.note else []
    out += ["", "## 3. Desactivar el SIP ALG", "",
            "El SIP ALG reescribe los mensajes SIP y rompe el registro y el audio: apáguelo."]
    for snippet in kit.sip_alg:
        out += ["", f"### {snippet.title}", "", f"```{snippet.language}", snippet.text.rstrip("\n"), "```"]
    out += ["", "## 4. Reglas de firewall", "", "| Servicio | Protocolo | Puertos | Destino | Sentido |", "|---|---|---|---|---|"]
    out += [f"| {_cell(r.service)} | {r.protocol} | {r.ports} | {_cell(', '.join(r.destinations))} | {r.direction} |" for r in kit.firewall]
    out += ["", "## 5. Ancho de banda", "",
            f"{kit.calls} llamadas simultáneas × {KBPS_PER_CALL} kbps = **{kit.bandwidth_kbps} kbps "
            f"({megabits(kit.bandwidth_kbps)} Mbps) de subida y otro tanto de bajada**, reservados para la voz.",
            "", "## 6. VLAN de voz y QoS", ""]
    out += [f"- {line}" for line in kit.vlan_qos]
    out += ["", "## 7. Extensiones y teléfonos esperados", ""]
    if kit.phones:
        out += ["| Extensión | Nombre | Área | Teléfono (MAC) | Modelo | Línea |", "|---|---|---|---|---|---|"]
        out += [f"| {p.extension} | {_cell(p.name)} | {_cell(p.department or '—')} | {p.mac or 'sin asignar'} | "
                f"{_cell(p.model or '—')} | {p.line or '—'} |" for p in kit.phones]
    else:
        out.append("Todavía no hay extensiones: importe la lista de usuarios del cliente (`provisioner import`).")
    return "\n".join(out) + "\n"
