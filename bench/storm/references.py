"""Reference servers measured in the same run as ours, all on loopback:

  nginx      Debian's nginx, 1 worker, serving the configs pre-rendered by our server
  bare       aiohttp + jinja2, one template render per request from in-memory values (no
             database, no identification, no compliance): the Python floor
  tftpd-hpa  `in.tftpd -L -s DIR -a 127.0.0.1:PORT` serving the pre-rendered files

`prerender` asks the real server for every file a phone must get, once, with that phone's
User-Agent, and saves the bytes under DIR/prov/KEY/NAME (HTTP) and DIR/tftp/KEY/NAME (TFTP).

Run the bare server alone:  .venv/bin/python bench/storm/references.py bare --port 8090 \
    --phones /tmp/storm/phones.json --prefix /prov/KEY/ [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

NGINX_CONF = """\
worker_processes 1;
daemon off;
user root;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 30s;
    default_type text/plain;
    client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;
    }}
}}
"""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # answering, even if 404
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def prerender(base: str, key: str, phones: list[dict], root: Path) -> int:
    """Save every must-serve file of every phone as our server answers it; returns the count."""
    saved = 0
    for folder in (root / "www" / "prov" / key, root / "tftp" / key):
        folder.mkdir(parents=True, exist_ok=True)
    for phone in phones:
        for name, user_agent, must_serve in phone["files"]:
            target = root / "www" / "prov" / key / name
            if not must_serve or target.exists():
                continue
            request = urllib.request.Request(f"{base}/prov/{key}/{name}", headers={"User-Agent": user_agent})
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
            target.write_bytes(body)
            (root / "tftp" / key / name).write_bytes(body)
            saved += 1
    for path in [root, *root.rglob("*")]:  # tftpd-hpa drops to an unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return saved


def start_nginx(root: Path, port: int) -> subprocess.Popen:
    (root / "tmp").mkdir(exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port))
    process = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-e", str(root / "nginx-error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return process


def start_tftpd(root: Path, port: int) -> subprocess.Popen:
    binary = shutil.which("in.tftpd") or "/usr/sbin/in.tftpd"
    return subprocess.Popen([binary, "-L", "-s", str(root / "tftp"), "-a", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_bare(phones_file: Path, prefix: str, port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, __file__, "bare", "--port", str(port), "--phones", str(phones_file),
                                "--prefix", prefix, "--workers", str(workers)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# -- the bare render server --------------------------------------------------------------------
# A Yealink-shaped key = value config of the same size class as ours (3-6 KB): per-line
# accounts plus the phone-wide settings, rendered by jinja2 on every request.
BARE_TEMPLATE = """\
#!version:1.0.0.1
## {{ model }} {{ mac }}
{% for line in lines %}
account.{{ line.n }}.enable = 1
account.{{ line.n }}.label = {{ line.number }} {{ line.name }}
account.{{ line.n }}.display_name = {{ line.name }}
account.{{ line.n }}.auth_name = {{ line.user }}
account.{{ line.n }}.user_name = {{ line.user }}
account.{{ line.n }}.password = {{ line.password }}
account.{{ line.n }}.sip_server.1.address = pbx.example.net
account.{{ line.n }}.sip_server.1.port = 5060
account.{{ line.n }}.sip_server.1.transport_type = 0
account.{{ line.n }}.sip_server.1.expires = 3600
account.{{ line.n }}.sip_server.1.retry_counts = 3
account.{{ line.n }}.subscribe_mwi = 1
account.{{ line.n }}.subscribe_mwi_to_vm = 1
account.{{ line.n }}.codec.1.enable = 1
account.{{ line.n }}.codec.1.payload_type = PCMU
account.{{ line.n }}.codec.2.enable = 1
account.{{ line.n }}.codec.2.payload_type = PCMA
account.{{ line.n }}.codec.3.enable = 1
account.{{ line.n }}.codec.3.payload_type = G722
account.{{ line.n }}.dtmf.type = 1
account.{{ line.n }}.nat.nat_traversal = 0
{% endfor %}
{% for n in range(1, 61) %}
features.setting_{{ n }} = {{ (n * 7) % 11 }}
{% endfor %}
local_time.time_zone = -5
local_time.time_zone_name = Colombia(Bogota)
local_time.ntp_server1 = pool.ntp.org
auto_provision.server.url = http://127.0.0.1/prov/{{ key }}/
static.firmware.url = http://127.0.0.1/firmware/{{ model }}.rom
security.user_password = admin:{{ admin_password }}
lang.gui = Spanish
lang.wui = Spanish
"""


def bare_values(phones: list[dict]) -> dict[str, dict]:
    """File name -> template values, built once at start (the floor has no database)."""
    values = {}
    for phone in phones:
        lines = [{"n": n, "number": str(100000 + phone["index"] * 8 + n), "name": f"Empleado {phone['index']} Peña",
                  "user": f"bench-{phone['index']}-{n}", "password": f"S3cr3t{phone['index']:06d}{n}"}
                 for n in range(1, phone["lines"] + 1)]
        shared = {"model": phone["model"], "mac": phone["mac"], "key": "k", "admin_password": "Adm1nPw0rd"}
        for name, _ua, must_serve in phone["files"]:
            if must_serve:
                values[name] = {**shared, "lines": lines if name == phone["device_file"] else []}
    return values


def serve_bare(port: int, phones_file: Path, prefix: str, workers: int) -> None:
    values = bare_values(json.loads(phones_file.read_text()))
    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            _bare_worker(port, values, prefix)
            os._exit(0)
        children.append(pid)
    try:
        _bare_worker(port, values, prefix)
    finally:
        for pid in children:
            try:
                os.kill(pid, 15)
                os.waitpid(pid, 0)
            except OSError:
                pass


def _bare_worker(port: int, values: dict[str, dict], prefix: str) -> None:
    import jinja2
    from aiohttp import web

    template = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True).from_string(BARE_TEMPLATE)

    async def handle(request: web.Request) -> web.Response:
        found = values.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=template.render(**found).encode(), content_type="text/plain")

    async def root(request: web.Request) -> web.Response:
        return web.Response(text="bare")

    app = web.Application()
    app.router.add_get(prefix + "{name}", handle)
    app.router.add_get("/", root)
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, backlog=4096, print=None,
                access_log=None, handle_signals=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    bare = sub.add_parser("bare", help="run the bare aiohttp+jinja2 render server")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--phones", type=Path, required=True)
    bare.add_argument("--prefix", required=True, help="e.g. /prov/KEY/")
    bare.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve_bare(args.port, args.phones, args.prefix, args.workers)


if __name__ == "__main__":
    main()
