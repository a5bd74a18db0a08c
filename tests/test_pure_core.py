"""The pure core stays pure: importing it must not pull in servers, databases or the CLI."""

import subprocess
import sys

import pytest

PURE_MODULES = [
    "provisioner.values",
    "provisioner.incidents",
    "provisioner.snmp.parse",
    "provisioner.snmp.reachability",
    "provisioner.tftp_wire",
    "provisioner.identification",
    "provisioner.mac",
    "provisioner.permissions",
    "provisioner.rendering",
    "provisioner.vendors",
    "firmware_catalog",
    "support_link.calendar",
    "support_link.sla",
    "support_link.priority",
    "support_link.lifecycle",
    "support_link.billing",
]
ADAPTER_LIBRARIES = ["aiohttp", "tftpy", "pysnmp", "sqlalchemy", "click"]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_adapter_library(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"print(','.join(m for m in {ADAPTER_LIBRARIES!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
