"""Provisioning tables (SQLAlchemy 2, typed). The caller opens the session.

tenant 1--* extension *--0..1 device      (an extension sits on one line of one device)
tenant 1--* device                         (a MAC belongs to exactly one tenant)
tenant 1--* sighting                       (every config fetch, append-only)
tenant 1--* phone_state                    (latest knowledge per MAC seen, assigned or not)
config_version                             (one row; bumped by every change that alters a config)
security_ban                               (addresses banned for guessing, shared by every process)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tenant(Base):
    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    provisioning_key: Mapped[str] = mapped_column(String(64), unique=True)
    sip_server: Mapped[str] = mapped_column(String(255))
    sip_port: Mapped[int] = mapped_column(Integer, default=5060)
    sip_transport: Mapped[str] = mapped_column(String(8), default="udp")
    snmp_community: Mapped[str] = mapped_column(String(64))
    admin_password: Mapped[str] = mapped_column(String(128))  # unused since 0005: each device has its own
    ntp_server: Mapped[str] = mapped_column(String(255), default="pool.ntp.org")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    # The customer's own public networks, comma-separated CIDRs: never banned for misses.
    networks: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Per-device provisioning URLs (issue 20): once a phone has fetched its MAC file, that file
    # is served only below /prov/d/<its token>/, unless an enrolment window is open.
    device_urls: Mapped[bool] = mapped_column(default=False, server_default=false())
    enroll_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Accounts as the PBX has them (issue 19; provisioner.sip_accounts): the SIP user format of new
    # extensions (None: "{tenant}-{extension}", as before), the SIP domain/realm (None: sip_server)
    # and an outbound proxy "host[:port]" (None: none).
    sip_user_format: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sip_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    outbound_proxy: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    extensions: Mapped[list[Extension]] = relationship(back_populates="tenant")
    devices: Mapped[list[Device]] = relationship(back_populates="tenant")

    __table_args__ = (
        CheckConstraint("sip_transport in ('udp', 'tcp', 'tls')", name="sip_transport"),
        CheckConstraint("sip_port between 1 and 65535", name="sip_port"),
    )


class Device(Base):
    __tablename__ = "device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)  # uq_device_mac: one tenant per MAC
    model_key: Mapped[str] = mapped_column(String(64))  # firmware_catalog key
    # Its own provisioning path /prov/d/<url_token>/ (uq_device_url_token). Stored as is, not
    # hashed: every config rendered for the phone must write it again. Every writer sets it and
    # admin_password; the schema allows NULL only because SQLite cannot add a NOT NULL column
    # without rebuilding the table (migration 0005 says why that is not done).
    url_token: Mapped[str] = mapped_column(String(64), nullable=True)
    # When the phone first fetched its MAC file under the tenant key (None: not yet, or re-enrolled).
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    admin_password: Mapped[str] = mapped_column(String(128), nullable=True)  # the phone's web-admin password, its own
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant] = relationship(back_populates="devices")
    extensions: Mapped[list[Extension]] = relationship(back_populates="device")

    __table_args__ = (Index("uq_device_url_token", "url_token", unique=True),)


class Extension(Base):
    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    permissions: Mapped[str] = mapped_column(String(200), default="internal")  # comma-separated, canonical
    sip_auth_user: Mapped[str] = mapped_column(String(64))
    sip_password: Mapped[str] = mapped_column(String(128))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("device.id", ondelete="SET NULL"), index=True, nullable=True
    )
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)

    tenant: Mapped[Tenant] = relationship(back_populates="extensions")
    device: Mapped[Device | None] = relationship(back_populates="extensions")

    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_extension_tenant_number"),
        UniqueConstraint("device_id", "line", name="uq_extension_device_line"),
        CheckConstraint("line is null or line >= 1", name="line_positive"),
        CheckConstraint("(device_id is null) = (line is null)", name="device_has_line"),
    )


class Sighting(Base):
    """One contact of a phone: a config fetch (http/tftp) or an SNMP poll."""

    __tablename__ = "sighting"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    protocol: Mapped[str] = mapped_column(String(8))
    source_ip: Mapped[str] = mapped_column(String(45))
    filename: Mapped[str] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    served: Mapped[bool] = mapped_column(default=False)
    role: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(12), nullable=True)
    vendor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    catalog_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(64), nullable=True)
    certainty: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)

    # In arrival order, not by phone: a storm's rows append instead of dirtying one index
    # page per phone (migration 0003 says what that cost).
    __table_args__ = (Index("ix_sighting_tenant_seen", "tenant_id", "seen_at"),)


class PhoneState(Base):
    """What we last learned of each MAC that contacted a tenant (assigned or still waiting)."""

    __tablename__ = "phone_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    mac: Mapped[str] = mapped_column(String(12))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_ip: Mapped[str] = mapped_column(String(45))
    last_protocol: Mapped[str] = mapped_column(String(8))
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    vendor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    catalog_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(64), nullable=True)  # last trusted version
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("tenant_id", "mac", name="uq_phone_state_tenant_mac"),)


class ConfigVersion(Base):
    """A single counter that every config-changing write bumps (render caches key on it)."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class AppUser(Base):
    """A person using the web app or the API: agent (tier 1), specialist (tier 2), installer, admin."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    api_token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("role in ('agent', 'specialist', 'installer', 'admin')", name="role"),
    )


class WebSession(Base):
    """A logged-in browser. Shared through the database so any server process can serve it."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecurityBan(Base):
    """An address banned for too many misses (provisioner.bans); every process reads these."""

    __tablename__ = "security_ban"

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    tenant_slug: Mapped[str | None] = mapped_column(String(64))
    misses: Mapped[int] = mapped_column(Integer)
    banned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
