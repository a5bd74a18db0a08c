"""identify(): every registered vendor's wire samples (provisioner/vendors/<vendor>/samples.py),
every boot file of every desk model without a User-Agent (TFTP), the <mac>.cfg ambiguity, MAC
notations and hostile names."""

from __future__ import annotations

import pytest

from firmware_catalog import load_catalog
from provisioner.identification import classify, clean_filename, identify, normalize_filename, parse_user_agent
from provisioner.mac import normalize_mac
from provisioner.values import Certainty, Identification, Role
from provisioner.vendors import REGISTERED, vendor_from_oui
from provisioner.vendors.vendor import UaSample

CATALOG = load_catalog()
NONE, IMPROBABLE, PROBABLE, CERTAIN = Certainty.NONE, Certainty.IMPROBABLE, Certainty.PROBABLE, Certainty.CERTAIN


# -- the wire samples: every registered vendor's, so a new vendor's are tested without editing here --
SAMPLES = [(vendor.name, sample) for vendor in REGISTERED for sample in vendor.ua_samples]


@pytest.mark.parametrize(("vendor", "sample"), SAMPLES, ids=lambda s: f"{s.filename} <- {s.user_agent}" if isinstance(s, UaSample) else s)
def test_wire_sample(vendor: str, sample: UaSample) -> None:
    assert identify(sample.filename, sample.user_agent, CATALOG) == sample.expected
    assert sample.expected.vendor == vendor  # kept in the package of the vendor it identifies


def test_every_desk_model_has_a_certain_sample_and_every_sample_a_source() -> None:
    certain = {s.expected.catalog_key for _, s in SAMPLES if s.expected.certainty is CERTAIN}
    assert {e.key for e in CATALOG.desk_models()} <= certain
    real = [s for _, s in SAMPLES if not s.source.startswith("pattern")]
    assert len(real) >= 12 and len(SAMPLES) - len(real) >= 12
    assert all("[" in s.source and "]" in s.source for _, s in SAMPLES)
    assert all(vendor.ua_samples for vendor in REGISTERED)


def test_no_name_is_claimed_outright_by_two_vendors() -> None:
    """A name two vendors' phones ask for must be claimed `shared` by both, so the UA or OUI decides."""
    names = {s.filename.lstrip("/").lower() for _, s in SAMPLES} | {n.lower() for n, _ in BOOT_FILES}
    for name in sorted(names):
        folder, _, base = name.rpartition("/")
        claims = classify(folder, base, CATALOG)
        assert sum(not c.shared for c in claims) <= 1, (name, claims)
    shared = classify("", "001565aabbcc.cfg", CATALOG)
    assert [(c.vendor, c.role, c.shared) for c in shared] == [("polycom", Role.MASTER, True), ("yealink", Role.DEVICE, True)]


@pytest.mark.parametrize(
    ("user_agent", "fields"),
    [
        ("FileTransport PolycomSoundPointIP-SPIP_331-UA/4.0.13.1445 (SN:0004f2aabbcc) Type/Application",
         ("polycom", "SPIP_331", "4.0.13.1445", "0004f2aabbcc", "application")),
        ("FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278 Type/Updater", ("polycom", "VVX_600", "5.8.1.7278", None, "updater")),
        ("FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734", ("polycom", "SPIP_550", "3.2.3.1734", None, None)),
        ("Grandstream Model HW GXV3275 V1.2A SW 1.0.3.198 DevId 000b82aabbcc", ("grandstream", "GXV3275", "1.0.3.198", "000b82aabbcc", None)),
        ("Grandstream Model HW GXP1620 SW 1.0.4.106", ("grandstream", "GXP1620", "1.0.4.106", None, None)),
        ("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", ("yealink", "T21P", "34.72.0.75", "001565aabbcc", None)),
        ("Yealink SIP-T21P 34.72.0.75 001565AABBCC", ("yealink", "T21P", "34.72.0.75", "001565aabbcc", None)),
        ("yealink SIP VP-T49G 51.80.0.100 00:15:65:aa:bb:cc", ("yealink", "T49G", "51.80.0.100", "001565aabbcc", None)),
    ],
)
def test_user_agent_fields(user_agent: str, fields: tuple[object, ...]) -> None:
    ua = parse_user_agent(user_agent)
    assert ua is not None
    assert (ua.vendor, ua.model, ua.firmware, ua.mac, ua.phase) == fields


@pytest.mark.parametrize(
    "user_agent",
    [None, "", "   ", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Jitsi/1.0-beta1-nightly.build.3408",
     "Wget/1.21", "Yealink", "Grandstream Model HW", "FileTransport Polycom", "PolycomVVX-VVX_600-UA/", "x" * 10_000],
)
def test_user_agents_that_name_no_phone(user_agent: str | None) -> None:
    assert parse_user_agent(user_agent) is None


