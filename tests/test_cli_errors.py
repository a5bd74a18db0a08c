"""A user's mistake on the command line: one clear line on stderr, exit status 1, never a
traceback. The real console script in a subprocess, each row of the table a case."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROVISIONER = str(Path(sys.executable).parent / "provisioner")

# name, arguments, environment (DB: the test's SQLite file), what the one line must say
TABLE = [
    ("month 13", ["billing", "report", "--tenant", "acme", "--month", "2026-13"], {}, "--month '2026-13'"),
    ("month not a month", ["billing", "report", "--tenant", "acme", "--month", "marzo"], {}, "YYYY-MM"),
    ("snmp port not a number", ["settings"], {"PROVISIONER_SNMP_PORT": "abc"}, "PROVISIONER_SNMP_PORT: 'abc' is not a whole number"),
    ("log format unknown", ["settings"], {"PROVISIONER_LOG_FORMAT": "xml"}, "PROVISIONER_LOG_FORMAT"),
    ("PostgreSQL unreachable", ["tenant", "list"],
     {"PROVISIONER_DATABASE_URL": "postgresql://ana:s3cret-pw@127.0.0.1:{closed}/x"}, "cannot use the database"),
    ("database kind unknown", ["tenant", "list"], {"PROVISIONER_DATABASE_URL": "mongodb://x/y"}, "unknown database kind"),
    ("database URL garbage", ["tenant", "list"], {"PROVISIONER_DATABASE_URL": "not a url"}, "not a database URL"),
    ("SQLite folder missing", ["tenant", "list"], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("SQLite folder missing (reports)", ['reports', 'dashboard'], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("SQLite folder missing (onboarding)", ['readiness', 'acme'], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("SQLite folder missing (pbx)", ['pbx', 'export', '--tenant', 'acme', '--format', 'kamailio'], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("SQLite folder missing (firmware)", ['firmware', 'list'], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("SQLite folder missing (softphone)", ['softphone', 'show', '--tenant', 'acme', '--extension', '101'], {"PROVISIONER_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/p.sqlite3"},
     "does not exist"),
    ("devices of an unknown tenant", ["devices", "--tenant", "nadie"], {}, "no tenant with slug 'nadie'"),
    ("tickets of an unknown account", ["tickets", "list", "--account", "nadie"], {}, "no tenant with slug 'nadie'"),
    ("billing of an unknown tenant", ["billing", "report", "--tenant", "nadie", "--month", "2026-03"], {},
     "no tenant with slug 'nadie'"),
    ("HTTP port in use", ["serve", "--http-port", "{busy}", "--tftp-port", "-1"], {}, "HTTP port {busy} on 127.0.0.1"),
    ("TFTP port in use", ["serve", "--http-port", "{closed}", "--tftp-port", "{busy_udp}"], {}, "TFTP port {busy_udp}"),
]


@pytest.fixture(scope="module")
def busy() -> Iterator[dict[str, str]]:
    """A listening TCP port, a bound UDP port and a closed TCP port on loopback."""
    with socket.socket() as listening, socket.socket(type=socket.SOCK_DGRAM) as bound, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        bound.bind(("127.0.0.1", 0))
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
        closed.close()
        yield {"busy": str(listening.getsockname()[1]), "busy_udp": str(bound.getsockname()[1]), "closed": str(closed_port)}


@pytest.mark.parametrize(("args", "env", "said"), [pytest.param(a, e, s, id=n) for n, a, e, s in TABLE])
def test_a_mistake_is_one_line_and_exit_1(args: list[str], env: dict[str, str], said: str, busy: dict[str, str],
                                           tmp_path: Path) -> None:
    values = {**busy, "tmp": str(tmp_path)}
    environ = {**os.environ, "PROVISIONER_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3", "PROVISIONER_SNMP_ENABLED": "0"}
    environ.update({key: value.format(**values) for key, value in env.items()})
    result = subprocess.run([PROVISIONER, *(arg.format(**values) for arg in args)], capture_output=True, text=True,
                            env=environ, timeout=120, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert said.format(**values) in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert "listening" not in result.stderr  # a server that could not bind never said it listens
    assert "s3cret-pw" not in result.stderr  # a database password is never printed
    assert not (tmp_path / "no").exists()  # a missing folder is not created behind the user's back


def test_db_upgrade_creates_the_folder_on_purpose(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/p.sqlite3"
    result = subprocess.run([PROVISIONER, "db", "upgrade"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PROVISIONER_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "dir" / "p.sqlite3").exists()
