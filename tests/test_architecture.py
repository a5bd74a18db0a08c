"""The layers as tests: import contracts (import-linter, written out in pyproject.toml),
no import cycle inside our packages, and mypy --strict on the pure modules.

These run the real tools on the real tree, so a change that breaks a rule fails here with the
tool's own explanation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("provisioner", "support_link", "firmware_catalog", "dbkit")
BIN = Path(sys.executable).parent

# What must pass `mypy --strict`: the pure cores of the three packages, and dbkit.
STRICT = (
    "firmware_catalog", "dbkit",
    "support_link/calendar.py", "support_link/priority.py", "support_link/sla.py",
    "support_link/lifecycle.py", "support_link/billing.py", "support_link/errors.py",
    "provisioner/values.py", "provisioner/identification.py", "provisioner/rendering.py", "provisioner/mac.py",
    "provisioner/vendors", "provisioner/errors.py", "provisioner/labels.py", "provisioner/bans.py",
    "provisioner/tftp_wire.py", "provisioner/snmp/parse.py", "provisioner/snmp/reading.py",
    "provisioner/web/login_rules.py", "provisioner/lifeline.py",
)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold() -> None:
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_strongly_connected_finds_circles(graph: dict[str, set[str]], cycles: list[list[str]]) -> None:
    assert strongly_connected(graph) == cycles


def test_no_import_cycle() -> None:
    """Run-time imports only (TYPE_CHECKING blocks are for annotations and run nothing)."""
    imports = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    ours = {module for module in imports.modules if module.split(".")[0] in PACKAGES}
    graph = {
        module: {
            target for target in imports.find_modules_directly_imported_by(module)
            # a package's __init__ naming its own submodules is how packages export, not a circle
            if target in ours and not target.startswith(module + ".")
        }
        for module in ours
    }
    assert strongly_connected(graph) == []


def test_pure_cores_pass_mypy_strict() -> None:
    result = _run(str(BIN / "mypy"), "--strict", "--no-incremental", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr
