"""The TFTP boot-storm client (bench/storm/tftp_storm.py) counts what it claims, against our
real server on loopback: a benchmark that miscounts files or boots reports a false figure."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.test_tftp import ThreadedServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "storm"))
import tftp_storm  # noqa: E402

BODIES = {"K/a.cfg": b"a" * 1200, "K/b.cfg": bytes(range(256)) * 12}  # 1 and 7 blocks of 512


def serve(name: str, client_ip: str) -> bytes | None:
    return BODIES.get(name)


@pytest.mark.parametrize("blksize", [None, 1428])
def test_storm_counts_files_not_found_and_failed_boots(blksize: int | None) -> None:
    phones = [{"index": index, "files": [["a.cfg", "", True], ["firmware.ld", "", False], ["b.cfg", "", True]]}
              for index in range(20)]
    phones.append({"index": 20, "files": [["missing.cfg", "", True], ["a.cfg", "", True]]})  # stops at the first
    server = ThreadedServer(source=serve)
    try:
        result = asyncio.run(tftp_storm.storm(phones, server.port, "K/", 8, blksize=blksize))
        assert server.wait_idle(2) < 2
    finally:
        server.close()
    summary = result.summary()
    assert (summary["phones"], summary["files"], summary["not_found"]) == (21, 40, 20)
    assert (summary["failures"], summary["failed_boots"], summary["errors"]) == (1, 1, {"error 1": 1})
    assert result.bytes == 20 * (1200 + 3072) and len(result.latencies) == 61
    assert summary["retransmits"] == 0 and 0 < summary["client_cpu_share"]
