"""Where the worker processes' Prometheus values live (adapter; imports no prometheus_client).

prometheus-client reads PROMETHEUS_MULTIPROC_DIR once, when it is first imported, so
`provisioner serve` calls `prepare` before it imports the server. An operator's directory
(systemd's RuntimeDirectory=) is emptied of the last run's files; without one, the server
makes a private temporary directory and removes it when it stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """Point prometheus-client at a clean directory; returns it if it is ours to remove."""
    given = environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # a previous run's values would be added to this one's
            stale.unlink(missing_ok=True)
        return None
    made = Path(tempfile.mkdtemp(prefix="provisioner-metrics-"))
    environ[MULTIPROC_ENV] = str(made)
    return made


def remove(directory: Path | None) -> None:
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
