"""What an import changes, from validated rows and the tenant's snapshot (pure).

Upsert by extension number: a number the tenant lacks is *created*; one it has is *updated*
when any stored field differs, else *unchanged*. With --replace the tenant's extensions
absent from the file are *removed*; without it they are only counted (*absent*).

Devices: a MAC the tenant does not have yet becomes a new device. A device whose last
extension moves away or is removed stays registered to the tenant with no lines (the MAC
stays reserved to this customer and the phone keeps getting a config without accounts);
the summary counts those devices so the installer can decide what to do with them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass

from provisioner.importing.values import ExistingExtension, TenantState, ValidRow, fingerprint

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def classify(row: ValidRow, existing: ExistingExtension | None) -> str:
    if existing is None:
        return CREATED
    same = (
        row.mac == existing.mac
        and row.line == existing.line
        and (row.sip_password is None or row.sip_password == existing.sip_password)
        and fingerprint(row.name, row.email, row.department, row.permissions, row.softphone) == existing.fingerprint
    )
    return UNCHANGED if same else UPDATED


def moves(row: ValidRow, existing: ExistingExtension | None) -> bool:
    """True when an existing, placed extension leaves its (device, line)."""
    return existing is not None and existing.mac is not None and (existing.mac, existing.line) != (row.mac, row.line)


def removed(state: TenantState, numbers_in_file: Collection[str]) -> list[ExistingExtension]:
    """The tenant's extensions the file does not mention (removed under --replace)."""
    return [e for n, e in state.extensions.items() if n not in numbers_in_file]


def new_devices(state: TenantState, file_macs: Mapping[str, str]) -> dict[str, str]:
    """mac -> model key for the file's MACs the tenant has no device for yet."""
    return {mac: model for mac, model in file_macs.items() if mac not in state.devices}


def devices_left_empty(
    state: TenantState, file_slot_macs: Collection[str], numbers_in_file: Collection[str], replace: bool
) -> int:
    """Devices that carry an extension today and none after the import."""
    before: dict[str, bool] = {}
    for extension in state.extensions.values():
        if extension.mac is None:
            continue
        stays = extension.number not in numbers_in_file and not replace
        before[extension.mac] = before.get(extension.mac, False) or stays
    return sum(1 for mac, kept in before.items() if not kept and mac not in file_slot_macs)


@dataclass(frozen=True)
class Summary:
    rows: int
    created: int
    updated: int
    unchanged: int
    removed: int  # deleted (--replace), or that would be in a dry run
    absent: int  # the tenant's extensions not in the file, kept because --replace was not given
    devices_created: int
    devices_left_empty: int
    warnings: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def text(self) -> str:
        parts = [
            f"{self.created} created", f"{self.updated} updated", f"{self.unchanged} unchanged",
            f"{self.removed} removed", f"{self.warnings} warning{'s' if self.warnings != 1 else ''}",
        ]
        lines = [f"{self.rows} rows: " + ", ".join(parts)]
        if self.devices_created:
            lines.append(f"{self.devices_created} new phone{'s' if self.devices_created != 1 else ''} registered (by MAC)")
        if self.devices_left_empty:
            lines.append(f"{self.devices_left_empty} phone(s) left with no extension: they stay registered to this customer")
        if self.absent:
            lines.append(f"{self.absent} existing extension(s) are not in the file and were kept (--replace removes them)")
        return "\n".join(lines)
