"""The CLI answers the provisioner's errors in one place (message, exit 1), and lists devices
from typed DeviceRow values: the same JSON fields as before, on both databases."""

from __future__ import annotations

from tests.conftest import cli_json, run_cli

DEVICE_FIELDS = {"mac", "tenant", "vendor", "model", "model_key", "reported_model", "firmware", "compliant", "findings", "registered",
                 "last_seen", "last_ip", "assigned", "lines", "open_tickets", "extensions", "softphone", "status"}


def test_refusals_are_messages_with_exit_status_1(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.co", "--slug", "acme")
    cases = [
        (("tenant", "create", "Acme", "--sip-server", "pbx.acme.co", "--slug", "acme"), "a tenant with slug 'acme' already exists"),
        (("extension", "add", "--tenant", "nadie", "--extension", "101", "--name", "Ana"), "no tenant with slug 'nadie'"),
        (("extension", "add", "--tenant", "acme", "--extension", "1x", "--name", "Ana"), "extension '1x' must be 2 to 6 digits"),
        (("user", "add", "a", "--role", "agent"), "user names are 2-64 letters"),
    ]
    for args, message in cases:
        result = run_cli(database_url, *args, check=False)
        assert (result.returncode, "Traceback" in result.stderr) == (1, False), result.stderr
        assert f"Error: {message}" in result.stderr


def test_devices_are_listed_from_typed_rows(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.co", "--slug", "acme")
    cli_json(database_url, "extension", "add", "--tenant", "acme", "--extension", "101", "--name", "Ana",
             "--mac", "00:15:65:AA:BB:01", "--model", "T21P", "--line", "1")
    [row] = cli_json(database_url, "devices")
    assert set(row) == DEVICE_FIELDS
    assert (row["mac"], row["tenant"], row["model_key"], row["assigned"], row["lines"]) == ("001565aabb01", "acme", "yealink-t21p", True, 1)
    assert (row["findings"], row["open_tickets"], row["compliant"]) == ([], [], False)  # never seen yet
    assert row["extensions"] == [{"number": "101", "name": "Ana"}]
    assert cli_json(database_url, "devices", "--waiting") == []
    text = run_cli(database_url, "devices").stdout
    assert text.startswith("001565aabb01 acme") and "never seen" in text


def test_a_ticket_id_past_the_column_is_refused_before_the_database() -> None:
    result = run_cli("postgresql+psycopg://nobody@127.0.0.1:1/none", "tickets", "show", "99999999999999999999999", check=False)
    assert result.returncode == 2 and "is not in the range 1<=x<=2147483647" in result.stderr and "Traceback" not in result.stderr
