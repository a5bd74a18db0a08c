"""MailSettings: where and how the mail adapter reaches the helpdesk mailbox (a plain value).

Kept apart from support_link.adapters.mail so that whoever builds it (provisioner.settings,
from the environment) imports a dataclass and nothing else: no smtplib, no database. The
password is left out of the repr, so a logged settings object never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str  # From:, and the domain of every Message-ID
    recipient: str  # the helpdesk mailbox
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0  # seconds, per SMTP operation
    max_age: timedelta = timedelta(days=2)  # older events are no longer forwarded
    cafile: str | None = None  # a private relay's CA for STARTTLS; default: the system's

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "support-link.invalid"
