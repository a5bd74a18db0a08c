"""TFTP on the wire, as pure functions: requests, option negotiation, DATA/ACK (no I/O).

RFC 1350 (the protocol), RFC 2347 (option extension), RFC 2348 (blksize), RFC 2349
(timeout, tsize). The asyncio adapter in `provisioner.tftp` sends and receives; this
module only decides. Nothing here raises on what a peer sends: every datagram maps to a
value (`ReadRequest`, `Refusal` or `Ignored`), so a hostile packet cannot escape as an
exception.

Why requests are parsed here and not with tftpy's `TftpPacketFactory` (tftpy 0.8.7):
  * one non-ASCII option value makes tftpy reject the whole request
    (UnicodeDecodeError); RFC 2347 says an option the server does not understand is
    ignored, and a phone that asks `blksize=<garbage>` should still get its file;
  * trailing NUL padding, an unterminated last option or an odd option count raise
    `struct.error` / `TftpException` (three different exception types for one problem);
  * its decoder walks the datagram byte by byte in Python with debug logging, so a
    64 KiB garbage datagram costs milliseconds; here it is one C-level `split`.
tftpy still encodes the ERROR packets in the adapter (once, at import); OACKs are built
here (one per transfer with options: tftpy's encoder cost ~3.4 us, this ~0.5 us), and the
tests check that tftpy decodes what we send.

Decisions:
  * File names must be printable ASCII (0x20-0x7E): phone config names are, and it keeps
    control characters out of log lines. Nor may they hold '..' or '\\', which only path
    walkers send: whatever serves the names below never sees one. Such names are refused
    with "File not found".
  * `netascii` is served exactly like `octet` (no CR/LF conversion): the bytes a phone
    gets are the bytes the renderer produced, and `tsize` stays the real size.
  * blksize below 8 is ignored (answering 8 would exceed what the client said it can
    take); above the server's maximum it is lowered to that maximum.
  * Block numbers wrap from 65535 to 0, as tftp-hpa and curl do.
  * ERROR, DATA, ACK and OACK on the listening port are dropped without a reply: never
    answering an ERROR keeps two servers from bouncing errors forever (CVE-2024-2169).
  * The timeout option is granted up to MAX_GRANTED_TIMEOUT seconds, not RFC 2349's 255:
    a session waits timeout x (retries + 1) for an ACK that may never come, so 255 would
    let one unanswered request hold a session slot for 25 minutes instead of seconds.

Below the wire, a request's file name is `<tenant key>/<file>` (the option-66 URL
`tftp://<server>/<key>/`): `split_request_path` splits it, refusing what only a path walker
sends, and `without_key` hides the key (a secret) in anything logged about the request.
"""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6

DEFAULT_BLKSIZE = 512
MIN_BLKSIZE = 8
MAX_BLKSIZE = 65464
MIN_TIMEOUT = 1
MAX_TIMEOUT = 255  # RFC 2349's range...
MAX_GRANTED_TIMEOUT = 5  # ...of which this much is granted (see "Decisions"); phones ask 1-5
MAX_REQUEST_BYTES = 1024  # RFC 2347 caps a request at 512 octets; twice that for lax clients
MAX_FILENAME_BYTES = 255
MAX_NUMBER_DIGITS = 20  # longer "numbers" are ignored, not parsed
MODES = frozenset({"octet", "netascii"})
ABORT = -1  # what `session_reply` returns for an ERROR from the client

_HEADER = struct.Struct("!HH")
_PRINTABLE = frozenset(range(0x20, 0x7F))


class ErrorCode(IntEnum):
    NOT_DEFINED = 0
    FILE_NOT_FOUND = 1
    ACCESS_VIOLATION = 2
    ILLEGAL_OPERATION = 4
    UNKNOWN_TID = 5
    OPTION_REFUSED = 8


@dataclass(frozen=True)
class ReadRequest:
    filename: str
    mode: str  # lower case, one of MODES
    options: Mapping[str, str] = field(default_factory=dict)  # lower-case names, request order


@dataclass(frozen=True)
class Refusal:
    """Answer with an ERROR packet from the listening port."""

    code: ErrorCode
    reason: str  # for the log line


@dataclass(frozen=True)
class Ignored:
    """Drop without a reply."""

    reason: str


