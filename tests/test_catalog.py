"""The homologated catalog against the operator's rulebook, its look-ups, its loader and its review.

RULEBOOK is service-model.md §9 pasted verbatim: the packaged TOML is checked against it cell by
cell, so a typo in either shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_catalog import (
    Catalog,
    CatalogEntry,
    CatalogError,
    UnknownModelError,
    check_catalog,
    load_catalog,
    suspicious_keys,
)
from firmware_catalog.check import ERROR, FIRMWARE_FACTS, WARNING, FirmwareFact, firmware_beyond_public_builds
from firmware_catalog.catalog import VENDORS as CATALOG_VENDORS
from provisioner.vendors import VENDORS, firmware_file_names

IMAGE_NAMES = firmware_file_names()  # the vendor packages' facts, as `provisioner catalog check` passes them

CATALOG = load_catalog()
DATA = Path(__file__).resolve().parent.parent / "firmware_catalog" / "homologated.toml"

RULEBOOK = """
| WeKall | WeKall APP Windows | 5.2.27 | 1 |
| Polycom | SoundPoint IP 331 | 4.0.13.1445 | 2 |
| Polycom | SoundPoint IP 550 | 5.0.13.0881 | 1 |
| Polycom | VVX600 | 5.8.1.7278 | 1 |
| Grandstream | GXP1610 | 1.0.4.106 | 2 |
| Grandstream | GXP1620 | 1.0.4.106 | 2 |
| Grandstream | GXP1628 | 1.0.4.106 | 2 |
| Grandstream | GXP1630 | 1.0.4.106 | 3 |
| Grandstream | GXV3275 | 1.0.3.198 | 6 |
| Grandstream | DP750 DECT | 1.0.4.2 | 5 |
| Grandstream | Wave iOS | 1.2.9.3 | 1 |
| Grandstream | Wave Android | 1.0.3.26 | 1 |
| Yealink | T19P | 31.72.0.75 | 1 |
| Yealink | T20P | 9.73.0.50 | 1 |
| Yealink | T21P | 34.72.0.75 | 1 |
| Jitsi | Windows | 2.11.5608 | 1 |
| Jitsi | MacOS | 2.11.5608 | 1 |
"""
# Where the built-in table departs from the rulebook, and why (homologated.toml's header): the
# IP 550's 5.0.13.0881 never shipped for it (issue 15) [WZ-PHIST] [PPT].
CORRECTED = {"polycom-ip550": "4.0.13.1445"}
# The rulebook row each catalog key stands for.
KEYS = {
    ("WeKall", "WeKall APP Windows"): "wekall-app-windows",
    ("Polycom", "SoundPoint IP 331"): "polycom-ip331",
    ("Polycom", "SoundPoint IP 550"): "polycom-ip550",
    ("Polycom", "VVX600"): "polycom-vvx600",
    ("Grandstream", "GXP1610"): "grandstream-gxp1610",
    ("Grandstream", "GXP1620"): "grandstream-gxp1620",
    ("Grandstream", "GXP1628"): "grandstream-gxp1628",
    ("Grandstream", "GXP1630"): "grandstream-gxp1630",
    ("Grandstream", "GXV3275"): "grandstream-gxv3275",
    ("Grandstream", "DP750 DECT"): "grandstream-dp750",
    ("Grandstream", "Wave iOS"): "grandstream-wave-ios",
    ("Grandstream", "Wave Android"): "grandstream-wave-android",
    ("Yealink", "T19P"): "yealink-t19p",
    ("Yealink", "T20P"): "yealink-t20p",
    ("Yealink", "T21P"): "yealink-t21p",
    ("Jitsi", "Windows"): "jitsi-windows",
    ("Jitsi", "MacOS"): "jitsi-macos",
}


def rulebook_rows() -> list[tuple[str, str, str, int]]:
    rows = []
    for line in RULEBOOK.strip().splitlines():
        vendor, model, firmware, lines = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append((vendor, model, firmware, int(lines)))
    return rows


# -- the 17 rows against the rulebook ---------------------------------------------------------
def test_the_catalog_has_exactly_the_rulebook_rows_in_its_order() -> None:
    assert len(rulebook_rows()) == 17
    assert [e.key for e in CATALOG.entries] == [KEYS[(v, m)] for v, m, _, _ in rulebook_rows()]


@pytest.mark.parametrize(("vendor", "model", "firmware", "lines"), rulebook_rows(), ids=lambda v: str(v))
def test_each_row_matches_the_rulebook(vendor: str, model: str, firmware: str, lines: int) -> None:
    entry = CATALOG.get(KEYS[(vendor, model)])
    firmware = CORRECTED.get(entry.key, firmware)
    assert (entry.vendor, entry.model, entry.firmware, entry.lines) == (vendor.lower(), model, firmware, lines)


# Vendor facts, transcribed from phones.md §0/§2.1/§2.5/§3.3/§3.6/§4.1/§4.3/§4.5.
VENDOR_FACTS = [
    # key, kind, device_max_lines, part_number, common_file_code, firmware_file
    ("wekall-app-windows", "softphone", None, None, None, None),
    ("polycom-ip331", "desk", 2, "2345-12365-001", None, "2345-12365-001.sip.ld"),
    ("polycom-ip550", "desk", 4, "2345-12500-001", None, "2345-12500-001.sip.ld"),
    ("polycom-vvx600", "desk", 16, "3111-44600-001", None, "3111-44600-001.sip.ld"),
    ("grandstream-gxp1610", "desk", 1, None, None, "gxp1600fw.bin"),
    ("grandstream-gxp1620", "desk", 2, None, None, "gxp1600fw.bin"),
    ("grandstream-gxp1628", "desk", 2, None, None, "gxp1600fw.bin"),
    ("grandstream-gxp1630", "desk", 3, None, None, "gxp1600fw.bin"),
    ("grandstream-gxv3275", "video", 6, None, None, "gxv3275fw.bin"),
    ("grandstream-dp750", "dect", 10, None, None, "dp750fw.bin"),
    ("grandstream-wave-ios", "mobile", 6, None, None, None),
    ("grandstream-wave-android", "mobile", 6, None, None, None),
    ("yealink-t19p", "desk", 1, None, "031", "31.72.0.75.rom"),
    ("yealink-t20p", "desk", 2, None, "007", "9.73.0.50.rom"),
    ("yealink-t21p", "desk", 2, None, "034", "34.72.0.75.rom"),
    ("jitsi-windows", "softphone", None, None, None, None),
    ("jitsi-macos", "softphone", None, None, None, None),
]


@pytest.mark.parametrize(("key", "kind", "max_lines", "part", "code", "image"), VENDOR_FACTS, ids=lambda v: str(v))
def test_each_row_carries_its_vendor_facts(
    key: str, kind: str, max_lines: int | None, part: str | None, code: str | None, image: str | None
) -> None:
    entry = CATALOG.get(key)
    assert (entry.kind, entry.device_max_lines, entry.part_number, entry.common_file_code, entry.firmware_file) == (
        kind, max_lines, part, code, image,
    )


def test_unpublished_image_names_say_so_in_their_notes() -> None:
    for key in ("grandstream-gxv3275", "grandstream-dp750"):
        assert "not in any public source" in CATALOG.get(key).notes


def test_every_fact_in_the_data_file_cites_a_source() -> None:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    cited_fields = ("firmware =", "lines =", "device_max_lines =", "part_number =", "common_file_code =", "firmware_file =")
    for line in lines:
        if line.startswith(cited_fields):
            comment = line.partition("#")[2]
            assert "[" in comment or "SM§9" in comment or "phones.md §" in comment, f"no source: {line}"


def test_desk_models_are_the_phones_provisioned_by_mac() -> None:
    # 3 Polycom + 4 GXP16xx + GXV3275 + DP750 + 3 Yealink (the softphones and Wave are not).
    assert [e.key for e in CATALOG.desk_models()] == [
        "polycom-ip331", "polycom-ip550", "polycom-vvx600",
        "grandstream-gxp1610", "grandstream-gxp1620", "grandstream-gxp1628", "grandstream-gxp1630",
        "grandstream-gxv3275", "grandstream-dp750",
        "yealink-t19p", "yealink-t20p", "yealink-t21p",
    ]
    assert all(e.template in ("polycom", "grandstream", "yealink") for e in CATALOG.desk_models())


# -- look-ups ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("T21P", "yealink-t21p"), ("SIP-T21P", "yealink-t21p"), ("Yealink T21P", "yealink-t21p"),
        ("sip_t21p", "yealink-t21p"), ("  t21p ", "yealink-t21p"), ("yealink-t21p", "yealink-t21p"),
        ("SIP-T19P", "yealink-t19p"), ("T20P", "yealink-t20p"),
        ("GXP1620", "grandstream-gxp1620"), ("grandstream gxp1620", "grandstream-gxp1620"),
        ("gxp1610", "grandstream-gxp1610"), ("GXP-1630", "grandstream-gxp1630"), ("GXV3275", "grandstream-gxv3275"),
        ("DP750", "grandstream-dp750"), ("DP750 DECT", "grandstream-dp750"), ("Wave Android", "grandstream-wave-android"),
        ("VVX600", "polycom-vvx600"), ("VVX_600", "polycom-vvx600"), ("VVX 600", "polycom-vvx600"),
        ("Polycom VVX 600", "polycom-vvx600"),
        ("SPIP_331", "polycom-ip331"), ("SPIP331", "polycom-ip331"), ("IP 331", "polycom-ip331"),
        ("IP331", "polycom-ip331"), ("SoundPoint IP 331", "polycom-ip331"), ("SPIP_550", "polycom-ip550"),
        ("Windows", "jitsi-windows"), ("Jitsi MacOS", "jitsi-macos"), ("WeKall APP Windows", "wekall-app-windows"),
    ],
)
def test_find_resolves_every_name_phones_and_installers_use(token: str, key: str) -> None:
    entry = CATALOG.find(token)
    assert entry is not None and entry.key == key


@pytest.mark.parametrize(
    "token",
    ["", "   ", "T46S", "SIP-T46S", "T19P_E2", "VVX_400", "SPIP_335", "GXP1615", "GXP2135", "Yealink", "Polycom", "IP 33", "T21"],
)
def test_find_answers_none_for_what_is_not_homologated(token: str) -> None:
    assert CATALOG.find(token) is None


def test_find_can_be_limited_to_one_vendor() -> None:
    assert CATALOG.find("T21P", vendor="yealink") is CATALOG.get("yealink-t21p")
    assert CATALOG.find("T21P", vendor="YEALINK") is CATALOG.get("yealink-t21p")
    assert CATALOG.find("T21P", vendor="polycom") is None
    assert CATALOG.find("Yealink T21P", vendor="grandstream") is None


def test_get_raises_a_key_error_naming_the_key() -> None:
    with pytest.raises(KeyError) as caught:
        CATALOG.get("yealink-t46s")
    assert isinstance(caught.value, UnknownModelError)
    assert str(caught.value) == "no homologated model with key 'yealink-t46s'"


def test_by_part_number_common_file_code_and_firmware_file() -> None:
    assert CATALOG.by_part_number("2345-12365-001") is CATALOG.get("polycom-ip331")
    assert CATALOG.by_part_number("2345-12500-001") is CATALOG.get("polycom-ip550")
    assert CATALOG.by_part_number("3111-44600-001") is CATALOG.get("polycom-vvx600")
    assert CATALOG.by_part_number("2345-12600-001") is None  # IP 650: not homologated
    assert CATALOG.by_common_file_code("031") is CATALOG.get("yealink-t19p")
    assert CATALOG.by_common_file_code("007") is CATALOG.get("yealink-t20p")
    assert CATALOG.by_common_file_code("034") is CATALOG.get("yealink-t21p")
    assert CATALOG.by_common_file_code("053") is None  # T19P E2
    assert [e.key for e in CATALOG.by_firmware_file("gxp1600fw.bin")] == [
        "grandstream-gxp1610", "grandstream-gxp1620", "grandstream-gxp1628", "grandstream-gxp1630",
    ]
    assert [e.key for e in CATALOG.by_firmware_file("34.72.0.75.rom")] == ["yealink-t21p"]
    assert [e.key for e in CATALOG.by_firmware_file("GXP1600FW.BIN")] == [e.key for e in CATALOG.by_firmware_file("gxp1600fw.bin")]
    assert CATALOG.by_firmware_file("34.72.0.60.rom") == []


def test_the_packaged_catalog_is_read_once() -> None:
    assert load_catalog() is load_catalog()
    assert load_catalog(DATA) is not CATALOG and load_catalog(DATA).entries == CATALOG.entries


# -- the loader refuses bad files, naming row and field ----------------------------------------
GOOD_ROW = """
[[model]]
key = "yealink-t21p"
vendor = "yealink"
model = "T21P"
kind = "desk"
firmware = "34.72.0.75"
lines = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_row_loads_with_defaults(tmp_path: Path) -> None:
    (entry,) = load_catalog(write(tmp_path, GOOD_ROW)).entries
    assert entry == CatalogEntry("yealink-t21p", "yealink", "T21P", "desk", "34.72.0.75", 1, None)


