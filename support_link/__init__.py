"""support_link: the operator's ITIL rules (service model §1-§7), their store and their adapters.

Three layers; each may import the ones below it, never one above:

    adapters/  jobs, mail, mail_settings
       │       the periodic pass and the SMTP forward (asyncio, smtplib)
       ▼
    store/     models, migrations, values, mapping,
       │       tickets, affected_devices, mail_outbox, work_logs, attachments, surveys
       │       support_link's own tables and queries (SQLAlchemy, Alembic, dbkit);
       │       the caller opens the session and commits
       ▼
    core       calendar, priority, sla, lifecycle, billing, attachments, errors
               pure: no I/O, no clock reads, no environment reads; every function
               takes `now` (an aware datetime) when it needs one

tests/test_support_layout.py checks it (each module imported alone in a fresh
interpreter). support_link knows nothing of phones or of the provisioner package.

The core, in dependency order:

    calendar   business hours (Mon-Fri 07:30-12:30, 14:00-18:00 America/Bogota, CO holidays)
    priority   urgency x impact -> priority (the §4 matrix, as data)
    sla        first-response budgets (the §5 table, as data), due times, on_time/at_risk/breached
    lifecycle  tickets as frozen values, actions -> (new ticket, events for the audit trail)
    billing    out-of-hours urgent work at USD 250/h, monthly per-tenant report
    attachments  which files a requester may attach (size, type by content), cleaned names
    errors     the exception tree below

Exception tree (support_link.errors; re-exported here):

    SupportLinkError
    ├── CalendarError (ValueError)
    │   ├── NaiveDatetimeError        a datetime without tzinfo
    │   └── CalendarConfigError       contradictory BusinessCalendar settings
    ├── ClassificationError (ValueError)  unknown urgency/impact/priority/type/channel
    ├── NoSlaError (ValueError)       first-response SLA asked for a problem
    ├── TicketError
    │   ├── MissingFieldsError (ValueError)  names every missing required field
    │   ├── TransitionError           names the status and the refused action
    │   ├── ActorError                wrong kind of actor for the action
    │   └── ClockError (ValueError)   action dated before the ticket's creation
    ├── BillingError (ValueError)     unbillable work log or parameter
    ├── AttachmentRefused (ValueError)  a file too big, empty or of a type not allowed (Spanish)
    └── StoreError                    raised by support_link.store
        ├── TicketNotFoundError (LookupError)  no ticket with that id
        ├── DedupKeyError (ValueError)         open_or_get_by_key with a ticket without a dedup_key
        ├── AlreadyStoredError (ValueError)    create with a ticket that already has an id
        ├── AttachmentNotFound (LookupError)   no such attachment on that ticket
        └── SurveyError                        a survey that cannot be opened or answered
            └── SurveyAlreadyAnswered          each resolution's survey is answered once
"""

from support_link.errors import (
    ActorError,
    AlreadyStoredError,
    AttachmentNotFound,
    AttachmentRefused,
    BillingError,
    CalendarConfigError,
    CalendarError,
    ClassificationError,
    ClockError,
    DedupKeyError,
    MissingFieldsError,
    NaiveDatetimeError,
    NoSlaError,
    StoreError,
    SupportLinkError,
    SurveyAlreadyAnswered,
    SurveyError,
    TicketError,
    TicketNotFoundError,
    TransitionError,
)

__all__ = [
    "ActorError",
    "AlreadyStoredError",
    "AttachmentNotFound",
    "AttachmentRefused",
    "BillingError",
    "CalendarConfigError",
    "CalendarError",
    "ClassificationError",
    "ClockError",
    "DedupKeyError",
    "MissingFieldsError",
    "NaiveDatetimeError",
    "NoSlaError",
    "StoreError",
    "SupportLinkError",
    "SurveyAlreadyAnswered",
    "SurveyError",
    "TicketError",
    "TicketNotFoundError",
    "TransitionError",
]
