"""The directory's memory of reported firmware is bounded (issue 20 finding 4: made-up MACs
with a tenant key must not grow the server's memory without end)."""

from __future__ import annotations

import pytest

from provisioner import directory as directory_module
from provisioner.directory import Directory
from provisioner.settings import Settings


def test_reported_firmware_is_remembered_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory_module, "FIRMWARE_MEMORY_LIMIT", 1000)
    directory = Directory(None, Settings())  # type: ignore[arg-type]  # memory only: no read happens
    directory.note_firmware(1, "001565000000", "34.72.0.75")
    for index in range(1, 5000):
        directory.note_firmware(1, f"001565{index:06x}", f"34.72.0.{index}")
    assert len(directory._firmware) == 1000
    directory.note_firmware(1, "001565000000", "34.72.0.80")  # a phone already known is still updated
    assert directory._firmware[(1, "001565000000")] == "34.72.0.80"
