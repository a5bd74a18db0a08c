"""Shared fixtures: real databases (SQLite file and PostgreSQL) and a real running server.

Every database test runs twice, on SQLite and on PostgreSQL. PostgreSQL comes from
PROVISIONER_TEST_POSTGRES_URL (default: the local server, trust auth); each test gets its
own database cloned from a migrated template, so tests never see each other's rows.
Under CI an unreachable PostgreSQL is an error, never a silent skip.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import time
import uuid
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provisioner.db.engine import make_engine, upgrade_all

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("PROVISIONER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Databases of this run carry its id: several checkouts may run the suite at once on one server.
RUN_ID = os.getpid()
TEMPLATE_DB = f"provisioner_test_template_{RUN_ID}"
BACKENDS = ["sqlite", "postgresql"]


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


_template_ready = False


def _postgres_database() -> str:
    """Create a fresh migrated PostgreSQL database and return its URL."""
    global _template_ready
    try:
        admin = _admin_engine()
        with admin.connect() as conn:
            if not _template_ready:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{TEMPLATE_DB}"'))
            name = f"provisioner_test_{uuid.uuid4().hex[:12]}"
            if not _template_ready:
                template_url = make_url(POSTGRES_URL).set(database=TEMPLATE_DB)
                engine = make_engine(template_url.render_as_string(hide_password=False))
                upgrade_all(engine)
                engine.dispose()
                _template_ready = True
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection failure
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's shared databases (the template, test modules' scratch databases)."""
    try:
        admin = _admin_engine()
        with admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"provisioner\\_%\\_{RUN_ID}"},
            ).scalars().all()
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    except Exception:  # noqa: BLE001 - no PostgreSQL: nothing of this run to drop
        pass


def _drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, migrated database URL on `backend`, dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'provisioner.sqlite3'}"
        engine = make_engine(url)
        upgrade_all(engine)
        engine.dispose()
        yield url
        return
    url = _postgres_database()
    try:
        yield url
    finally:
        _drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database URL: a SQLite file, then a PostgreSQL database."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, shared by every test of a module (for expensive set-ups like a running server)."""
    with fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> tuple[int, int]:
    """A TCP port for HTTP and a UDP port for TFTP, both free now."""
    return free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)


def run_cli(database_url: str, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `provisioner` console script against a database."""
    full_env = {**os.environ, "PROVISIONER_DATABASE_URL": database_url, **(env or {})}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "provisioner"), *args],
        capture_output=True, text=True, env=full_env, timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"provisioner {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def cli_json(database_url: str, *args: str) -> object:
    return json.loads(run_cli(database_url, *args, "--json").stdout)


@dataclass
class RunningServer:
    database_url: str
    http_port: int
    tftp_port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    firmware_dir: Path
    cafile: Path | None = None  # the certificate that proves an HTTPS server

    @property
    def base(self) -> str:
        return f"{'https' if self.cafile else 'http'}://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


def start_server(database_url: str, workdir: Path, firmware_dir: Path | None = None, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), open_file_limit: int | None = None, cafile: Path | None = None) -> RunningServer:
    """`provisioner serve` in a child process; `open_file_limit` caps its descriptors (soft and
    hard); `cafile`, the certificate of a server started with TLS, checks its HTTPS."""
    http_port, tftp_port = free_port_pair()
    firmware_dir = firmware_dir or (workdir / "firmware")
    firmware_dir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{http_port}.log"
    env = {
        **os.environ,
        "PROVISIONER_DATABASE_URL": database_url,
        "PROVISIONER_HTTP_PORT": str(http_port),
        "PROVISIONER_TFTP_PORT": str(tftp_port),
        "PROVISIONER_FIRMWARE_DIR": str(firmware_dir),
        "PROVISIONER_CACHE_CHECK_SECONDS": "0.05",
        "PROVISIONER_SNMP_ENABLED": "0",  # tests that verify phones over SNMP switch it on
        **(extra_env or {}),
    }
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed with the process

    def limit_descriptors() -> None:
        if open_file_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_file_limit, open_file_limit))

    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "provisioner"), "serve", *args], stdout=log_file, stderr=subprocess.STDOUT, env=env,
        preexec_fn=limit_descriptors if open_file_limit is not None else None,
    )
    server = RunningServer(database_url, http_port, tftp_port, process, log_path, firmware_dir, cafile)
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    # Generous: a start is mostly imports, and on a loaded 2-core machine those alone took 25 s.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=1, context=context) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not come up:\n{server.log()}")


def stop_server(server: RunningServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=60)  # a clean shutdown flushes every worker's queues
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
