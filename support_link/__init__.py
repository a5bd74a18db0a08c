"""support_link: the operator's ITIL rules (service model §1-§7), their store and their adapters.

Layout, and what may import what (arrows point at what a layer may import):

    core        calendar, priority, sla, lifecycle, billing, errors
                pure: no I/O, no clock reads, no environment reads; every function takes
                `now` (an aware datetime) when it needs one. Imports only the standard
                library, `holidays` and other core modules.
    store/      support_link's tables, migrations and queries (SQLAlchemy); the caller
                opens the session and commits.            store ──▶ core, dbkit
    adapters/   jobs (the periodic pass) and mail (SMTP forward).
                                                           adapters ──▶ store, core

The core imports no store and no adapter; the store imports no adapter (tests/
test_support_layout.py checks both). support_link knows nothing of phones or of the
provisioner package.

The core, in dependency order:

    calendar   business hours (Mon-Fri 07:30-12:30, 14:00-18:00 America/Bogota, CO holidays)
    priority   urgency x impact -> priority (the §4 matrix, as data)
    sla        first-response budgets (the §5 table, as data), due times, on_time/at_risk/breached
    lifecycle  tickets as frozen values, actions -> (new ticket, events for the audit trail)
    billing    out-of-hours urgent work at USD 250/h, monthly per-tenant report
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
    └── StoreError                    raised by support_link.store
        ├── TicketNotFoundError (LookupError)  no ticket with that id
        ├── DedupKeyError (ValueError)         open_or_get_by_key with a ticket without a dedup_key
        └── AlreadyStoredError (ValueError)    create with a ticket that already has an id
"""

from support_link.errors import (
    ActorError,
    AlreadyStoredError,
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
    TicketError,
    TicketNotFoundError,
    TransitionError,
)

__all__ = [
    "ActorError",
    "AlreadyStoredError",
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
    "TicketError",
    "TicketNotFoundError",
    "TransitionError",
]
