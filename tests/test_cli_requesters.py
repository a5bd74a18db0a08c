"""`provisioner requester ...` and `tenant set --email-domains` through the real console script."""

from __future__ import annotations

import json

from tests.conftest import cli_json, run_cli


def test_invite_list_disable_and_domains(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    assert cli_json(database_url, "tenant", "set", "acme", "--email-domains", "Acme.co, acme.com.co")["email_domains"] == [
        "acme.co", "acme.com.co"]
    bad = run_cli(database_url, "tenant", "set", "acme", "--email-domains", "acme..co", check=False)
    assert bad.returncode == 1 and "dominio" in bad.stderr

    invited = cli_json(database_url, "requester", "invite", "--tenant", "acme", "--email", "Ana@Acme.co", "--name", "Ana Pérez")
    assert invited["email"] == "ana@acme.co" and invited["mailed"] is False
    assert "/portal/enlace/" in invited["link"]
    text = run_cli(database_url, "requester", "invite", "--tenant", "acme", "--email", "luis@acme.co", "--name", "Luis").stdout
    assert "/portal/enlace/" in text and "hand the link over" in text

    listed = run_cli(database_url, "requester", "list", "--tenant", "acme", "--json").stdout
    rows = json.loads(listed)
    assert [(r["email"], r["active"], r["password_set"]) for r in rows] == [("ana@acme.co", True, False), ("luis@acme.co", True, False)]
    token = invited["link"].rsplit("/", 1)[1]
    assert token not in listed and "scrypt" not in listed and "digest" not in listed

    assert cli_json(database_url, "requester", "disable", "ANA@acme.co") == {"email": "ana@acme.co", "tenant": "acme", "active": False}
    assert [r["active"] for r in cli_json(database_url, "requester", "list")] == [False, True]  # type: ignore[index]
    missing = run_cli(database_url, "requester", "disable", "nadie@acme.co", check=False)
    assert missing.returncode == 1 and "No hay un solicitante" in missing.stderr
    other = run_cli(database_url, "requester", "invite", "--tenant", "nada", "--email", "x@y.co", "--name", "X", check=False)
    assert other.returncode == 1 and "No hay un cliente" in other.stderr


def test_invite_mails_the_link_when_smtp_is_configured(database_url: str) -> None:
    from tests.test_support_mail import start_smtp

    smtp = start_smtp()
    try:
        cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
        env = {"PROVISIONER_SMTP_HOST": "127.0.0.1", "PROVISIONER_SMTP_PORT": str(smtp.port),
               "PROVISIONER_SMTP_SENDER": "soporte@operador.example", "PROVISIONER_SMTP_RECIPIENT": "mesa@operador.example",
               "PROVISIONER_PORTAL_URL": "https://soporte.operador.example"}
        result = run_cli(database_url, "requester", "invite", "--tenant", "acme", "--email", "ana@acme.co", "--name", "Ana",
                         "--json", env=env)
        invited = json.loads(result.stdout)
        assert invited["mailed"] is True and invited["link"].startswith("https://soporte.operador.example/portal/enlace/")
        assert [envelope[1] for envelope in smtp.inbox.envelopes] == [["ana@acme.co"]]  # the requester, not the helpdesk
        assert invited["link"] in smtp.inbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    finally:
        smtp.controller.stop()
