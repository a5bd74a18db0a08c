"""A plain, non-editable install carries the templates and the catalog data and renders."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy of the tracked files: a stale build/ folder must not leak into the wheel.
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (t.decode() for t in tracked)):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    return next(out.glob("*.whl"))


def test_wheel_contains_templates_catalog_and_migrations(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "firmware_catalog/homologated.toml" in names
    assert any(n.startswith("provisioner/phone_templates/yealink/") and n.endswith(".j2") for n in names)
    assert any(n.startswith("provisioner/phone_templates/polycom/") for n in names)
    assert any(n.startswith("provisioner/phone_templates/grandstream/") for n in names)
    assert any(n.startswith("provisioner/db/migrations/versions/0001") for n in names)
    assert "provisioner/db/migrations/env.py" in names


def test_installed_wheel_renders_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import provisioner, firmware_catalog\n"
        f"assert provisioner.__file__.startswith({str(target)!r}), provisioner.__file__\n"
        "from firmware_catalog import load_catalog\n"
        "from provisioner.vendors import VENDORS\n"
        "from provisioner.values import RenderContext, TenantView, LineView\n"
        "catalog = load_catalog(); entry = catalog.find('T21P')\n"
        "tenant = TenantView('Acme', 'acme', 'pbx.example.net', 5060, 'udp', 'public', 'pool.ntp.org', 'http://h/prov/k/')\n"
        "line = LineView(1, '101', 'Ana', '101 Ana', 'acme-101', 's3cret')\n"
        "out = VENDORS['yealink'].render('001565aabbcc.cfg', RenderContext(tenant, entry, '001565aabbcc', (line,), admin_password='adm1n'))\n"
        "assert b'acme-101' in out.body and out.sensitive\n"
        "from provisioner.db.engine import make_engine, upgrade\n"
        f"upgrade(make_engine('sqlite:///{tmp_path}/x.sqlite3'))\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
