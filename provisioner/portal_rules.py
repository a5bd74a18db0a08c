"""What the customer portal asks and shows (pure: no I/O).

    classify(stopped, reach)   the two plain questions of the new-request form -> (urgency, impact);
                               support_link.priority turns those into the §4 priority
    public_events(events)      the part of a ticket's timeline a requester may read
    device_summary(count)      "3 equipos afectados", never the devices' own data

The questions and their answers are written in the customer's words; the mapping is the
operator's rulebook (shared/reference/service-model.md §4) read from the requester's side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from provisioner.errors import InputError

# The type, asked in plain words.
TYPE_CHOICES: Mapping[str, str] = {
    "incident": "Incidente: algo dejó de funcionar",
    "requirement": "Requerimiento: necesito algo nuevo o un cambio",
}
STOPPED_QUESTION = "¿El servicio está totalmente detenido?"
STOPPED_CHOICES: Mapping[str, tuple[str, str]] = {  # answer -> (its words, urgency)
    "si": ("Sí, está totalmente detenido", "high"),
    "fallas": ("No, funciona con fallas", "medium"),
    "consulta": ("No, es una consulta o algo que puede esperar", "low"),
}
REACH_QUESTION = "¿A cuántas personas o áreas afecta?"
REACH_CHOICES: Mapping[str, tuple[str, str]] = {  # answer -> (its words, impact)
    "empresa": ("A toda la empresa", "organization"),
    "area": ("A un área o una sede", "department"),
    "persona": ("Solo a mí o a una persona", "individual"),
}

# Timeline kinds a requester sees. Everything else (internal notes, system messages, device
# joins with their evidence, work logs, assignment, links to problems) stays with the staff.
PUBLIC_EVENT_KINDS = frozenset({
    "created", "public_response", "resolved", "reopened", "requester_reply", "closed",
    "resolution_date_proposed", "resolution_date_agreed", "survey_closed", "survey_reopened",
})

E = TypeVar("E")


def classify(stopped: str, reach: str) -> tuple[str, str]:
    """(urgency, impact) for the answers' keys; InputError in Spanish for a missing or unknown answer."""
    if stopped not in STOPPED_CHOICES:
        raise InputError(f"Responda: {STOPPED_QUESTION}")
    if reach not in REACH_CHOICES:
        raise InputError(f"Responda: {REACH_QUESTION}")
    return STOPPED_CHOICES[stopped][1], REACH_CHOICES[reach][1]


def ticket_type(answer: str) -> str:
    if answer not in TYPE_CHOICES:
        raise InputError("Diga si es un incidente (algo dejó de funcionar) o un requerimiento (algo nuevo o un cambio).")
    return answer


def public_events(events: Iterable[E], kind_of: str = "kind") -> list[E]:
    """The events a requester may read, in their order."""
    return [event for event in events if getattr(event, kind_of) in PUBLIC_EVENT_KINDS]


def device_summary(count: int) -> str:
    if count <= 0:
        return ""
    return "1 equipo afectado" if count == 1 else f"{count} equipos afectados"
