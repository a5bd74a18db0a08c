"""deploy/provisioner.service passes `systemd-analyze verify` (no error, no warning), run on
a copy whose ExecStart names this checkout's console script (the unit's /opt path does not
exist here); and `provisioner --version` answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
UNIT = ROOT / "deploy" / "provisioner.service"
INSTALLED = "/opt/provisioner/.venv/bin/provisioner"


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd (Debian package systemd)")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert INSTALLED in text
    copy = tmp_path / "provisioner.service"
    copy.write_text(text.replace(INSTALLED, str(Path(sys.executable).parent / "provisioner")))
    result = _verify(copy)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for needed in ("PROMETHEUS_MULTIPROC_DIR=/run/provisioner/", "RuntimeDirectory=provisioner", "KillMode=mixed",
                   "AmbientCapabilities=CAP_NET_BIND_SERVICE", "LimitNOFILE="):
        assert needed in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd (Debian package systemd)")
def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a mistyped key is reported."""
    broken = tmp_path / "provisioner.service"
    broken.write_text(UNIT.read_text().replace(INSTALLED, str(Path(sys.executable).parent / "provisioner"))
                      .replace("KillMode=mixed", "KilMode=mixed"))
    assert "Unknown key" in _verify(broken).stderr


def test_version() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "provisioner"), "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("provisioner, version ")
