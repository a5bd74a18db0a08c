"""End to end: a running `provisioner serve`, each of the 11 desk/DECT/video models booting
over real HTTP (its real User-Agent and file order) and over real TFTP (curl's tftp:// and
tftp-hpa), configs parsed with real parsers; compliance listed by `provisioner devices`."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlalchemy import select

from firmware_catalog import allowed_lines, load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Device, Extension
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone, accounts, parse, secret_values, time_zone_ok

SIP_SERVER = "pbx.acme.example.net"


def add_phone(database_url: str, tenant_slug: str, mac: str, model: str, numbers: list[str], first_line: int = 1) -> None:
    """Extensions on consecutive lines of one phone, through the same admin code as the CLI."""
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        owner = admin.tenant_by_slug(session, tenant_slug)
        for line, number in enumerate(numbers, start=first_line):
            admin.add_extension(
                session, load_catalog(), owner, number, f"Empleado {number} Peña & <Hijos>",
                department="Ventas", assignment=admin.Assignment(mac, model, line),
            )
    engine.dispose()


@pytest.fixture(scope="module")
def deployed(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, object]]]:
    """A tenant with every model assigned (lines up to the homologated count), and a server."""
    database_url = module_database_url
    tenant = cli_json(database_url, "tenant", "create", "Acme Colombia S.A.S.", "--sip-server", SIP_SERVER, "--sip-port", "5070")
    # One phone through the real CLI, the rest in-process (same admin code, much faster).
    run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "201", "--name",
            "Empleado 201 Peña & <Hijos>", "--department", "Ventas", "--mac", DESK_PHONES[0].mac.upper(),
            "--model", DESK_PHONES[0].model_arg, "--line", "1")
    number = 201
    for index, phone in enumerate(DESK_PHONES):
        first_line = 2 if index == 0 else 1
        numbers = [str(number + i + 1) for i in range(phone.lines - first_line + 1)]
        number += len(numbers)
        if numbers:
            add_phone(database_url, tenant["slug"], phone.mac, phone.model_arg, numbers, first_line)
    server = start_server(database_url, tmp_path_factory.mktemp("server"))
    try:
        yield server, tenant
    finally:
        stop_server(server)


def http_get(url: str, user_agent: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent} if user_agent else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def boot(phone: SimPhone, base: str) -> dict[str, bytes]:
    """The phone's boot over HTTP in its real file order against `base`: the files it got."""
    served = {}
    for filename, phase, must_serve in phone.boot_files():
        status, body = http_get(base + filename, phone.user_agent(phase=phase))
        assert status == (200 if must_serve else 404), f"{base}{filename}: {status} {body[:200]!r}"
        if must_serve:
            served[filename] = body
    return served


