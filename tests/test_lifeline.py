"""After a SIGKILL of the server, no process of it remains (issue 20 item 11).

The real `provisioner serve` with two HTTP workers and the ticket writer in its own process;
the test kills the parent with SIGKILL, which runs no cleanup, and then looks for any of its
descendants in /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import start_server


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of children too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie has exited already
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def test_descendants_walks_the_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import subprocess,sys,time; "
                              "subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while len(descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(descendants(os.getpid()) & descendants(child.pid)) == len(descendants(child.pid)) == 1
    finally:
        for pid in descendants(child.pid):
            os.kill(pid, signal.SIGKILL)
        child.kill()
        child.wait()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_process_of_the_server_outlives_a_sigkill(backend: str, tmp_path: Path) -> None:
    from tests.conftest import fresh_database

    with fresh_database(backend, tmp_path) as url:
        server = start_server(url, tmp_path, extra_env={"PROVISIONER_INTAKE_PROCESS": "1"}, args=("--workers", "2"))
        deadline = time.monotonic() + 30
        family: set[int] = set()
        while time.monotonic() < deadline:  # the worker and the ticket writers come up in their own time
            family = descendants(server.process.pid)
            if len(family) >= 4:  # worker 1, its ticket writer, worker 0's ticket writer, the resource tracker
                break
            time.sleep(0.2)
        assert len(family) >= 3, family
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 20  # each child notices within a second; a loaded machine is slower
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(family)
        for pid in left:  # do not leave them to the next test
            os.kill(pid, signal.SIGKILL)
        assert not left, f"still running after the server's SIGKILL: {sorted(left)}"