SECOND_ROW = GOOD_ROW.replace("t21p", "t20p").replace("T21P", "T20P").replace("34.72.0.75", "9.73.0.50")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("lines = 1", ""), "lines", "row 2 (yealink-t20p): field 'lines' is missing"),
        (("lines = 1", "lines = 0"), "lines", "field 'lines' must be a whole number of 1 or more, not 0"),
        (("lines = 1", 'lines = "1"'), "lines", "field 'lines' must be a whole number of 1 or more, not '1'"),
        (("lines = 1", "lines = true"), "lines", "field 'lines' must be a whole number of 1 or more, not True"),
        (("lines = 1", "lines = 1\ndevice_max_lines = -2"), "device_max_lines", "not -2"),
        (('kind = "desk"', 'kind = "tablet"'), "kind", "'tablet' is not one of desk, dect, video, softphone, mobile"),
        (('vendor = "yealink"', 'vendor = "Yealink"'), "vendor", "'Yealink' is not one of"),
        (('vendor = "yealink"', 'vendor = "polycom"'), "key", "must start with its vendor, 'polycom'-"),
        (('key = "yealink-t20p"', 'key = "Yealink T20P"'), "key", "is not lower-case words joined by '-'"),
        (('key = "yealink-t20p"', ""), "key", "row 2: field 'key' is missing"),
        (('model = "T20P"', 'model = ""'), "model", "must be non-empty text, not ''"),
        (('model = "T20P"', 'model = "T20P"\naliases = "T20P"'), "aliases", "must be a list of non-empty text"),
        (('model = "T20P"', 'model = "T20P"\naliases = ["T20P", ""]'), "aliases", "must be a list of non-empty text"),
        (('model = "T20P"', 'model = "T20P"\ncolour = "white"'), "colour", "unknown field"),
        (('model = "T20P"', 'model = "T20P"\npart_number = "2345-1236-001"'), "part_number", "is not a Polycom part number"),
        (('model = "T20P"', 'model = "T20P"\ncommon_file_code = "7"'), "common_file_code", "is not three digits"),
        (('model = "T20P"', 'model = "T20P"\nfirmware_file = "../x.rom"'), "firmware_file", "is not a plain file name"),
        (('key = "yealink-t20p"', 'key = "yealink-t21p"'), "key", "duplicates row 1"),
    ],
)
def test_a_bad_row_is_refused_naming_row_and_field(tmp_path: Path, change: tuple[str, str], field: str, message: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(write(tmp_path, GOOD_ROW + SECOND_ROW.replace(*change)))
    assert (caught.value.row, caught.value.field) == (2, field)
    assert caught.value.line is not None  # the field's line, else its row's [[model]] line
    assert f", line {caught.value.line}: " in str(caught.value)
    assert message in str(caught.value).replace(f", line {caught.value.line}", "")
    assert str(caught.value).startswith(f"{tmp_path / 'catalog.toml'}: row 2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[model]] tables"),
        ("model = 3", "no [[model]] tables"),
        ('[[model]\nkey = "x"', "not a readable TOML file"),
        (GOOD_ROW + "\n[extra]\nx = 1\n", "unexpected top-level entry 'extra'"),
    ],
)
def test_a_bad_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("[", r"\[")):
        load_catalog(write(tmp_path, text))


