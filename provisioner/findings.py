"""Finding kinds, and what one contact tells about a phone's compliance (pure: no I/O here).

    identification + catalog row + device + known firmware
        --judge_contact(scope)--> Judgement(findings, kinds, judged, covers)

Every finding kind is a `FindingKind`: the catalog's compliance kinds plus the provisioner's
own (SNMP). A config fetch (HTTP or TFTP) and an SNMP poll are judged by the same function;
they differ only in their `Scope`: the kinds each can raise, and the kinds whose absence it
vouches for (the ticket intake recovers a phone from an incident of a covered kind it no
longer shows).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple

from firmware_catalog import CatalogEntry, Finding, check_compliance
from firmware_catalog import FindingKind as CatalogKind
from provisioner.values import DeviceRecord, Identification


class FindingKind(StrEnum):
    """Every kind of finding, as stored in tickets and phone_state (the values never change)."""

    FIRMWARE_OLDER = CatalogKind.FIRMWARE_OLDER.value
    FIRMWARE_NEWER = CatalogKind.FIRMWARE_NEWER.value
    FIRMWARE_UNKNOWN = CatalogKind.FIRMWARE_UNKNOWN.value
    MODEL_NOT_HOMOLOGATED = CatalogKind.MODEL_NOT_HOMOLOGATED.value
    LINES_EXCEEDED = CatalogKind.LINES_EXCEEDED.value
    UNREACHABLE = "unreachable"  # the SNMP agent did not answer N polls in a row
    SNMP_FIRMWARE_MISMATCH = "snmp_firmware_mismatch"
    NEVER_REGISTERED = "never_registered"  # fetched its config, no registration within the limit (issue 19)


FIRMWARE_KINDS = frozenset({FindingKind.FIRMWARE_OLDER, FindingKind.FIRMWARE_NEWER, FindingKind.FIRMWARE_UNKNOWN})
PROVISIONING_KINDS = frozenset(FindingKind(kind.value) for kind in CatalogKind)  # what check_compliance finds
SNMP_KINDS = frozenset({FindingKind.UNREACHABLE, FindingKind.SNMP_FIRMWARE_MISMATCH})
REGISTRATION_KINDS = frozenset({FindingKind.NEVER_REGISTERED})


class Scope(NamedTuple):
    """The finding kinds one kind of contact can judge (a tuple: hashed on every fetch)."""

    raises: frozenset[FindingKind]  # kinds it reports when the phone shows them
    covers: frozenset[FindingKind]  # kinds whose absence it vouches for


CONFIG_FETCH = Scope(raises=PROVISIONING_KINDS, covers=PROVISIONING_KINDS)
# SNMP reports version drift only. A version read over SNMP also settles "not verifiable"
# (TFTP phones never say theirs), but an agent's odd version string does not raise it.
SNMP_POLL = Scope(raises=frozenset({FindingKind.FIRMWARE_OLDER, FindingKind.FIRMWARE_NEWER}), covers=FIRMWARE_KINDS)


class Judgement(NamedTuple):
    findings: tuple[Finding, ...]
    kinds: tuple[FindingKind, ...]  # the findings' kinds, in the same order
    judged: bool  # False: the contact said nothing about a phone (its findings replace nothing)
    covers: frozenset[FindingKind]


NOT_JUDGED = Judgement((), (), False, frozenset())
Assess = Callable[[CatalogEntry | None, str | None, int, str | None, Scope], Judgement]


def about_a_phone(ident: Identification, device: DeviceRecord | None) -> bool:
    """Whether a contact can be judged: it names a phone (a MAC), and something says what it is."""
    return ident.mac is not None and (bool(ident.model) or device is not None)


def assess(entry: CatalogEntry | None, firmware: str | None, highest_line: int, model_seen: str | None, scope: Scope) -> Judgement:
    """Compliance of one phone within `scope`: the catalog's findings, as a judged contact."""
    raises, covers = scope
    if firmware is None:
        # Nothing reported a version yet (TFTP has no User-Agent; a Polycom's first requests
        # come from its Updater, whose version is not the application's): this contact
        # cannot judge the firmware, so it neither raises "not verifiable" nor clears a
        # firmware incident. Every boot storm opened, then resolved, such tickets.
        raises, covers = raises - FIRMWARE_KINDS, covers - FIRMWARE_KINDS
    found = [(FindingKind(f.kind.value), f) for f in check_compliance(entry, firmware, highest_line, model_seen=model_seen)]
    kept = [(kind, finding) for kind, finding in found if kind in raises]
    return Judgement(tuple(finding for _, finding in kept), tuple(kind for kind, _ in kept), True, covers)


def judge_contact(
    ident: Identification,
    entry: CatalogEntry | None,
    device: DeviceRecord | None,
    known_firmware: str | None,
    scope: Scope = CONFIG_FETCH,
    *,
    assessor: Assess = assess,
) -> Judgement:
    """What this contact shows of the phone, within what `scope` can judge.

    `entry` is the catalog row of what the phone is (None: not homologated); `known_firmware`
    the last version it reported trustworthily, used when this contact does not tell it.
    `assessor` is `assess` or a memo of it (the request path's: a storm's phones share a few).
    """
    if not about_a_phone(ident, device):
        return NOT_JUDGED
    firmware = ident.firmware if ident.firmware is not None else known_firmware
    highest_line = max((line.number for line in device.lines), default=0) if device is not None else 0
    return assessor(entry, firmware, highest_line, ident.model, scope)
