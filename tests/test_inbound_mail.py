"""Mail in, the pure part (support_link.inbound): real-looking raw mails in, one decision and the fields out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from support_link.inbound import (
    Ignore,
    KnownMessage,
    NewRequest,
    ReplyHeaders,
    ReplyToDraft,
    ReplyToTicket,
    RequestFields,
    classify,
    completed,
    compose_missing_reply,
    compose_unknown_sender_reply,
    html_to_text,
    missing,
    parse,
    request_of,
    screen,
    ticket_type_of,
    trim_quoted,
)
from tests import mail_samples as samples

OURS = frozenset({samples.HELPDESK})
AT = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
THREAD = {"<caso1.x@pbx.example.co>": KnownMessage(ticket_id=1, ours=True),
          "<auto.d7@pbx.example.co>": KnownMessage(draft_id=7, ours=True)}


@pytest.mark.parametrize(("raw", "expected"), [
    (samples.new_request(), NewRequest()),
    (samples.reply_in_thread("<caso1.x@pbx.example.co>"), ReplyToTicket(1, "thread")),
    (samples.reply_in_thread("<auto.d7@pbx.example.co>", subject="Re: Su solicitud"), ReplyToDraft(7)),
    (samples.reply_by_subject(12), ReplyToTicket(12, "subject")),
    (samples.outlook_reply(12), ReplyToTicket(12, "subject")),
    (samples.out_of_office(), Ignore("auto_reply")),
    (samples.bulk_mail("bulk"), Ignore("list")),
    (samples.bulk_mail("junk"), Ignore("list")),
    (samples.bulk_mail("list"), Ignore("list")),
    (samples.bounce(), Ignore("bounce")),
    (samples.bounce_without_auto_submitted(), Ignore("bounce")),
    (samples.our_forward(), Ignore("loop")),
    (samples.no_sender(), Ignore("no_sender")),
    (samples.with_attachments(), NewRequest()),
    (samples.html_only(), NewRequest()),
    (samples.encoded_latin1(), NewRequest()),
], ids=["new", "thread", "draft", "subject-tag", "outlook-RE", "out-of-office", "bulk", "junk", "list", "bounce",
        "bounce-no-auto-submitted", "our-forward", "no-sender", "attachments", "html-only", "latin-1"])
def test_each_mail_gets_one_decision(raw: bytes, expected: object) -> None:
    assert classify(parse(raw), OURS, THREAD) == expected


def test_a_mail_carrying_one_of_our_message_ids_is_a_loop() -> None:
    raw = samples.new_request(message_id="<auto.d7@pbx.example.co>")
    assert classify(parse(raw), frozenset(), THREAD) == Ignore("loop")


def test_a_mail_from_our_own_address_is_a_loop_even_without_our_headers() -> None:
    raw = samples.new_request(sender=f"Soporte <{samples.HELPDESK.upper()}>")
    assert classify(parse(raw), OURS, {}) == Ignore("loop")


def test_an_unknown_reference_falls_back_to_the_subject_tag() -> None:
    mail = parse(samples.reply_in_thread("<unknown@elsewhere>", subject="Re: [Caso #9] algo"))
    assert classify(mail, OURS, {}) == ReplyToTicket(9, "subject")


def test_new_request_fields_come_from_from_subject_and_text() -> None:
    mail = parse(samples.new_request())
    fields = request_of(mail)
    assert fields == RequestFields("Ana Gómez", "ana@tornillo.com.co", "Teléfono de recepción sin tono",
                                   "Desde las 8:00 el teléfono de recepción no da tono.\n\nAna Gómez\nTornillos S.A.S.")
    assert missing(fields) == []
    assert mail.message_id == "<CAF3kq9a1@mail.gmail.com>"


def test_encoded_words_and_latin_1_bodies_are_decoded() -> None:
    mail = parse(samples.encoded_latin1())
    assert (mail.sender_name, mail.subject) == ("José Peña", "Solicitud de nueva extensión")
    assert mail.text == "Necesito una extensión para el área de producción."
    assert ticket_type_of(mail.subject, mail.text) == "requirement"
    assert ticket_type_of("Teléfono sin tono", "no da tono") == "incident"


def test_html_only_mail_becomes_text_without_styles() -> None:
    assert parse(samples.html_only()).text == "La extensión 204 no timbra.\n\nDesde ayer & hoy."
    assert html_to_text("<p>a<br>b</p><script>x()</script>") == "a\nb"


def test_reply_tails_are_trimmed() -> None:
    assert trim_quoted(parse(samples.reply_in_thread("<x@y>")).text) == "Ya reinicié el teléfono y sigue igual."
    assert trim_quoted(parse(samples.outlook_reply(3)).text) == "Gracias, ya funciona."
    assert trim_quoted("Listo.\n\nOn Wed, Mar 18, 2026 at 10:30 AM Soporte <s@x> wrote:\n> hola") == "Listo."
    assert trim_quoted("ok\n-----Mensaje original-----\nDe: x") == "ok"


def test_a_mail_without_message_id_gets_a_stable_synthetic_one() -> None:
    raw = samples.without_message_id()
    first, again = parse(raw), parse(raw)
    assert first.synthetic_id and first.message_id == again.message_id and first.message_id.endswith("@sin-message-id.invalid>")


def test_missing_fields_are_named_in_spanish_in_the_one_auto_reply() -> None:
    mail = parse(samples.without_subject())
    fields = request_of(mail)
    assert missing(fields) == ["subject"]
    reply = compose_missing_reply(mail, missing(fields), ReplyHeaders(samples.HELPDESK, "<auto.1@pbx.example.co>", AT))
    assert reply["Auto-Submitted"] == "auto-replied" and reply["In-Reply-To"] == "<nosubj-1@tornillo.com.co>"
    assert reply["To"] == "ana@tornillo.com.co" and reply["Message-ID"] == "<auto.1@pbx.example.co>"
    assert "un asunto que describa el problema" in reply.get_content()
    # our auto-reply coming back to the mailbox is a loop, not a request
    assert classify(parse(reply.as_bytes()), OURS, {}) == Ignore("loop")


def test_the_unknown_sender_reply_says_how_to_get_access() -> None:
    mail = parse(samples.new_request())
    reply = compose_unknown_sender_reply(mail, ReplyHeaders(samples.HELPDESK, "<u.1@pbx.example.co>", AT), "https://mesa.example.co")
    text = reply.get_content()
    assert "no está registrada" in text and "https://mesa.example.co/portal/" in text
    assert reply["Auto-Submitted"] == "auto-replied"


def test_the_answer_to_the_auto_reply_completes_the_draft() -> None:
    draft = request_of(parse(samples.without_subject()))
    answer = parse(samples.reply_in_thread("<auto.1@pbx.example.co>", subject="Re: Su solicitud a soporte: falta información")
                   .replace("Ya reinici\xc3\xa9 el tel\xc3\xa9fono y sigue igual.".encode("latin-1"),
                            "Asunto: Sala de juntas sin tono".encode()))
    filled = completed(draft, answer, "Su solicitud a soporte: falta información")
    assert filled.subject == "Sala de juntas sin tono" and missing(filled) == []
    assert filled.detail == "No funciona el telefono de la sala de juntas."


def test_attachments_are_screened_and_refusals_named() -> None:
    mail = parse(samples.with_attachments())
    assert mail.text == "Adjunto la captura del error."
    screened = screen(mail.attachments)
    assert [(accepted.filename, accepted.content_type) for accepted, _ in screened.accepted] == [("captura.png", "image/png")]
    assert [name for name, _ in screened.refused] == ["factura.exe"]
    assert "factura.exe" in screened.refused_text()


def test_an_incomplete_mail_with_attachments_is_asked_to_attach_them_again() -> None:
    head = ReplyHeaders(samples.HELPDESK, "<auto.2@pbx.example.co>", AT)
    with_files = parse(samples.with_attachments().replace(b"Subject: Pantalla con error\r\n", b""))
    assert "vuelva a adjuntarlos" in compose_missing_reply(with_files, ["subject"], head).get_content()
    assert "adjunt" not in compose_missing_reply(parse(samples.without_subject()), ["subject"], head).get_content()
