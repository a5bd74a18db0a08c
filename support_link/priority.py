"""Priority = Urgency x Impact (service model §4), transcribed once as a data table."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from support_link.errors import ClassificationError


class Urgency(StrEnum):
    HIGH = "high"  # Alto
    MEDIUM = "medium"  # Medio
    LOW = "low"  # Bajo


class Impact(StrEnum):
    ORGANIZATION = "organization"  # Organización
    DEPARTMENT = "department"  # Departamento
    INDIVIDUAL = "individual"  # Individual


class Priority(StrEnum):
    URGENT = "urgent"  # Urgente
    HIGH = "high"  # Alta
    NORMAL = "normal"  # Normal
    LOW = "low"  # Baja


PRIORITY_MATRIX: Mapping[tuple[Urgency, Impact], Priority] = MappingProxyType(
    {
        (Urgency.HIGH, Impact.ORGANIZATION): Priority.URGENT,
        (Urgency.HIGH, Impact.DEPARTMENT): Priority.HIGH,
        (Urgency.HIGH, Impact.INDIVIDUAL): Priority.NORMAL,
        (Urgency.MEDIUM, Impact.ORGANIZATION): Priority.HIGH,
        (Urgency.MEDIUM, Impact.DEPARTMENT): Priority.NORMAL,
        (Urgency.MEDIUM, Impact.INDIVIDUAL): Priority.LOW,
        (Urgency.LOW, Impact.ORGANIZATION): Priority.NORMAL,
        (Urgency.LOW, Impact.DEPARTMENT): Priority.LOW,
        (Urgency.LOW, Impact.INDIVIDUAL): Priority.LOW,
    }
)

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: object, what: str) -> E:
    """`value` as a member of `kind`, or a ClassificationError listing the valid values."""
    try:
        return kind(value)  # type: ignore[arg-type]  # any object: a miss is the error below
    except ValueError:
        allowed = "|".join(member.value for member in kind)
        raise ClassificationError(f"unknown {what} {value!r}; expected one of {allowed}") from None


def priority_for(urgency: str, impact: str) -> Priority:
    """The §4 priority of a request (a Priority is a str: 'urgent', 'high', 'normal', 'low')."""
    return PRIORITY_MATRIX[parse_choice(Urgency, urgency, "urgency"), parse_choice(Impact, impact, "impact")]