def test_an_unreadable_ua_leaves_the_file_name_answer() -> None:
    assert identify("001565aabbcc.cfg", "Mozilla/5.0", CATALOG) == identify("001565aabbcc.cfg", None, CATALOG)


def test_a_ua_mac_of_zeros_is_no_mac() -> None:
    assert identify("cfg.xml", "Grandstream Model HW GXP1620 SW 1.0.4.106 DevId 000000000000", CATALOG).mac is None


# -- file names only (TFTP has no User-Agent): every boot file of every desk model ------------------
POLYCOM = [  # catalog key, MAC, part number (phones.md §2.1 [PPT])
    ("polycom-ip331", "0004f2000331", "2345-12365-001"),
    ("polycom-ip550", "64167f000550", "2345-12500-001"),
    ("polycom-vvx600", "482567000600", "3111-44600-001"),
]
GRANDSTREAM = [  # catalog key, MAC, model token in cfg<model>.xml, image name (phones.md §3.1, §3.3)
    ("grandstream-gxp1610", "000b82001610", "gxp1610", "gxp1600fw.bin"),
    ("grandstream-gxp1620", "c074ad001620", "gxp1620", "gxp1600fw.bin"),
    ("grandstream-gxp1628", "ec74d7001628", "gxp1628", "gxp1600fw.bin"),
    ("grandstream-gxp1630", "000b82001630", "gxp1630", "gxp1600fw.bin"),
    ("grandstream-gxv3275", "000b82003275", "gxv3275", "gxv3275fw.bin"),
    ("grandstream-dp750", "000b82000750", "dp750", "dp750fw.bin"),
]
YEALINK = [  # catalog key, MAC, common-file code, image (phones.md §4.1, §4.3)
    ("yealink-t19p", "001565000019", "031", "31.72.0.75.rom"),
    ("yealink-t20p", "805ec0000020", "007", "9.73.0.50.rom"),
    ("yealink-t21p", "249ad8000021", "034", "34.72.0.75.rom"),
]


def _polycom_cases() -> list[tuple[str, Identification]]:
    cases = []
    for key, mac, part in POLYCOM:
        def other(name: str, mac: str | None = mac) -> tuple[str, Identification]:
            return name, Identification(Role.OTHER, "polycom", mac=mac, certainty=IMPROBABLE)

        cases += [
            (f"{mac}.cfg", Identification(Role.MASTER, "polycom", mac=mac, certainty=IMPROBABLE)),  # OUI
            ("000000000000.cfg", Identification(Role.MASTER, "polycom", certainty=IMPROBABLE)),
            (f"{part}.sip.ld", Identification(Role.FIRMWARE, "polycom", part, key, certainty=PROBABLE)),
            (f"{part}.{part}.sip.ld", Identification(Role.FIRMWARE, "polycom", part, key, certainty=PROBABLE)),
            (f"{mac}-user.cfg", Identification(Role.DEVICE, "polycom", mac=mac, certainty=IMPROBABLE)),
            ("common.cfg", Identification(Role.COMMON, "polycom", certainty=IMPROBABLE)),
            other(f"{mac}-phone.cfg"), other(f"{mac}-web.cfg"), other(f"{mac}-license.cfg"),
            other("000000000000-license.cfg", None), other(f"{mac}-directory.xml"),
            other("000000000000-directory.xml", None), other(f"{mac}-calls.xml"),
            other(f"{mac}-boot.log"), other(f"{mac}-app.log"),
        ]
    return cases + [("sip.ld", Identification(Role.FIRMWARE, "polycom", certainty=IMPROBABLE))]


def _grandstream_cases() -> list[tuple[str, Identification]]:
    cases = []
    for key, mac, token, image in GRANDSTREAM:
        device = Identification(Role.DEVICE, "grandstream", mac=mac, certainty=IMPROBABLE)
        shared = image == "gxp1600fw.bin"  # one image for the family: no single model
        for folder in ("", "Grandstream/", "/Grandstream/", "/"):
            cases += [
                (f"{folder}cfg{mac}", device),
                (f"{folder}cfg{mac}.xml", device),
                (f"{folder}cfg{mac}.bin", device),
                (f"{folder}cfg{token}.xml", Identification(Role.COMMON, "grandstream", token.upper(), key, certainty=PROBABLE)),
                (f"{folder}cfg.xml", Identification(Role.COMMON, "grandstream", certainty=IMPROBABLE)),
                (f"{folder}{image}", Identification(Role.FIRMWARE, "grandstream", None, None if shared else key, certainty=IMPROBABLE)),
            ]
    return cases