def curl_tftp(server: RunningServer, path: str, dest: Path, blksize: int | None = None) -> subprocess.CompletedProcess[str]:
    args = ["curl", "-s", "-S", "--max-time", "20", f"tftp://127.0.0.1:{server.tftp_port}/{path}", "-o", str(dest)]
    if blksize:
        args[1:1] = ["--tftp-blksize", str(blksize)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def tftp_hpa(server: RunningServer, path: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tftp", "127.0.0.1", str(server.tftp_port), "-m", "binary", "-c", "get", path, str(dest)],
        capture_output=True, text=True, timeout=30,
    )


def assert_device_config(phone: SimPhone, body: bytes) -> None:
    params = parse(phone.vendor, body)
    found = accounts(phone.vendor, phone.catalog_key, params)
    assert sorted(found) == list(range(1, phone.lines + 1)), f"{phone.catalog_key}: accounts {found}"
    for user, server in found.values():
        assert user.startswith("acme-colombia-s-a-s-2"), user
        assert SIP_SERVER in server, server
    assert time_zone_ok(phone.vendor, params, phone.catalog_key), f"{phone.catalog_key}: time zone"


@pytest.mark.parametrize("phone", DESK_PHONES, ids=lambda p: p.catalog_key)
def test_boot_over_http_in_real_file_order(deployed, phone: SimPhone) -> None:
    server, tenant = deployed
    base = f"{server.base}/prov/{tenant['key']}/"
    served = boot(phone, base)
    assert_device_config(phone, served[phone.device_file()])
    # The common/master files carry no secret of the device file.
    secrets = secret_values(phone.vendor, parse(phone.vendor, served[phone.device_file()]))
    assert secrets, "the device file carries the SIP and admin passwords"
    for filename, body in served.items():
        if filename != phone.device_file():
            assert not [s for s in secrets if s.encode() in body], filename
    # HEAD answers like GET without a body.
    head = urllib.request.Request(base + phone.device_file(), method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as response:
        assert response.status == 200 and response.read() == b""


@pytest.mark.parametrize("phone", DESK_PHONES, ids=lambda p: p.catalog_key)
def test_boot_over_tftp_with_curl_and_tftp_hpa(deployed, phone: SimPhone, tmp_path: Path) -> None:
    server, tenant = deployed
    http_status, http_body = http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}")
    assert http_status == 200
    for index, (filename, _phase, must_serve) in enumerate(phone.boot_files()):
        path = f"{tenant['key']}/{filename}" if index % 2 else f"/{tenant['key']}/{filename}"
        dest = tmp_path / f"curl-{index}"
        result = curl_tftp(server, path, dest, blksize=1428 if index % 2 else None)
        assert (result.returncode == 0) == must_serve, f"{filename}: curl {result.returncode} {result.stderr}"
    curl_dest, hpa_dest = tmp_path / "curl-device", tmp_path / "hpa-device"
    assert curl_tftp(server, f"{tenant['key']}/{phone.device_file()}", curl_dest).returncode == 0
    hpa = tftp_hpa(server, f"{tenant['key']}/{phone.device_file()}", hpa_dest)
    assert hpa.returncode == 0 and hpa_dest.exists(), hpa.stderr + hpa.stdout
    # Same bytes over both protocols and both clients.
    assert curl_dest.read_bytes() == hpa_dest.read_bytes() == http_body
    assert_device_config(phone, curl_dest.read_bytes())


@pytest.mark.skipif(shutil.which("tftp") is None, reason="tftp-hpa not installed")
@pytest.mark.parametrize("phone", DESK_PHONES, ids=lambda p: p.catalog_key)
def test_common_files_are_the_same_bytes_over_tftp_and_http(deployed, phone: SimPhone, tmp_path: Path) -> None:
    """Issue 15 item 8b: over TFTP (no User-Agent) a common file answers what HTTP answers the
    same phone (with its User-Agent): cfg.xml is generic for every Grandstream, cfg<model>.xml
    and the other vendors' common files are the model's own either way."""
    server, tenant = deployed
    names = [phone.common_file()]
    if phone.vendor == "grandstream":
        names.append(f"cfg{phone.model_arg.lower()}.xml")
    for name in names:
        status, over_http = http_get(f"{server.base}/prov/{tenant['key']}/{name}", phone.user_agent())
        assert status == 200, name
        dest = tmp_path / name
        hpa = tftp_hpa(server, f"{tenant['key']}/{name}", dest)
        assert hpa.returncode == 0 and dest.exists(), hpa.stderr + hpa.stdout
        assert dest.read_bytes() == over_http, f"{phone.catalog_key} {name}"


def wait_for(predicate, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_firmware_compliance_is_recorded_and_listed(deployed) -> None:
    server, tenant = deployed
    base = f"{server.base}/prov/{tenant['key']}/"
    good = SimPhone("yealink-t21p", "T21P", "0015650c0001", "34.72.0.75", 1)
    old = SimPhone("grandstream-gxp1620", "GXP1620", "000b820c0002", "1.0.4.106", 2)
    new = SimPhone("polycom-vvx600", "VVX600", "64167f0c0003", "5.8.1.7278", 1)
    for index, phone in enumerate((good, old, new)):
        add_phone(server.database_url, tenant["slug"], phone.mac, phone.model_arg, [f"50{index}"])
    # Three changes while the server runs: it takes each up within its check interval, in
    # its own time (seeing the first phone does not mean it has seen the third yet).
    assert wait_for(lambda: http_get(base + good.device_file(), good.user_agent())[0] == 200)
    assert wait_for(lambda: http_get(base + old.device_file(), old.user_agent("1.0.4.88"))[0] == 200)
    assert wait_for(lambda: http_get(base + new.device_file(), new.user_agent("5.9.7.4477"))[0] == 200)

    def listed() -> list[dict[str, object]]:
        rows = [r for r in cli_json(server.database_url, "devices", "--noncompliant") if r["mac"] in (old.mac, new.mac, good.mac)]
        return rows if len(rows) >= 2 else []

    rows = wait_for(listed)
    by_mac = {r["mac"]: r for r in rows}
    assert by_mac[old.mac]["findings"] == ["firmware_older"] and by_mac[old.mac]["firmware"] == "1.0.4.88"
    assert by_mac[new.mac]["findings"] == ["firmware_newer"]
    assert good.mac not in by_mac
    everything = {r["mac"]: r for r in cli_json(server.database_url, "devices")}
    assert everything[good.mac]["compliant"] is True and everything[good.mac]["findings"] == []
    assert everything[good.mac]["firmware"] == "34.72.0.75"
    for row in everything.values():
        assert set(row) >= {"mac", "tenant", "vendor", "model", "firmware", "compliant", "findings", "last_seen"}
        assert len(row["mac"]) == 12 and row["mac"] == row["mac"].lower()
    # Upgrading the phone clears the finding.
    assert http_get(base + old.device_file(), old.user_agent())[0] == 200
    assert wait_for(lambda: old.mac not in {r["mac"] for r in cli_json(server.database_url, "devices", "--noncompliant")})


def test_updater_phase_version_is_not_taken_as_firmware(deployed) -> None:
    server, tenant = deployed
    phone = next(p for p in DESK_PHONES if p.catalog_key == "polycom-ip331")
    base = f"{server.base}/prov/{tenant['key']}/"
    # Boot loader reports 5.0.5; the application then reports the supported version.
    assert http_get(base + f"{phone.mac}.cfg", phone.user_agent("5.0.5.0001", phase="Updater"))[0] == 200
    assert http_get(base + f"{phone.mac}-user.cfg", phone.user_agent())[0] == 200
    row = wait_for(lambda: next((r for r in cli_json(server.database_url, "devices") if r["mac"] == phone.mac and r["firmware"]), None))
    assert row["firmware"] == "4.0.13.1445" and row["compliant"] is True


def test_unknown_key_mac_and_names_all_get_the_same_404(deployed) -> None:
    server, tenant = deployed
    key = tenant["key"]
    cases = [
        f"/prov/{'x' * 32}/001565000021.cfg",  # unknown key
        f"/prov/{key}/001565ffffff.cfg",  # MAC not assigned
        f"/prov/{key}/cfg000b82ffffff.xml",  # MAC not assigned
        f"/prov/{key}/../../etc/passwd",
        f"/prov/{key}/..%2F..%2Fetc%2Fpasswd",
        f"/prov/{key}/%2e%2e/%2e%2e/etc/passwd",
        f"/prov/{key}//etc/passwd",
        f"/prov/{key}/firmware/..%5c..%5cetc%5cpasswd",
        f"/prov/{key}/%00.cfg",
        f"/prov/{key}/" + "a" * 5000,
        f"/prov/{key}/\u00e9t\u00e9.cfg".encode("utf-8").decode("latin-1"),
    ]
    bodies = set()
    for path in cases:
        status, body = http_get(server.base + urllib.request.quote(path, safe="/%:"))
        assert status == 404, (path, status, body[:200])
        bodies.add(body)
    assert len(bodies) == 1 and b"Traceback" not in bodies.pop()
    assert server.alive()
    phone = DESK_PHONES[-1]
    assert http_get(f"{server.base}/prov/{key}/{phone.device_file()}", phone.user_agent())[0] == 200


def test_unassigned_phone_is_recorded_as_waiting_and_gets_no_credentials(deployed) -> None:
    server, tenant = deployed
    mac = "001565abcdef"
    ua = f"Yealink SIP-T21P 34.72.0.75 00:15:65:ab:cd:ef"
    assert http_get(f"{server.base}/prov/{tenant['key']}/y000000000034.cfg", ua)[0] == 200
    status, _ = http_get(f"{server.base}/prov/{tenant['key']}/{mac}.cfg", ua)
    assert status == 404
    rows = wait_for(lambda: [r for r in cli_json(server.database_url, "devices", "--waiting") if r["mac"] == mac])
    assert rows and rows[0]["assigned"] is False and rows[0]["model"] == "T21P", server.log()[-3000:]


def test_every_desk_row_of_the_catalog_is_replayed_with_its_allowed_lines() -> None:
    """The done-when of issue 15: the boot replays above cover every desk/DECT/video row, each
    with the maximum it may hold (homologated AND on the device), and nothing more."""
    catalog = load_catalog()
    desk_rows = {e.key for e in catalog.entries if e.kind in ("desk", "dect", "video")}
    assert {p.catalog_key for p in DESK_PHONES} == desk_rows
    for phone in DESK_PHONES:
        assert phone.lines == allowed_lines(catalog.get(phone.catalog_key)), phone.catalog_key


@pytest.mark.parametrize("phone", DESK_PHONES, ids=lambda p: p.catalog_key)
def test_a_line_beyond_what_the_phone_may_hold_is_refused_at_entry(deployed, phone: SimPhone) -> None:
    server, tenant = deployed
    entry = load_catalog().get(phone.catalog_key)
    beyond = str(allowed_lines(entry) + 1)
    number = f"9{DESK_PHONES.index(phone):02d}{beyond}"
    result = run_cli(server.database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", number,
                     "--name", "Sobra", "--mac", phone.mac, "--model", phone.model_arg, "--line", beyond, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"la línea {beyond} no está disponible: el {entry.model} admite" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    engine = make_engine(server.database_url)
    with session_factory(engine)() as session:  # nothing was half-created
        assert session.scalar(select(Extension).where(Extension.number == number)) is None
    engine.dispose()


def test_gxp1610_line_2_is_refused_with_the_reason(deployed) -> None:
    """Issue 15 item 1: homologated for 2, but the device has one account; say so at entry."""
    server, tenant = deployed
    result = run_cli(server.database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "131", "--name",
                     "Ciento treinta y uno", "--mac", "000b8200aa10", "--model", "GXP1610", "--line", "2", check=False)
    assert result.returncode != 0
    assert "(homologado para 2 líneas, pero el equipo tiene 1 cuenta SIP)" in result.stderr


def test_lines_beyond_the_rule_in_existing_data_are_not_rendered_and_are_a_finding(database_url: str, tmp_path: Path) -> None:
    """A phone that already carries a line it may not hold (data from before the rule): the line
    is never sent to it and `devices` flags it lines_exceeded, before and after it boots."""
    tenant = cli_json(database_url, "tenant", "create", "Lines S.A.S.", "--sip-server", SIP_SERVER)
    mac = "000b82112233"
    run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "301", "--name", "Uno",
            "--mac", mac, "--model", "GXP1610", "--line", "1")
    run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "302", "--name", "Dos")
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:  # what an older release let in
        device = session.scalar(select(Device).where(Device.mac == mac))
        extension = session.scalar(select(Extension).where(Extension.number == "302"))
        extension.device_id, extension.line = device.id, 2
    engine.dispose()
    before = {r["mac"]: r for r in cli_json(database_url, "devices")}
    assert before[mac]["findings"] == ["lines_exceeded"] and before[mac]["compliant"] is False
    server = start_server(database_url, tmp_path)
    try:
        phone = SimPhone("grandstream-gxp1610", "GXP1610", mac, "1.0.4.106", 1)
        status, body = http_get(f"{server.base}/prov/{tenant['key']}/cfg{mac}.xml", phone.user_agent())
        assert status == 200
        params = parse("grandstream", body)
        assert accounts("grandstream", phone.catalog_key, params) == {1: (params["P36"], params["P47"])}
        assert "P404" not in params and b"-302" not in body
        rows = wait_for(lambda: [r for r in cli_json(database_url, "devices", "--noncompliant") if r["mac"] == mac])
        assert rows[0]["findings"] == ["lines_exceeded"]
    finally:
        stop_server(server)


def test_render_masks_secrets_unless_asked(deployed) -> None:
    server, _tenant = deployed
    phone = next(p for p in DESK_PHONES if p.catalog_key == "grandstream-gxp1620")
    port = {"PROVISIONER_HTTP_PORT": str(server.http_port)}
    masked = run_cli(server.database_url, "render", phone.mac, env=port).stdout
    shown = run_cli(server.database_url, "render", phone.mac, "--show-secrets", env=port).stdout
    assert "********" in masked and "********" not in shown
    status, served = http_get(f"{server.base}/prov/{_tenant['key']}/{phone.device_file()}", phone.user_agent())
    assert served.decode() == shown


@pytest.mark.skipif(shutil.which("tftp") is None, reason="tftp-hpa not installed")
def test_server_log_never_contains_passwords(deployed, tmp_path: Path) -> None:
    server, tenant = deployed
    for phone in DESK_PHONES:
        http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent())
        curl_tftp(server, f"{tenant['key']}/{phone.device_file()}", tmp_path / phone.mac)
    shown = run_cli(server.database_url, "render", DESK_PHONES[0].mac, "--show-secrets").stdout
    params = parse("polycom", shown.encode())
    password = params["reg.1.auth.password"]
    log = server.log()
    assert "sensitive file served" in log
    assert password not in log


