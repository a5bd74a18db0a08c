"""The layers as tests: import contracts (import-linter, written out in pyproject.toml),
mypy --strict on the pure modules, and bandit's security lint on every package (import
circles: tests/test_import_graph.py).

These run the real tools on the real tree, so a change that breaks a rule fails here with the
tool's own explanation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# What must pass `mypy --strict`: the pure cores of the three packages, and dbkit.
STRICT = (
    "firmware_catalog", "dbkit",
    "support_link/calendar.py", "support_link/priority.py", "support_link/sla.py",
    "support_link/lifecycle.py", "support_link/billing.py", "support_link/errors.py", "support_link/words.py",
    "support_link/attachments.py", "support_link/adapters/mail_text.py", "support_link/adapters/requester_mail.py",
    "support_link/inbound.py",
    "provisioner/values.py", "provisioner/identification.py", "provisioner/rendering.py", "provisioner/mac.py",
    "provisioner/vendors", "provisioner/errors.py", "provisioner/labels.py", "provisioner/bans.py",
    "provisioner/tftp_wire.py", "provisioner/snmp/parse.py", "provisioner/snmp/reading.py",
    "provisioner/web/login_rules.py", "provisioner/lifeline.py", "provisioner/findings.py", "provisioner/lookups.py",
    "provisioner/service.py", "provisioner/incidents.py", "provisioner/enrollment.py", "provisioner/masking.py",
    "provisioner/negative_cache.py", "provisioner/web/access.py", "provisioner/web/limits.py", "provisioner/forwarded.py",
    "provisioner/uploads.py",
    "provisioner/softphones.py",
    "support_link/desk.py", "provisioner/reports.py", "provisioner/survey_report.py",
    "provisioner/onboarding.py", "provisioner/site_readiness.py",
    "provisioner/campaigns.py", "provisioner/campaign_notices.py",
    "provisioner/sip_accounts.py", "provisioner/pbx_export.py", "provisioner/registrations.py",
    "provisioner/web/openapi.py",
    "provisioner/importing/words.py",
    "provisioner/requesters.py", "provisioner/portal_rules.py",
)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold() -> None:
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pure_cores_pass_mypy_strict() -> None:
    result = _run(str(BIN / "mypy"), "--strict", "--no-incremental", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_finds_nothing_unannotated() -> None:
    result = _run(str(BIN / "bandit"), "-c", "pyproject.toml", "-q", "-r",
                  "provisioner", "support_link", "firmware_catalog", "dbkit")
    assert result.returncode == 0, result.stdout + result.stderr
