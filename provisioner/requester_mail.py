"""Mails with a requester's one-time link: an invitation, a registration, a new password.

`compose_link_mail` is pure (values in, an EmailMessage out); `send_link_mail` is the thin
SMTP adapter (support_link's connection), called in a worker thread by the web app and the
CLI only when mail is configured. Neither logs the link: it is a credential.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from provisioner.requester_store import IssuedLink
from support_link.adapters.mail import SmtpConnection
from support_link.adapters.mail_settings import MailSettings
from support_link.calendar import as_bogota

SUBJECTS = {
    "invite": "Invitación al portal de soporte de {tenant}",
    "register": "Active su cuenta del portal de soporte de {tenant}",
    "reset": "Nueva contraseña del portal de soporte de {tenant}",
}
OPENINGS = {
    "invite": "Le invitaron al portal de soporte de {tenant}: allí puede registrar solicitudes a cualquier hora, "
              "seguir sus casos y responder la encuesta de servicio.",
    "register": "Pidió una cuenta en el portal de soporte de {tenant}.",
    "reset": "Pidió una nueva contraseña para el portal de soporte de {tenant}.",
}


def link_url(portal_base: str, token: str) -> str:
    return f"{portal_base.rstrip('/')}/portal/enlace/{token}"


def compose_link_mail(link: IssuedLink, url: str, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = link.email
    message["Subject"] = SUBJECTS[link.purpose].format(tenant=link.tenant_name)
    message["Auto-Submitted"] = "auto-generated"  # mail robots must not answer it
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    greeting = f"Hola {link.name}," if link.name else "Hola,"
    expires = as_bogota(link.expires_at, "expires_at").strftime("%Y-%m-%d %H:%M")
    message.set_content(
        f"{greeting}\n\n{OPENINGS[link.purpose].format(tenant=link.tenant_name)}\n\n"
        f"Abra este enlace para elegir su contraseña (sirve una sola vez, hasta el {expires}, hora de Bogotá):\n\n"
        f"{url}\n\n"
        "Si no esperaba este mensaje, ignórelo: nadie entra sin el enlace.\n"
    )
    return message


def send_link_mail(settings: MailSettings, message: EmailMessage, to: str) -> None:
    connection = SmtpConnection(settings)
    try:
        connection.send(message, to_addrs=[to])
    finally:
        connection.close()