def test_a_catalog_refuses_two_rows_with_one_key() -> None:
    entry = CATALOG.get("yealink-t21p")
    with pytest.raises(CatalogError, match="appears twice"):
        Catalog([entry, entry])


# -- the review against vendor facts -----------------------------------------------------------
def test_the_review_finds_exactly_the_gxp1610_lines() -> None:
    problems = check_catalog(CATALOG, IMAGE_NAMES)
    assert problems == check_catalog(CATALOG)  # the shipped rows name every image as the phones ask
    assert [(p.key, p.field, p.severity) for p in problems] == [("grandstream-gxp1610", "lines", WARNING)]
    assert problems[0].message.startswith("homologated for 2 lines but the GXP1610 has 1 SIP account: only 1 offered")
    assert suspicious_keys(CATALOG) == frozenset({"grandstream-gxp1610"})


def test_the_rulebooks_ip550_firmware_is_the_contradiction_the_review_reports() -> None:
    """The row as the rulebook wrote it (before issue 15's correction) is an error, naming the
    newest public build."""
    problems = check_catalog(variant("polycom-ip550", firmware="5.0.13.0881"), IMAGE_NAMES)
    firmware = next(p for p in problems if p.key == "polycom-ip550")
    assert (firmware.field, firmware.severity) == ("firmware", ERROR)
    assert "5.0.13.0881" in firmware.message and "4.0.15.1009" in firmware.message


