"""Raw mails as they reach soporte@: written as .eml text, the way Thunderbird, Gmail, Outlook,
Exchange's out-of-office, Postfix's bounces and our own forwarder send them."""

from __future__ import annotations

import base64

HELPDESK = "soporte@pbx.example.co"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def eml(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode("latin-1")


def new_request(message_id: str = "<CAF3kq9a1@mail.gmail.com>", sender: str = '"Ana Gómez" <ana@tornillo.com.co>',
                subject: str = "Teléfono de recepción sin tono", body: str = "Desde las 8:00 el teléfono de recepción no da tono.") -> bytes:
    return f"""
Return-Path: <ana@tornillo.com.co>
From: {sender}
To: Soporte <{HELPDESK}>
Subject: {subject}
Date: Wed, 18 Mar 2026 10:02:11 -0500
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{body}

Ana Gómez
Tornillos S.A.S.
""".lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def reply_in_thread(in_reply_to: str, message_id: str = "<CAF3kq9b2@mail.gmail.com>", subject: str = "Re: [Caso #1] Teléfono de recepción sin tono") -> bytes:
    return f"""
From: Ana Gómez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: {subject}
Date: Wed, 18 Mar 2026 11:15:00 -0500
Message-ID: {message_id}
In-Reply-To: {in_reply_to}
References: <CAF3kq9a1@mail.gmail.com> {in_reply_to}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Ya reinicié el teléfono y sigue igual.

El mié, 18 mar 2026 a las 10:30, Soporte (<{HELPDESK}>) escribió:
> Estamos revisando su caso.
> Saludos
""".lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def reply_by_subject(case: int, message_id: str = "<20260318.tb.77@tornillo.com.co>") -> bytes:
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: [Caso #{case}] sigue sin tono
Date: Wed, 18 Mar 2026 12:00:00 -0500
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Sigue sin tono despues del reinicio.
""")


def outlook_reply(case: int, message_id: str = "<DM6PR01MB5@namprd01.prod.outlook.com>") -> bytes:
    return eml(f"""
From: "Gomez, Ana" <ana@tornillo.com.co>
To: "soporte" <{HELPDESK}>
Subject: RE: [Caso #{case}] Teléfono de recepción sin tono
Thread-Topic: [Caso #{case}] =?iso-8859-1?Q?Tel=E9fono?=
Date: Wed, 18 Mar 2026 17:05:00 +0000
Message-ID: {message_id}
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

Gracias, ya funciona.=20

________________________________
De: soporte <{HELPDESK}>
Enviado: mi=E9rcoles, 18 de marzo de 2026 11:30
Para: Gomez, Ana
Asunto: [Caso #{case}] Tel=E9fono de recepci=F3n sin tono

Resuelto.
""")


def out_of_office(number: int = 1) -> bytes:
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: Respuesta automatica: Re: [Caso #3] Telefono sin tono
Date: Wed, 18 Mar 2026 12:00:0{number % 10} -0500
Message-ID: <ooo-{number}@tornillo.com.co>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=us-ascii

Estoy fuera de la oficina hasta el lunes.
""")


def bulk_mail(precedence: str = "bulk") -> bytes:
    return eml(f"""
From: Boletin <noticias@tornillo.com.co>
To: {HELPDESK}
Subject: Novedades de marzo
Message-ID: <boletin-{precedence}@tornillo.com.co>
Precedence: {precedence}
Content-Type: text/plain; charset=us-ascii

Novedades.
""")


def bounce(message_id: str = "<20260318170501.ABC12@mx.pbx.example.co>") -> bytes:
    return eml(f"""
Return-Path: <>
From: MAILER-DAEMON@mx.pbx.example.co (Mail Delivery System)
To: {HELPDESK}
Subject: Undelivered Mail Returned to Sender
Date: Wed, 18 Mar 2026 12:05:01 -0500
Message-ID: {message_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.pbx.example.co
Final-Recipient: rfc822; nadie@tornillo.com.co
Action: failed
Status: 5.1.1

--B1--
""")


def bounce_without_auto_submitted() -> bytes:
    """Some MTAs send DSNs with no Auto-Submitted: the report type alone must do."""
    return bounce().replace(b"Auto-Submitted: auto-replied\r\n", b"").replace(b"Return-Path: <>\r\n", b"")


def our_forward(case: int = 4) -> bytes:
    """What support_link.adapters.mail sends to the helpdesk mailbox: it may land in the polled one."""
    return eml(f"""
From: {HELPDESK}
To: {HELPDESK}
Subject: [Caso #{case}] Recepcion sin tono
Message-ID: <177380.caso{case}@pbx.example.co>
X-Caso: {case}
Content-Type: text/plain; charset=us-ascii

Caso #{case}
""")


def with_attachments(message_id: str = "<att-1@tornillo.com.co>") -> bytes:
    png = base64.b64encode(PNG).decode()
    exe = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 30).decode()
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: Pantalla con error
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain; charset=us-ascii

Adjunto la captura del error.

--XX
Content-Type: image/png; name="captura.png"
Content-Disposition: attachment; filename="captura.png"
Content-Transfer-Encoding: base64

{png}
--XX
Content-Type: application/octet-stream; name="factura.exe"
Content-Disposition: attachment; filename="factura.exe"
Content-Transfer-Encoding: base64

{exe}
--XX--
""")


def html_only(message_id: str = "<html-1@tornillo.com.co>") -> bytes:
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: Extension 204 no timbra
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p {{color: red}}</style></head><body><p>La extensi&oacute;n 204 no timbra.</p><div>Desde ayer &amp; hoy.</div></body></html>
""")


def encoded_latin1(message_id: str = "<latin-1@tornillo.com.co>") -> bytes:
    return (
        "From: =?iso-8859-1?Q?Jos=E9_Pe=F1a?= <jose@tornillo.com.co>\r\n"
        f"To: {HELPDESK}\r\n"
        "Subject: =?utf-8?B?U29saWNpdHVkIGRlIG51ZXZhIGV4dGVuc2nDs24=?=\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + "Necesito una extensión para el área de producción.\r\n".encode("latin-1")


def without_subject(message_id: str = "<nosubj-1@tornillo.com.co>") -> bytes:
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Message-ID: {message_id}
Content-Type: text/plain; charset=us-ascii

No funciona el telefono de la sala de juntas.
""")


def without_message_id() -> bytes:
    return eml(f"""
From: Ana Gomez <ana@tornillo.com.co>
To: {HELPDESK}
Subject: Fax sin linea
Content-Type: text/plain; charset=us-ascii

El fax no tiene linea.
""")


def no_sender() -> bytes:
    return eml(f"""
From: undisclosed-recipients:;
To: {HELPDESK}
Subject: hola
Message-ID: <nobody@x.example>
Content-Type: text/plain; charset=us-ascii

hola
""")
