"""From device findings to ITIL incidents (pure): dedup key, urgency, impact, wording.

One open incident per (tenant, finding kind, model, observed firmware): every further
phone with the same problem joins it. Phones not assigned yet share one incident per
(tenant, finding kind, model) whatever they report, its subject listing the versions seen:
anyone with a tenant key can make up firmware strings, and each must not open a ticket.
Impact follows the blast radius:

    one device                                   -> individual
    several devices, all in one department       -> department
    devices in more than one department,
    or at least `organization_share` of the tenant's devices -> organization
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from provisioner.findings import FindingKind, Judgement
from provisioner.labels import FINDING_SUBJECTS

# Reviewed table (issue 5 §3); the operator may override it through settings.
URGENCY_BY_FINDING: Mapping[str, str] = {
    FindingKind.FIRMWARE_OLDER: "medium",
    FindingKind.FIRMWARE_NEWER: "medium",
    FindingKind.FIRMWARE_UNKNOWN: "low",
    FindingKind.MODEL_NOT_HOMOLOGATED: "low",
    FindingKind.LINES_EXCEEDED: "medium",
    FindingKind.UNREACHABLE: "high",
    FindingKind.SNMP_FIRMWARE_MISMATCH: "medium",
    FindingKind.NEVER_REGISTERED: "high",  # the phone cannot call: ALG, firewall or wrong credentials
}

UNASSIGNED_VERSIONS = "*"  # the dedup key's version for phones not assigned yet: any
VERSIONS_IN_SUBJECT = 8


@dataclass(frozen=True)
class DeviceFinding:
    """One phone showing one problem, with its evidence."""

    tenant: str  # tenant slug (support_link's "account")
    kind: FindingKind
    mac: str
    model: str | None  # model as reported or assigned, e.g. "T21P"
    observed: str | None  # what was seen (firmware version, line count, ...)
    expected: str | None  # what the homologated table says
    department: str
    seen_at: datetime
    source_ip: str
    protocol: str
    user_agent: str | None = None
    assigned: bool = True  # False: a phone waiting for an extension (see dedup_key)

    def evidence(self) -> dict[str, str | None]:
        return {
            "seen_at": self.seen_at.isoformat(),
            "user_agent": self.user_agent,
            "ip": self.source_ip,
            "protocol": self.protocol,
            "seen": self.observed,
            "expected": self.expected,
        }


def device_findings(
    judgement: Judgement, tenant: str, mac: str, model: str | None, department: str, seen_at: datetime,
    source_ip: str, protocol: str, user_agent: str | None, *, assigned: bool = True,
) -> tuple[DeviceFinding, ...]:
    """One contact's judged findings, each with the evidence of that contact."""
    return tuple(
        DeviceFinding(tenant, kind, mac, model, finding.observed, finding.expected, department, seen_at, source_ip,
                      protocol, user_agent, assigned)
        for kind, finding in zip(judgement.kinds, judgement.findings, strict=True)
    )


def dedup_key(finding: DeviceFinding) -> str:
    """The key of the one open incident this finding belongs to ("*": any version, for phones
    not assigned yet)."""
    observed = (finding.observed or "-") if finding.assigned else UNASSIGNED_VERSIONS
    return "|".join((finding.tenant, finding.kind, finding.model or "-", observed))


def urgency_for(kind: str, table: Mapping[str, str] = URGENCY_BY_FINDING) -> str:
    return table.get(kind, "medium")


def impact_for(departments: Iterable[str], tenant_devices: int, organization_share: float = 0.5) -> str:
    """Impact from the affected devices' departments (one entry per device)."""
    affected = list(departments)
    if len(affected) <= 1:
        return "individual"
    if len(set(affected)) > 1:
        return "organization"
    if tenant_devices > 0 and len(affected) / tenant_devices >= organization_share:
        return "organization"
    return "department"


def shows_version(kind: str) -> bool:
    """Whether a finding of this kind observed a firmware version (named in its subject)."""
    return kind.startswith(("firmware", "snmp"))


def subject_for(finding: DeviceFinding, devices: int, versions: Sequence[str] = ()) -> str:
    """The queue's one line; an incident of phones not assigned yet lists `versions`, the
    versions its phones reported (the first VERSIONS_IN_SUBJECT of them, then how many more)."""
    what = FINDING_SUBJECTS.get(finding.kind, finding.kind)
    model = finding.model or "modelo desconocido"
    count = "1 equipo" if devices == 1 else f"{devices} equipos"
    if not finding.assigned:
        return f"{what}: {model}{_versions(versions)} ({count} sin asignar, {finding.tenant})"
    seen = f" {finding.observed}" if finding.observed and shows_version(finding.kind) else ""
    return f"{what}: {model}{seen} ({count}, {finding.tenant})"


def _versions(versions: Sequence[str]) -> str:
    if not versions:
        return ""
    shown = ", ".join(versions[:VERSIONS_IN_SUBJECT])
    more = len(versions) - VERSIONS_IN_SUBJECT
    word = "versión" if len(versions) == 1 else "versiones"
    return f", {word} {shown}" + (f" y {more} más" if more > 0 else "")


def detail_for(finding: DeviceFinding, devices: int) -> str:
    lines = [
        f"Hallazgo automático del servidor de aprovisionamiento: {FINDING_SUBJECTS.get(finding.kind, finding.kind)}.",
        f"Cliente: {finding.tenant}. Modelo: {finding.model or 'desconocido'}.",
    ]
    if finding.expected or finding.observed:
        lines.append(f"Observado: {finding.observed or 'desconocido'}. Homologado: {finding.expected or '—'}.")
    lines.append(f"Equipos afectados: {devices} (ver la lista de equipos del caso con su evidencia).")
    lines.append(f"Primer equipo: {finding.mac} desde {finding.source_ip} por {finding.protocol.upper()}.")
    return "\n".join(lines)
