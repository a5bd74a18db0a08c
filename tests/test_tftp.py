"""The TFTP server: pure wire rules as tables, then a real server on 127.0.0.1 against curl,
tftp-hpa, tftpy's client and a raw-socket client that sends what phones and attackers send.

The server runs in its own thread with its own event loop, so the tests are plain blocking
code (subprocesses, sockets) exactly like an outside client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import tftpy
from tftpy.TftpPacketFactory import TftpPacketFactory
from tftpy.TftpShared import TftpException

from provisioner.tftp import BUSY_PACKET, DEFAULT_MAX_SESSIONS, ERROR_PACKETS, RECEIVE_BUFFER_BYTES, TftpServer
from provisioner.tftp_wire import (
    ABORT,
    ErrorCode,
    Ignored,
    KeyedLogBudget,
    LogBudget,
    Plan,
    ReadRequest,
    Refusal,
    block_count,
    classify,
    data_packet,
    key_id,
    negotiate,
    oack_packet,
    session_reply,
    source_of,
    split_request_path,
    wire_block,
    without_key,
)

# --- real wire samples (captured from the clients installed here) ----------------------

CURL_RRQ = b"\x00\x010004f2abcdef.cfg\x00octet\x00tsize\x000\x00blksize\x00512\x00timeout\x001\x00"
CURL_BLKSIZE_RRQ = b"\x00\x01cfg000b82123456.xml\x00octet\x00tsize\x000\x00blksize\x001428\x00timeout\x001\x00"
CURL_NO_OPTIONS_RRQ = b"\x00\x01y000000000044.cfg\x00octet\x00"
TFTP_HPA_RRQ = b"\x00\x01001565abcdef.cfg\x00octet\x00"
TFTP_HPA_NETASCII_RRQ = b"\x00\x01a.txt\x00netascii\x00"

NO_NUL = Refusal(ErrorCode.ILLEGAL_OPERATION, "request without NUL-terminated filename and mode")
BAD_NAME = Refusal(ErrorCode.FILE_NOT_FOUND, "filename empty, too long or not printable ASCII")
BAD_MODE = Refusal(ErrorCode.ILLEGAL_OPERATION, "unsupported transfer mode")
WALKER = Refusal(ErrorCode.FILE_NOT_FOUND, "filename with '..' or a backslash")
CLASSIFY_TABLE = [
    (CURL_RRQ, ReadRequest("0004f2abcdef.cfg", "octet", {"tsize": "0", "blksize": "512", "timeout": "1"})),
    (CURL_BLKSIZE_RRQ, ReadRequest("cfg000b82123456.xml", "octet", {"tsize": "0", "blksize": "1428", "timeout": "1"})),
    (CURL_NO_OPTIONS_RRQ, ReadRequest("y000000000044.cfg", "octet", {})),
    (TFTP_HPA_RRQ, ReadRequest("001565abcdef.cfg", "octet", {})),
    (TFTP_HPA_NETASCII_RRQ, ReadRequest("a.txt", "netascii", {})),
    (b"\x00\x01/gxp1600fw.bin\x00OCTET\x00BlkSize\x001428\x00", ReadRequest("/gxp1600fw.bin", "octet", {"blksize": "1428"})),
    (b"\x00\x01a\x00octet\x00\x00\x00\x00", ReadRequest("a", "octet", {})),  # NUL padding
    (b"\x00\x01a\x00octet\x00tsize\x000", ReadRequest("a", "octet", {})),  # unterminated option dropped
    (b"\x00\x01a\x00octet\x00blksize\x00", ReadRequest("a", "octet", {})),  # name without value
    (b"\x00\x01a\x00octet\x00blksize\x00\xff\xfe\x00tsize\x000\x00", ReadRequest("a", "octet", {"tsize": "0"})),
    (b"\x00\x01a\x00octet\x00bl\xe4ksize\x008\x00", ReadRequest("a", "octet", {})),
    (b"\x00\x01a\x00octet\x00blksize\x00600\x00BLKSIZE\x00900\x00", ReadRequest("a", "octet", {"blksize": "600"})),
    (b"", Ignored("runt datagram")),
    (b"\x01", Ignored("runt datagram")),
    (b"\x00\x01", NO_NUL),
    (b"\x00\x01a.cfg", NO_NUL),
    (b"\x00\x01a.cfg\x00octet", NO_NUL),
    (b"\x00\x01a.cfg\x00mail\x00", BAD_MODE),
    (b"\x00\x01a.cfg\x00oct\xe9t\x00", BAD_MODE),
    (b"\x00\x01\x00octet\x00", BAD_NAME),
    (b"\x00\x01caf\xc3\xa9.cfg\x00octet\x00", BAD_NAME),
    (b"\x00\x01a\nb\x00octet\x00", BAD_NAME),
    (b"\x00\x01" + b"a" * 256 + b"\x00octet\x00", BAD_NAME),
    (b"\x00\x01KEY/../../etc/passwd\x00octet\x00", WALKER),
    (b"\x00\x01KEY/..\\..\\windows\\win.ini\x00octet\x00", WALKER),
    (b"\x00\x01KEY\\cfg.xml\x00octet\x00", WALKER),
    (b"\x00\x01KEY/cfg.xml.\x00octet\x00", ReadRequest("KEY/cfg.xml.", "octet", {})),  # one dot is a name
    (b"\x00\x01a\x00octet\x00" + b"x" * 1100 + b"\x00", Refusal(ErrorCode.ILLEGAL_OPERATION, "request longer than 1024 bytes")),
    (b"\x00\x02a.cfg\x00octet\x00", Refusal(ErrorCode.ACCESS_VIOLATION, "write request")),
    (b"\x00\x03\x00\x01data", Ignored("opcode 3 on the listening port")),
    (b"\x00\x04\x00\x01", Ignored("opcode 4 on the listening port")),
    (b"\x00\x05\x00\x01oops\x00", Ignored("opcode 5 on the listening port")),
    (b"\x00\x06blksize\x00512\x00", Ignored("opcode 6 on the listening port")),
    (b"\x00\x07x\x00", Ignored("unknown opcode 7")),
    (b"\xff\xff", Ignored("unknown opcode 65535")),
]


@pytest.mark.parametrize(("datagram", "verdict"), CLASSIFY_TABLE)
def test_classify(datagram: bytes, verdict: object) -> None:
    assert classify(datagram) == verdict


@pytest.mark.parametrize("sample", [CURL_RRQ, CURL_BLKSIZE_RRQ, CURL_NO_OPTIONS_RRQ, TFTP_HPA_RRQ, TFTP_HPA_NETASCII_RRQ])
def test_well_formed_requests_parse_as_tftpy_parses_them(sample: bytes) -> None:
    ours = classify(sample)
    theirs = TftpPacketFactory().parse(sample)
    assert isinstance(ours, ReadRequest)
    assert (ours.filename, ours.mode, dict(ours.options)) == (theirs.filename, theirs.mode, theirs.options)


@pytest.mark.parametrize("sample", [
    b"\x00\x01a\x00octet\x00blksize\x00\xff\xfe\x00tsize\x000\x00",  # one bad value loses the request
    b"\x00\x01a\x00octet\x00\x00\x00\x00",  # padding
    b"\x00\x01a\x00octet\x00tsize\x000",  # unterminated option
])
def test_tftpy_decoder_raises_where_we_answer(sample: bytes) -> None:
    """Why RRQs are parsed in tftp_wire: if tftpy stops raising here, reconsider."""
    with pytest.raises((TftpException, UnicodeDecodeError, struct.error)):
        TftpPacketFactory().parse(sample)
    assert isinstance(classify(sample), ReadRequest)


NEGOTIATE_TABLE = [
    ({}, Plan(512, None, ())),
    ({"blksize": "1428"}, Plan(1428, None, (("blksize", "1428"),))),  # a Polycom's request
    ({"blksize": "1468"}, Plan(1468, None, (("blksize", "1468"),))),
    ({"blksize": "99999"}, Plan(1468, None, (("blksize", "1468"),))),
    ({"blksize": "99999999"}, Plan(1468, None, (("blksize", "1468"),))),
    ({"blksize": "8"}, Plan(8, None, (("blksize", "8"),))),
    ({"blksize": "7"}, Plan(512, None, ())),
    ({"blksize": "0"}, Plan(512, None, ())),
    ({"blksize": "-5"}, Plan(512, None, ())),
    ({"blksize": "abc"}, Plan(512, None, ())),
    ({"blksize": " 600"}, Plan(512, None, ())),
    ({"blksize": "٣٤٥"}, Plan(512, None, ())),  # Unicode digits are not ASCII
    ({"blksize": "9" * 21}, Plan(512, None, ())),
    ({"tsize": "0"}, Plan(512, None, (("tsize", "3000"),))),
    ({"timeout": "3"}, Plan(512, 3, (("timeout", "3"),))),
    ({"timeout": "5"}, Plan(512, 5, (("timeout", "5"),))),
    ({"timeout": "6"}, Plan(512, None, ())),  # RFC 2349 allows 255: a slot held 25 minutes per request
    ({"timeout": "255"}, Plan(512, None, ())),
    ({"timeout": "0"}, Plan(512, None, ())),
    ({"timeout": "256"}, Plan(512, None, ())),
    ({"windowsize": "4", "multicast": ""}, Plan(512, None, ())),
    ({"tsize": "0", "blksize": "512", "timeout": "1"}, Plan(512, 1, (("tsize", "3000"), ("blksize", "512"), ("timeout", "1")))),
]


@pytest.mark.parametrize(("options", "plan"), NEGOTIATE_TABLE)
def test_negotiate(options: dict[str, str], plan: Plan) -> None:
    assert negotiate(options, 3000, 1468) == plan


def test_negotiate_respects_a_lower_server_maximum() -> None:
    assert negotiate({"blksize": "1428"}, 10, 512) == Plan(512, None, (("blksize", "512"),))


@pytest.mark.parametrize(("size", "blksize", "blocks"), [
    (0, 512, 1), (1, 512, 1), (511, 512, 1), (512, 512, 2), (1024, 512, 3), (600_000, 8, 75_001),
])
def test_block_count_ends_with_a_short_block(size: int, blksize: int, blocks: int) -> None:
    assert block_count(size, blksize) == blocks


@pytest.mark.parametrize(("index", "wire"), [(1, 1), (65535, 65535), (65536, 0), (65537, 1), (131072, 0)])
def test_block_numbers_wrap(index: int, wire: int) -> None:
    assert wire_block(index) == wire


def test_data_packets_slice_the_body() -> None:
    body = bytes(range(20))
    assert data_packet(body, 1, 8) == b"\x00\x03\x00\x01" + body[:8]
    assert data_packet(body, 3, 8) == b"\x00\x03\x00\x03" + body[16:]
    assert data_packet(bytes(16), 3, 8) == b"\x00\x03\x00\x03"
    assert data_packet(bytes(8 * 65536), 65536, 8) == b"\x00\x03\x00\x00" + bytes(8)


@pytest.mark.parametrize(("datagram", "reply"), [
    (b"\x00\x04\x00\x07", 7), (b"\x00\x04\xff\xff", 65535), (b"\x00\x04\x00\x07junk", 7),
    (b"\x00\x05\x00\x00bye\x00", ABORT), (b"\x00\x05", ABORT), (b"\x00\x04\x00", None),
    (b"\x00\x03\x00\x01", None), (b"\x00\x01a\x00octet\x00", None), (b"", None),
])
def test_session_reply(datagram: bytes, reply: int | None) -> None:
    assert session_reply(datagram) == reply


def test_log_budget_logs_once_per_interval_and_counts_the_rest() -> None:
    budget = LogBudget(10.0)
    assert [budget.admit(t) for t in (0.0, 1.0, 2.0, 9.9, 10.0, 10.5, 25.0)] == [0, None, None, None, 3, None, 1]


def test_keyed_log_budget_is_one_budget_per_key_and_bounded() -> None:
    budget = KeyedLogBudget(60.0, max_keys=2)
    events = [("a", 0.0), ("a", 1.0), ("b", 2.0), ("c", 3.0), ("a", 61.0), ("c", 62.0), ("c", 63.0), ("b", 64.0)]
    # c finds the table full of live budgets: not logged; at 61 a logs again and its
    # interval restarts, at 62 b's has passed and is dropped for c, so b is new at 64 and
    # finds a and c live.
    assert [budget.admit(key, now) for key, now in events] == [0, None, 0, None, 1, 0, None, None]
    assert len(budget) == 2


KEY = "Xq3v9ZkT0bW1yR7uJ2mN8pL5sD4fG6hA"  # the shape of a tenant key (token_urlsafe(24))
HIDDEN = "key#a4eb1683"  # sha256(KEY)[:8]

SPLIT_TABLE = [
    (f"{KEY}/cfg000b82a1b201.xml", (KEY, "cfg000b82a1b201.xml")),
    (f"/{KEY}/0004f2abcdef-user.cfg", (KEY, "0004f2abcdef-user.cfg")),  # tftp://server/<key>/ with a leading '/'
    (f"{KEY}//y000000000044.cfg", (KEY, "/y000000000044.cfg")),  # base URL's '/' + '/<file>'
    (f"{KEY}/Grandstream/cfg000b82a1b201.xml", (KEY, "Grandstream/cfg000b82a1b201.xml")),
    (f"{KEY}///etc/passwd", None),
    (f"{KEY}/../../../etc/passwd", None),
    (f"{KEY}/a..b.cfg", None),
    (f"../{KEY}/x.cfg", None),
    (f"{KEY}/..\\..\\windows\\win.ini", None),
    (f"{KEY}/x.cfg\0.jpg", None),
    (f"{KEY}/", None),
    (f"{KEY}", None),
    (f"{KEY}cfg000b82a1b201.xml", None),  # option 66 without its trailing '/'
    ("/", None),
    ("", None),
]


@pytest.mark.parametrize(("path", "split"), SPLIT_TABLE)
def test_split_request_path(path: str, split: tuple[str, str] | None) -> None:
    assert split_request_path(path) == split


LOGGED_TABLE = [
    (f"{KEY}/cfg000b82a1b201.xml", f"{HIDDEN}/cfg000b82a1b201.xml"),
    (f"/{KEY}/0004f2abcdef-user.cfg", f"/{HIDDEN}/0004f2abcdef-user.cfg"),
    (f"{KEY}//y000000000044.cfg", f"{HIDDEN}//y000000000044.cfg"),
    (f"{KEY}/{KEY}.cfg", f"{HIDDEN}/{HIDDEN}.cfg"),  # every occurrence
    (f"{KEY}/../../etc/passwd", f"{HIDDEN}/../../etc/passwd"),  # refused, and still hidden
    (f"{KEY}cfg000b82a1b201.xml", key_id(f"{KEY}cfg000b82a1b201.xml")),  # no '/': the whole name may hold it
    (KEY, HIDDEN),
    ("/", "/"),
    ("", ""),
]


@pytest.mark.parametrize(("path", "logged"), LOGGED_TABLE)
def test_log_lines_show_a_key_id_never_the_key(path: str, logged: str) -> None:
    assert without_key(path, path) == logged
    assert KEY not in logged


def test_key_id_is_short_and_stable() -> None:
    assert key_id(KEY) == "key#" + hashlib.sha256(KEY.encode()).hexdigest()[:8] == HIDDEN
    assert key_id("\ud800") != key_id("")  # a lone surrogate does not raise


def test_without_key_hides_the_key_quoted_in_a_database_error() -> None:
    error = f"[SQL: SELECT ... WHERE tenant.key = ?]\n[parameters: ('{KEY}',)]"
    assert without_key(error, f"/{KEY}/x.cfg") == f"[SQL: SELECT ... WHERE tenant.key = ?]\n[parameters: ('{HIDDEN}',)]"


@pytest.mark.parametrize(("host", "source"), [
    ("203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "127.0.0.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # one /64: one host or site
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),  # a dual-stack socket's IPv4 client
    ("fe80::1%eth0", "fe80::/64"),
    ("::1", "::/64"),
    ("not:an:address", "not:an:address"),
])
def test_source_of(host: str, source: str) -> None:
    assert source_of(host) == source


def test_tftpy_decodes_what_we_encode() -> None:
    factory = TftpPacketFactory()
    oack = factory.parse(oack_packet((("tsize", "100000"), ("blksize", "1428"))))
    assert oack.opcode == 6 and oack.options == {"tsize": "100000", "blksize": "1428"}
    assert oack_packet((("blksize", "8"), ("timeout", "3"))) == b"\x00\x06blksize\x008\x00timeout\x003\x00"
    data = factory.parse(data_packet(b"hello world", 2, 8))
    assert (data.opcode, data.blocknumber, data.data) == (3, 2, b"rld")
    assert factory.parse(ERROR_PACKETS[ErrorCode.FILE_NOT_FOUND]).errorcode == 1
    assert BUSY_PACKET == b"\x00\x05\x00\x00server busy\x00"


def test_wire_module_is_pure() -> None:
    code = (
        "import sys, provisioner.tftp_wire; "
        "print(','.join(m for m in ('tftpy', 'asyncio', 'socket', 'aiohttp') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# --- a real server -------------------------------------------------------------------

rng = random.Random(1350)
FILES = {
    "small.cfg": b'<?xml version="1.0"?>\n<PHONE_CONFIG reg.1.address="1001" />\n',
    "exact512.bin": rng.randbytes(512),
    "exact1024.bin": rng.randbytes(1024),
    "big.bin": rng.randbytes(100_000),
    "wrap.bin": rng.randbytes(600_000),
}
SOURCE_CALLS: list[tuple[str, str]] = []


async def source(name: str, client_ip: str) -> bytes | None:
    SOURCE_CALLS.append((name, client_ip))
    if name == "boom.cfg":
        raise RuntimeError("database is down")
    if name == "slow.cfg":
        await asyncio.sleep(3600)
    if name == "text.cfg":
        return "not bytes"  # type: ignore[return-value]
    return FILES.get(name)


class ThreadedServer:
    """A TftpServer on its own event loop in a background thread."""

    def __init__(self, **options: object) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        options.setdefault("host", "127.0.0.1")
        options.setdefault("port", 0)
        self.server = TftpServer(options.pop("source", source), **options)  # type: ignore[arg-type]
        self.call(self.server.start())
        self.port = self.server.port

    def call(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)  # type: ignore[arg-type]

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def wait_idle(self, within: float) -> float:
        """Seconds until no session is left; fails after `within`."""
        start = time.monotonic()
        while self.server.active_sessions:
            assert time.monotonic() - start < within, f"{self.server.active_sessions} sessions still active"
            time.sleep(0.02)
        return time.monotonic() - start


@pytest.fixture
def make_server() -> Iterator[Callable[..., ThreadedServer]]:
    servers: list[ThreadedServer] = []

    def make(**options: object) -> ThreadedServer:
        servers.append(ThreadedServer(**options))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., ThreadedServer]) -> ThreadedServer:
    return make_server()


def rrq(name: str, options: Mapping[str, object] | None = None, mode: str = "octet") -> bytes:
    fields = [name, mode] + [str(item) for pair in (options or {}).items() for item in pair]
    return b"\x00\x01" + b"".join(field.encode() + b"\x00" for field in fields)


def ack(block: int) -> bytes:
    return struct.pack("!HH", 4, block & 0xFFFF)


class RawClient:
    """A TFTP client one datagram at a time, from `source` (any 127.x.y.z is loopback on Linux)."""

    def __init__(self, port: int, timeout: float = 2.0, source: str = "127.0.0.1") -> None:
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.tid: tuple[str, int] | None = None

    def close(self) -> None:
        self.sock.close()

    def request(self, datagram: bytes) -> None:
        self.sock.sendto(datagram, self.server)

    def send(self, datagram: bytes) -> None:
        assert self.tid is not None
        self.sock.sendto(datagram, self.tid)

    def receive(self) -> bytes:
        data, addr = self.sock.recvfrom(70000)
        self.tid = addr
        return data

    def within(self, seconds: float) -> bytes | None:
        """The next datagram if one comes within `seconds`, else None."""
        previous = self.sock.gettimeout()
        self.sock.settimeout(seconds)
        try:
            return self.receive()
        except TimeoutError:
            return None
        finally:
            self.sock.settimeout(previous)

    def silent_for(self, seconds: float) -> bool:
        return self.within(seconds) is None

    def download(self, name: str, options: Mapping[str, object] | None = None) -> tuple[bytes, dict[str, str]]:
        """The whole file in lock step; returns the body and the OACK's options."""
        self.request(rrq(name, options))
        first = self.receive()
        oack: dict[str, str] = {}
        if first[:2] == b"\x00\x06":
            oack = TftpPacketFactory().parse(first).options
            self.send(ack(0))
            first = self.receive()
        blksize = int(oack.get("blksize", 512))
        chunks, packet, block = [], first, 1
        while True:
            assert packet[:4] == struct.pack("!HH", 3, block & 0xFFFF), packet[:4]
            chunks.append(packet[4:])
            self.send(ack(block))
            if len(packet) - 4 < blksize:
                return b"".join(chunks), oack
            packet, block = self.receive(), block + 1


