"""Provisioning tables (SQLAlchemy 2, typed). The caller opens the session.

tenant 1--* extension *--0..1 device      (an extension sits on one line of one device, or on a softphone)
extension 1--* softphone_link              (one-time links that show a softphone's account once)
tenant 1--* device                         (a MAC belongs to exactly one tenant)
tenant 1--* sighting                       (every config fetch, append-only)
tenant 1--* phone_state                    (latest knowledge per MAC seen, assigned or not)
config_version                             (one row; bumped by every change that alters a config)
security_ban                               (addresses banned for guessing, shared by every process)
device 1--* phone_upload                   (logs and override files the phone wrote back, bounded)
firmware_image                             (uploaded images: name, version, SHA-256, size)
tenant 1--* firmware_campaign 1--* campaign_phone, campaign_notice   (maintenance-window upgrades)
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    CheckConstraint,
    Date,
    DateTime,
    Float,
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
    # The customer's mail domains, comma-separated ("tornillo.com.co,tornillo.co"): its staff may
    # register on the portal by themselves, and mail from them reaches this tenant (issue 16).
    email_domains: Mapped[str] = mapped_column(Text, default="", server_default="")
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
    # A softphone app instead of a desk phone (issue 15): its catalog key; such an extension has
    # no device. The provisioning secret (Jitsi's login) is kept as a SHA-256 digest only.
    softphone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    softphone_secret_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    softphone_version: Mapped[str | None] = mapped_column(String(64), nullable=True)  # last reported by the app
    softphone_reported_model: Mapped[str | None] = mapped_column(String(64), nullable=True)  # e.g. "Jitsi Windows"
    softphone_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    tenant: Mapped[Tenant] = relationship(back_populates="extensions")
    device: Mapped[Device | None] = relationship(back_populates="extensions")

    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_extension_tenant_number"),
        UniqueConstraint("device_id", "line", name="uq_extension_device_line"),
        CheckConstraint("line is null or line >= 1", name="line_positive"),
        CheckConstraint("(device_id is null) = (line is null)", name="device_has_line"),
    )


class SoftphoneLink(Base):
    """A one-time, expiring link that shows a softphone extension's account once (issue 15)."""

    __tablename__ = "softphone_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extension.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the URL token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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


class PhoneUpload(Base):
    """A file a phone wrote back with HTTP PUT (provisioner.uploads): a log or its override file.

    Bounded per phone: the newest PROVISIONER_UPLOAD_LOGS_KEPT of each log kind, one override
    file; each at most PROVISIONER_UPLOAD_MAX_BYTES. Goes with its device."""

    __tablename__ = "phone_upload"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # provisioner.values.UploadKind
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    source_ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_phone_upload_device_kind", "device_id", "kind", "id"),
        CheckConstraint("kind in ('app_log', 'boot_log', 'override')", name="kind"),
    )
class FirmwareImage(Base):
    """An image in the firmware folder as it was uploaded (`provisioner firmware add`): the
    name phones ask for, the version it is, and its SHA-256 and size, checked before use."""

    __tablename__ = "firmware_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)  # uq_firmware_image_name: one file per name
    model_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FirmwareCampaign(Base):
    """One model of one tenant moved to one version inside a maintenance window
    (provisioner.campaigns has the rules; provisioner.campaign_store the writes)."""

    __tablename__ = "firmware_campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    model_key: Mapped[str] = mapped_column(String(64))
    target_version: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    image_name: Mapped[str] = mapped_column(String(128))
    image_sha256: Mapped[str] = mapped_column(String(64))
    image_size: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)  # the window opens at 19:00 Bogota that day
    critical: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16))
    max_failure_share: Mapped[float] = mapped_column(Float)
    phone_timeout_seconds: Mapped[int] = mapped_column(Integer)
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    halted_because: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the requirement on the tenant's tickets
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # opened when it halts
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_firmware_campaign_state", "state"),)


class CampaignPhone(Base):
    """One phone of a campaign: its wave and where it stands."""

    __tablename__ = "campaign_phone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("firmware_campaign.id", ondelete="CASCADE"))
    mac: Mapped[str] = mapped_column(String(12))
    wave: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    instructed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reported_version: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (UniqueConstraint("campaign_id", "mac", name="uq_campaign_phone_campaign_mac"),)


class CampaignNotice(Base):
    """A mail to the tenant's contact about a campaign (outbox: sent_at is set once delivered)."""

    __tablename__ = "campaign_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("firmware_campaign.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Requester(Base):
    """A customer's staff member on the portal (issue 16): sees and opens its own tenant's requests.

    Apart from AppUser on purpose: its own table, sessions and cookie (path /portal/), so no
    role table or bug in one can ever let a customer's login reach the staff's pages."""

    __tablename__ = "requester"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case: the login and the mail match
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)  # None until the link is used
    active: Mapped[bool] = mapped_column(default=True)
    invited_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # staff username; None: self-registered
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequesterSession(Base):
    """A requester's logged-in browser (cookie on /portal/ only)."""

    __tablename__ = "requester_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("requester.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequesterLink(Base):
    """A one-time link mailed to a requester: an invitation, a self-registration or a new password.
    Only the token's digest is stored; it works once, before it expires."""

    __tablename__ = "requester_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(16))  # 'invite' | 'register' | 'reset'
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (CheckConstraint("purpose in ('invite', 'register', 'reset')", name="purpose"),)
