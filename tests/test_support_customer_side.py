"""The customer's side of the lifecycle (issue 16): agreed resolution dates, the survey, attachments.

Pure rules first (tables), then the store's attachments and surveys on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest

from support_link.attachments import MAX_ATTACHMENT_BYTES, check_attachment, check_count, clean_filename
from support_link.errors import (
    ActorError,
    AttachmentNotFound,
    AttachmentRefused,
    SurveyAlreadyAnswered,
    SurveyError,
    TransitionError,
)
from support_link.lifecycle import (
    AcceptResolutionDate,
    AnswerSurvey,
    ProposeResolutionDate,
    Resolve,
    Respond,
    Status,
    apply,
    new_ticket,
    resolution_date_state,
)
from support_link.store import attachments, surveys, tickets
from tests.test_support_lifecycle import AGENT, CREATED, REQUESTER, ROBOT, bog, make, resolved_ticket
from tests.test_support_store import Db, db_fixture, template_fixture  # noqa: F401 - the scratch databases

TOMORROW = date(2026, 3, 19)


# --- agreed resolution dates (pure) ----------------------------------------------------------


def requirement():  # type: ignore[no-untyped-def]
    return make(ticket_type="requirement", urgency="low", impact="individual")


def test_an_agents_date_accepted_by_the_requester_becomes_the_agreed_date() -> None:
    ticket, events = apply(requirement(), ProposeResolutionDate(date(2026, 3, 25)), bog(2026, 3, 18, 11), AGENT)
    assert (ticket.proposed_resolution_on, ticket.proposed_by, ticket.agreed_resolution_on) == (date(2026, 3, 25), "agent", None)
    assert events[0].kind == "resolution_date_proposed" and events[0].after == {"proposed_resolution_on": "2026-03-25", "proposed_by": "agent"}
    ticket, events = apply(ticket, AcceptResolutionDate(), bog(2026, 3, 18, 12), REQUESTER)
    assert (ticket.proposed_resolution_on, ticket.proposed_by, ticket.agreed_resolution_on) == (None, None, date(2026, 3, 25))
    assert events[0].kind == "resolution_date_agreed"


def test_a_counter_proposal_is_the_agents_to_accept() -> None:
    ticket, _ = apply(requirement(), ProposeResolutionDate(date(2026, 3, 25)), bog(2026, 3, 18, 11), AGENT)
    ticket, _ = apply(ticket, ProposeResolutionDate(date(2026, 3, 20)), bog(2026, 3, 18, 12), REQUESTER)
    assert (ticket.proposed_resolution_on, ticket.proposed_by) == (date(2026, 3, 20), "requester")
    with pytest.raises(ActorError):
        apply(ticket, AcceptResolutionDate(), bog(2026, 3, 18, 13), REQUESTER)  # its own proposal
    ticket, _ = apply(ticket, AcceptResolutionDate(), bog(2026, 3, 18, 13), AGENT)
    assert ticket.agreed_resolution_on == date(2026, 3, 20)


@pytest.mark.parametrize(("ticket_type", "action", "actor", "error"), [
    ("incident", ProposeResolutionDate(date(2026, 3, 25)), AGENT, TransitionError),  # requirements only
    ("requirement", ProposeResolutionDate(date(2026, 3, 17)), AGENT, TransitionError),  # already past
    ("requirement", ProposeResolutionDate(date(2026, 3, 25)), ROBOT, ActorError),  # people agree dates
    ("requirement", AcceptResolutionDate(), REQUESTER, TransitionError),  # nothing proposed
])
def test_dates_that_cannot_be_proposed_or_accepted(ticket_type, action, actor, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        apply(make(ticket_type=ticket_type, urgency="low", impact="individual"), action, bog(2026, 3, 18, 11), actor)


@pytest.mark.parametrize(("resolved_on", "now", "state"), [
    (None, bog(2026, 3, 25, 17), "pending"),   # open, the day has not passed
    (None, bog(2026, 3, 26, 0, 1), "missed"),  # open, the day has passed
    (bog(2026, 3, 25, 23, 59), bog(2026, 4, 1), "met"),  # resolved late in the agreed day (Bogota)
    (bog(2026, 3, 26, 8), bog(2026, 4, 1), "missed"),
])
def test_whether_the_agreed_date_was_met(resolved_on, now, state) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = apply(requirement(), ProposeResolutionDate(date(2026, 3, 25)), bog(2026, 3, 18, 11), AGENT)
    ticket, _ = apply(ticket, AcceptResolutionDate(), bog(2026, 3, 18, 12), REQUESTER)
    if resolved_on is not None:
        ticket, _ = apply(ticket, Resolve(), resolved_on, AGENT)
    assert resolution_date_state(ticket, now) == state
    assert resolution_date_state(requirement(), now) is None


# --- the survey (pure) -------------------------------------------------------------------------


def test_solved_closes_at_once_and_not_solved_reopens() -> None:
    ticket, events = apply(resolved_ticket(), AnswerSurvey(solved=True), bog(2026, 3, 18, 15), REQUESTER)
    assert (ticket.status, ticket.closed_at, events[0].kind) == (Status.CLOSED, bog(2026, 3, 18, 15), "survey_closed")
    ticket, events = apply(resolved_ticket(), AnswerSurvey(solved=False), bog(2026, 3, 18, 15), REQUESTER)
    assert (ticket.status, ticket.resolved_at, events[0].kind) == (Status.IN_PROGRESS, None, "survey_reopened")


def test_the_survey_is_the_requesters_and_only_on_a_resolved_ticket() -> None:
    with pytest.raises(ActorError):
        apply(resolved_ticket(), AnswerSurvey(solved=True), bog(2026, 3, 18, 15), AGENT)
    with pytest.raises(TransitionError):
        apply(make(), AnswerSurvey(solved=True), bog(2026, 3, 18, 15), REQUESTER)
    with pytest.raises(TransitionError):  # 48 h after the resolution it has closed by itself
        apply(resolved_ticket(), AnswerSurvey(solved=False), bog(2026, 3, 20, 11, 1), REQUESTER)


def test_the_requesters_address_is_kept_lower_case() -> None:
    ticket, event = new_ticket(ticket_type="incident", urgency="low", impact="individual", subject="Sin tono",
                               detail="x", requester_name="Ana", requester_contact="ana@x.co", channel="portal",
                               created_at=CREATED, actor=REQUESTER, requester_email=" Ana@Tornillo.COM.co ")
    assert ticket.requester_email == event.after["requester_email"] == "ana@tornillo.com.co"


# --- attachments (pure) --------------------------------------------------------------------------


def office(inner: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(inner, "<x/>")
    return out.getvalue()


def odf(kind: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", kind)
        archive.writestr("content.xml", "<x/>")
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("captura.png", PNG, "image/png"),
    ("captura.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    ("factura.pdf", b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
    ("sin-extension", b"%PDF-1.4\n", "application/pdf"),  # the content decides, not the name
    ("foto.png", b"\xff\xd8\xff\xdb", "image/jpeg"),  # a JPEG called .png is served as a JPEG
    ("anim.gif", b"GIF89a\x01\x00", "image/gif"),
    ("foto.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ("extensiones.csv", "ext;nombre\n101;Ana Pérez\n".encode(), "text/csv"),
    ("registro.log", "ERROR sip: 401\r\n".encode("latin-1"), "text/plain"),
    ("lista.xlsx", office("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("acta.docx", office("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("acta.odt", odf("application/vnd.oasis.opendocument.text"), "application/vnd.oasis.opendocument.text"),
])
def test_allowed_files_get_the_type_of_their_content(name: str, data: bytes, kind: str) -> None:
    assert check_attachment(name, data).content_type == kind


@pytest.mark.parametrize(("name", "data", "says"), [
    ("programa.exe", b"MZ\x90\x00\x03", "no se admite"),
    ("script.sh", b"#!/bin/sh\nrm -rf /", "no se admite"),  # text, but not a listed kind
    ("pagina.html", b"<html><script>alert(1)</script>", "no se admite"),
    ("datos.csv", b"a,b\x00\x01\x02", "no se admite"),  # binary behind a text name
    ("otro.zip", office("cosas/a.txt"), "no se admite"),  # a plain zip is not a document
    ("vacio.txt", b"", "vacío"),
    ("grande.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "máximo"),
])
def test_refused_files_say_why_in_spanish(name: str, data: bytes, says: str) -> None:
    with pytest.raises(AttachmentRefused, match=says):
        check_attachment(name, data)


@pytest.mark.parametrize(("given", "kept"), [
    ("C:\\Users\\ana\\captura.png", "captura.png"),
    ("../../etc/passwd", "passwd"),
    ("infor\x00me\r\n.pdf", "informe.pdf"),
    ('"comillas".pdf', "comillas.pdf"),
    ("", "adjunto"),
    ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
])
def test_names_are_labels_without_paths(given: str, kept: str) -> None:
    assert clean_filename(given) == kept


def test_at_most_five_files_a_message() -> None:
    check_count(5)
    with pytest.raises(AttachmentRefused, match="hasta 5"):
        check_count(6)


# --- the store: attachments and surveys ----------------------------------------------------------


def stored_ticket(db: Db, ticket_type: str = "incident") -> int:
    ticket, event = new_ticket(ticket_type=ticket_type, urgency="high", impact="department", subject="Sin tono",
                               detail="Bodega sin tono", requester_name="Ana", requester_contact="ana@x.co",
                               channel="portal", created_at=CREATED, actor=REQUESTER, requester_email="ana@x.co")
    with db.sessions.begin() as session:
        return tickets.create(session, ticket, event, "ferreteria")


def test_attachments_are_read_back_only_through_their_ticket(db: Db) -> None:
    first, second = stored_ticket(db), stored_ticket(db)
    with db.sessions.begin() as session:
        kept = attachments.add(session, first, filename="captura.png", content_type="image/png", data=PNG,
                               source="portal", now=CREATED)
    with db.sessions() as session:
        listed = attachments.listed(session, first)
        assert [(a.id, a.filename, a.size, a.source) for a in listed] == [(kept, "captura.png", len(PNG), "portal")]
        assert attachments.read(session, first, kept)[1] == PNG
        assert attachments.listed(session, second) == []
        with pytest.raises(AttachmentNotFound):
            attachments.read(session, second, kept)  # a guessed id of another ticket


def resolve(db: Db, ticket_id: int, at) -> None:  # type: ignore[no-untyped-def]
    with db.sessions.begin() as session:
        tickets.take(session, ticket_id, "laura", at)
        tickets.act(session, ticket_id, Respond(public=True), AGENT, at)
        tickets.act(session, ticket_id, Resolve(), AGENT, at)


def test_a_survey_link_answers_once_and_closes_the_ticket(db: Db) -> None:
    ticket_id = stored_ticket(db)
    with db.sessions.begin() as session, pytest.raises(SurveyError):
        surveys.current(session, ticket_id, CREATED)  # nothing resolved yet
    resolve(db, ticket_id, bog(2026, 3, 18, 11))
    with db.sessions.begin() as session:
        token = surveys.new_link_token(session, ticket_id, bog(2026, 3, 18, 11, 5))
    with db.sessions.begin() as session:
        assert surveys.ticket_for_token(session, token) == ticket_id
        assert surveys.ticket_for_token(session, token + "x") is None
        after = surveys.answer(session, ticket_id, rating=5, solved=True, comment=" Excelente ", actor=REQUESTER,
                               now=bog(2026, 3, 18, 12))
    assert after.status is Status.CLOSED
    with db.sessions() as session:
        survey = surveys.latest(session, ticket_id)
        assert survey is not None and (survey.rating, survey.solved, survey.comment, survey.agent) == (5, True, "Excelente", "laura")
        assert [s.ticket_id for s in surveys.answered(session)] == [ticket_id]
        closed = tickets.get(session, ticket_id)
        assert closed.events[-1].kind == "survey_closed" and closed.events[-1].note == "Excelente"
    with db.sessions.begin() as session, pytest.raises(SurveyAlreadyAnswered):
        surveys.answer(session, ticket_id, rating=1, solved=True, comment="", actor=REQUESTER, now=bog(2026, 3, 18, 13))


def test_not_solved_reopens_and_the_next_resolution_has_its_own_survey(db: Db) -> None:
    ticket_id = stored_ticket(db)
    resolve(db, ticket_id, bog(2026, 3, 18, 11))
    with db.sessions.begin() as session:
        after = surveys.answer(session, ticket_id, rating=2, solved=False, comment="Sigue sin tono",
                               actor=REQUESTER, now=bog(2026, 3, 18, 12))
    assert after.status is Status.IN_PROGRESS
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 19, 9))
    with db.sessions.begin() as session:
        second = surveys.current(session, ticket_id, bog(2026, 3, 19, 10))
    assert second.answered is False and second.resolved_at == bog(2026, 3, 19, 9)
    with db.sessions() as session:
        assert [(s.rating, s.solved) for s in surveys.answered(session)] == [(2, False)]
        assert sorted(done for *_, done in surveys.sent_count(session)) == [False, True]


def test_a_late_answer_keeps_its_rating_on_the_auto_closed_ticket(db: Db) -> None:
    ticket_id = stored_ticket(db)
    resolve(db, ticket_id, bog(2026, 3, 18, 11))
    late = bog(2026, 3, 21, 9)  # after the 48 h close
    with db.sessions.begin() as session:
        after = surveys.answer(session, ticket_id, rating=4, solved=True, comment="", actor=REQUESTER, now=late)
    assert after.status is Status.CLOSED
    with db.sessions.begin() as session, pytest.raises(SurveyAlreadyAnswered):
        surveys.answer(session, ticket_id, rating=1, solved=False, comment="", actor=REQUESTER, now=late)


def test_agreed_dates_round_trip_through_the_store(db: Db) -> None:
    ticket_id = stored_ticket(db, "requirement")
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, ProposeResolutionDate(date(2026, 3, 25)), AGENT, bog(2026, 3, 18, 11))
        tickets.act(session, ticket_id, AcceptResolutionDate(), REQUESTER, bog(2026, 3, 18, 12))
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert stored.ticket.agreed_resolution_on == date(2026, 3, 25)
    assert stored.ticket.requester_email == "ana@x.co"
    assert [e.kind for e in stored.events][-2:] == ["resolution_date_proposed", "resolution_date_agreed"]