def _rrq(name: bytes, *options: bytes, opcode: int = 1) -> bytes:
    return opcode.to_bytes(2, "big") + name + b"\0octet\0" + b"".join(o + b"\0" for o in options)


def test_hostile_tftp_datagrams_leave_the_real_server_serving(deployed, tmp_path: Path) -> None:
    import socket

    server, tenant = deployed
    key = tenant["key"].encode()
    phone = DESK_PHONES[-1]
    hostile = [
        _rrq(b"caf\xc3\xa9/\xff\xfe.cfg"),  # non-ASCII file name
        _rrq(key + b"/" + phone.device_file().encode(), b"blksize", b"\xff\xfe"),  # non-ASCII option value
        _rrq(key + b"/" + phone.device_file().encode(), b"blksize", b"abc"),
        _rrq(key + b"/" + phone.device_file().encode(), b"blksize", b"99999999"),
        _rrq(key + b"/x.cfg", opcode=2),  # WRQ
        _rrq(key + b"/../../../etc/passwd"),
        _rrq(b"/etc/passwd"),
        _rrq(key + b"//etc/passwd"),
        _rrq(key + b"/..\\..\\windows\\win.ini"),
        b"\x00", b"\x00\x01", b"\x00\x05\x00\x00", b"\x00\x04\x00\x01", b"\xff" * 600,
    ]
    for datagram in hostile:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            sock.sendto(datagram, ("127.0.0.1", server.tftp_port))
            try:
                reply, _ = sock.recvfrom(70000)
                if datagram.startswith(b"\x00\x01") and b"99999999" in datagram and reply[:2] == b"\x00\x06":
                    sock.sendto(b"\x00\x04\x00\x00", _)  # ACK the OACK: the transfer must use a sane size
                    data, _ = sock.recvfrom(70000)
                    assert len(data) - 4 <= 1468
                elif datagram[:2] in (b"\x00\x01", b"\x00\x02") and b"passwd" in datagram or b"win.ini" in datagram:
                    assert reply[:2] == b"\x00\x05", reply  # an ERROR, never DATA
            except TimeoutError:
                pass
        dest = tmp_path / "after.cfg"
        result = curl_tftp(server, f"{tenant['key']}/{phone.device_file()}", dest)
        assert result.returncode == 0 and b"account.1.enable = 1" in dest.read_bytes(), (datagram, result.stderr)
    assert server.alive()