def _yealink_cases() -> list[tuple[str, Identification]]:
    cases = []
    for key, mac, code, image in YEALINK:
        cases += [
            (f"y000000000{code}.cfg", Identification(Role.COMMON, "yealink", f"y000000000{code}", key, certainty=PROBABLE)),
            (f"{mac}.cfg", Identification(Role.DEVICE, "yealink", mac=mac, certainty=IMPROBABLE)),  # OUI
            (image, Identification(Role.FIRMWARE, "yealink", catalog_key=key, certainty=IMPROBABLE)),
        ]
    return cases


BOOT_FILES = _polycom_cases() + _grandstream_cases() + _yealink_cases()


@pytest.mark.parametrize(("filename", "expected"), BOOT_FILES, ids=[name for name, _ in BOOT_FILES])
def test_boot_file_without_user_agent(filename: str, expected: Identification) -> None:
    assert identify(filename, None, CATALOG) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        # Yealink common files of models not homologated: vendor + file stem, no catalog key.
        ("y000000000053.cfg", Identification(Role.COMMON, "yealink", "y000000000053", None, certainty=PROBABLE)),
        ("y000000000000.cfg", Identification(Role.COMMON, "yealink", "y000000000000", None, certainty=PROBABLE)),
        ("34.72.0.60.rom", Identification(Role.FIRMWARE, "yealink", certainty=IMPROBABLE)),  # not our image
        ("2345-12600-001.sip.ld", Identification(Role.FIRMWARE, "polycom", "2345-12600-001", None, certainty=PROBABLE)),
        ("3111-44500-001.3111-44500-001.sip.ld",
         Identification(Role.FIRMWARE, "polycom", "3111-44500-001", None, certainty=PROBABLE)),  # VVX 500 [ORYK]
        ("cfggxp1615.xml", Identification(Role.COMMON, "grandstream", "GXP1615", None, certainty=PROBABLE)),  # [GS-MODEL]
        ("cfggrp2614.xml", Identification(Role.COMMON, "grandstream", "GRP2614", None, certainty=PROBABLE)),  # [GS-DOC]
        ("sip.cfg", Identification(Role.OTHER, "polycom", certainty=IMPROBABLE)),
        ("phone1.cfg", Identification(Role.OTHER, "polycom", certainty=IMPROBABLE)),
        ("000000000000-user.cfg", Identification(Role.DEVICE, "polycom", certainty=IMPROBABLE)),  # no MAC in it
    ],
)
def test_other_vendor_names(filename: str, expected: Identification) -> None:
    assert identify(filename, None, CATALOG) == expected


# -- <mac>.cfg: Polycom master or Yealink device ---------------------------------------------------
@pytest.mark.parametrize(
    ("mac", "role", "vendor", "certainty"),
    [
        ("0004f2aabbcc", Role.MASTER, "polycom", IMPROBABLE),
        ("64167faabbcc", Role.MASTER, "polycom", IMPROBABLE),
        ("482567aabbcc", Role.MASTER, "polycom", IMPROBABLE),
        ("001565aabbcc", Role.DEVICE, "yealink", IMPROBABLE),
        ("e434d7aabbcc", Role.DEVICE, "yealink", IMPROBABLE),
        ("f01653aabbcc", Role.DEVICE, "yealink", IMPROBABLE),
        ("000b82aabbcc", Role.DEVICE, None, NONE),  # Grandstream phones never ask for <mac>.cfg
        ("aabbccddeeff", Role.DEVICE, None, NONE),  # unknown OUI: the server uses the assigned model's vendor
    ],
)
def test_mac_cfg_without_user_agent_takes_the_vendor_from_the_oui(
    mac: str, role: Role, vendor: str | None, certainty: Certainty
) -> None:
    assert identify(f"{mac}.cfg", None, CATALOG) == Identification(role, vendor, mac=mac, certainty=certainty)


def test_mac_cfg_with_a_user_agent_takes_the_vendor_from_it() -> None:
    polycom = identify("aabbccddeeff.cfg", "FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278 Type/Application", CATALOG)
    assert (polycom.role, polycom.vendor, polycom.certainty) == (Role.MASTER, "polycom", CERTAIN)
    yealink = identify("0004f2aabbcc.cfg", "Yealink SIP-T21P 34.72.0.75 00:04:f2:aa:bb:cc", CATALOG)  # UA beats OUI
    assert (yealink.role, yealink.vendor, yealink.certainty) == (Role.DEVICE, "yealink", CERTAIN)


