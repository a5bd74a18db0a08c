"""Shared fixtures and helpers for the import tests (no tests here).

`import_db` gives a migrated database URL, once on SQLite and once on PostgreSQL. The
PostgreSQL side uses its own scratch database, `provisioner_import_test_<run>`, recreated once
per test session and emptied before each test (other engineers' databases are never
touched). The PostgreSQL variant is skipped only when the server is unreachable, and
never under CI.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from provisioner.db.engine import make_engine, session_factory, upgrade
from provisioner.db.models import ConfigVersion, Device, Extension, Tenant
from tests.conftest import RUN_ID

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("PROVISIONER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SCRATCH_DB = f"provisioner_import_test_{RUN_ID}"  # dropped by conftest at the end of the run

_sqlite_template: Path | None = None
_postgres_url: str | None = None


def _sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh migrated SQLite file (copied from one migrated once per session: fast)."""
    global _sqlite_template
    if _sqlite_template is None:
        template = tmp_path_factory.mktemp("import-template") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        _sqlite_template = template
    target = tmp_path / "import.sqlite3"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


def _postgres_scratch_url() -> str:
    """provisioner_import_test_<run>, created and migrated once per session, emptied before each test."""
    global _postgres_url
    if _postgres_url is None:
        try:
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{SCRATCH_DB}"'))
            admin.dispose()
        except Exception as exc:  # noqa: BLE001 - any connection failure means "unreachable"
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
        url = make_url(POSTGRES_ADMIN_URL).set(database=SCRATCH_DB).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        _postgres_url = url
    _empty_postgres(_postgres_url)
    return _postgres_url


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = connection.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('alembic_version', 'config_version')"
        )).all()
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        connection.execute(text("UPDATE config_version SET version = 0"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def import_db(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database URL: a SQLite file, then the PostgreSQL scratch database."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path, tmp_path_factory)
    else:
        yield _postgres_scratch_url()


@pytest.fixture
def engine(import_db: str) -> Iterator[Engine]:
    engine = make_engine(import_db)
    yield engine
    engine.dispose()


def add_tenant(engine: Engine, slug: str = "acme", name: str = "Acme S.A.S.") -> int:
    with session_factory(engine).begin() as session:
        tenant = Tenant(
            name=name, slug=slug, provisioning_key=f"key-{slug}-0123456789", sip_server="pbx.acme.example.net",
            snmp_community="ro-test", admin_password="admin-test", created_at=datetime.now(UTC),
        )
        session.add(tenant)
        session.flush()
        return tenant.id


# -- files ----------------------------------------------------------------------------------
def csv_text(rows: Sequence[Sequence[object]], separator: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, rows: Sequence[Sequence[object]], separator: str = ",", encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(rows, separator).encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], sheet: str = "Extensiones", extra_sheet_first: bool = False) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    if extra_sheet_first:
        first.title = "Instrucciones"
        first.append(["Llene la hoja Extensiones"])
        target = workbook.create_sheet(sheet)
    else:
        first.title = sheet
        target = first
    for row in rows:
        target.append(list(row))
    workbook.save(path)
    return path


# -- running --------------------------------------------------------------------------------
def run_import(url: str, *args: str) -> Result:
    """`provisioner import extensions ...` through click's CliRunner (same process)."""
    from provisioner.importing.cli import import_group

    return CliRunner().invoke(import_group, ["extensions", *args], env={"PROVISIONER_DATABASE_URL": url}, catch_exceptions=False)


def run_export(url: str, *args: str) -> Result:
    from provisioner.importing.cli import export_group

    return CliRunner().invoke(export_group, ["extensions", *args], env={"PROVISIONER_DATABASE_URL": url}, catch_exceptions=False)


IMPORT_SCRIPT = "from provisioner.importing.cli import import_group; import_group()"
EXPORT_SCRIPT = "from provisioner.importing.cli import export_group; export_group()"


def subprocess_env(url: str) -> dict[str, str]:
    env = {**os.environ, "PROVISIONER_DATABASE_URL": url}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def cli_process(url: str, script: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
    """The import or export group as a real process (python -c ...)."""
    return subprocess.Popen([sys.executable, "-c", script, "extensions", *args], env=subprocess_env(url), text=True,
                            cwd=ROOT, **popen)


# -- state ----------------------------------------------------------------------------------
def extensions(engine: Engine, slug: str = "acme") -> dict[str, dict[str, object]]:
    """number -> stored fields (with the device's MAC and model) of one tenant."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Extension, Device.mac, Device.model_key)
            .join(Tenant, Extension.tenant_id == Tenant.id)
            .outerjoin(Device, Extension.device_id == Device.id)
            .where(Tenant.slug == slug)
        ).all()
    return {
        e.number: {"name": e.name, "email": e.email, "department": e.department, "permissions": e.permissions,
                   "mac": mac, "model": model, "line": e.line, "sip_auth_user": e.sip_auth_user, "sip_password": e.sip_password}
        for e, mac, model in rows
    }


def devices(engine: Engine, slug: str = "acme") -> dict[str, str]:
    with session_factory(engine)() as session:
        return dict(session.execute(
            select(Device.mac, Device.model_key).join(Tenant, Device.tenant_id == Tenant.id).where(Tenant.slug == slug)
        ).all())


def config_version(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1)) or 0)
