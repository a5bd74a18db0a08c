"""How the CLI and the server's worker processes log (adapter): plain lines, or JSON.

PROVISIONER_LOG_FORMAT=json writes one JSON object per line (time, level, logger, process,
message, and the traceback when there is one) for journald/Loki/ELK shippers. The messages
are the same either way; none carries a secret (provisioner.server's log lines name request
ids and file names, never keys).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def __init__(self, worker: str = "") -> None:
        super().__init__()
        self._worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        if self._worker:
            entry["worker"] = self._worker
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, log_format: str, worker: str = "") -> None:
    """Root logging for this process (a no-op when logging is set up already, e.g. under pytest)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(worker))
    else:
        tag = f" {worker}" if worker else ""
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s{tag} %(name)s %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)
