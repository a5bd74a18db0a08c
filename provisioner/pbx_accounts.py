"""Administrative operations on a tenant's SIP accounts (issue 19), shared by the CLI and
imports. The caller opens the session and commits. Every change that alters configs bumps
config_version in the same transaction.

An existing account is never renamed silently: changing the user format changes only the
users of extensions created afterwards; `rename_existing=True` re-derives every extension's
user from the new format (the PBX must then be given the new export, `provisioner pbx export`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner import sip_accounts
from provisioner.db.changes import bump_config_version
from provisioner.db.models import Extension, Tenant
from provisioner.directory import tenant_view
from provisioner.errors import ConflictError, InputError
from provisioner.settings import Settings
from provisioner.sip_accounts import SipAccount
from provisioner.values import LineView

PASSWORD_CHARS = (8, 128)


@dataclass(frozen=True)
class AccountChange:
    user_format: str
    sip_domain: str
    outbound_proxy: str
    renamed: int  # extensions whose SIP user changed (only with rename_existing)
    kept: int  # extensions whose SIP user the new format would change but which were kept


def set_tenant_accounts(
    session: Session, tenant: Tenant, *, user_format: str | None = None, sip_domain: str | None = None,
    outbound_proxy: str | None = None, rename_existing: bool = False,
) -> AccountChange:
    """Change a tenant's SIP user format, domain and/or outbound proxy ("" clears domain/proxy)."""
    if user_format is not None:
        tenant.sip_user_format = sip_accounts.check_user_format(user_format)
    if sip_domain is not None:
        tenant.sip_domain = sip_accounts.check_host(sip_domain.strip()) if sip_domain.strip() else None
    if outbound_proxy is not None:
        text = outbound_proxy.strip()
        tenant.outbound_proxy = str(sip_accounts.parse_host_port(text, tenant.sip_port)) if text else None
    renamed = kept = 0
    extensions = session.scalars(select(Extension).where(Extension.tenant_id == tenant.id)).all()
    wanted = {e.id: sip_accounts.user_for(tenant.sip_user_format, tenant.slug, e.number) for e in extensions}
    differing = [e for e in extensions if e.sip_auth_user != wanted[e.id]]
    if rename_existing:
        taken = {e.sip_auth_user for e in extensions if e not in differing}
        for extension in differing:
            if wanted[extension.id] in taken:
                raise ConflictError(f"SIP user {wanted[extension.id]!r} would be held by two extensions")
            taken.add(wanted[extension.id])
            extension.sip_auth_user = wanted[extension.id]
        renamed = len(differing)
    else:
        kept = len(differing)
    bump_config_version(session)
    return AccountChange(
        tenant.sip_user_format or sip_accounts.DEFAULT_USER_FORMAT, tenant.sip_domain or "",
        tenant.outbound_proxy or "", renamed, kept,
    )


def describe_change(slug: str, change: AccountChange) -> list[str]:
    """What `tenant set` says about an account change, the kept accounts included."""
    lines = [
        f"tenant {slug}: SIP user format {change.user_format!r}, domain {change.sip_domain or '(the SIP server)'}, "
        f"outbound proxy {change.outbound_proxy or '(none)'}"
    ]
    if change.renamed:
        lines.append(f"tenant {slug}: {change.renamed} existing SIP user(s) renamed: load the new "
                     "`provisioner pbx export` into the PBX before the phones resync")
    if change.kept:
        lines.append(f"tenant {slug}: {change.kept} existing extension(s) keep their SIP user; only new extensions "
                     "use the format (--rename-existing renames them)")
    return lines


def new_sip_user(session: Session, tenant: Tenant, number: str, given: str | None) -> str:
    """The SIP user of a new extension: the PBX's own when given, else from the tenant's format.
    Refused when another extension of the tenant already has it."""
    user = sip_accounts.check_sip_user(given.strip()) if given else sip_accounts.user_for(
        tenant.sip_user_format, tenant.slug, number
    )
    holder = session.scalar(
        select(Extension.number).where(Extension.tenant_id == tenant.id, Extension.sip_auth_user == user)
    )
    if holder is not None:
        raise ConflictError(f"SIP user {user!r} already belongs to extension {holder} of {tenant.slug}")
    return user


def check_sip_password(password: str) -> str:
    """A PBX's SIP password as given: 8-128 printable ASCII characters, no spaces (every
    phone format and PBX export can carry those exactly)."""
    low, high = PASSWORD_CHARS
    if not (low <= len(password) <= high and password.isascii() and password.isprintable() and " " not in password):
        raise InputError(f"the SIP password must be {low} to {high} printable ASCII characters without spaces")
    return password


def tenant_accounts(session: Session, tenant: Tenant, settings: Settings) -> list[SipAccount]:
    """Every SIP account of the tenant (assigned to a phone or not), as its phones get them."""
    view = tenant_view(tenant, settings)
    extensions = session.scalars(
        select(Extension).where(Extension.tenant_id == tenant.id).order_by(Extension.number)
    ).all()
    return [
        sip_accounts.sip_account(view, LineView(
            number=extension.line or 0, extension=extension.number, display_name=extension.name,
            label=f"{extension.number} {extension.name}".strip(), auth_user=extension.sip_auth_user,
            password=extension.sip_password,
        ))
        for extension in extensions
    ]
