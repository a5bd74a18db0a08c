"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) on 127.0.0.1, in a temp folder.

`start_dovecot(folder)` writes a config of its own (plain IMAP on a free port, one passwd-file
user, maildir in the folder, every runtime path in the folder, log to a file), starts
`dovecot -F -c <config>` as the current user and waits for the greeting. `append` delivers a
raw mail the way a real server receives it as far as a poller can tell (IMAP APPEND).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "soporte@pbx.example.co"
PASSWORD = "imap-secret-7f3a"  # nosec B105 - a throwaway test mailbox's password


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    run: Path
    user: str = USER
    password: str = PASSWORD
    tls_port: int = 0  # IMAPS, when started with a certificate

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.connect()
        try:
            status, detail = client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", detail
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every mail in the folder, in order (to see what the poller marked)."""
        client = self.connect()
        try:
            client.select(folder)
            status, data = client.fetch("1:*", "(FLAGS)")
            return [] if data == [None] else [item.decode() for item in data if isinstance(item, bytes)]
        finally:
            client.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.run, ignore_errors=True)


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (str(Path("/usr/sbin/dovecot")) if Path("/usr/sbin/dovecot").exists() else None)


def start_dovecot(folder: Path, tls: tuple[Path, Path] | None = None) -> Dovecot:
    """`tls`: (certificate, key) to offer STARTTLS on the plain port and IMAPS on `tls_port`."""
    binary = dovecot_binary()
    if binary is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    folder.mkdir(parents=True, exist_ok=True)
    port, tls_port = _free_port(), (_free_port() if tls else 0)
    me = pwd.getpwuid(os.getuid())
    # Dovecot refuses to run its login processes as root: as root, use the package's own users
    # (their run directory must be reachable: a tempdir outside pytest's 0700 tree).
    login_user, internal_user = (("dovenull", "dovecot") if me.pw_uid == 0 else (me.pw_name, me.pw_name))
    run = Path(tempfile.mkdtemp(prefix="dovecot-run-"))
    run.chmod(0o755)
    # Mail belongs to a non-root uid (Dovecot refuses uid 0 for mail): the internal user's.
    owner = pwd.getpwnam(internal_user)
    mail = run / "mail"
    mail.mkdir()
    os.chown(mail, owner.pw_uid, owner.pw_gid)
    passwd = run / "passwd"  # read by the auth process (user dovecot when run as root)
    passwd.write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail}::\n"
    )
    passwd.chmod(0o644)
    config = folder / "dovecot.conf"
    config.write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {run}
instance_name = test-{port}
log_path = {folder / 'dovecot.log'}
info_log_path = {folder / 'dovecot.log'}
{f"ssl = yes{chr(10)}ssl_cert = <{tls[0]}{chr(10)}ssl_key = <{tls[1]}" if tls else "ssl = no"}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 0
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
""")
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Dovecot(process, port, folder, run, tls_port=tls_port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"dovecot exited: {error}\n{server.log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"dovecot did not answer on port {port}:\n{server.log}")
