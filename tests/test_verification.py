"""SnmpVerification's fan-out of one poll result, with fakes at its seams (lookups, sinks):
a poll is judged by judge_contact within SNMP's scope, then recorded and observed.
tests/test_snmp_e2e.py drives the same path with a real agent, server and database."""

from __future__ import annotations

from datetime import UTC, datetime

from firmware_catalog import load_catalog
from provisioner.findings import FIRMWARE_KINDS, FindingKind
from provisioner.settings import Settings
from provisioner.sightings import SightingRecord
from provisioner.snmp.parse import SnmpReading
from provisioner.snmp.poller import PollResult, PollTarget
from provisioner.ticket_writer import Observation
from provisioner.values import UNASSIGNED_DEPARTMENT, DeviceRecord, TenantRecord, TenantView
from provisioner.verification import SnmpVerification

AT = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
MAC = "0015654c4c26"
TENANT = TenantRecord(7, "key-not-logged", TenantView("Snmp S.A.S.", "snmp", "pbx.example.net", 5060, "udp",
                                                      "comunidad", "pool.ntp.org", "http://h/prov/key-not-logged/"))
T21P = DeviceRecord(3, MAC, "yealink-t21p", (), "Ventas")


class Phones:
    """DeviceLookup and FirmwareMemory over a dict."""

    def __init__(self, devices: dict[tuple[int, str], DeviceRecord]) -> None:
        self.devices = devices
        self.noted: list[tuple[int, str, str]] = []

    def device(self, tenant_id: int, mac: str) -> DeviceRecord | None:
        return self.devices.get((tenant_id, mac))

    def known_firmware(self, tenant_id: int, mac: str) -> str | None:
        raise AssertionError("SNMP judges only what the agent said")

    def note_firmware(self, tenant_id: int, mac: str, firmware: str) -> None:
        self.noted.append((tenant_id, mac, firmware))


class Sinks:
    def __init__(self) -> None:
        self.sightings: list[SightingRecord] = []
        self.observations: list[Observation] = []

    def record(self, sighting: SightingRecord) -> None:
        self.sightings.append(sighting)

    def observe(self, observation: Observation) -> None:
        self.observations.append(observation)

    def settled_clear(self, tenant_id: int, mac: str, covers: frozenset[FindingKind]) -> bool:
        return False


def verifier(devices: dict[tuple[int, str], DeviceRecord]) -> tuple[SnmpVerification, Phones, Sinks]:
    phones, sinks = Phones(devices), Sinks()
    verification = SnmpVerification(Settings(), load_catalog(), phones, phones, sinks, sinks)
    verification.after_contact(TENANT, MAC, "10.0.0.9", "yealink")  # the fetch that made it known
    return verification, phones, sinks


def result(firmware: str | None, *, answered: bool = True, reachable: bool = True) -> PollResult:
    reading = SnmpReading("T21P", firmware, MAC, f"Yealink SIP-T21P {firmware}") if answered else None
    target = PollTarget(TENANT.id, MAC, "10.0.0.9", community="comunidad", vendor="yealink")
    return PollResult(target, reading, reachable, 0 if answered else 3, False, False, AT)


def test_an_older_firmware_read_over_snmp_is_recorded_remembered_and_observed() -> None:
    verification, phones, sinks = verifier({(TENANT.id, MAC): T21P})
    verification.on_result(result("34.72.0.60"))
    [sighting] = sinks.sightings
    assert (sighting.protocol, sighting.findings, sighting.judged, sighting.served) == ("snmp", ("firmware_older",), True, True)
    assert phones.noted == [(TENANT.id, MAC, "34.72.0.60")]
    [observation] = sinks.observations
    assert [(f.kind, f.observed, f.expected, f.department, f.protocol) for f in observation.findings] == [
        (FindingKind.FIRMWARE_OLDER, "34.72.0.60", "34.72.0.75", "Ventas", "snmp")
    ]
    assert observation.covers == FIRMWARE_KINDS | {FindingKind.UNREACHABLE}
    assert observation.findings[0].tenant == "snmp" and observation.findings[0].model == "T21P"


def test_a_silent_phone_is_unreachable_and_its_firmware_is_not_judged() -> None:
    verification, phones, sinks = verifier({(TENANT.id, MAC): DeviceRecord(3, MAC, "yealink-t21p", ())})
    verification.on_result(result(None, answered=False, reachable=False))
    [sighting] = sinks.sightings
    assert (sighting.findings, sighting.judged, sighting.served) == (("unreachable",), False, False)
    [observation] = sinks.observations
    assert [(f.kind, f.department) for f in observation.findings] == [(FindingKind.UNREACHABLE, UNASSIGNED_DEPARTMENT)]
    assert observation.covers == {FindingKind.UNREACHABLE} and phones.noted == []


def test_the_supported_firmware_clears_what_snmp_covers() -> None:
    verification, _, sinks = verifier({(TENANT.id, MAC): T21P})
    verification.on_result(result("34.72.0.75"))
    assert sinks.sightings[0].findings == () and sinks.sightings[0].judged
    assert sinks.observations[0].findings == () and sinks.observations[0].covers == FIRMWARE_KINDS | {FindingKind.UNREACHABLE}


def test_a_phone_no_longer_assigned_is_recorded_but_raises_nothing() -> None:
    verification, phones, sinks = verifier({})
    verification.on_result(result("34.72.0.60"))
    assert sinks.sightings[0].judged is False and sinks.sightings[0].findings == ()
    assert sinks.observations == [] and phones.noted == []
