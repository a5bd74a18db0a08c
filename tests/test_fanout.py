"""What a miss may record (provisioner.fanout): a phone waiting for an extension, only for a
vendor's MAC asked for with that vendor's User-Agent, within a budget per tenant and hour.
Fakes at the fan-out's seams; the end-to-end run is tests/test_bans_e2e.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firmware_catalog import load_catalog
from provisioner.fanout import Fanout, WaitingBudget
from provisioner.findings import NOT_JUDGED
from provisioner.identification import identify
from provisioner.service import Outcome
from provisioner.sightings import SightingRecord
from provisioner.values import ConfigRequest, Protocol, TenantRecord, TenantView

CATALOG = load_catalog()
T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TENANT = TenantRecord(1, "key", TenantView("Acme", "acme", "pbx.example.net", 5060, "udp", "admin", "public",
                                           "pool.ntp.org", "http://prov.example.net/prov/key/"))


class Recorder:
    def __init__(self) -> None:
        self.sightings: list[SightingRecord] = []

    def record(self, sighting: SightingRecord) -> None:
        self.sightings.append(sighting)


def miss(fanout: Fanout, filename: str, user_agent: str | None, at: datetime = T0) -> None:
    request = ConfigRequest(Protocol.HTTP, "key", filename, user_agent, "190.24.10.7", at)
    ident = identify(filename, user_agent, CATALOG)
    fanout.config_fetched(request, Outcome(None, "MAC not assigned", ident, TENANT, None, None, NOT_JUDGED), missed=True)


@pytest.mark.parametrize(
    ("filename", "user_agent", "recorded"),
    [
        ("001565abcdef.cfg", "Yealink SIP-T21P 34.72.0.75 00:15:65:ab:cd:ef", True),  # Yealink OUI, Yealink UA
        ("cfg000b82abcdef.xml", "Grandstream Model HW GXP1620 SW 1.0.4.106 DevId 000b82abcdef", True),
        ("0004f2abcdef-user.cfg", "FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278 Type/Application", True),
        ("0004f2abcdef.cfg", "Yealink SIP-T21P 34.72.0.75 00:04:f2:ab:cd:ef", False),  # Polycom's OUI, Yealink's UA
        ("02a0c9abcdef.cfg", "Yealink SIP-T21P 34.72.0.75 02:a0:c9:ab:cd:ef", False),  # nobody's OUI
        ("001565abcdef.cfg", None, False),  # no User-Agent (TFTP, a script)
        ("no-vendor-uses-this.txt", "Yealink SIP-T21P 34.72.0.75", False),  # no MAC at all
    ],
)
def test_a_miss_is_recorded_only_as_a_vendors_phone(filename: str, user_agent: str | None, recorded: bool) -> None:
    recorder = Recorder()
    miss(Fanout(CATALOG, recorder), filename, user_agent)
    assert len(recorder.sightings) == int(recorded)


def test_at_most_the_budget_of_new_phones_per_hour_and_a_phone_admitted_stays_admitted() -> None:
    recorder = Recorder()
    fanout = Fanout(CATALOG, recorder, waiting_phones_per_hour=3)
    macs = [f"001565{index:06x}" for index in range(5)]
    for mac in macs:
        miss(fanout, f"{mac}.cfg", f"Yealink SIP-T21P 34.72.0.75 {mac}")
    miss(fanout, f"{macs[0]}.cfg", f"Yealink SIP-T21P 34.72.0.75 {macs[0]}")  # its next file
    assert [s.mac for s in recorder.sightings] == macs[:3] + macs[:1]
    miss(fanout, f"{macs[4]}.cfg", f"Yealink SIP-T21P 34.72.0.75 {macs[4]}", T0 + timedelta(hours=1))
    assert recorder.sightings[-1].mac == macs[4]  # a new hour, a new budget


@pytest.mark.parametrize(
    ("admissions", "expected"),
    [
        ([(1, "a", 0.0), (1, "b", 1.0), (1, "c", 2.0)], [True, True, False]),
        ([(1, "a", 0.0), (1, "b", 1.0), (1, "a", 2.0)], [True, True, True]),  # the same phone's next file
        ([(1, "a", 0.0), (1, "b", 1.0), (2, "c", 2.0)], [True, True, True]),  # another tenant's own budget
        ([(1, "a", 0.0), (1, "b", 1.0), (1, "c", 3600.0)], [True, True, True]),  # the next hour
    ],
)
def test_waiting_budget(admissions: list[tuple[int, str, float]], expected: list[bool]) -> None:
    budget = WaitingBudget(limit=2, period=3600.0)
    assert [budget.admit(*admission) for admission in admissions] == expected
