"""The pure core stays pure: importing it must not pull in servers, databases or the CLI."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDOR_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in (ROOT / "provisioner" / "vendors").rglob("*.py")
)
PURE_MODULES = [
    "provisioner.values",
    "provisioner.incidents",
    "provisioner.snmp.parse",
    "provisioner.snmp.reachability",
    "provisioner.tftp_wire",
    "provisioner.forwarded",
    "provisioner.identification",
    "provisioner.mac",
    "provisioner.permissions",
    "provisioner.rendering",
    "provisioner.enrollment",
    "provisioner.masking",
    "provisioner.uploads",
    "provisioner.softphones",
    "provisioner.campaigns",
    "provisioner.campaign_notices",
    *VENDOR_MODULES,  # every module of every vendor package, found on disk: a new vendor's too
    "provisioner.snmp.reading",
    "provisioner.negative_cache",
    "firmware_catalog",
    "firmware_catalog.lines",
    "support_link.calendar",
    "support_link.sla",
    "support_link.priority",
    "support_link.lifecycle",
    "support_link.billing",
    "support_link.attachments",
    "support_link.inbound",
    "support_link.desk",
    "provisioner.reports",
    "provisioner.survey_report",
    "provisioner.web.access",
    "provisioner.web.limits",
    "provisioner.web.login_rules",
    "provisioner.onboarding",
    "provisioner.site_readiness",
    "provisioner.sip_accounts",
    "provisioner.pbx_export",
    "provisioner.registrations",
    "provisioner.web.openapi",
    "provisioner.requesters",
    "provisioner.portal_rules",
]
ADAPTER_LIBRARIES = ["aiohttp", "tftpy", "pysnmp", "sqlalchemy", "click"]
# Identification and the vendor packages read only their arguments: not even a socket or a database driver.
NO_IO_MODULES = [m for m in PURE_MODULES if m.startswith(("provisioner.vendors", "provisioner.identification", "provisioner.mac"))]
NO_IO_LIBRARIES = [*ADAPTER_LIBRARIES, "socket", "sqlite3", "psycopg"]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_adapter_library(module: str) -> None:
    libraries = NO_IO_LIBRARIES if module in NO_IO_MODULES else ADAPTER_LIBRARIES
    code = f"import sys, {module}; print(','.join(m for m in {libraries!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
