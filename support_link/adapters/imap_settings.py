"""ImapSettings: how the intake reaches the helpdesk mailbox (soporte@) over IMAP (a plain value).

Apart from support_link.adapters.imap_intake for the same reason as MailSettings: whoever builds
it (provisioner.settings, from the environment) imports a dataclass, no imaplib, no database.
The password is left out of the repr, so a logged settings object never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECURITY = ("ssl", "starttls", "none")  # none: only for a server on loopback (the tests' Dovecot)


@dataclass(frozen=True, kw_only=True)
class ImapSettings:
    host: str
    port: int = 993
    user: str
    password: str = field(default="", repr=False)
    security: str = "ssl"
    folder: str = "INBOX"
    interval: float = 60.0  # seconds between polls
    cafile: str | None = None  # a private server's CA; default: the system's
    timeout: float = 30.0  # seconds, per IMAP operation

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise ValueError(f"IMAP security must be one of {', '.join(SECURITY)}, not {self.security!r}")
