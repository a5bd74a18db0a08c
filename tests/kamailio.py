"""A real Kamailio registrar for tests: loopback UDP on a free port, its own temp folder,
db_sqlite holding `subscriber` (loaded from our own `pbx export --format kamailio`) and
`location` (usrloc db_mode 1: every REGISTER is written through to the table).

Digest auth with auth_db: the realm is the To domain of the REGISTER, and the username must
match the To user (auth_check flag 1), so a config with a wrong user, domain or password
never gets its 200 OK.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMAS = Path("/usr/share/kamailio/db_sqlite")
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:{port}
mpath="{modules}/"
loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "db_sqlite.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
modparam("usrloc", "db_url", "sqlite:///{db}")
modparam("usrloc", "db_mode", 1)
modparam("usrloc", "use_domain", 1)
modparam("auth_db", "db_url", "sqlite:///{db}")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "use_domain", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (!is_method("REGISTER")) {{ sl_send_reply("405", "Method Not Allowed"); exit; }}
    if (!auth_check("$td", "subscriber", "1")) {{ auth_challenge("$td", "1"); exit; }}
    consume_credentials();
    if (!save("location")) {{ sl_reply_error(); }}
    exit;
}}
"""


@dataclass
class Kamailio:
    port: int
    db: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def load_sql(self, sql: str) -> None:
        with sqlite3.connect(self.db) as connection:
            connection.executescript(sql)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def available() -> bool:
    return shutil.which("kamailio") is not None and (MODULES / "db_sqlite.so").exists()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(folder: Path) -> Kamailio:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "kamailio.db"
    with sqlite3.connect(db) as connection:
        for schema in ("standard-create.sql", "auth_db-create.sql", "usrloc-create.sql"):
            connection.executescript((SCHEMAS / schema).read_text())
    port = _free_udp_port()
    config = folder / "kamailio.cfg"
    config.write_text(CONFIG.format(port=port, modules=MODULES, db=db))
    check = subprocess.run(["kamailio", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        raise AssertionError(f"kamailio refused its config:\n{check.stderr}")
    log_path = folder / "kamailio.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        ["kamailio", "-DD", "-E", "-f", str(config), "-P", str(folder / "kamailio.pid"), "-w", str(folder)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    kamailio = Kamailio(port, db, process, log_path)
    _wait_until_answering(kamailio)
    return kamailio


def stop(kamailio: Kamailio) -> None:
    if kamailio.process.poll() is None:
        kamailio.process.terminate()
        try:
            kamailio.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kamailio.process.kill()
            kamailio.process.wait()


def _wait_until_answering(kamailio: Kamailio) -> None:
    """An OPTIONS answered (405 from our route) means the listener is up."""
    deadline = time.monotonic() + 30
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        local = sock.getsockname()[1]
        while time.monotonic() < deadline:
            if kamailio.process.poll() is not None:
                raise AssertionError(f"kamailio exited:\n{kamailio.log()}")
            request = (f"OPTIONS sip:127.0.0.1:{kamailio.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKping;rport\r\n"
                       "From: <sip:ping@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: ping\r\n"
                       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            sock.sendto(request.encode(), ("127.0.0.1", kamailio.port))
            try:
                sock.recv(4096)
                return
            except OSError:
                time.sleep(0.2)
    raise AssertionError(f"kamailio did not answer:\n{kamailio.log()}")
