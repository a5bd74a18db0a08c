"""The words both ticket mail threads share: the helpdesk's (mail.py) and the requester's (requester_mail.py).

Pure: values in, text out. Dates are shown in Bogotá time, findings by their Spanish name
(never the stored code), devices as they are affected now (not as they were at creation).
"""

from __future__ import annotations

import re
from datetime import datetime

from support_link.adapters.mail_settings import MailSettings
from support_link.calendar import as_bogota
from support_link.store.values import StoredTicket

UNKNOWN_FINDING = "Hallazgo del equipo"  # a finding kind the labels do not name: still no raw code in a mail
# A device ticket's detail is written once, with the device count of that moment (provisioner.incidents).
_DEVICE_COUNT = re.compile(r"^Equipos afectados: \d+", re.MULTILINE)


def one_line(text: str) -> str:
    """Header-safe: a requester's subject never carries a line break into the headers."""
    return " ".join(text.split())


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return "sin plazo"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return as_bogota(value).strftime("%Y-%m-%d %H:%M") + " (hora de Bogotá)"


def thread_subject(stored: StoredTicket) -> str:
    return f"[Caso #{stored.id}] {one_line(stored.ticket.subject)}"


def finding_label(code: str, settings: MailSettings) -> str:
    return settings.finding_labels.get(code, UNKNOWN_FINDING)


def devices_now(stored: StoredTicket) -> list[str]:
    """The devices affected now: a recovered one is no longer listed."""
    return [device.device for device in stored.devices if device.active]


def current_detail(stored: StoredTicket) -> str:
    """The detail as stored, with the device count it was written with replaced by today's."""
    if not stored.devices:
        return stored.ticket.detail
    return _DEVICE_COUNT.sub(f"Equipos afectados: {len(devices_now(stored))}", stored.ticket.detail)


def device_lines(stored: StoredTicket, settings: MailSettings) -> list[str]:
    """Finding and affected devices, for device tickets; nothing for the others."""
    lines = []
    if stored.finding:
        lines.append(f"Hallazgo: {finding_label(stored.finding, settings)}")
    if stored.devices:
        now = devices_now(stored)
        lines.append(f"Equipos afectados ahora ({len(now)}): " + (", ".join(now) if now else "ninguno, todos se recuperaron"))
    return lines


def desk_link(stored: StoredTicket, settings: MailSettings) -> str:
    """The ticket's page in the staff web app."""
    return f"{settings.desk_url.rstrip('/')}/tickets/{stored.id}"


def portal_link(stored: StoredTicket, settings: MailSettings) -> str:
    """The ticket in the customers' portal."""
    return f"{settings.portal_url.rstrip('/')}/portal/casos/{stored.id}"


def survey_link(token: str, settings: MailSettings) -> str:
    """The satisfaction survey of the ticket's current resolution (store.surveys.ticket_for_token reads it back)."""
    return f"{settings.portal_url.rstrip('/')}/portal/encuesta/{token}"