def variant(key: str, **changes: object) -> Catalog:
    """The real catalog with one row changed."""
    from dataclasses import replace

    return Catalog(replace(e, **changes) if e.key == key else e for e in CATALOG.entries)  # type: ignore[arg-type]


def problems_of(catalog: Catalog) -> set[tuple[str, str, str]]:
    known = {("grandstream-gxp1610", "lines"), ("polycom-ip550", "firmware")}
    return {(p.key, p.field, p.severity) for p in check_catalog(catalog, IMAGE_NAMES) if (p.key, p.field) not in known}


def test_lines_below_or_at_the_device_maximum_are_fine_and_above_it_are_a_warning() -> None:
    """Above it is a warning: firmware_catalog.lines offers the device's accounts only."""
    assert problems_of(variant("yealink-t20p", lines=2)) == set()  # 2 of 2
    assert problems_of(variant("yealink-t20p", lines=3)) == {("yealink-t20p", "lines", "warning")}
    assert problems_of(variant("jitsi-windows", lines=40)) == set()  # device maximum unknown


def test_a_firmware_that_does_not_parse_is_an_error() -> None:
    found = check_catalog(variant("yealink-t21p", firmware="34.72.0.75-beta", firmware_file="34.72.0.75-beta.rom"), IMAGE_NAMES)
    assert [(p.field, p.severity) for p in found if p.key == "yealink-t21p"] == [("firmware", "error")]
    assert "'34.72.0.75-beta' is not a firmware version" in next(p.message for p in found if p.key == "yealink-t21p")