# -- MAC case and notations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "role"),
    [
        ("0015651A2B3C.cfg", Role.DEVICE), ("/0015651A2B3C.CFG", Role.DEVICE),
        ("0004F21A2B3C-user.cfg", Role.DEVICE), ("0004F21A2B3C.cfg", Role.MASTER),
        ("CFG000B821A2B3C.XML", Role.DEVICE), ("Grandstream/cfg000B821A2B3C", Role.DEVICE),
        ("GRANDSTREAM/CFG000B821A2B3C.xml", Role.DEVICE),
    ],
)
def test_macs_in_file_names_in_any_case(filename: str, role: Role) -> None:
    found = identify(filename, None, CATALOG)
    assert found.role is role
    assert found.mac is not None and found.mac == found.mac.lower() and len(found.mac) == 12
    assert found.mac.endswith("1a2b3c")


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("00:15:65:AA:BB:CC", "001565aabbcc"), ("00-15-65-aa-bb-cc", "001565aabbcc"), ("001565aabbcc", "001565aabbcc"),
        ("0015.65aa.bbcc", "001565aabbcc"), ("001565AABBCC", "001565aabbcc"), (" 00:15:65:aa:bb:cc\n", "001565aabbcc"),
        ("", None), (None, None), ("00:15:65:aa:bb", None), ("00:15:65:aa:bb:cc:dd", None), ("00:15-65:aa:bb:cc", None),
        ("0:15:65:aa:bb:cc", None), ("00:15:65:aa:bb:gg", None), ("001565aabbc", None), ("001565aabbccd", None),
        ("0015:65aa:bbcc", None), ("00 15 65 aa bb cc", None), ("００１５６５ａａｂｂｃｃ", None),
    ],
)
def test_normalize_mac(text: str | None, mac: str | None) -> None:
    assert normalize_mac(text) == mac


@pytest.mark.parametrize(
    ("mac", "vendor"),
    [
        ("00:04:f2:aa:bb:cc", "polycom"), ("64167faabbcc", "polycom"), ("48-25-67-aa-bb-cc", "polycom"),
        ("000b82aabbcc", "grandstream"), ("C0:74:AD:aa:bb:cc", "grandstream"), ("ec74d7aabbcc", "grandstream"),
        ("001565aabbcc", "yealink"), ("805e0caabbcc", "yealink"), ("c4fc22aabbcc", "yealink"),
        ("aabbccddeeff", None), ("not a mac", None), (None, None),
    ],
)
def test_vendor_from_oui(mac: str | None, vendor: str | None) -> None:
    assert vendor_from_oui(mac) == vendor


# -- hostile and unknown names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "filename",
    [
        "", "/", "//", "../001565aabbcc.cfg", "/../001565aabbcc.cfg", "..", "Grandstream/../cfg.xml", "a/../b",
        "//etc/passwd", "/etc/passwd", "\\001565aabbcc.cfg", "Grandstream\\cfg.xml", "..\\..\\boot.ini",
        "001565aabbcc.cfg\x00.txt", "cfg.xml\n", "other/cfg.xml", "Grandstream/", "Grandstream//cfg.xml",
        "polycom/common.cfg", "./common.cfg", "C:/common.cfg", "a" * 300 + ".cfg",
    ],
)
def test_path_tricks_are_unknown_and_say_nothing(filename: str) -> None:
    ua = "Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc"
    assert identify(filename, ua, CATALOG) == Identification(Role.UNKNOWN)
    assert clean_filename(filename) is None


@pytest.mark.parametrize(
    "filename",
    ["index.html", "favicon.ico", "001565aabbcc.boot", "y000000000000.boot", "001565aabbc.cfg", "0015651a2b3g.cfg",
     "cfg001565aabbcc.txt", "Grandstream/common.cfg", "Grandstream/001565aabbcc.cfg", "sip.ld.bak", "%2e%2e%2fcfg.xml",
     "common.cfg ", " common.cfg", "yealink.cfg", "y00000000034.cfg"],
)
def test_names_no_homologated_phone_asks_for_are_unknown(filename: str) -> None:
    assert identify(filename, None, CATALOG).role is Role.UNKNOWN


def test_a_leading_slash_is_stripped_once() -> None:
    assert identify("/y000000000034.cfg", None, CATALOG) == identify("y000000000034.cfg", None, CATALOG)
    assert clean_filename("/Grandstream/cfg.xml") == ("grandstream", "cfg.xml")


@pytest.mark.parametrize("filename", [name for name, _ in BOOT_FILES])
def test_renderers_see_the_name_identification_read(filename: str) -> None:
    cleaned = clean_filename(filename)
    assert cleaned is not None and normalize_filename(filename) == cleaned[1]
    assert normalize_filename(filename) == filename.lstrip("/").removeprefix("Grandstream/").lower()


def test_a_refused_name_normalises_to_nothing() -> None:
    assert normalize_filename("../001565aabbcc.cfg") == "" and normalize_filename("other/cfg.xml") == ""