def test_firmware_in_the_folder_is_served_but_not_pointed_at_outside_a_campaign(deployed, tmp_path: Path) -> None:
    """Issue 18: an image in the folder is no instruction; only a campaign's phones inside its
    window get one (tests/test_campaigns_e2e.py)."""
    server, tenant = deployed
    base = f"{server.base}/prov/{tenant['key']}/"
    phone = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t20p")
    image = b"\x00ROM" + bytes(range(256)) * 40
    (server.firmware_dir / "9.73.0.50.rom").write_bytes(image)
    try:
        assert wait_for(lambda: http_get(base + "9.73.0.50.rom", phone.user_agent()) == (200, image), timeout=15)
        for name in ("y000000000007.cfg", phone.device_file()):
            status, body = http_get(base + name, phone.user_agent())
            assert status == 200 and "firmware.url" not in parse("yealink", body), name
        dest = tmp_path / "fw.rom"
        assert curl_tftp(server, f"{tenant['key']}/9.73.0.50.rom", dest, blksize=1428).returncode == 0
        assert dest.read_bytes() == image
        # Another model's image name is not served to anyone as this one, and unknown names are 404.
        assert http_get(base + "34.72.0.75.rom", phone.user_agent())[0] == 404
        assert http_get(base + "9.73.0.50.rom.bak")[0] == 404
    finally:
        (server.firmware_dir / "9.73.0.50.rom").unlink()
