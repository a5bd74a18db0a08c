"""The words of a firmware campaign's notices and ticket notes (pure; Spanish from labels)."""

from __future__ import annotations

from datetime import date, timedelta

from provisioner.labels import (
    CAMPAIGN_DIRECTIONS,
    CAMPAIGN_INCIDENT_SUBJECT,
    CAMPAIGN_NOTICES,
    CAMPAIGN_SUBJECT,
    CAMPAIGN_TICKET_SUBJECT,
    CAMPAIGN_WINDOW,
)


def window_text(day: date) -> str:
    return CAMPAIGN_WINDOW.format(day=day.isoformat(), next_day=(day + timedelta(days=1)).isoformat())


def notice_subject(kind: str, tenant: str, model: str, target: str, day: date) -> str:
    return CAMPAIGN_SUBJECT.format(notice=CAMPAIGN_NOTICES[kind], model=model, target=target, day=day.isoformat(),
                                   tenant=tenant)


def notice_body(kind: str, tenant: str, model: str, target: str, direction: str, day: date, phones: int,
                critical: bool) -> str:
    """What changes, when, and what the customer sees (the phones reboot once)."""
    lines = [
        f"Estimado cliente {tenant}:",
        "",
        ("Le recordamos el mantenimiento programado de sus teléfonos." if kind == "reminder"
         else "Le informamos un mantenimiento programado de sus teléfonos."),
        "",
        f"Qué cambia: {CAMPAIGN_DIRECTIONS.get(direction, direction)} del firmware de {phones} teléfono(s) {model} "
        f"a la versión {target}, la homologada por el operador." if direction != "downgrade" else
        f"Qué cambia: {phones} teléfono(s) {model} vuelven a la versión homologada {target}.",
        f"Cuándo: {window_text(day)}.",
        "Qué verá: cada teléfono descarga la imagen y se reinicia una vez (unos minutos sin servicio en ese equipo).",
        "Primero se actualiza un grupo pequeño (5 %); si vuelven bien, el resto.",
    ]
    if critical:
        lines += ["", "Este mantenimiento corrige una falla crítica y por eso se anuncia con menos de 10 días."]
    lines += ["", "Si necesita otra fecha, responda a este mensaje o abra una solicitud en el portal."]
    return "\n".join(lines) + "\n"


def ticket_subject(model: str, target: str, day: date) -> str:
    return CAMPAIGN_TICKET_SUBJECT.format(model=model, target=target, day=day.isoformat())


def incident_subject(model: str, reason: str) -> str:
    return CAMPAIGN_INCIDENT_SUBJECT.format(model=model, reason=reason)[:200]
