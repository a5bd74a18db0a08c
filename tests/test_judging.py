"""judge_contact as a table of real contacts: the three vendors' desk phones, identified from
their real User-Agents and file names, against the homologated catalog (pure: no database)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from firmware_catalog import CatalogEntry
from firmware_catalog import FindingKind as CatalogKind
from firmware_catalog import load_catalog
from provisioner.findings import (
    CONFIG_FETCH,
    FIRMWARE_KINDS,
    NOT_JUDGED,
    PROVISIONING_KINDS,
    SNMP_POLL,
    FindingKind,
    Scope,
    assess,
    judge_contact,
)
from provisioner.identification import identify
from provisioner.incidents import URGENCY_BY_FINDING, DeviceFinding, subject_for
from provisioner.values import DeviceRecord, Identification, LineView, Role

CATALOG = load_catalog()
OLDER, NEWER, UNKNOWN = FindingKind.FIRMWARE_OLDER, FindingKind.FIRMWARE_NEWER, FindingKind.FIRMWARE_UNKNOWN
LINES, NOT_HOMOLOGATED = FindingKind.LINES_EXCEEDED, FindingKind.MODEL_NOT_HOMOLOGATED
BLIND = PROVISIONING_KINDS - FIRMWARE_KINDS  # what a contact that cannot tell the firmware covers


def device(mac: str, model_key: str, lines: int) -> DeviceRecord:
    return DeviceRecord(
        1, mac, model_key,
        tuple(LineView(n, f"20{n}", f"Persona {n}", f"20{n} Persona {n}", f"20{n}", "secreto") for n in range(1, lines + 1)),
        "Ventas",
    )


class Contact(NamedTuple):
    name: str
    filename: str
    user_agent: str | None
    device: DeviceRecord | None
    known_firmware: str | None
    kinds: tuple[FindingKind, ...]
    seen: tuple[str | None, ...]  # each finding's observed value
    covers: frozenset[FindingKind]


T21P = device("001565a1b203", "yealink-t21p", 1)
GXP1620 = device("000b82aabbcc", "grandstream-gxp1620", 2)
VVX600 = device("0004f2aa0001", "polycom-vvx600", 1)
CONTACTS = [
    # Yealink T21P (homologated 34.72.0.75, 1 line)
    Contact("yealink compliant", "001565a1b203.cfg", "Yealink SIP-T21P 34.72.0.75 00:15:65:a1:b2:03", T21P, None,
            (), (), PROVISIONING_KINDS),
    Contact("yealink older firmware", "001565a1b203.cfg", "Yealink SIP-T21P 34.72.0.60 00:15:65:a1:b2:03", T21P, None,
            (OLDER,), ("34.72.0.60",), PROVISIONING_KINDS),
    Contact("yealink too many lines", "001565a1b203.cfg", "Yealink SIP-T21P 34.72.0.75 00:15:65:a1:b2:03",
            device("001565a1b203", "yealink-t21p", 2), None, (LINES,), ("2",), PROVISIONING_KINDS),
    Contact("yealink not homologated (T46S)", "001565a1b246.cfg", "Yealink SIP-T46S 66.86.0.15 00:15:65:a1:b2:46", None,
            None, (NOT_HOMOLOGATED,), ("T46S",), PROVISIONING_KINDS),
    # Grandstream GXP1620 (1.0.4.106, 2 lines)
    Contact("grandstream compliant", "cfg000b82aabbcc.xml", "Grandstream Model HW GXP1620 SW 1.0.4.106 DevId 000b82aabbcc",
            GXP1620, None, (), (), PROVISIONING_KINDS),
    Contact("grandstream older firmware and too many lines", "cfg000b82aabbcc.xml",
            "Grandstream Model HW GXP1620 SW 1.0.3.92 DevId 000b82aabbcc", device("000b82aabbcc", "grandstream-gxp1620", 3),
            None, (OLDER, LINES), ("1.0.3.92", "3"), PROVISIONING_KINDS),
    Contact("grandstream newer firmware", "cfg000b82aabbcc.xml", "Grandstream Model HW GXP1620 SW 1.0.7.13 DevId 000b82aabbcc",
            GXP1620, None, (NEWER,), ("1.0.7.13",), PROVISIONING_KINDS),
    Contact("grandstream over TFTP, no firmware known", "cfg000b82aabbcc.xml", None, GXP1620, None, (), (), BLIND),
    Contact("grandstream over TFTP, an older firmware remembered", "cfg000b82aabbcc.xml", None, GXP1620, "1.0.3.92",
            (OLDER,), ("1.0.3.92",), PROVISIONING_KINDS),
    # Polycom VVX 600 (5.8.1.7278, 1 line)
    Contact("polycom compliant", "0004f2aa0001-user.cfg", "FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278 Type/Application",
            VVX600, None, (), (), PROVISIONING_KINDS),
    Contact("polycom older firmware", "0004f2aa0001-user.cfg",
            "FileTransport PolycomVVX-VVX_600-UA/5.8.0.1234 Type/Application", VVX600, None, (OLDER,), ("5.8.0.1234",),
            PROVISIONING_KINDS),
    Contact("polycom updater: its version is the boot loader's", "0004f2aa0001.cfg",
            "FileTransport PolycomVVX-VVX_600-UA/5.9.7.47435 Type/Updater", VVX600, None, (), (), BLIND),
    Contact("polycom not homologated (VVX 500), unassigned", "0004f282e824-phone.cfg",
            "FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application", None, None, (NOT_HOMOLOGATED,),
            ("VVX_500",), PROVISIONING_KINDS),
]


def what_it_is(ident: Identification, assigned: DeviceRecord | None) -> CatalogEntry | None:
    """The catalog row, by the service's rule: the phone's own report first, else its assignment."""
    if ident.model:
        return CATALOG.get(ident.catalog_key) if ident.catalog_key else None
    return CATALOG.get(assigned.model_key) if assigned else None


@pytest.mark.parametrize("contact", CONTACTS, ids=[c.name for c in CONTACTS])
def test_a_config_fetch_is_judged_from_what_it_shows_and_what_is_known(contact: Contact) -> None:
    ident = identify(contact.filename, contact.user_agent, CATALOG)
    judgement = judge_contact(ident, what_it_is(ident, contact.device), contact.device, contact.known_firmware)
    assert judgement.judged
    assert judgement.kinds == contact.kinds
    assert tuple(f.observed for f in judgement.findings) == contact.seen
    assert judgement.covers == contact.covers
    assert all(type(kind) is FindingKind for kind in judgement.kinds)


@pytest.mark.parametrize(
    ("filename", "user_agent", "assigned"),
    [
        ("000000000000.cfg", "FileTransport PolycomVVX-VVX_600-UA/5.9.7.47435 Type/Updater", None),  # no MAC
        ("y000000000034.cfg", None, None),  # a common file over TFTP: no phone named
        ("cfg000b82aabbcd.xml", None, None),  # a MAC, but nothing says what it is
    ],
)
def test_a_contact_that_names_no_phone_is_not_judged(filename: str, user_agent: str | None, assigned: None) -> None:
    ident = identify(filename, user_agent, CATALOG)
    assert judge_contact(ident, None, assigned, "1.0.0.1") == NOT_JUDGED


def poll(firmware: str | None, assigned: DeviceRecord) -> Identification:
    """An SNMP reading as the verifier hands it to judge_contact: the agent's firmware only."""
    return Identification(Role.OTHER, vendor="yealink", firmware=firmware, mac=assigned.mac)


