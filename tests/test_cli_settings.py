"""`provisioner settings`, `serve --help` and `--version` through the real console script.
Settings are read from the environment once; secrets never reach the listing."""

from __future__ import annotations

import json
from dataclasses import fields
from importlib.metadata import version

from provisioner.settings import HELP, Settings, settings_table
from tests.conftest import run_cli

# The commands print settings without opening the database: this URL carries a password to hide.
DATABASE_URL = "postgresql+psycopg://prov:db-secret-9@127.0.0.1:1/provisioner"
ENV = {"PROVISIONER_SMTP_PASSWORD": "smtp-secret-7", "PROVISIONER_HTTP_PORT": "8123", "PROVISIONER_SMTP_HOST": "mail.acme.co"}


def test_every_setting_has_help() -> None:
    assert set(HELP) == {f.name for f in fields(Settings)}
    assert all(text.strip() for text in HELP.values())


def test_settings_json_lists_variable_default_value_and_help() -> None:
    rows = {row["name"]: row for row in json.loads(run_cli(DATABASE_URL, "settings", "--json", env=ENV).stdout)}
    assert set(rows) == {f.name for f in fields(Settings)}
    assert rows["http_port"] == {"name": "http_port", "variable": "PROVISIONER_HTTP_PORT", "default": "8080",
                                 "value": "8123", "help": HELP["http_port"]}
    assert (rows["smtp_password"]["value"], rows["smtp_password"]["default"]) == ("***", "")
    assert rows["database_url"]["value"] == "postgresql+psycopg://prov:***@127.0.0.1:1/provisioner"
    assert rows["smtp_host"]["value"] == "mail.acme.co"


def test_settings_text_and_serve_help_hide_secrets() -> None:
    for args in (("settings",), ("serve", "--help")):
        result = run_cli(DATABASE_URL, *args, env=ENV)
        assert "smtp-secret-7" not in result.stdout + result.stderr and "db-secret-9" not in result.stdout + result.stderr
        assert "PROVISIONER_SMTP_PASSWORD  = ***" in result.stdout
        assert "PROVISIONER_HTTP_PORT  = 8123  (default: 8080)" in result.stdout
        assert HELP["intake_max_hold_seconds"] in result.stdout
    assert "--http-port" in run_cli(DATABASE_URL, "serve", "--help", env=ENV).stdout  # the options stay first


def test_a_bad_setting_is_named_not_a_traceback() -> None:
    result = run_cli(DATABASE_URL, "settings", check=False, env={"PROVISIONER_SNMP_PORT": "ciento"})
    assert result.returncode == 1
    assert "PROVISIONER_SNMP_PORT: 'ciento' is not a whole number" in result.stderr and "Traceback" not in result.stderr


def test_version() -> None:
    result = run_cli(DATABASE_URL, "--version")
    assert result.stdout.strip() == f"provisioner, version {version('desk-provisioner')}"


def test_table_without_environment_shows_defaults() -> None:
    rows = settings_table(Settings())
    assert all(row.value == row.default for row in rows)
    assert [row.variable for row in rows][:2] == ["PROVISIONER_DATABASE_URL", "PROVISIONER_HOST"]
