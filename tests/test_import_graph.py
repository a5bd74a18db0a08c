"""No import circle in our packages, and the pure pipeline modules stay pure.

Every `import` statement counts, also those inside functions or under TYPE_CHECKING: a
circle hidden in a function still means two modules that cannot be read (or tested) apart.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_PIPELINE = ["provisioner.findings", "provisioner.lookups", "provisioner.values", "provisioner.incidents"]
ADAPTER_LIBRARIES = ["aiohttp", "tftpy", "pysnmp", "sqlalchemy", "click"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: str = "provisioner") -> dict[str, set[str]]:
    """module -> the package's modules it imports (a `from a import b` of a submodule b counts as a.b)."""
    files = {module_name(path): path for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the importing module's package
                    anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            graph[name].update(target for target in targets if target in files and target != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_a_circle_hidden_in_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert "provisioner.ticket_writer" in import_graph()["provisioner.intake_process"]  # it reads real files


@pytest.mark.parametrize("package", ["provisioner", "support_link", "firmware_catalog", "dbkit"])
def test_no_package_has_an_import_circle(package: str) -> None:
    assert circles(import_graph(package)) == []


@pytest.mark.parametrize("module", PURE_PIPELINE)
def test_pure_pipeline_module_imports_no_adapter_library(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {ADAPTER_LIBRARIES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
