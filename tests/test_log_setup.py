"""PROVISIONER_LOG_FORMAT=json: one JSON object per line, traceback included."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from provisioner.log_setup import JsonFormatter


def test_a_record_is_one_json_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("provisioner.server", logging.ERROR, __file__, 1, "req=%d failed", (7,), sys.exc_info())
    line = JsonFormatter("w1").format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "req=7 failed" and entry["level"] == "ERROR" and entry["logger"] == "provisioner.server"
    assert entry["worker"] == "w1" and "ValueError: boom" in entry["traceback"]


def test_configure_json_writes_json_lines_on_stderr() -> None:
    code = ("import logging; from provisioner import log_setup; log_setup.configure('INFO', 'json', 'w2'); "
            "logging.getLogger('provisioner.server').info('HTTP listening on %s', '127.0.0.1:8080')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    entry = json.loads(result.stderr.strip())
    assert entry["message"] == "HTTP listening on 127.0.0.1:8080" and entry["worker"] == "w2" and entry["process"] > 0
