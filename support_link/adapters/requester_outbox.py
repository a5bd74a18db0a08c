"""Send the requester's thread (support_link.adapters.requester_mail) over SMTP.

The same outbox rules as the helpdesk forward, through the same loop (mail.send_pending):
the cursor `requester_mail_sent_event_id` advances past each message sent, a failure is
logged and retried on the next run (at least once), events older than max_age are passed
over, and a PostgreSQL advisory lock of its own keeps two processes from sending one
ticket's messages twice. Only tickets with a requester address take part.

The resolution's mail carries a fresh survey link (store.surveys.new_link_token) while the
ticket is still resolved by that resolution; a later retry makes a new link (the older one
stops working, so only the last mail sent holds a working one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from support_link.adapters.mail import MailReport, Outgoing, SessionFactory, send_pending
from support_link.adapters.mail_settings import MailSettings
from support_link.adapters.mail_text import survey_link
from support_link.adapters.requester_mail import REQUESTER_KINDS, compose_requester, deliverable
from support_link.errors import SurveyError
from support_link.lifecycle import Status
from support_link.store import surveys
from support_link.store.mail_outbox import REQUESTER, Thread
from support_link.store.values import StoredEvent, StoredTicket

log = logging.getLogger("support_link.mail")


def _latest_resolution(stored: StoredTicket, event: StoredEvent) -> bool:
    """The ticket is still resolved by this event (not reopened, closed or resolved again since)."""
    if stored.ticket.status is not Status.RESOLVED:
        return False
    return event.id == max(other.id for other in stored.events if other.kind == "resolved")


@dataclass(frozen=True)
class RequesterMail:
    settings: MailSettings
    thread: Thread = REQUESTER
    kinds: tuple[str, ...] = REQUESTER_KINDS

    def compose(
        self, session: Session, stored: StoredTicket, event: StoredEvent, message_id: str, root: str | None, now: datetime
    ) -> Outgoing | None:
        address = stored.ticket.requester_email
        if not deliverable(address):
            log.warning("mail: ticket #%s has no usable requester address; event %s not mailed", stored.id, event.id)
            return None
        survey = self._survey(session, stored, event, now) if event.kind == "resolved" else None
        message = compose_requester(stored, event, self.settings, message_id, root, survey)
        return None if message is None else Outgoing(message, [address or ""])

    def _survey(self, session: Session, stored: StoredTicket, event: StoredEvent, now: datetime) -> str | None:
        """The survey link, while this resolution still stands (an agent may reopen it meanwhile)."""
        if not _latest_resolution(stored, event):
            return None
        try:
            return survey_link(surveys.new_link_token(session, stored.id, now), self.settings)
        except SurveyError:  # reopened since the ticket was read: the mail goes without a survey
            return None


def send_requester_mail(
    session_factory: SessionFactory, settings: MailSettings, now: datetime, *, limit: int = 50
) -> MailReport:
    """Send every pending requester message (see mail.send_pending)."""
    return send_pending(session_factory, RequesterMail(settings), now, limit=limit)
