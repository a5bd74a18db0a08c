"""support_link's layers keep their import rules (support_link/__init__.py draws them).

Each module is imported alone in a fresh interpreter and the modules it pulled in are
checked: the core pulls in no store, no adapter and no database or network library; the
store no adapter; nothing in support_link or dbkit pulls in the provisioner.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = ["support_link", "support_link.errors", "support_link.calendar", "support_link.priority",
        "support_link.sla", "support_link.lifecycle", "support_link.billing", "support_link.words", "support_link.attachments"]
STORE = ["support_link.store", "support_link.store.models", "support_link.store.values", "support_link.store.mapping",
         "support_link.store.tickets", "support_link.store.affected_devices", "support_link.store.mail_outbox",
         "support_link.store.work_logs", "support_link.store.attachments", "support_link.store.surveys"]
ADAPTERS = ["support_link.adapters.jobs", "support_link.adapters.mail"]

# (modules, what none of them may pull in)
RULES = [
    (CORE, ["support_link.store", "support_link.adapters", "dbkit", "provisioner", "sqlalchemy", "smtplib", "aiohttp"]),
    (STORE, ["support_link.adapters", "provisioner", "smtplib", "aiohttp"]),
    (ADAPTERS, ["provisioner", "aiohttp"]),
    (["support_link.adapters.mail_settings"], ["support_link.store", "support_link.adapters.mail", "sqlalchemy", "smtplib"]),
    (["dbkit", "dbkit.bulk"], ["support_link", "provisioner", "firmware_catalog"]),
]
CASES = [(module, forbidden) for modules, forbidden in RULES for module in modules]


def imported_by(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


@pytest.mark.parametrize(("module", "forbidden"), CASES, ids=[module for module, _ in CASES])
def test_module_imports_only_what_its_layer_may(module: str, forbidden: list[str]) -> None:
    pulled = imported_by(module)
    wrong = sorted({name for name in pulled for prefix in forbidden if name == prefix or name.startswith(prefix + ".")})
    assert wrong == [], f"{module} imports {wrong}"


def test_the_check_sees_an_import() -> None:
    """The test above can fail: the store does pull in SQLAlchemy and dbkit."""
    pulled = imported_by("support_link.store.affected_devices")
    assert "sqlalchemy" in pulled and "dbkit.bulk" in pulled
