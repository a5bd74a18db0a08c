"""support_link: the operator's ITIL rules as a pure core (service model §1-§7).

No I/O, no clock reads, no environment reads: every function takes `now` (an aware
datetime) when it needs one. Modules, in dependency order:

    calendar   business hours (Mon-Fri 07:30-12:30, 14:00-18:00 America/Bogota, CO holidays)
    priority   urgency x impact -> priority (the §4 matrix, as data)
    sla        first-response budgets (the §5 table, as data), due times, on_time/at_risk/breached
    lifecycle  tickets as frozen values, actions -> (new ticket, events for the audit trail)
    billing    out-of-hours urgent work at USD 250/h, monthly per-tenant report

support_link knows nothing of phones or of the provisioner package.

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
    └── BillingError (ValueError)     unbillable work log or parameter
"""

from support_link.errors import (
    ActorError,
    BillingError,
    CalendarConfigError,
    CalendarError,
    ClassificationError,
    ClockError,
    MissingFieldsError,
    NaiveDatetimeError,
    NoSlaError,
    SupportLinkError,
    TicketError,
    TransitionError,
)

__all__ = [
    "ActorError",
    "BillingError",
    "CalendarConfigError",
    "CalendarError",
    "ClassificationError",
    "ClockError",
    "MissingFieldsError",
    "NaiveDatetimeError",
    "NoSlaError",
    "SupportLinkError",
    "TicketError",
    "TransitionError",
]
