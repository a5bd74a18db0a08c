"""Priority matrix: every cell checked against the rulebook's table (service model §4)."""

from __future__ import annotations

import pytest

from support_link.errors import ClassificationError
from support_link.priority import (
    PRIORITY_MATRIX,
    Impact,
    Priority,
    Urgency,
    priority_for,
)

# Service model §4, copied as text from the operator's rulebook.
RULEBOOK_TABLE = """
| urgency \\ impact | Organización (organization) | Departamento (department) | Individual |
|---|---|---|---|
| Alto (high) | Urgente | Alta | Normal |
| Medio (medium) | Alta | Normal | Bajo |
| Bajo (low) | Normal | Bajo | Bajo |
"""
SPANISH_PRIORITY = {"Urgente": "urgent", "Alta": "high", "Normal": "normal", "Bajo": "low", "Baja": "low"}
SPANISH_URGENCY = {"Alto (high)": "high", "Medio (medium)": "medium", "Bajo (low)": "low"}
IMPACT_COLUMNS = ["organization", "department", "individual"]


def rulebook_cells() -> list[tuple[str, str, str]]:
    rows = [line for line in RULEBOOK_TABLE.strip().splitlines()[2:]]
    cells = []
    for row in rows:
        label, *values = [part.strip() for part in row.strip("|").split("|")]
        for impact, value in zip(IMPACT_COLUMNS, values, strict=True):
            cells.append((SPANISH_URGENCY[label], impact, SPANISH_PRIORITY[value]))
    return cells


def test_the_transcription_has_nine_cells() -> None:
    assert len(rulebook_cells()) == 9
    assert len(PRIORITY_MATRIX) == 9


@pytest.mark.parametrize(("urgency", "impact", "expected"), rulebook_cells())
def test_priority_matches_the_rulebook(urgency: str, impact: str, expected: str) -> None:
    result = priority_for(urgency, impact)
    assert result == expected
    assert isinstance(result, str)


def test_enum_members_are_accepted() -> None:
    assert priority_for(Urgency.MEDIUM, Impact.ORGANIZATION) is Priority.HIGH


@pytest.mark.parametrize(
    ("urgency", "impact", "message"),
    [
        ("critical", "organization", "unknown urgency 'critical'; expected one of high|medium|low"),
        ("high", "company", "unknown impact 'company'; expected one of organization|department|individual"),
        ("High", "organization", "unknown urgency 'High'"),
        ("alto", "organization", "unknown urgency 'alto'"),
    ],
)
def test_unknown_values_are_clear_value_errors(urgency: str, impact: str, message: str) -> None:
    with pytest.raises(ClassificationError, match=message.replace("|", r"\|")) as caught:
        priority_for(urgency, impact)
    assert isinstance(caught.value, ValueError)
