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


def test_phones_not_assigned_share_one_incident_per_kind_and_model_whatever_they_report() -> None:
    waiting = finding(assigned=False)
    assert dedup_key(waiting) == dedup_key(finding(assigned=False, observed="99.1.2.3", mac="001565000099"))
    assert dedup_key(waiting) == "acme|firmware_older|T21P|*"
    assert dedup_key(waiting) != dedup_key(finding())  # assigned phones keep one incident per version
    assert dedup_key(waiting) != dedup_key(finding(assigned=False, model="T19P"))
    assert dedup_key(waiting) != dedup_key(finding(assigned=False, kind="firmware_unknown"))


@pytest.mark.parametrize(
    ("versions", "subject"),
    [
        ((), "Firmware desactualizado: T21P (1 equipo sin asignar, acme)"),
        (("34.72.0.60",), "Firmware desactualizado: T21P, versión 34.72.0.60 (1 equipo sin asignar, acme)"),
        (tuple(f"1.0.{n}" for n in range(10)),
         "Firmware desactualizado: T21P, versiones 1.0.0, 1.0.1, 1.0.2, 1.0.3, 1.0.4, 1.0.5, 1.0.6, 1.0.7 y 2 más "
         "(1 equipo sin asignar, acme)"),
    ],
)
def test_the_subject_of_phones_not_assigned_lists_the_versions_seen(versions: tuple[str, ...], subject: str) -> None:
    assert subject_for(finding(assigned=False), 1, versions) == subject
