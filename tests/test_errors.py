"""The provisioner's one exception tree: the drawing in provisioner/errors.py is the code, every
error the provisioner defines is in it, each maps to one answer; and the layer rules hold
(admin and the CLI never import the web package; the shared modules stay pure)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import provisioner.errors
from provisioner.errors import ProvisionerError
from tests.test_pure_core import ADAPTER_LIBRARIES

ROOT = Path(__file__).resolve().parent.parent
ERROR_MODULES = [
    "provisioner.errors", "provisioner.importing.errors", "provisioner.importing.api", "provisioner.snmp.errors",
    "provisioner.vendors.yealink.renderer",
]
_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?: \((?P<extra>[A-Za-z, ]+)\))?")


def drawing() -> list[tuple[str, str | None, set[str]]]:
    """(class name, parent drawn above it, names in parentheses) for each line of the drawing."""
    text = provisioner.errors.__doc__ or ""
    block = text.split("\n\n")[1]
    rows: list[tuple[str, str | None, set[str]]] = []
    parents: dict[int, str] = {}
    for line in block.splitlines():
        match = _LINE.match(line.strip("\n")[4:])  # the drawing is indented by four spaces
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match["indent"]) // 4
        parents[depth] = match["name"]
        extra = {name.strip() for name in (match["extra"] or "").split(",") if name.strip()}
        rows.append((match["name"], parents.get(depth - 1) if depth else None, extra))
    return rows


def classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for name in ERROR_MODULES:
        module = importlib.import_module(name)
        found.update({k: v for k, v in vars(module).items() if isinstance(v, type) and issubclass(v, BaseException)})
    return found


def test_the_drawing_is_the_code() -> None:
    known = classes()
    for name, parent, extra in drawing():
        cls = known[name]
        drawn = {parent, *extra} if parent else set()
        actual = {base.__name__ for base in cls.__bases__} - ({"Exception"} if parent is None else set())
        assert actual == drawn, f"{name}: drawn with bases {sorted(drawn)}, defined with {sorted(actual)}"


def test_every_provisioner_error_is_drawn() -> None:
    classes()  # import every module that defines part of the tree
    drawn = {name for name, _parent, _extra in drawing()}
    pending, seen = [ProvisionerError], set()
    while pending:
        cls = pending.pop()
        seen.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    assert seen == drawn


SAMPLES = [
    ("provisioner.errors", "NotFoundError", 404, "not_found"),
    ("provisioner.errors", "ConflictError", 409, "conflict"),
    ("provisioner.errors", "InputError", 422, "invalid"),
    ("provisioner.errors", "MalformedInput", 400, "bad_request"),
    ("provisioner.errors", "AccessDenied", 403, "forbidden"),
    ("provisioner.importing.errors", "UnknownTenant", 404, "unknown_tenant"),
    ("provisioner.importing.errors", "UnreadableFile", 422, "unreadable_file"),
    ("provisioner.importing.errors", "ImportingError", 422, "import_refused"),
    ("provisioner.importing.api", "FileChanged", 409, "file_changed"),
    ("support_link", "ClassificationError", 422, "invalid_classification"),
    ("support_link", "TransitionError", 409, "refused"),
    ("support_link", "ClockError", 409, "refused"),
    ("support_link", "BillingError", 422, "invalid"),
]


@pytest.mark.parametrize(("module", "name", "status", "code"), SAMPLES)
def test_each_error_has_one_answer(module: str, name: str, status: int, code: str) -> None:
    from provisioner.web.errors import answer_for

    cls = getattr(importlib.import_module(module), name)
    error = cls("resolve", "x") if name == "TransitionError" else cls("dato")
    answer = answer_for(error)
    assert answer is not None and (answer.status, answer.code) == (status, code)
    own_text = name in ("MalformedInput", "AccessDenied")  # raised by the web layer, already in Spanish
    assert (answer.message, answer.detail) == (("dato", None) if own_text else (answer.message, str(error)))
    assert answer.message.endswith(".") or own_text


def test_answers_for_malformed_bodies_and_unknown_errors() -> None:
    from aiohttp import web

    from provisioner.web.errors import answer_for
    from support_link import MissingFieldsError
    from support_link.errors import TicketNotFoundError

    with pytest.raises(json.JSONDecodeError) as bad_json:
        json.loads("{nope")
    assert answer_for(bad_json.value).status == 400
    assert answer_for(TicketNotFoundError(7)).message == "No existe ese caso."
    assert answer_for(MissingFieldsError(["subject", "detail"])).message == "Faltan campos obligatorios: Asunto, Detalle."  # Spanish field names (issue 17)
    assert answer_for(web.HTTPMethodNotAllowed("POST", ["GET"])).status == 405
    assert answer_for(web.HTTPSeeOther("/login")) is None  # a redirect is an answer already
    assert answer_for(RuntimeError("boom")) is None  # unknown: the middleware logs it and answers 500
    assert answer_for(ValueError("a bare ValueError is not a person's input")) is None


@pytest.mark.parametrize("path", ["provisioner/admin.py", "provisioner/cli.py", "provisioner/importing/cli.py"])
def test_admin_and_cli_never_import_the_web_package(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text())
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert [name for name in imported if name.startswith("provisioner.web")] == []


@pytest.mark.parametrize("module", ["provisioner.errors", "provisioner.labels", "provisioner.accounts", "provisioner.ticket_queue"])
def test_shared_modules_are_pure(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {ADAPTER_LIBRARIES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"


def test_every_shown_word_has_its_one_label() -> None:
    from provisioner.accounts import ROLES as ROLE_NAMES
    from provisioner.incidents import URGENCY_BY_FINDING
    from provisioner.labels import FINDING_SUBJECTS, FINDINGS, ROLES, UNASSIGNED_DEPARTMENT, VENDORS
    from firmware_catalog import load_catalog

    assert UNASSIGNED_DEPARTMENT == "Sin asignar"
    assert set(FINDINGS) == set(FINDING_SUBJECTS) == set(URGENCY_BY_FINDING)  # every finding kind has its words
    assert set(ROLES) == set(ROLE_NAMES)
    assert {entry.vendor for entry in load_catalog().entries} == set(VENDORS)