@pytest.mark.parametrize(
    ("firmware", "assigned", "kinds", "covers"),
    [
        ("34.72.0.75", T21P, (), FIRMWARE_KINDS),
        ("34.72.0.60", T21P, (OLDER,), FIRMWARE_KINDS),
        ("34.72.1.2", T21P, (NEWER,), FIRMWARE_KINDS),
        ("v34-beta", T21P, (), FIRMWARE_KINDS),  # an odd agent string settles "not verifiable", raises nothing
        (None, T21P, (), frozenset()),  # the agent gave no version: nothing judged about firmware
        ("34.72.0.75", device("001565a1b203", "yealink-t21p", 3), (), FIRMWARE_KINDS),  # lines are not SNMP's
    ],
)
def test_an_snmp_poll_is_judged_by_the_same_function_within_its_scope(
    firmware: str | None, assigned: DeviceRecord, kinds: tuple[FindingKind, ...], covers: frozenset[FindingKind]
) -> None:
    judgement = judge_contact(poll(firmware, assigned), CATALOG.get(assigned.model_key), assigned, None, SNMP_POLL)
    assert judgement.judged and judgement.kinds == kinds and judgement.covers == covers


def test_a_memo_of_assess_judges_exactly_like_assess() -> None:
    calls: list[tuple[object, ...]] = []

    def memo(*args: object) -> object:
        calls.append(args)
        return assess(*args)  # type: ignore[arg-type]

    ident = identify("001565a1b203.cfg", "Yealink SIP-T21P 34.72.0.60 00:15:65:a1:b2:03", CATALOG)
    entry = CATALOG.get("yealink-t21p")
    assert judge_contact(ident, entry, T21P, None, assessor=memo) == judge_contact(ident, entry, T21P, None)  # type: ignore[arg-type]
    assert calls == [(entry, "34.72.0.60", 1, ident.model, CONFIG_FETCH)] and ident.model


def test_every_finding_kind_is_one_enum_with_the_catalogs_values_and_a_ticket_wording() -> None:
    assert {kind.value for kind in CatalogKind} <= {kind.value for kind in FindingKind}
    assert PROVISIONING_KINDS == {FindingKind(kind.value) for kind in CatalogKind}
    assert set(URGENCY_BY_FINDING) == set(FindingKind)
    for kind in FindingKind:
        finding = DeviceFinding("acme", kind, "001565a1b203", "T21P", None, None, "Ventas", None, "10.0.0.1", "http")  # type: ignore[arg-type]
        assert not subject_for(finding, 1).startswith(kind.value), f"{kind} has no Spanish title"


def test_scopes_are_hashable_values() -> None:
    assert hash(CONFIG_FETCH) == hash(Scope(PROVISIONING_KINDS, PROVISIONING_KINDS))
    assert SNMP_POLL.raises < SNMP_POLL.covers == FIRMWARE_KINDS