def fetch(port: int, name: str = "small.cfg") -> bytes:
    client = RawClient(port)
    try:
        return client.download(name)[0]
    finally:
        client.close()


def assert_still_serving(server: ThreadedServer) -> None:
    start = time.monotonic()
    assert fetch(server.port) == FILES["small.cfg"]
    assert time.monotonic() - start < 1.0
    assert server.thread.is_alive()


def phone_address(index: int) -> str:
    """Each phone of a storm its own address, as on a real network (below the per-source cap)."""
    return f"127.1.{index // 250}.{1 + index % 250}"


def error_code(packet: bytes) -> int:
    assert packet[:2] == b"\x00\x05", packet
    return packet[2] << 8 | packet[3]


# --- real clients ----------------------------------------------------------------------

def curl(port: int, name: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["curl", "-s", "--max-time", "30", *extra, f"tftp://127.0.0.1:{port}/{name}", "-o", str(out)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", ["small.cfg", "exact512.bin", "exact1024.bin", "big.bin"])
@pytest.mark.parametrize("blksize", [None, 1428])
def test_curl_downloads_byte_identical(server: ThreadedServer, tmp_path: Path, name: str, blksize: int | None) -> None:
    extra = ["--tftp-blksize", str(blksize)] if blksize else []
    result = curl(server.port, name, tmp_path / "out", *extra)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_bytes() == FILES[name]


def test_curl_wraps_block_numbers_with_blksize_8(server: ThreadedServer, tmp_path: Path) -> None:
    """600,000 bytes in 8-byte blocks: 75,001 DATA packets, past block 65535, ending empty."""
    result = curl(server.port, "wrap.bin", tmp_path / "out", "--tftp-blksize", "8")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_bytes() == FILES["wrap.bin"]


def test_curl_missing_file_is_tftp_not_found(server: ThreadedServer, tmp_path: Path) -> None:
    assert curl(server.port, "nope.cfg", tmp_path / "out").returncode == 68  # CURLE_TFTP_NOTFOUND


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_curl_over_ipv6(make_server: Callable[..., ThreadedServer], tmp_path: Path) -> None:
    server = make_server(host="::1")
    url = f"tftp://[::1]:{server.port}/big.bin"
    result = subprocess.run(
        ["curl", "-s", "--max-time", "30", "--tftp-blksize", "1428", url, "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_bytes() == FILES["big.bin"]


@pytest.mark.skipif(shutil.which("tftp") is None, reason="tftp-hpa not installed")
@pytest.mark.parametrize(("name", "mode"), [
    ("small.cfg", "binary"), ("exact512.bin", "binary"), ("big.bin", "binary"),
    ("small.cfg", "ascii"),  # netascii is served as octet; this text has no CR to convert
])
def test_tftp_hpa_downloads_byte_identical(server: ThreadedServer, tmp_path: Path, name: str, mode: str) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        ["tftp", "127.0.0.1", str(server.port), "-m", mode, "-c", "get", name, str(out)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes() == FILES[name]


@pytest.mark.skipif(shutil.which("tftp") is None, reason="tftp-hpa not installed")
def test_tftp_hpa_missing_file(server: ThreadedServer, tmp_path: Path) -> None:
    result = subprocess.run(
        ["tftp", "127.0.0.1", str(server.port), "-m", "binary", "-c", "get", "nope.cfg", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=30,
    )
    assert "File not found" in result.stdout + result.stderr


def test_tftpy_client_downloads_with_options(server: ThreadedServer, tmp_path: Path) -> None:
    client = tftpy.TftpClient("127.0.0.1", server.port, options={"blksize": 1428, "tsize": 0})
    client.download("big.bin", str(tmp_path / "out"), timeout=5)
    assert (tmp_path / "out").read_bytes() == FILES["big.bin"]


# --- option negotiation on the wire -----------------------------------------------------

@pytest.mark.parametrize(("options", "oack", "first_block"), [
    ({"blksize": 1428}, {"blksize": "1428"}, 1428),
    ({"blksize": 99999}, {"blksize": "1468"}, 1468),
    ({"blksize": 8}, {"blksize": "8"}, 8),
    ({"blksize": 7}, {}, 512),
    ({"BLKSIZE": 1000}, {"blksize": "1000"}, 1000),
    ({"tsize": 0}, {"tsize": "100000"}, 512),
    ({"timeout": 3}, {"timeout": "3"}, 512),
    ({"timeout": 0, "windowsize": 4}, {}, 512),
    ({"timeout": 255}, {}, 512),  # not granted: the session would wait 255 s per retry
    ({"tsize": 0, "blksize": 1428, "timeout": 2}, {"tsize": "100000", "blksize": "1428", "timeout": "2"}, 1428),
])
def test_options_on_the_wire(server: ThreadedServer, options: dict[str, object], oack: dict[str, str], first_block: int) -> None:
    client = RawClient(server.port)
    client.request(rrq("big.bin", options))
    first = client.receive()
    if oack:
        assert TftpPacketFactory().parse(first).options == oack
        assert client.silent_for(0.1)  # nothing before ACK 0
        client.send(ack(0))
        first = client.receive()
    assert first[:4] == b"\x00\x03\x00\x01" and len(first) - 4 == first_block
    client.send(b"\x00\x05\x00\x00done\x00")
    client.close()
    server.wait_idle(2)


def test_a_phone_asking_1428_gets_the_file(server: ThreadedServer) -> None:
    client = RawClient(server.port)
    body, oack = client.download("big.bin", {"blksize": 1428, "tsize": 0})
    assert body == FILES["big.bin"] and oack == {"blksize": "1428", "tsize": "100000"}


def test_timeout_option_sets_the_retransmission_interval(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=5.0)
    client = RawClient(server.port, timeout=3)
    client.request(rrq("small.cfg", {"timeout": 1}))
    assert client.receive()[:2] == b"\x00\x06"
    start = time.monotonic()
    client.receive()  # OACK again, after the client's 1 s, not the server's 5 s
    assert 0.8 < time.monotonic() - start < 2.0
    client.send(ack(0))
    assert client.receive()[:4] == b"\x00\x03\x00\x01"


# --- hostile datagrams -----------------------------------------------------------------

HOSTILE = [  # (datagram, first reply: None = silence, ("error", code), ("data", payload length))
    (b"", None),
    (b"\x01", None),
    (b"\x00\x01", ("error", 4)),
    (b"\x00\x01small.cfg", ("error", 4)),
    (b"\x00\x01small.cfg\x00octet", ("error", 4)),
    (b"\x00\x01sm\xe1ll.cfg\x00octet\x00", ("error", 1)),
    (b"\x00\x01small.cfg\x00mail\x00", ("error", 4)),
    (b"\x00\x01small.cfg\x00octet\x00blksize\x00\xff\xfe\x00", ("data", len(FILES["small.cfg"]))),
    (b"\x00\x01big.bin\x00octet\x00blksize\x00abc\x00", ("data", 512)),
    (b"\x00\x01big.bin\x00octet\x00blksize\x00-1428\x00", ("data", 512)),
    (b"\x00\x01big.bin\x00octet\x00blksize\x00" + b"9" * 900 + b"\x00", ("data", 512)),
    (b"\x00\x01big.bin\x00octet\x00" + b"\x00" * 3000, ("error", 4)),
    (b"\x00\x02small.cfg\x00octet\x00", ("error", 2)),
    (b"\x00\x03\x00\x01hello", None),
    (b"\x00\x04\x00\x00", None),
    (b"\x00\x05\x00\x04oops\x00", None),
    (b"\x00\x06blksize\x00512\x00", None),
    (b"\x00\x09whatever", None),
    (b"\xff\xff\xff\xff", None),
]


@pytest.mark.parametrize(("datagram", "reply"), HOSTILE)
def test_hostile_datagram_then_a_normal_client(server: ThreadedServer, datagram: bytes, reply: tuple[str, int] | None) -> None:
    client = RawClient(server.port)
    client.request(datagram)
    if reply is None:
        assert client.silent_for(0.2)
    else:
        packet = client.receive()
        if reply[0] == "error":
            assert error_code(packet) == reply[1]
            assert client.tid == ("127.0.0.1", server.port)
        else:
            assert packet[:4] == b"\x00\x03\x00\x01" and len(packet) - 4 == reply[1]
            client.send(b"\x00\x05\x00\x00bye\x00")
    client.close()
    server.wait_idle(2)
    assert_still_serving(server)


def test_huge_blksize_then_ack_completes(server: ThreadedServer) -> None:
    """tftpy's own server dies on this one."""
    client = RawClient(server.port)
    body, oack = client.download("big.bin", {"blksize": 99999999})
    assert oack == {"blksize": "1468"} and body == FILES["big.bin"]
    assert_still_serving(server)


def test_hostile_packets_are_logged_rate_limited(server: ThreadedServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="provisioner.tftp")
    client = RawClient(server.port)
    for _ in range(50):
        client.request(b"\x00\x02x\x00octet\x00")
        assert error_code(client.receive()) == 2
    client.close()
    lines = [r.getMessage() for r in caplog.records if "write request" in r.getMessage()]
    assert len(lines) == 1 and "127.0.0.1" in lines[0]


def test_write_request_on_the_session_port_is_ignored(server: ThreadedServer) -> None:
    client = RawClient(server.port)
    client.request(rrq("big.bin"))
    client.receive()
    client.send(b"\x00\x02evil\x00octet\x00")
    client.send(b"\x00\x04\x00\x09")  # an ACK for a block not sent yet
    client.send(b"\x00\x04")  # truncated ACK
    client.send(ack(1))
    assert client.receive()[:4] == b"\x00\x03\x00\x02"
    client.close()


# --- sessions: retransmission, duplicates, cap ------------------------------------------

def test_ignored_data_is_sent_again(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=0.3)
    client = RawClient(server.port)
    client.request(rrq("exact1024.bin"))
    first = client.receive()
    again = client.receive()
    assert first == again and first[:4] == b"\x00\x03\x00\x01"
    blocks = [first]
    for block in (1, 2, 3):
        client.send(ack(block))
        if block < 3:
            blocks.append(client.receive())
    assert b"".join(p[4:] for p in blocks) == FILES["exact1024.bin"]
    client.close()
    server.wait_idle(1)


def test_a_client_that_never_acks_is_dropped_after_the_retries(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=0.15, retries=3)
    client = RawClient(server.port)
    client.request(rrq("small.cfg"))
    copies = [client.receive()]
    while (packet := client.within(0.5)) is not None:
        copies.append(packet)
    assert len(copies) == 4 and len(set(copies)) == 1  # the first send and three retransmissions
    assert server.server.active_sessions == 0
    client.close()


def test_duplicate_acks_do_not_resend(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=2.0)
    client = RawClient(server.port)
    client.request(rrq("big.bin"))
    client.receive()
    client.send(ack(1))
    assert client.receive()[:4] == b"\x00\x03\x00\x02"
    client.send(ack(1))
    client.send(ack(1))
    assert client.silent_for(0.4)  # no Sorcerer's Apprentice: DATA 2 is not sent again
    client.send(ack(2))
    assert client.receive()[:4] == b"\x00\x03\x00\x03"
    client.close()


def test_retransmitted_rrq_does_not_start_a_second_transfer(server: ThreadedServer) -> None:
    client = RawClient(server.port)
    client.request(rrq("big.bin"))
    client.request(rrq("big.bin"))
    client.receive()
    assert client.silent_for(0.3)
    assert server.server.active_sessions == 1
    client.close()


def test_flood_over_the_cap_gets_busy_and_the_server_keeps_serving(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="provisioner.tftp")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 6000:
        pytest.skip(f"open-file hard limit {hard} is too low for 3,000 clients and 2,000 sessions")
    server = make_server(max_sessions=2000, timeout=5.0, retries=1)
    flood = [RawClient(server.port, timeout=10, source=phone_address(index)) for index in range(3000)]
    try:
        for client in flood:
            client.request(rrq("small.cfg"))
        replies = [client.receive() for client in flood]
        data = [c for c, r in zip(flood, replies, strict=True) if r[:4] == b"\x00\x03\x00\x01"]
        busy = [r for r in replies if r == BUSY_PACKET]
        assert (len(data), len(busy)) == (2000, 1000)
        assert server.server.active_sessions == 2000  # far past select()'s 1,024 descriptors
        late = RawClient(server.port)
        late.request(rrq("small.cfg"))
        assert late.receive() == BUSY_PACKET
        late.close()
        for client in data:
            client.send(b"\x00\x05\x00\x00bye\x00")
        server.wait_idle(5)
        assert_still_serving(server)
    finally:
        for client in flood:
            client.close()
    cap_lines = [r for r in caplog.records if "session cap (2000) reached" in r.getMessage()]
    assert len(cap_lines) == 1


def test_a_session_is_freed_by_its_last_ack_not_by_a_timer(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=5.0)
    client = RawClient(server.port)
    assert client.download("exact1024.bin")[0] == FILES["exact1024.bin"]  # ends with our ACK 3
    assert server.wait_idle(0.5) < 0.5  # the slot is free long before the 5 s timeout
    client.close()


def test_default_cap_serves_2500_phones_at_once(make_server: Callable[..., ThreadedServer]) -> None:
    """A boot storm of 2,000 phones must never meet 'server busy' with the default settings."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < DEFAULT_MAX_SESSIONS + 3000:
        pytest.skip(f"open-file hard limit {hard} is too low for the default cap and 2,500 clients")
    server = make_server(timeout=5.0, retries=1)
    flood = [RawClient(server.port, timeout=10, source=phone_address(index)) for index in range(2500)]
    try:
        for client in flood:
            client.request(rrq("small.cfg"))
        replies = [client.receive() for client in flood]
        assert sum(r[:4] == b"\x00\x03\x00\x01" for r in replies) == 2500
        for client in flood:
            client.send(ack(1))
        server.wait_idle(5)
    finally:
        for client in flood:
            client.close()


def test_out_of_descriptors_is_server_busy_and_logged(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    """EMFILE on a transfer socket: 'server busy' from the listening port, never a dead server."""
    caplog.set_level(logging.ERROR, logger="provisioner.tftp")
    server = make_server(timeout=5.0)
    clients = [RawClient(server.port) for _ in range(10)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
    fillers: list[socket.socket] = []
    try:
        with contextlib.suppress(OSError):  # take every free descriptor below the limit...
            while True:
                fillers.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        for spare in fillers[-2:]:  # ...but two
            spare.close()
        for client in clients:
            client.request(rrq("small.cfg"))
        replies = [client.receive() for client in clients]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        for filler in fillers:
            filler.close()
    busy = [r for r in replies if r == BUSY_PACKET]
    data = [r for r in replies if r[:4] == b"\x00\x03\x00\x01"]
    # Two descriptors were left free; another thread of this test process (a server from an
    # earlier test still winding down) may take one of them first, never hand out more.
    assert len(data) + len(busy) == len(clients)
    assert len(busy) >= 8 and len(data) <= 2
    assert any("cannot open a transfer socket" in r.getMessage() for r in caplog.records)
    for client in clients:
        client.close()
    assert_still_serving(server)


# --- SO_REUSEPORT: several servers (processes) on one port -------------------------------

def counting_source(calls: list[str]) -> Callable[[str, str], bytes | None]:
    def serve(name: str, client_ip: str) -> bytes | None:  # a plain function is a source too
        calls.append(name)
        return FILES.get(name)
    return serve


def test_reuse_port_spreads_clients_over_servers_and_keeps_each_client_on_one(
    make_server: Callable[..., ThreadedServer],
) -> None:
    calls: tuple[list[str], list[str]] = ([], [])
    first = make_server(reuse_port=True, source=counting_source(calls[0]), timeout=5.0)
    second = make_server(reuse_port=True, port=first.port, source=counting_source(calls[1]), timeout=5.0)
    for _ in range(64):  # each from its own port: the kernel hashes the 4-tuple to one server
        assert fetch(first.port, "exact1024.bin") == FILES["exact1024.bin"]
    assert len(calls[0]) + len(calls[1]) == 64 and calls[0] and calls[1]
    for _ in range(20):  # a retransmitted RRQ reaches the server that already answers it
        client = RawClient(first.port)
        client.request(rrq("big.bin"))
        client.request(rrq("big.bin"))
        client.receive()
        assert client.silent_for(0.05)
        assert first.server.active_sessions + second.server.active_sessions == 1
        client.send(b"\x00\x05\x00\x00bye\x00")
        client.close()
        first.wait_idle(2)
        second.wait_idle(2)
    assert len(calls[0]) + len(calls[1]) == 84


def test_without_reuse_port_the_port_is_taken(make_server: Callable[..., ThreadedServer]) -> None:
    first = make_server(reuse_port=True)
    with pytest.raises(OSError):
        make_server(port=first.port)


# --- the source --------------------------------------------------------------------------

def test_source_gets_the_name_as_requested_and_the_client_ip(server: ThreadedServer) -> None:
    SOURCE_CALLS.clear()
    client = RawClient(server.port)
    client.request(rrq("/Grandstream/cfg000b82123456.xml"))
    assert error_code(client.receive()) == 1
    assert client.tid != ("127.0.0.1", server.port)  # answered from the transfer's own port
    assert SOURCE_CALLS == [("/Grandstream/cfg000b82123456.xml", "127.0.0.1")]


def test_failing_source_is_not_found_and_logged_once(server: ThreadedServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="provisioner.tftp")
    for name in ("boom.cfg", "boom.cfg", "text.cfg"):
        client = RawClient(server.port)
        client.request(rrq(name))
        assert error_code(client.receive()) == 1
        client.close()
    tracebacks = [r for r in caplog.records if r.exc_info and "database is down" in str(r.exc_info[1])]
    assert len(tracebacks) == 1
    assert any("source returned str" in r.getMessage() for r in caplog.records)
    assert_still_serving(server)


def test_a_source_that_waits_still_serves(make_server: Callable[..., ThreadedServer]) -> None:
    async def later(name: str, client_ip: str) -> bytes | None:
        await asyncio.sleep(0.05)  # a database round trip: the transfer waits in a task
        await asyncio.sleep(0)
        return FILES.get(name)

    server = make_server(source=later)
    assert fetch(server.port, "big.bin") == FILES["big.bin"]
    assert fetch(server.port, "small.cfg") == FILES["small.cfg"]


def test_a_source_that_waits_then_fails_is_not_found(make_server: Callable[..., ThreadedServer]) -> None:
    async def broken(name: str, client_ip: str) -> bytes | None:
        await asyncio.sleep(0.01)
        raise RuntimeError("connection lost")

    server = make_server(source=broken)
    client = RawClient(server.port)
    client.request(rrq("small.cfg"))
    assert error_code(client.receive()) == 1
    client.close()
    server.wait_idle(1)


def test_stop_cancels_lookups_still_waiting(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server()
    client = RawClient(server.port)
    client.request(rrq("slow.cfg"))
    deadline = time.monotonic() + 2
    while server.server.active_sessions == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    server.call(server.server.stop())
    assert server.server.active_sessions == 0
    assert client.silent_for(0.2)
    client.close()


def test_slow_source_times_out_without_blocking_others(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(source_timeout=0.5)
    slow = RawClient(server.port)
    slow.request(rrq("slow.cfg"))
    assert_still_serving(server)
    assert error_code(slow.receive()) == 1
    slow.close()


# --- process-level resources -------------------------------------------------------------

def test_receive_buffer_is_large_or_the_clamp_is_logged(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="provisioner.tftp")
    server = make_server()
    clamped = any("receive buffer clamped" in r.getMessage() for r in caplog.records)
    assert server.server.receive_buffer >= RECEIVE_BUFFER_BYTES or clamped
    if os.geteuid() == 0:  # SO_RCVBUFFORCE passes net.core.rmem_max
        assert server.server.receive_buffer >= RECEIVE_BUFFER_BYTES and not clamped


def test_start_raises_the_open_file_soft_limit(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="provisioner.tftp")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2300:
        pytest.skip(f"hard limit {hard} too low to show the raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    try:
        make_server(max_sessions=2000)
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised == (hard if hard != resource.RLIM_INFINITY else 2256)
        assert any("raised open-file soft limit from 512" in r.getMessage() for r in caplog.records)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_stop_ends_transfers_and_frees_the_port(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(timeout=30.0)
    client = RawClient(server.port)
    client.request(rrq("big.bin"))
    client.receive()
    assert server.server.active_sessions == 1
    server.call(server.server.stop())
    assert server.server.active_sessions == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", server.port))
    client.close()


BAD_CONFIGURATIONS = [
    {"default_max_blksize": 7}, {"default_max_blksize": 65465}, {"max_sessions": 0}, {"retries": -1},
    {"max_sessions_per_source": 0},
]


@pytest.mark.parametrize("options", BAD_CONFIGURATIONS)
def test_bad_configuration_is_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TftpServer(source, port=0, **options)  # type: ignore[arg-type]
