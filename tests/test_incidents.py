"""Finding -> incident rules: dedup key, urgency table, impact by blast radius, wording."""

from datetime import UTC, datetime

import pytest

from provisioner.incidents import DeviceFinding, dedup_key, detail_for, impact_for, subject_for, urgency_for
from support_link.priority import priority_for

T = datetime(2026, 11, 25, 15, tzinfo=UTC)


def finding(**changes: object) -> DeviceFinding:
    values: dict[str, object] = dict(
        tenant="acme", kind="firmware_older", mac="001565000021", model="T21P", observed="34.72.0.60",
        expected="34.72.0.75", department="Ventas", seen_at=T, source_ip="10.0.0.5", protocol="http",
    )
    values.update(changes)
    return DeviceFinding(**values)  # type: ignore[arg-type]


def test_same_problem_on_another_phone_shares_the_key() -> None:
    assert dedup_key(finding()) == dedup_key(finding(mac="001565000099", department="Gerencia"))
    assert dedup_key(finding()) != dedup_key(finding(observed="34.72.0.61"))
    assert dedup_key(finding()) != dedup_key(finding(tenant="other"))
    assert dedup_key(finding()) != dedup_key(finding(kind="firmware_newer"))


@pytest.mark.parametrize(
    ("kind", "urgency"),
    [("firmware_older", "medium"), ("firmware_newer", "medium"), ("firmware_unknown", "low"),
     ("model_not_homologated", "low"), ("lines_exceeded", "medium"), ("unreachable", "high")],
)
def test_urgency_table(kind: str, urgency: str) -> None:
    assert urgency_for(kind) == urgency


@pytest.mark.parametrize(
    ("departments", "tenant_devices", "impact", "priority_medium"),
    [
        (["Ventas"], 100, "individual", "low"),
        (["Ventas", "Ventas"], 100, "department", "normal"),
        (["Ventas", "Ventas", "Gerencia"], 100, "organization", "high"),
        (["Ventas"] * 6, 10, "organization", "high"),  # most of the tenant's phones
    ],
)
def test_impact_grows_with_the_blast_radius(departments: list[str], tenant_devices: int, impact: str, priority_medium: str) -> None:
    assert impact_for(departments, tenant_devices) == impact
    assert priority_for("medium", impact) == priority_medium


def test_wording_is_spanish_and_descriptive() -> None:
    subject = subject_for(finding(), 3)
    assert subject == "Firmware desactualizado: T21P 34.72.0.60 (3 equipos, acme)"
    detail = detail_for(finding(), 3)
    assert "Homologado: 34.72.0.75" in detail and "Equipos afectados: 3" in detail
