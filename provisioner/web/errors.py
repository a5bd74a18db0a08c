"""The one place that turns errors into answers, for the web app and the API.

Handlers raise by meaning (provisioner.errors, support_link's tree, aiohttp's HTTPException)
and never choose a status for an error themselves. `answer_errors`, the app's one
middleware, answers:

    /prov/...    nothing: it returns at once (one prefix check), so the phones' config
                 handler keeps its own single 404 and pays for no error mapping
    /api/...     JSON {"error": <code>, "message": <Spanish>} (+ "detail": the error's own text)
    the rest     a Spanish page in the app's look (error.html), or the form the handler
                 named with `show_on_error`, shown again with the message

Every answer but the phones' also gets SECURITY_HEADERS (the page may run scripts of this
site only, never in a frame, no referrer to other sites, no content sniffing); a stream
that starts before the middleware sees it (the live queue) sets them itself.

Anything unexpected is logged with its traceback and answered 500, in Spanish, without
details. Messages here are for the person in front of the page; `detail` keeps the lower
layers' own wording (the importer's and support_link's, written for operators).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from provisioner.errors import AccessDenied, ConflictError, InputError, MalformedInput, NotFoundError
from provisioner.importing.api import FileChanged
from provisioner.importing.errors import ImportingError, UnknownTenant, UnreadableFile
from support_link import ClassificationError, MissingFieldsError, SupportLinkError, TicketError
from provisioner.web.pages import render
from support_link import words
from support_link.errors import AttachmentNotFound, TicketNotFoundError
from provisioner.errors import ProvisionerError

log = logging.getLogger("provisioner.web")


@dataclass(frozen=True)
class Answer:
    status: int
    code: str  # stable, for programs
    message: str  # Spanish, for people
    detail: str | None = None  # the error's own text, when it tells more
    detail_for_people: bool = False  # the detail is Spanish (this package's own errors): pages show it


def _own_text(exc: BaseException) -> str:
    return str(exc)


def _missing_fields(exc: BaseException) -> str:
    missing = getattr(exc, "missing", ())
    return "Faltan campos obligatorios: " + ", ".join(words.FIELDS.get(name, name) for name in missing) + "."


Message = str | Callable[[BaseException], str]

# Error class -> (status, code, message). The most specific class in an error's MRO wins.
ANSWERS: Mapping[type[BaseException], tuple[int, str, Message]] = {
    # malformed requests
    json.JSONDecodeError: (400, "bad_json", "El cuerpo no es JSON válido: envíe un objeto JSON."),
    UnicodeDecodeError: (400, "bad_encoding", "El cuerpo no es texto UTF-8 válido."),
    MalformedInput: (400, "bad_request", _own_text),  # raised by this package, in Spanish
    # the provisioner's tree
    UnknownTenant: (404, "unknown_tenant", "No hay un cliente con ese identificador."),
    FileChanged: (409, "file_changed", "El archivo no es el que se revisó: súbalo de nuevo y revise la nueva vista previa."),
    UnreadableFile: (422, "unreadable_file", "No se pudo leer el archivo: envíe un CSV o XLSX con una fila de encabezados."),
    ImportingError: (422, "import_refused", "No se puede importar así: corrija lo indicado y vuelva a intentarlo."),
    NotFoundError: (404, "not_found", "No existe lo que busca."),
    ConflictError: (409, "conflict", "Ya existe, o su estado actual no permite el cambio."),
    InputError: (422, "invalid", "Un valor enviado no es válido."),
    AccessDenied: (403, "forbidden", _own_text),  # raised by this package, in Spanish
    # support_link's tree
    TicketNotFoundError: (404, "not_found", "No existe ese caso."),
    AttachmentNotFound: (404, "not_found", "No existe ese adjunto en este caso."),
    MissingFieldsError: (422, "missing_fields", _missing_fields),
    ClassificationError: (422, "invalid_classification", "Tipo, urgencia, impacto, prioridad, estado o canal desconocido."),
    TicketError: (409, "refused", "El estado actual del caso no permite esa acción."),
    SupportLinkError: (422, "invalid", "Las reglas del servicio no admiten ese valor."),
}

# aiohttp's own refusals (router, body size), in Spanish; other HTTPExceptions (redirects) pass.
HTTP_ANSWERS: Mapping[int, tuple[str, str]] = {
    400: ("bad_request", "La solicitud está mal formada."),
    403: ("forbidden", "No tiene permiso para hacer esto."),
    404: ("not_found", "Esta página no existe."),
    405: ("method_not_allowed", "Esta dirección no acepta ese método."),
    413: ("too_large", "Lo enviado es demasiado grande."),
}

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

INTERNAL = Answer(500, "internal", "Error interno del servidor. Quedó registrado para el equipo técnico.")


def answer_for(exc: BaseException) -> Answer | None:
    """The answer for an error we know, else None (pure)."""
    if isinstance(exc, web.HTTPException):
        known = HTTP_ANSWERS.get(exc.status)
        return Answer(exc.status, *known) if known else None
    for cls in type(exc).__mro__:
        entry = ANSWERS.get(cls)
        if entry is not None:
            status, code, message = entry
            text = message if isinstance(message, str) else message(exc)
            detail = str(exc) or None
            spanish = isinstance(exc, ProvisionerError) and not isinstance(exc, ImportingError)
            return Answer(status, code, text, None if detail == text else detail, spanish)
    return None


def json_answer(answer: Answer) -> web.Response:
    body: dict[str, object] = {"error": answer.code, "message": answer.message}
    if answer.detail:
        body["detail"] = answer.detail
    return web.json_response(body, status=answer.status)


# -- forms shown again -------------------------------------------------------------------------
_SHOW_ON_ERROR = "show_on_error"
Loader = Callable[[], Awaitable[dict[str, Any]]]


def show_on_error(request: web.Request, template: str, load: Loader | None = None, **context: Any) -> None:
    """On a mapped error, show `template` again (with `context`, and what `load` returns) and
    the message, instead of the error page: the person keeps what they typed."""
    request[_SHOW_ON_ERROR] = (template, load, context)


async def _html_answer(request: web.Request, answer: Answer) -> web.Response:
    # Only Spanish details reach a page; the lower layers' own (English, for operators) stay in the API.
    error = answer.message + (f" {answer.detail}" if answer.detail and answer.detail_for_people else "")
    again = request.get(_SHOW_ON_ERROR) if answer.status != 500 else None
    if again is not None:
        template, load, context = again
        try:
            loaded = await load() if load is not None else {}
            return render(request, template, status=answer.status, error=error, **context, **loaded)
        except Exception as exc:  # noqa: BLE001 - the form cannot be shown again (its ticket is gone...): the plain page
            log.info("%s not shown again after a %d: %r", template, answer.status, exc)
    page = "portal/error.html" if request.path.startswith("/portal/") else "error.html"  # a customer's own look
    return render(request, page, status=answer.status, answer=answer)


# -- the middleware ----------------------------------------------------------------------------
@web.middleware
async def answer_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    if request.path.startswith("/prov/"):  # the phones' path: untouched, and nothing more paid
        return await handler(request)
    try:
        response = await handler(request)
    except Exception as exc:  # noqa: BLE001 - every error gets a Spanish answer; unknown ones are logged
        answer = answer_for(exc)
        if answer is None:
            if isinstance(exc, web.HTTPException):
                exc.headers.update(SECURITY_HEADERS)
                raise  # redirects and the like are answers already
            log.exception("%s %s failed", request.method, request.path)
            answer = INTERNAL
        allow = exc.headers.get("Allow") if isinstance(exc, web.HTTPException) else None
        response = json_answer(answer) if request.path.startswith("/api/") else await _html_answer(request, answer)
        if allow is not None:  # a 405 says which methods the address takes
            response.headers["Allow"] = allow
    if not response.prepared:  # else its headers are sent already (and set by it)
        response.headers.update(SECURITY_HEADERS)
    return response
