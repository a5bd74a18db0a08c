"""A small SIP REGISTER client for tests (UDP, digest MD5 per RFC 2617 / RFC 3261 §22).

It sends what a phone sends: REGISTER sip:<domain> with From/To <sip:user@domain>, to the
outbound proxy when the config names one (else to the domain itself), answers one 401/407
challenge with the config's auth user and password, and returns the final status.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    """One line's account as read out of a served config."""

    line: int
    user: str
    auth_user: str
    password: str
    domain: str
    port: int
    proxy: tuple[str, int] | None


@dataclass(frozen=True)
class RegisterResult:
    status: int
    challenged: bool  # a 401/407 came first (the registrar did ask for credentials)
    reason: str


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_params(header: str) -> dict[str, str]:
    return {k.lower(): v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', header)}


def authorization(params: dict[str, str], username: str, password: str, method: str, uri: str) -> str:
    realm, nonce = params["realm"], params["nonce"]
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"', "algorithm=MD5"]
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f'cnonce="{cnonce}"', f"nc={nc}"]
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)


def register(account: Credentials, user_agent: str, *, expires: int = 3600, timeout: float = 3.0) -> RegisterResult:
    target = account.proxy or (account.domain, account.port)
    uri = f"sip:{account.domain}" if account.proxy or account.port == 5060 else f"sip:{account.domain}:{account.port}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local_port = sock.getsockname()[1]
        call_id, tag = secrets.token_hex(12), secrets.token_hex(6)
        challenged = False
        auth_header: str | None = None
        for cseq in (1, 2):
            lines = [
                f"REGISTER {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport",
                "Max-Forwards: 70",
                f"From: <sip:{account.user}@{account.domain}>;tag={tag}",
                f"To: <sip:{account.user}@{account.domain}>",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq} REGISTER",
                f"Contact: <sip:{account.user}@127.0.0.1:{local_port}>",
                f"Expires: {expires}",
                f"User-Agent: {user_agent}",
            ]
            if auth_header:
                lines.append(auth_header)
            lines += ["Content-Length: 0", "", ""]
            sock.sendto("\r\n".join(lines).encode(), target)
            status, reason, headers = _final_response(sock)
            if status in (401, 407) and not challenged:
                challenged = True
                name = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
                params = digest_params(headers[name.lower()])
                value = authorization(params, account.auth_user, account.password, "REGISTER", uri)
                auth_header = f"{'Authorization' if status == 401 else 'Proxy-Authorization'}: {value}"
                continue
            return RegisterResult(status, challenged, reason)
    return RegisterResult(status, challenged, reason)


def _final_response(sock: socket.socket) -> tuple[int, str, dict[str, str]]:
    while True:
        data = sock.recv(65535).decode(errors="replace")
        head = data.split("\r\n\r\n", 1)[0].split("\r\n")
        _, code, *reason = head[0].split(" ", 2)
        if int(code) < 200:
            continue  # 100 Trying
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        return int(code), reason[0] if reason else "", headers
