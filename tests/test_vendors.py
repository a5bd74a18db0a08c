"""The vendor registry: every registered package keeps the Vendor contract, so a new vendor is
checked here without editing this file (its samples run in test_identification/test_snmp_parse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_catalog import load_catalog
from provisioner.identification import identify
from provisioner.values import Certainty, Identification, Role
from provisioner.vendors import REGISTERED, VENDORS, device_filename, firmware_file_names
from provisioner.vendors.vendor import Vendor

CATALOG = load_catalog()
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "phones"
ids = [vendor.name for vendor in REGISTERED]


def test_vendors_are_registered_once_by_name() -> None:
    assert list(VENDORS) == [vendor.name for vendor in REGISTERED]
    assert list(VENDORS) == ["polycom", "grandstream", "yealink"]  # the order UAs and names are tried in
    ouis = [oui for vendor in REGISTERED for oui in vendor.ouis]
    assert len(ouis) == len(set(ouis))  # an OUI hints at one vendor


@pytest.mark.parametrize("vendor", REGISTERED, ids=ids)
def test_a_vendor_names_its_templates_folder_with_a_family_base(vendor: Vendor) -> None:
    assert (TEMPLATES / vendor.templates).is_dir()
    assert list((TEMPLATES / vendor.templates).glob("base*.j2"))
    assert any(e.vendor == vendor.name for e in CATALOG.desk_models()), f"no catalog row for {vendor.name}"


@pytest.mark.parametrize("vendor", REGISTERED, ids=ids)
def test_the_device_file_is_identified_as_that_vendors_device_file(vendor: Vendor) -> None:
    mac = vendor.ouis[0] + "a1b2c3"
    name = device_filename(vendor.name, mac)
    expected = Identification(Role.DEVICE, vendor.name, mac=mac, certainty=Certainty.IMPROBABLE)
    assert identify(name, None, CATALOG) == expected


@pytest.mark.parametrize("vendor", REGISTERED, ids=ids)
def test_the_image_name_rule_names_what_the_rows_carry(vendor: Vendor) -> None:
    pattern = firmware_file_names().get(vendor.name)
    if pattern is None:
        assert vendor.firmware_file_name is None
        return
    for entry in (e for e in CATALOG.desk_models() if e.vendor == vendor.name):
        name = pattern.format(part_number=entry.part_number, firmware=entry.firmware)
        assert name == entry.firmware_file
        assert identify(name, None, CATALOG).role is Role.FIRMWARE
