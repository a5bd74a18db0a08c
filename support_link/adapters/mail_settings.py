"""MailSettings: where and how the mail adapter reaches the helpdesk mailbox (a plain value).

Kept apart from support_link.adapters.mail so that whoever builds it (provisioner.settings,
from the environment) imports a dataclass and nothing else: no smtplib, no database. The
password is left out of the repr, so a logged settings object never shows it.

It also carries what a mail says but support_link cannot know by itself: the base URLs of
the portal and of the staff pages (the links in every mail) and the Spanish names of
finding kinds, which live on the provisioner's side.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    from_name: str = "Mesa de ayuda"  # the display name of From: on the requester's mails
    portal_url: str = ""  # base URL of the customers' portal: links f"{portal_url}/portal/casos/{id}"
    desk_url: str = ""  # base URL of the staff web app: links f"{desk_url}/tickets/{id}"
    # Spanish names of finding kinds (the provisioner fills it: support_link knows no phones).
    finding_labels: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "support-link.invalid"