Verdict = ReadRequest | Refusal | Ignored


@dataclass(frozen=True)
class Plan:
    """How one transfer runs once the file size is known."""

    blksize: int
    timeout: int | None  # seconds granted through the timeout option, else None
    oack: tuple[tuple[str, str], ...]  # accepted options, empty: no OACK, start with DATA 1


def classify(datagram: bytes) -> Verdict:
    """What a datagram on the listening port is, and whether it deserves a reply."""
    if len(datagram) < 2:
        return Ignored("runt datagram")
    opcode = datagram[0] << 8 | datagram[1]
    if opcode == RRQ:
        return parse_read_request(datagram)
    if opcode == WRQ:
        return Refusal(ErrorCode.ACCESS_VIOLATION, "write request")
    if opcode in (DATA, ACK, OACK, ERROR):
        return Ignored(f"opcode {opcode} on the listening port")
    return Ignored(f"unknown opcode {opcode}")


def parse_read_request(datagram: bytes) -> ReadRequest | Refusal:
    """Parse an RRQ: filename NUL mode NUL, then option NUL value NUL pairs."""
    if len(datagram) > MAX_REQUEST_BYTES:
        return Refusal(ErrorCode.ILLEGAL_OPERATION, "request longer than 1024 bytes")
    fields = datagram[2:].split(b"\0")
    if len(fields) < 3:  # filename and mode must both be NUL-terminated
        return Refusal(ErrorCode.ILLEGAL_OPERATION, "request without NUL-terminated filename and mode")
    raw_name, raw_mode = fields[0], fields[1]
    if not raw_name or len(raw_name) > MAX_FILENAME_BYTES or not _PRINTABLE.issuperset(raw_name):
        return Refusal(ErrorCode.FILE_NOT_FOUND, "filename empty, too long or not printable ASCII")
    if b".." in raw_name or b"\\" in raw_name:
        return Refusal(ErrorCode.FILE_NOT_FOUND, "filename with '..' or a backslash")
    mode = _ascii(raw_mode)
    if mode is None or mode.lower() not in MODES:
        return Refusal(ErrorCode.ILLEGAL_OPERATION, "unsupported transfer mode")
    # The last field follows the last NUL: empty, or an unterminated fragment that is dropped.
    return ReadRequest(raw_name.decode("ascii"), mode.lower(), _options(fields[2:-1]))


def _options(fields: list[bytes]) -> dict[str, str]:
    """Option pairs; the first of a repeated name wins, undecodable pairs are skipped."""
    options: dict[str, str] = {}
    for index in range(0, len(fields) - 1, 2):
        name, value = _ascii(fields[index]), _ascii(fields[index + 1])
        if not name:  # an empty name: NUL padding after the last option
            break
        if value is not None:
            options.setdefault(name.lower(), value)
    return options


def _ascii(raw: bytes) -> str | None:
    return raw.decode("ascii") if raw.isascii() else None


def negotiate(options: Mapping[str, str], size: int, max_blksize: int) -> Plan:
    """Accept the options this server honours (blksize, timeout, tsize); ignore the rest."""
    blksize, timeout = DEFAULT_BLKSIZE, None
    accepted: list[tuple[str, str]] = []
    for name, value in options.items():
        number = _number(value)
        if number is None:
            continue
        if name == "blksize" and number >= MIN_BLKSIZE:
            blksize = min(number, max_blksize)
            accepted.append((name, str(blksize)))
        elif name == "timeout" and MIN_TIMEOUT <= number <= MAX_GRANTED_TIMEOUT:
            timeout = number
            accepted.append((name, str(number)))
        elif name == "tsize":
            accepted.append((name, str(size)))
    return Plan(blksize, timeout, tuple(accepted))


def _number(value: str) -> int | None:
    """A plain decimal number (no sign, no spaces), or None."""
    if not value or len(value) > MAX_NUMBER_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def block_count(size: int, blksize: int) -> int:
    """DATA packets needed: a short (possibly empty) last block always ends the transfer."""
    return size // blksize + 1


def wire_block(index: int) -> int:
    """The 16-bit block number of the index-th DATA block (1-based), wrapping to 0."""
    return index & 0xFFFF


