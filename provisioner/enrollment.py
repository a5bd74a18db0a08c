"""Per-device provisioning URLs: who may fetch a phone's MAC file, and where (pure, no I/O).

A tenant key travels in DHCP configs and installers' notes, so with it and a MAC anyone could
fetch a deployed phone's SIP passwords. A tenant with per-device URLs (`provisioner tenant set
SLUG --device-urls on`) closes that door phone by phone:

    first fetch of the MAC file under the tenant key   served; its config points the phone at
                                                       /prov/d/<its token>/; the phone is enrolled
    later fetches under the tenant key                 the same 404 as any unknown name, unless
                                                       the tenant's enrolment window is open
                                                       (`tenant enroll SLUG --minutes 60`) or an
                                                       admin re-enrolled it (`device reenroll MAC`)
    fetches below /prov/d/<token>/                     that phone's own files and the files its
                                                       vendor shares (common, master, firmware)

A device URL keeps working when the tenant switches back: its phones follow whatever their
next config says.
"""

from __future__ import annotations

from datetime import datetime

from provisioner.values import DeviceRecord, Identification, Role, TenantRecord


def tenant_key_serves(tenant: TenantRecord, device: DeviceRecord, now: datetime) -> bool:
    """Whether the tenant key may still fetch this phone's MAC file at `now`."""
    if not tenant.device_urls or not device.enrolled:
        return True
    return tenant.enroll_until is not None and now < tenant.enroll_until


def enrolls(tenant: TenantRecord, device: DeviceRecord | None) -> bool:
    """Whether serving this phone its MAC file under the tenant key enrolls it."""
    return tenant.device_urls and device is not None and not device.enrolled


def device_url_serves(ident: Identification, owner: DeviceRecord, owner_vendor: str) -> bool:
    """Whether /prov/d/<owner's token>/ serves this name: the owner's own files (by MAC) and
    the names of its vendor that carry no MAC (common files, the family master, firmware)."""
    if ident.role in (Role.UNKNOWN, Role.OTHER):
        return False
    if ident.mac is not None and ident.mac != owner.mac:
        return False  # never another phone's file, whatever the name's vendor
    return ident.vendor in (None, owner_vendor)
