"""A DHCP client for tests, run inside a network namespace (needs root: it binds UDP 68 on one
interface). DISCOVER -> OFFER -> REQUEST -> ACK, asking for options 1, 3, 66 and 160 as a desk
phone does; prints the ACK as one JSON line: {"address": ..., "options": {code: text}}.

Usage: python tests/dhcp_client.py IFACE [TIMEOUT_SECONDS]
Exit 0 with an ACK, 1 without. Text options lose the trailing NUL dnsmasq adds to 66
(network.md §1: a receiver must cope with it)."""

from __future__ import annotations

import json
import random
import socket
import struct
import sys
import time

MAGIC = b"\x63\x82\x53\x63"
WANTED = bytes([1, 3, 66, 160])


def packet(kind: int, xid: int, mac: bytes, extra: bytes = b"") -> bytes:
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,  # broadcast flag: no address yet
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, mac.ljust(16, b"\0"), b"\0" * 64, b"\0" * 128)
    return head + MAGIC + bytes([53, 1, kind, 55, len(WANTED)]) + WANTED + extra + b"\xff"


def options(data: bytes) -> dict[int, bytes]:
    found, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        found[data[i]] = data[i + 2 : i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return found


def exchange(sock: socket.socket, message: bytes, xid: int, want_type: int, deadline: float) -> tuple[bytes, dict[int, bytes]] | None:
    while time.monotonic() < deadline:
        sock.sendto(message, ("255.255.255.255", 67))
        try:
            data, _ = sock.recvfrom(4096)
        except TimeoutError:
            continue
        if len(data) < 240 or data[236:240] != MAGIC or struct.unpack("!I", data[4:8])[0] != xid:
            continue
        opts = options(data)
        if opts.get(53) == bytes([want_type]):
            return data, opts
    return None


def main() -> int:
    iface = sys.argv[1]
    deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 20)
    with open(f"/sys/class/net/{iface}/address") as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    xid = random.getrandbits(32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    sock.settimeout(1)
    offer = exchange(sock, packet(1, xid, mac), xid, 2, deadline)
    if offer is None:
        return 1
    data, opts = offer
    offered, server = data[16:20], opts.get(54, b"")
    ack = exchange(sock, packet(3, xid, mac, bytes([50, 4]) + offered + bytes([54, len(server)]) + server), xid, 5, deadline)
    if ack is None:
        return 1
    data, opts = ack
    text = {str(code): value.rstrip(b"\0").decode("utf-8", "replace") for code, value in opts.items() if code in (66, 160)}
    text.update({str(code): socket.inet_ntoa(value[:4]) for code, value in opts.items() if code in (1, 3, 54)})
    print(json.dumps({"address": socket.inet_ntoa(data[16:20]), "options": text,
                      "raw66": opts.get(66, b"").hex()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
