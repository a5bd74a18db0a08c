"""The exception tree of support_link (drawn in the package docstring, support_link/__init__.py).

Every error the package raises derives from SupportLinkError; the ones caused by a bad
argument also derive from ValueError, so callers that only know the standard library
still catch them.
"""

from __future__ import annotations

from collections.abc import Sequence


class SupportLinkError(Exception):
    """Root of every error raised by support_link."""


class CalendarError(SupportLinkError, ValueError):
    """A business-calendar computation was given something it cannot work with."""


class NaiveDatetimeError(CalendarError):
    """A datetime without tzinfo: the calendar cannot know which instant it means."""


class CalendarConfigError(CalendarError):
    """A BusinessCalendar built with contradictory or impossible settings."""


class ClassificationError(SupportLinkError, ValueError):
    """An unknown urgency, impact, priority, ticket type or channel."""


class NoSlaError(SupportLinkError, ValueError):
    """The ticket type has no first-response SLA (problems: service model §5 lists none)."""


class TicketError(SupportLinkError):
    """A ticket operation that the lifecycle rules refuse."""


class MissingFieldsError(TicketError, ValueError):
    """A ticket cannot be created without these fields (service model §1)."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("missing required ticket fields: " + ", ".join(self.missing))


class TransitionError(TicketError):
    """The action is not allowed in the ticket's current status (or type)."""

    def __init__(self, status: str, action: str, reason: str = "") -> None:
        self.status = status
        self.action = action
        message = f"cannot {action} a ticket whose status is {status}"
        super().__init__(f"{message}: {reason}" if reason else message)


class ActorError(TicketError):
    """The actor kind may not perform this action (e.g. a requester 'responding')."""


class ClockError(TicketError, ValueError):
    """An action dated before the ticket was created."""


class BillingError(SupportLinkError, ValueError):
    """A work log or billing parameter that cannot be billed (end before start, zero increment)."""


class StoreError(SupportLinkError):
    """A storage operation on tickets that cannot be done (support_link.store)."""


class TicketNotFoundError(StoreError, LookupError):
    """No ticket with that id."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket #{ticket_id}")


class DedupKeyError(StoreError, ValueError):
    """open_or_get_by_key needs a ticket with a dedup_key."""


class AlreadyStoredError(StoreError, ValueError):
    """create takes a new ticket: the database gives it its id."""


class AttachmentRefused(SupportLinkError, ValueError):
    """A file that may not be attached (too big, empty, a type not allowed); the message is Spanish,
    for the person who sent it."""


class AttachmentNotFound(StoreError, LookupError):
    """No such attachment on that ticket."""


class SurveyError(StoreError):
    """A survey that cannot be opened or answered (the message says why)."""


class SurveyAlreadyAnswered(SurveyError):
    """Each resolution's survey is answered once."""
