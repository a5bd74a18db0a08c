"""Hostile file names, fuzzed: identification never raises and never lets a path through, the
firmware folder never yields a file outside it, and the real server answers traversal tricks
with its plain 404 (issue 20: random input never raises past the handler, never reads outside
the tenant's files).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmware_catalog import load_catalog
from provisioner.firmware_store import FirmwareStore
from provisioner.identification import clean_filename, identify, normalize_filename
from provisioner.values import Role
from tests.conftest import cli_json, start_server, stop_server

CATALOG = load_catalog()
SECRET = b"not a firmware image: the server must never send this"
IMAGE = "34.72.0.75.rom"
# Pieces real attacks are made of, so the fuzzer meets them far more often than by chance.
PIECES = st.sampled_from(["..", "/", "../", "2345-12365-001.sip.ld", "\\", "%2e", "%2f", "\x00", "grandstream", "Grandstream", "cfg", ".xml",
                          "000b82a1b201", "001565a1b203", IMAGE, "secret.txt", "~", "./", "//", ":", "\n"])
NAMES = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=12).map("".join))


@settings(max_examples=3000, deadline=None)
@given(name=NAMES, user_agent=st.one_of(st.none(), st.text(max_size=600)))
def test_identify_never_raises_and_accepts_no_path(name: str, user_agent: str | None) -> None:
    ident = identify(name, user_agent, CATALOG)
    cleaned = clean_filename(name)
    if cleaned is None:
        assert ident.role is Role.UNKNOWN
        assert normalize_filename(name) == ""
        return
    folder, base = cleaned
    assert base and base.isprintable() and "/" not in base and "\\" not in base and ".." not in base
    assert folder in ("", "grandstream")


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
@example(name="../secret.txt")
@example(name="2345-12365-001.sip.ld")  # a catalog name, but a link out of the folder
def test_the_firmware_folder_never_yields_a_file_outside_it(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "firmware"
    folder.mkdir(exist_ok=True)
    (folder / IMAGE).write_bytes(b"image")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (folder / "2345-12365-001.sip.ld").unlink(missing_ok=True)
    if not (folder / "2345-12365-001.sip.ld").exists():
        (folder / "2345-12365-001.sip.ld").symlink_to(tmp_path / "secret.txt")  # a link out of the folder
    store = FirmwareStore(folder, [e.firmware_file for e in CATALOG.entries if e.firmware_file])
    assert store.read(name) in (None, b"image")


HOSTILE = [
    "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "grandstream/../../etc/passwd",
    "Grandstream/..%5c..%5cetc%5cpasswd", "..\\..\\etc\\passwd", "%00cfg000b82a1b201.xml", "cfg000b82a1b201.xml%00.txt",
    "/" * 300 + "x.cfg", "a" * 5000 + ".cfg", f"../firmware/{IMAGE}", f"%2e%2e%2ffirmware%2f{IMAGE}",
    "secret.txt", "../secret.txt", "%2e%2e%2fsecret.txt", "....//....//secret.txt", "..;/secret.txt",
]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_server_answers_traversal_tricks_with_its_plain_404(backend: str, tmp_path: Path) -> None:
    from tests.conftest import fresh_database

    (tmp_path / "secret.txt").write_bytes(SECRET)
    with fresh_database(backend, tmp_path) as url:
        tenant = cli_json(url, "tenant", "create", "Acme", "--sip-server", "pbx.example.net")
        assert isinstance(tenant, dict)
        server = start_server(url, tmp_path)
        try:
            for path in HOSTILE:
                for prefix in (f"/prov/{tenant['key']}/", "/prov/not-a-key/"):
                    result = subprocess.run(
                        ["curl", "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}",
                         f"{server.base}{prefix}{path}"],
                        capture_output=True, timeout=30,
                    )
                    body, _, status = result.stdout.rpartition(b"\n")
                    assert status in (b"404", b"400"), (path, status)
                    assert SECRET not in body and b"root:" not in body
        finally:
            stop_server(server)
        assert "Traceback" not in server.log()