def data_packet(body: bytes, index: int, blksize: int) -> bytes:
    """DATA packet `index` (1-based) of `body`."""
    start = (index - 1) * blksize
    return _HEADER.pack(DATA, wire_block(index)) + body[start : start + blksize]


def oack_packet(options: tuple[tuple[str, str], ...]) -> bytes:
    """OACK (RFC 2347): the accepted options as name NUL value NUL pairs, in request order."""
    return b"\0\x06" + b"".join(f"{name}\0{value}\0".encode("ascii") for name, value in options)


def ack_packet(block: int) -> bytes:
    return _HEADER.pack(ACK, wire_block(block))


def session_reply(datagram: bytes) -> int | None:
    """On a transfer's own port: the block an ACK acknowledges, ABORT for an ERROR, else None."""
    if len(datagram) < 4:
        return ABORT if datagram[:2] == b"\0\x05" else None
    opcode: int
    block: int
    opcode, block = _HEADER.unpack_from(datagram)
    if opcode == ACK:
        return block
    return ABORT if opcode == ERROR else None


class LogBudget:
    """At most one log line per `interval` seconds; counts what it held back.

    `admit(now)` returns None when the event should not be logged, else how many events
    were held back since the last logged one. The caller passes the clock in.
    """

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = float("-inf")
        self._held = 0

    def admit(self, now: float) -> int | None:
        if now < self._next:
            self._held += 1
            return None
        held, self._held = self._held, 0
        self._next = now + self._interval
        return held

    def idle(self, now: float) -> bool:
        """Nothing would be held back now: forgetting this budget loses no line."""
        return now >= self._next


class KeyedLogBudget:
    """A LogBudget per key (a kind of trouble, a source address), at most `max_keys` of them.

    A new key that finds the table full first drops the budgets whose interval has passed;
    if none has, the new key's event is not logged. Peers that invent keys (opcodes,
    spoofed addresses) bound neither this table nor the log.
    """

    def __init__(self, interval: float, max_keys: int) -> None:
        self._interval, self._max_keys = interval, max_keys
        self._budgets: dict[str, LogBudget] = {}

    def __len__(self) -> int:
        return len(self._budgets)

    def admit(self, key: str, now: float) -> int | None:
        budget = self._budgets.get(key)
        if budget is None:
            if len(self._budgets) >= self._max_keys:
                self._budgets = {k: b for k, b in self._budgets.items() if not b.idle(now)}
                if len(self._budgets) >= self._max_keys:
                    return None
            budget = self._budgets[key] = LogBudget(self._interval)
        return budget.admit(now)


def source_of(host: str) -> str:
    """What a per-source session cap counts: an IPv4 address, or an IPv6 address's /64.

    One host (or site) is usually given a whole IPv6 /64, so counting single IPv6 addresses
    would cap nothing; an IPv4-mapped IPv6 address (a dual-stack socket) counts as its IPv4.
    """
    if ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host.partition("%")[0])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return f"{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"


def split_request_path(path: str) -> tuple[str, str] | None:
    """`<tenant key>/<file name>` -> (key, file name), or None when it is not one.

    Leading slashes before the key are dropped (`/<key>/<file>` is common); the file name
    keeps at most one leading '/' (a base URL with a trailing '/' joined with '/<file>').
    None for a missing key or file, and for what only a path walker sends: '..', a
    backslash, a NUL, or '//' after the key.
    """
    key, _, filename = path.lstrip("/").partition("/")
    if not key or not filename or filename.startswith("//"):
        return None
    if ".." in path or "\\" in path or "\0" in path:
        return None
    return key, filename


def key_id(key: str) -> str:
    """A short, non-reversible name for a tenant key in logs: `key#` + 8 hex of its SHA-256."""
    return "key#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def without_key(text: str, path: str) -> str:
    """`text` with every occurrence of `path`'s tenant key replaced by `key_id(key)`.

    The key is the first segment of `path` (leading slashes dropped), or the whole name when
    it has no '/': a phone whose option 66 lacks the trailing '/' asks `<key>cfg....xml`.
    `without_key(path, path)` is the path as a log line may show it.
    """
    key = path.lstrip("/").partition("/")[0]
    return text.replace(key, key_id(key)) if key else text
