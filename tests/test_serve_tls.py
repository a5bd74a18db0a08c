"""HTTPS straight from `provisioner serve --tls-cert --tls-key`: real curl with --cacert fetches
each vendor's config with its real User-Agent; the web app answers over HTTPS; bad files stop
the server with one line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.settings import Settings
from tests.certificates import self_signed
from tests.conftest import RunningServer, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone, accounts, parse
from tests.test_boot_e2e import add_phone

ONE_PER_VENDOR = [next(p for p in DESK_PHONES if p.vendor == vendor) for vendor in ("polycom", "grandstream", "yealink")]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_server(certificate: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    """A tenant with a phone of each vendor, served over HTTPS only. SQLite only: TLS sits
    below the database."""
    workdir = tmp_path_factory.mktemp("https")
    with fresh_database("sqlite", workdir) as url:
        tenant = json.loads(run_cli(url, "tenant", "create", "Acme", "--sip-server", "pbx.example.net", "--json").stdout)
        for number, phone in enumerate(ONE_PER_VENDOR, start=101):
            add_phone(url, tenant["slug"], phone.mac, phone.model_arg, [str(number)])
        cert, key = certificate
        server = start_server(url, workdir, args=("--tls-cert", str(cert), "--tls-key", str(key)), cafile=cert)
        try:
            yield server, str(tenant["key"])
        finally:
            stop_server(server)


def curl(server: RunningServer, path: str, *options: str) -> subprocess.CompletedProcess[bytes]:
    assert server.cafile is not None
    return subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", str(server.cafile), *options, server.base + path],
                          capture_output=True, timeout=30)


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
def test_curl_fetches_each_vendors_config_over_https(https_server: tuple[RunningServer, str], phone: SimPhone) -> None:
    server, key = https_server
    fetched = curl(server, f"/prov/{key}/{phone.device_file()}", "-A", phone.user_agent(), "-w", "\n%{http_code}")
    assert fetched.returncode == 0, fetched.stderr
    body, _, status = fetched.stdout.rpartition(b"\n")
    assert status == b"200", body[:300]
    params = parse(phone.vendor, body)
    assert sorted(accounts(phone.vendor, phone.catalog_key, params)) == [1]
    if phone.vendor == "grandstream":
        assert params["P212"] == "2"  # the phone is told to come back over HTTPS


def test_the_web_login_page_answers_over_https(https_server: tuple[RunningServer, str]) -> None:
    server, _key = https_server
    fetched = curl(server, "/login", "-w", "\n%{http_code}")
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.endswith(b"\n200")
    assert "Contraseña" in fetched.stdout.decode()


def test_plain_http_and_unknown_certificates_get_nothing(https_server: tuple[RunningServer, str]) -> None:
    server, key = https_server
    plain = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{server.http_port}/prov/{key}/common.cfg"],
                           capture_output=True, timeout=30)
    assert plain.returncode != 0 and plain.stdout == b""
    untrusted = subprocess.run(["curl", "-sS", "--max-time", "5", f"{server.base}/login"], capture_output=True, timeout=30)
    assert untrusted.returncode == 60, untrusted.stderr  # curl: peer certificate cannot be authenticated
    assert server.alive()


def test_option_66_says_https_when_the_public_url_does(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        created = run_cli(url, "tenant", "create", "Acme", "--sip-server", "pbx.example.net", "--json",
                          env={"PROVISIONER_PUBLIC_URL": "https://prov.example.net"})
        option66 = json.loads(created.stdout)["option66_http"]
        assert option66.startswith("https://prov.example.net/prov/") and option66.endswith("/")
    assert Settings(tls_cert="server.crt", tls_key="server.key", http_port=8443).base_url == "https://127.0.0.1:8443"
    assert Settings(http_port=8080).base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (("missing.crt", "server.key"), "TLS certificate {dir}/missing.crt: No such file or directory"),
        (("server.crt", "missing.key"), "TLS key {dir}/missing.key: No such file or directory"),
        (("server.key", "server.key"), "TLS certificate {dir}/server.key: no PEM certificate in it"),
        (("server.crt", "server.crt"), "TLS key {dir}/server.crt: no PEM private key in it"),
        (("server.crt", "other.key"), "TLS key {dir}/other.key is not the key of the certificate {dir}/server.crt"),
        (("server.crt", "encrypted.key"), "TLS key {dir}/encrypted.key is encrypted"),
        (("server.crt", None), "TLS needs both a certificate and its key"),
    ],
)
def test_bad_certificate_or_key_files_stop_serve_with_one_line(tmp_path: Path, files: tuple[str, str | None], error: str) -> None:
    cert, key = self_signed(tmp_path)
    self_signed(tmp_path, "other")
    subprocess.run(["openssl", "pkey", "-in", str(key), "-aes256", "-passout", "pass:secret", "-out",
                    str(tmp_path / "encrypted.key")], check=True, capture_output=True)
    args = ["--tls-cert", str(tmp_path / files[0])] + (["--tls-key", str(tmp_path / files[1])] if files[1] else [])
    with fresh_database("sqlite", tmp_path) as url:
        result = run_cli(url, "serve", "--http-port", "0", "--tftp-port", "-1", *args, check=False)
    assert result.returncode == 1
    assert f"Error: {error.format(dir=tmp_path)}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_trusted_proxy_stops_serve_with_one_line(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        result = run_cli(url, "serve", "--http-port", "0", "--tftp-port", "-1", "--trusted-proxy", "10.0.0.5,nginx", check=False)
    assert result.returncode == 1
    assert "Error: PROVISIONER_TRUSTED_PROXIES: 'nginx' is not an IP address or network (CIDR)" in result.stderr
    assert "Traceback" not in result.stderr
