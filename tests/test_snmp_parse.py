"""SNMP answers -> model, firmware, MAC: every registered vendor's samples (kept beside its parser
in provisioner/vendors/<vendor>/samples.py), run as a table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.snmp.errors import UnsupportedVendor
from provisioner.snmp.parse import (
    SYS_DESCR,
    SnmpReading,
    normalise_mac,
    oids_for,
    parse_reading,
    snmp_vendors,
)
from provisioner.vendors import REGISTERED
from provisioner.vendors.vendor import SnmpSample
from provisioner.vendors.yealink.snmp import YEALINK_FIRMWARE, YEALINK_MAC, YEALINK_MODEL

SAMPLES = [(vendor.name, sample) for vendor in REGISTERED for sample in vendor.snmp_samples]


@pytest.mark.parametrize(("vendor", "sample"), SAMPLES, ids=[s.name for _, s in SAMPLES])
def test_sample(vendor: str, sample: SnmpSample) -> None:
    reading = parse_reading(vendor, sample.varbinds)
    assert (reading.model, reading.firmware, reading.mac) == (sample.model, sample.firmware, sample.mac)
    assert reading.sys_descr == " ".join(sample.varbinds.get(SYS_DESCR, "").split())


def test_samples_say_where_they_come_from() -> None:
    assert all(sample.source for _, sample in SAMPLES)
    assert {vendor for vendor, _ in SAMPLES} == snmp_vendors()  # every vendor with an agent has samples
    # Exactly the one public capture is marked real; a new real row needs its source named.
    assert [sample.name for _, sample in SAMPLES if sample.real] == ["grandstream GXW4216 gateway (real capture)"]


def test_a_linux_sysdescr_never_gives_its_kernel_as_firmware() -> None:
    linux = "Linux GXP1620 2.6.28.8 #183 Fri Dec 20 20:34:02 CST 2019 mips"
    for vendor in sorted(snmp_vendors()):
        assert parse_reading(vendor, {SYS_DESCR: linux}).firmware is None, vendor


def test_yealink_private_oids_are_asked_and_trusted_over_sysdescr() -> None:
    assert oids_for("yealink") == (SYS_DESCR, YEALINK_FIRMWARE, YEALINK_MODEL, YEALINK_MAC)
    assert YEALINK_FIRMWARE == "1.3.6.1.2.1.37459.2.1.5.0"
    reading = parse_reading("yealink", {SYS_DESCR: "Yealink SIP-T21P 34.72.0.1", YEALINK_FIRMWARE: "34.72.0.75"})
    assert reading.firmware == "34.72.0.75"


@pytest.mark.parametrize(
    ("vendor", "must_ask"),
    [
        ("yealink", {"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.37459.2.1.5.0", "1.3.6.1.2.1.37459.2.1.7.0", "1.3.6.1.2.1.37459.2.1.8.0"}),
        ("grandstream", {"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"}),
        ("polycom", {"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"}),
    ],
)
def test_oids_per_vendor(vendor: str, must_ask: set[str]) -> None:
    oids = oids_for(vendor)
    assert set(oids) == must_ask
    assert len(oids) == len(set(oids))


@pytest.mark.parametrize("vendor", ["jitsi", "wekall", "", "Yealink"])
def test_vendors_without_an_agent_are_refused(vendor: str) -> None:
    with pytest.raises(UnsupportedVendor):
        oids_for(vendor)
    with pytest.raises(UnsupportedVendor):
        parse_reading(vendor, {})


def test_oids_with_a_leading_dot_are_the_same_oids() -> None:
    dotted = {"." + YEALINK_FIRMWARE: "34.72.0.75", "." + YEALINK_MAC: "00:15:65:4c:4c:26"}
    assert parse_reading("yealink", dotted) == SnmpReading(model=None, firmware="34.72.0.75", mac="0015654c4c26", sys_descr="")


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("00:15:65:4C:4C:26", "0015654c4c26"),
        ("00-15-65-4c-4c-26", "0015654c4c26"),
        ("0015.654c.4c26", "0015654c4c26"),
        ("0x0015654c4c26", "0015654c4c26"),
        (" 0015654C4C26 ", "0015654c4c26"),
        ("00:15:65:4c:4c", None),
        ("00:15:65:4c:4c:26:00", None),
        ("00:00:00:00:00:00", None),
        ("T21P", None),
        ("", None),
    ],
)
def test_normalise_mac(text: str, mac: str | None) -> None:
    assert normalise_mac(text) == mac


VENDORS_DIR = Path(__file__).resolve().parent.parent / "provisioner" / "vendors"
PURE = ["provisioner.snmp", "provisioner.snmp.errors", "provisioner.snmp.reading", "provisioner.snmp.parse",
        "provisioner.snmp.reachability",
        *sorted(f"provisioner.vendors.{path.parent.name}.snmp" for path in VENDORS_DIR.glob("*/snmp.py"))]
ADAPTER_LIBRARIES = ["pysnmp", "pyasn1", "aiohttp", "tftpy", "sqlalchemy", "click", "asyncio"]


@pytest.mark.parametrize("module", PURE)
def test_pure_snmp_modules_import_no_adapter_library(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {ADAPTER_LIBRARIES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
