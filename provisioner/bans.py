"""Miss budget and bans for addresses that guess (pure: the clock is passed in).

A phone that knows its tenant key and its own MAC never misses; an enumerator guessing keys,
MACs or file names misses all the time. Each address has a budget of `limit` misses within
`window` seconds; the miss past it bans the address for `ban` seconds, during which it gets the
same 404 for everything (its real phones included) and nothing it sends is recorded.

Addresses inside a tenant's declared networks are never banned: a site deploying hundreds
of phones not yet assigned would otherwise lock itself out.

Memory is bounded: at most `limit` timestamps per address and `MAX_ADDRESSES` addresses
tracked (the oldest forgotten first), so a flood of spoofed sources cannot grow it forever.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from provisioner.values import Role

MAX_ADDRESSES = 100_000
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class BanRules:
    limit: int = 50  # misses allowed within the window; the next one bans
    window: float = 600.0  # seconds
    ban: float = 900.0  # seconds


@dataclass(frozen=True)
class Ban:
    ip: str
    tenant: str | None  # slug of the tenant whose key the last miss used, if any
    misses: int
    since: float
    until: float


def parse_networks(text: str) -> tuple[Network, ...]:
    """"192.0.2.0/24, 2001:db8::/32" -> networks; ValueError names the first bad item."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a network (example: 190.24.10.0/24)") from None
    return tuple(networks)


def miss_reason(tenant_known: bool, device_known: bool, mac: str | None, role: Role) -> str | None:
    """Why a request is a miss, or None when it is not one.

    A known phone never misses: every name of its own boot sequence is asked with its own
    MAC, those we answer 404 on purpose (Grandstream cfg<mac>, Polycom <mac>-phone.cfg) too.
    Names without a MAC that a vendor uses (common files, firmware images) never miss either.
    """
    if not tenant_known:
        return "unknown key"
    if device_known:
        return None
    if mac is not None:
        return "unknown MAC"
    if role is Role.UNKNOWN:
        return "unknown name"
    return None


def in_networks(ip: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


class MissLedger:
    """Misses per address and the bans they earned."""

    def __init__(self, rules: BanRules, exempt: Iterable[Network] = ()) -> None:
        self.rules = rules
        self.exempt: tuple[Network, ...] = tuple(exempt)
        self._misses: OrderedDict[str, deque[float]] = OrderedDict()
        self._bans: dict[str, Ban] = {}
        self._pending: list[Ban] = []  # bans made here and not yet handed to the database

    def holds_ban(self, ip: str) -> bool:
        """The request path's check, one dict lookup: does `ip` hold a ban, maybe run out?
        (Only then is the clock read, for `banned`.)"""
        return ip in self._bans

    def banned(self, ip: str, now: float) -> bool:
        """Is `ip` banned at `now`?"""
        ban = self._bans.get(ip)
        if ban is None:
            return False
        if now < ban.until:
            return True
        del self._bans[ip]
        return False

    def miss(self, ip: str, tenant: str | None, now: float) -> Ban | None:
        """Count one miss; the Ban it earns, only on the miss that crosses the limit."""
        if not ip or ip in self._bans or in_networks(ip, self.exempt):
            return None
        times = self._misses.get(ip)
        if times is None:
            if len(self._misses) >= MAX_ADDRESSES:
                self._misses.popitem(last=False)
            times = self._misses[ip] = deque(maxlen=self.rules.limit + 1)
        else:
            self._misses.move_to_end(ip)
        times.append(now)
        while times and times[0] <= now - self.rules.window:
            times.popleft()
        if len(times) <= self.rules.limit:
            return None
        del self._misses[ip]
        ban = Ban(ip, tenant, len(times), now, now + self.rules.ban)
        self._bans[ip] = ban
        self._pending.append(ban)
        return ban

    def take_pending(self) -> list[Ban]:
        """The bans made here since the last call, for the adapter to store."""
        pending, self._pending = self._pending, []
        return pending

    def return_pending(self, bans: list[Ban]) -> None:
        """Bans taken for storing that the database did not take: stored at the next try."""
        self._pending[:0] = bans

    def install(self, bans: Iterable[Ban], exempt: Iterable[Network] | None = None) -> None:
        """The stored bans (every process's, minus those an admin lifted) replace the known
        set; bans made here and not yet taken for storing stay. With `exempt`, the declared
        networks are read afresh too, and a ban inside one of them is dropped."""
        if exempt is not None:
            self.exempt = tuple(exempt)
        fresh = {ban.ip: ban for ban in bans}
        fresh.update((ban.ip, ban) for ban in self._pending)
        self._bans = {ip: ban for ip, ban in fresh.items() if not in_networks(ip, self.exempt)}

    def lift(self, ip: str) -> None:
        self._bans.pop(ip, None)
        self._misses.pop(ip, None)

    def active(self, now: float) -> list[Ban]:
        return sorted((ban for ban in self._bans.values() if now < ban.until), key=lambda ban: ban.since)


def ban_log_line(ban: Ban) -> str:
    """One fail2ban-ready line per ban; it says how to keep a site's own address from bans."""
    return (
        f"security ban ip={ban.ip} tenant={ban.tenant or '-'} misses={ban.misses} "
        f"seconds={int(ban.until - ban.since)} "
        f"(a customer site? declare it: provisioner tenant set SLUG --networks {ban.ip}/32)"
    )
