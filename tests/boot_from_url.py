"""A simulated desk phone that boots from a provisioning URL, as it would after DHCP handed it
option 66: it asks for its boot files in its real order with its real User-Agent
(tests/phones.py) and prints one JSON line {file: [status, body as text]}.
Run inside the phone's network namespace: python tests/boot_from_url.py URL CATALOG_KEY"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.phones import DESK_PHONES  # noqa: E402 - after the path


def main() -> int:
    base, key = sys.argv[1], sys.argv[2]
    phone = next(p for p in DESK_PHONES if p.catalog_key == key)
    result: dict[str, list[object]] = {}
    for name, phase, _ in phone.boot_files():
        request = urllib.request.Request(base + name, headers={"User-Agent": phone.user_agent(phase=phase)})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # nosec B310 - the test's own server
                result[name] = [response.status, response.read().decode("utf-8", "replace")]
        except urllib.error.HTTPError as error:
            result[name] = [error.code, ""]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
