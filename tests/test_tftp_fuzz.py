"""Fuzzing what a peer controls: the TFTP wire parsers (`provisioner.tftp_wire`) and the
`<tenant key>/<file>` split the TFTP adapter serves from, with random and near-valid input.

The parsers document that nothing a peer sends raises: every datagram is a ReadRequest,
a Refusal or an Ignored, and what a request may ask for (options, block size, timeout) is
bounded whatever numbers it carries.
"""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provisioner.tftp_wire import (
    ABORT,
    DEFAULT_BLKSIZE,
    MAX_BLKSIZE,
    MAX_FILENAME_BYTES,
    MAX_GRANTED_TIMEOUT,
    MAX_REQUEST_BYTES,
    MIN_BLKSIZE,
    MIN_TIMEOUT,
    MODES,
    Ignored,
    ReadRequest,
    Refusal,
    classify,
    negotiate,
    oack_packet,
    session_reply,
    source_of,
    split_request_path,
    without_key,
)
from tests.test_tftp import RawClient, ThreadedServer, assert_still_serving

FUZZ = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces a path walker or a broken client strings together, beside plain names.
PATH_PIECES = ["..", ".", "/", "//", "\\", "\0", "%2e", "~", "a", "cfg.xml", "Xq3v9ZkT0bW1yR7uJ2mN8pL5sD4fG6hA"]
path_strings = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(PATH_PIECES), max_size=12).map("".join),
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
)

# Near-valid requests: opcode 1, a name, a mode, options whose values are attacker numbers.
option_names = st.sampled_from(["blksize", "BLKSIZE", "timeout", "tsize", "windowsize", "multicast", ""]) | st.text(max_size=8)
option_values = st.integers(min_value=-(10**30), max_value=10**30).map(str) | st.text(max_size=30)
near_valid_rrqs = st.builds(
    lambda name, mode, options, tail: b"\x00\x01" + name + b"\0" + mode + b"\0"
    + b"".join(k.encode("utf-8", "surrogatepass") + b"\0" + v.encode("utf-8", "surrogatepass") + b"\0" for k, v in options)
    + tail,
    st.binary(max_size=300) | path_strings.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"octet", b"OCTET", b"netascii", b"mail", b"", b"oct\xe9t"]),
    st.lists(st.tuples(option_names, option_values), max_size=40),
    st.binary(max_size=8),
)
datagrams = st.binary(max_size=2 * MAX_REQUEST_BYTES) | near_valid_rrqs


def assert_sane_request(request: ReadRequest) -> None:
    raw_name = request.filename.encode("ascii")  # printable ASCII, or it would not be a ReadRequest
    assert 1 <= len(raw_name) <= MAX_FILENAME_BYTES and all(0x20 <= byte < 0x7F for byte in raw_name)
    assert ".." not in request.filename and "\\" not in request.filename
    assert request.mode in MODES
    assert len(request.options) * 4 <= MAX_REQUEST_BYTES  # at least 4 bytes per option pair on the wire
    for name, value in request.options.items():
        assert name and name == name.lower() and name.isascii() and value.isascii()


@FUZZ
@given(datagrams)
@example(b"\x00\x01a\x00octet\x00blksize\x00" + b"9" * 1000 + b"\x00")
@example(b"\x00\x01" + b"\x00" * 600)
def test_classify_never_raises_and_bounds_what_it_returns(datagram: bytes) -> None:
    verdict = classify(datagram)
    assert isinstance(verdict, (ReadRequest, Refusal, Ignored))
    if isinstance(verdict, ReadRequest):
        assert_sane_request(verdict)
        assert len(datagram) <= MAX_REQUEST_BYTES


@FUZZ
@given(
    st.dictionaries(option_names.map(str.lower), option_values, max_size=20),
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=MIN_BLKSIZE, max_value=MAX_BLKSIZE),
)
def test_negotiate_grants_only_bounded_values_whatever_the_numbers(options: dict[str, str], size: int, max_blksize: int) -> None:
    plan = negotiate(options, size, max_blksize)
    assert plan.blksize == DEFAULT_BLKSIZE or MIN_BLKSIZE <= plan.blksize <= max_blksize
    assert plan.timeout is None or MIN_TIMEOUT <= plan.timeout <= MAX_GRANTED_TIMEOUT
    names = [name for name, _value in plan.oack]
    assert set(names) <= {"blksize", "timeout", "tsize"} and len(names) == len(set(names))
    assert len(oack_packet(plan.oack)) <= 64  # tsize is the file's size, never the peer's number


@FUZZ
@given(st.binary(max_size=600))
def test_session_reply_never_raises(datagram: bytes) -> None:
    reply = session_reply(datagram)
    assert reply is None or reply == ABORT or 0 <= reply <= 0xFFFF


@FUZZ
@given(path_strings)
@example("Xq3v9ZkT0bW1yR7uJ2mN8pL5sD4fG6hA///etc/passwd")
@example("Xq3v9ZkT0bW1yR7uJ2mN8pL5sD4fG6hA/..\\..\\win.ini")
def test_split_request_path_never_yields_a_walking_file_name(path: str) -> None:
    assert_safe_split(path)


@FUZZ
@given(datagrams)
def test_every_request_the_parser_admits_splits_safely_or_not_at_all(datagram: bytes) -> None:
    verdict = classify(datagram)
    if isinstance(verdict, ReadRequest):
        assert_safe_split(verdict.filename)


def assert_safe_split(path: str) -> None:
    split = split_request_path(path)
    if split is None:
        return
    key, filename = split
    assert key and "/" not in key
    assert filename and not filename.startswith("//")
    for bad in ("..", "\\", "\0"):
        assert bad not in filename and bad not in key
    assert path.lstrip("/") == f"{key}/{filename}"  # what the server's adapter splits today


tenant_keys = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=32, max_size=32)


@FUZZ
@given(tenant_keys, path_strings, path_strings)
def test_a_log_line_never_shows_the_key(key: str, filename: str, text: str) -> None:
    path = f"/{key}/{filename}"
    assert key not in without_key(path, path)
    assert key not in without_key(f"{text} ('{key}',) {text}", path)


@FUZZ
@given(path_strings, path_strings)
def test_without_key_never_raises(text: str, path: str) -> None:
    assert isinstance(without_key(text, path), str)


@FUZZ
@given(st.ip_addresses().map(str) | st.text(max_size=60))
def test_source_of_never_raises(host: str) -> None:
    assert isinstance(source_of(host), str)


# --- and against a real server ------------------------------------------------------------

@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    running = ThreadedServer(timeout=0.2, retries=0)
    yield running
    running.close()


@settings(max_examples=150, deadline=None, database=None)
@given(burst=st.lists(datagrams, min_size=1, max_size=8))
def test_random_datagrams_leave_a_real_server_serving(server: ThreadedServer, burst: list[bytes]) -> None:
    client = RawClient(server.port, timeout=0.2)
    try:
        for datagram in burst:
            client.request(datagram)
    finally:
        client.close()
    assert_still_serving(server)
