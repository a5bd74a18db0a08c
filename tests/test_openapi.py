"""The API contract: /api/v1/openapi.json is valid OpenAPI 3.1 (openapi-spec-validator),
documents exactly the /api/v1 routes the app registers (a new undocumented route fails
here), names its errors and enums; and a bounded schemathesis run against the real server
finds no server error, no undocumented status and no response off its schema."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from provisioner.server import build_core, create_app
from provisioner.settings import Settings
from provisioner.web.openapi import OPENAPI
from tests.conftest import cli_json, start_server, stop_server

HERE = Path(__file__).parent
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(OPENAPI)
    assert OPENAPI["openapi"].startswith("3.1")


def test_the_document_covers_exactly_the_apps_api_routes(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/api.sqlite3", snmp_enabled=False, tftp_port=-1)
    app = create_app(settings, build_core(settings))
    routed = {(resource.canonical, route.method)
              for resource in app.router.resources() for route in resource
              if resource.canonical.startswith("/api/") and route.method in METHODS}
    documented = {(path, method.upper()) for path, item in OPENAPI["paths"].items() for method in item}
    assert routed == documented, {"undocumented": routed - documented, "not routed": documented - routed}


def test_every_operation_names_its_errors_and_every_response_is_described() -> None:
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert all(response.get("description") for response in responses.values()), (method, path)
            if operation.get("security", OPENAPI["security"]):  # behind a token: 401 without one
                assert "401" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)
            if "{id}" in path:
                assert "404" in responses, (method, path)
    new_ticket = OPENAPI["components"]["schemas"]["NewTicket"]["properties"]
    assert new_ticket["type"]["enum"] == ["incident", "requirement", "problem"]
    assert new_ticket["urgency"]["enum"] == ["high", "medium", "low"]
    assert new_ticket["impact"]["enum"] == ["organization", "department", "individual"]
    assert set(OPENAPI["components"]["schemas"]["Ticket"]["properties"]["status"]["enum"]) >= {"new", "resolved", "closed"}


def test_the_served_document_is_this_one(database_url: str, tmp_path: Path) -> None:
    server = start_server(database_url, tmp_path)
    try:
        with urllib.request.urlopen(f"{server.base}/api/v1/openapi.json", timeout=10) as response:
            assert json.loads(response.read()) == json.loads(json.dumps(OPENAPI))
    finally:
        stop_server(server)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_undocumented_status(database_url: str, tmp_path: Path) -> None:
    """Bounded: 10 examples per operation, 90 s at most, fixed seed (CI repeats the same run)."""
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    token = cli_json(database_url, "user", "add", "admin1", "--role", "admin", "--password", "clave-admin-1")["api_token"]
    server = start_server(database_url, tmp_path)
    try:
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"), "run",
             f"{server.base}/api/v1/openapi.json", "--header", f"Authorization: Bearer {token}",  # every check (a CLI --checks would override the file)
             "--max-examples", "10", "--max-time", "90", "--seed", "17", "--workers", "1", "--no-shrink",
             "--request-timeout", "20", "--wait-for-schema", "30"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
    finally:
        stop_server(server)
    report = run.stdout[-6000:]
    assert run.returncode == 0, report
    assert "server error" not in report.lower() and "Undocumented HTTP status" not in report, report
    assert "Internal Server Error" not in server.log() and "provisioner.web" not in _errors_logged(server.log()), server.log()[-3000:]


def _errors_logged(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if " ERROR " in line)


def test_the_documents_device_filters_are_the_ones_admin_takes() -> None:
    """openapi.py is pure and cannot import provisioner.admin: the copies must agree."""
    from provisioner import admin
    from provisioner.web import openapi

    assert openapi.WHICH == list(admin.WHICH) and openapi.COMPLIANCE == list(admin.COMPLIANCE)