def test_the_ip550_fact_is_data_and_a_4x_firmware_passes() -> None:
    assert problems_of(variant("polycom-ip550", firmware="4.0.13.1445")) == set()
    assert not list(firmware_beyond_public_builds(variant("polycom-ip550", firmware="4.0.15.1009")))
    fact = FirmwareFact("yealink-t21p", below="34.80", newest_public=None, sources="[TEST]")
    assert [p.key for p in firmware_beyond_public_builds(CATALOG, (fact,))] == []
    fact = FirmwareFact("yealink-t21p", below="34.72.0.75", newest_public=None, sources="[TEST]")
    assert [p.key for p in firmware_beyond_public_builds(CATALOG, (fact,))] == ["yealink-t21p"]
    assert {f.key for f in FIRMWARE_FACTS} <= {e.key for e in CATALOG.entries}


def test_a_name_two_rows_share_is_an_error_and_finds_nothing() -> None:
    catalog = variant("yealink-t20p", aliases=("SIP-T20P", "T21P"))
    assert catalog.find("T21P") is None
    assert problems_of(catalog) == {("yealink-t20p", "aliases", "error"), ("yealink-t21p", "aliases", "error")}


def test_an_image_name_that_is_not_what_the_phone_asks_for_is_a_warning() -> None:
    assert problems_of(variant("yealink-t21p", firmware_file="34.72.0.60.rom")) == {("yealink-t21p", "firmware_file", "warning")}
    assert problems_of(variant("polycom-ip331", firmware_file="sip.ld")) == {("polycom-ip331", "firmware_file", "warning")}
    assert IMAGE_NAMES == {"polycom": "{part_number}.sip.ld", "yealink": "{firmware}.rom"}
    assert suspicious_keys(variant("yealink-t21p", firmware_file="34.72.0.60.rom"), IMAGE_NAMES) >= {"yealink-t21p"}


def test_every_desk_row_has_a_registered_vendor_package_and_every_package_rows_may_name_it() -> None:
    assert {e.vendor for e in CATALOG.desk_models()} <= set(VENDORS)
    assert set(VENDORS) <= set(CATALOG_VENDORS)


def test_provisioner_catalog_check_reviews_with_the_vendor_packages_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    import firmware_catalog.check
    from provisioner.cli import main

    seen: list[object] = []
    real = firmware_catalog.check.check_catalog

    def spy(catalog: Catalog, firmware_file_names: object = None) -> object:
        seen.append(firmware_file_names)
        return real(catalog, firmware_file_names)  # type: ignore[arg-type]

    monkeypatch.setattr("provisioner.operator_catalog.check_catalog", spy)
    result = CliRunner().invoke(main, ["catalog", "check", "--json"])
    assert result.exit_code == 0, result.output  # a warning alone passes (--strict fails it)
    assert [(p["key"], p["field"], p["line"]) for p in json.loads(result.output)] == [
        ("grandstream-gxp1610", "lines", CATALOG.line_of("grandstream-gxp1610", "lines")),
    ]
    assert DATA.read_text().splitlines()[CATALOG.line_of("grandstream-gxp1610", "lines") - 1].startswith("lines = 2")
    assert seen == [IMAGE_NAMES]
