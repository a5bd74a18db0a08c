"""The agents' queue as people ask for it (pure): query values -> support_link's list filters.

Shared by the web queue, the API and `provisioner tickets list`, so all three show the same
tickets for the same question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_TICKET_ID = 2**31 - 1  # sl_ticket.id is an INTEGER: a larger number names no ticket (and overflows the drivers)
OPEN_STATUSES = ("new", "in_progress", "escalated")
FILTERS = ("account", "type", "priority", "status", "sla_state")


def queue_filters(query: Mapping[str, Any]) -> dict[str, Any]:
    """Filters from the query string; the default queue is every open ticket, status=all is every one."""
    chosen: dict[str, Any] = {name: query.get(name) or None for name in FILTERS}
    if chosen["status"] is None:
        chosen["status"] = OPEN_STATUSES
    elif chosen["status"] == "all":
        chosen["status"] = None
    return chosen
