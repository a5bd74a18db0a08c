"""The line rule at every entry point, through the real console script on SQLite and PostgreSQL:
`extension add` and the import refuse the same lines with the same words, and an export of
phones filled to what they may hold imports back unchanged (issue 15 items 1 and 7). Also
`tenant create`'s option-66 strings (item 8a)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from firmware_catalog import allowed_lines, line_refusal, load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from tests.conftest import cli_json, run_cli
from tests.phones import DESK_PHONES

CATALOG = load_catalog()


def _tenant(database_url: str, name: str = "Acme S.A.S.") -> dict[str, object]:
    return cli_json(database_url, "tenant", "create", name, "--sip-server", "pbx.acme.example.net",
                    "--public-url", "https://prov.acme.example.net")  # type: ignore[return-value]


def test_add_and_import_refuse_the_same_line_with_the_same_words(database_url: str, tmp_path: Path) -> None:
    tenant = _tenant(database_url)
    expected = line_refusal(CATALOG.get("grandstream-gxp1610"), 2)
    assert expected is not None and "el equipo tiene 1 cuenta SIP" in expected
    added = run_cli(database_url, "extension", "add", "--tenant", str(tenant["slug"]), "--extension", "131",
                    "--name", "Ana", "--mac", "000b82001611", "--model", "GXP1610", "--line", "2", check=False)
    assert added.returncode != 0 and expected in added.stderr and "Traceback" not in added.stderr
    sheet = tmp_path / "lista.csv"
    sheet.write_text("extension,name,mac,model,line\n131,Ana,000b82001611,GXP1610,2\n", encoding="utf-8")
    imported = run_cli(database_url, "import", "extensions", str(sheet), "--tenant", str(tenant["slug"]), check=False)
    assert imported.returncode != 0
    assert expected in imported.stdout + imported.stderr
    # T21P line 3 (issue 15 item 7): refused at entry as well, never just a warning.
    t21p = run_cli(database_url, "extension", "add", "--tenant", str(tenant["slug"]), "--extension", "132",
                   "--name", "Luis", "--mac", "001565000132", "--model", "T21P", "--line", "3", check=False)
    assert t21p.returncode != 0 and "la línea 3 no está disponible: el T21P admite solo la línea 1" in t21p.stderr


def test_every_model_filled_to_its_allowed_lines_exports_and_imports_back(database_url: str, tmp_path: Path) -> None:
    tenant = _tenant(database_url)
    slug = str(tenant["slug"])
    number = 400
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:  # the CLI's own code, in-process (faster)
        owner = admin.tenant_by_slug(session, slug)
        for phone in DESK_PHONES:
            for line in range(1, allowed_lines(CATALOG.get(phone.catalog_key)) + 1):
                number += 1
                admin.add_extension(session, CATALOG, owner, str(number), f"Empleado {number}",
                                    assignment=admin.Assignment(phone.mac, phone.model_arg, line))
    engine.dispose()
    exported = tmp_path / "export.csv"
    run_cli(database_url, "export", "extensions", "--tenant", slug, str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert len(rows) == number - 400
    back = run_cli(database_url, "import", "extensions", str(exported), "--tenant", slug, "--json")
    summary = json.loads(back.stdout)["summary"]
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, number - 400), back.stdout


def test_tenant_create_says_loudly_when_its_option66_strings_are_local_only(database_url: str) -> None:
    local = run_cli(database_url, "tenant", "create", "Local S.A.S.", "--sip-server", "pbx.example.net")
    assert "option 66 (HTTP): http://127.0.0.1:" in local.stdout
    assert local.stderr.startswith("WARNING: local only:") and "PROVISIONER_PUBLIC_URL" in local.stderr
    public = run_cli(database_url, "tenant", "create", "Publica S.A.S.", "--sip-server", "pbx.example.net",
                     "--public-url", "https://prov.example.net", "--json")
    data = json.loads(public.stdout)
    assert data["option66_http"].startswith("https://prov.example.net/prov/") and data["option66_local_only"] is False
    assert data["option66_tftp"].startswith("tftp://prov.example.net")
    assert "WARNING" not in public.stderr
    from_env = run_cli(database_url, "tenant", "create", "Env S.A.S.", "--sip-server", "pbx.example.net",
                       env={"PROVISIONER_PUBLIC_URL": "http://10.20.0.5:8080"})
    assert "http://10.20.0.5:8080/prov/" in from_env.stdout and "WARNING" not in from_env.stderr
    for bad in ("ftp://x", "prov.example.net", "https://"):
        refused = run_cli(database_url, "tenant", "create", "Mala S.A.S.", "--sip-server", "pbx.example.net",
                          "--public-url", bad, check=False)
        assert refused.returncode == 2 and "is not an http:// or https:// URL" in refused.stderr
    localhost = run_cli(database_url, "tenant", "create", "Loop S.A.S.", "--sip-server", "pbx.example.net",
                        "--public-url", "http://localhost:8080")
    assert "WARNING: local only" in localhost.stderr
