"""support_link's storage adapter: its own tables, its own Alembic migrations, one module per thing stored.

    models            sl_ticket, sl_ticket_event, sl_affected_device, sl_work_log (own DeclarativeBase)
    migrations        Alembic, version table `support_link_alembic_version`
    values            the frozen values handed out (StoredTicket, TicketRow, StoredEvent, ...)
    mapping           records <-> values
    tickets           create, get, act, link, the queue, the SLA-state cache; the row lock
    affected_devices  devices on device incidents: join, recover, count, look-ups by device
    mail_outbox       each mail thread's cursor on each timeline, its per-ticket lock, the Message-IDs sent
    work_logs         agents' work intervals and the monthly billing report
    mail_intake       mail in: Message-IDs seen (the dedup), drafts waiting for fields, auto-reply counts

The caller opens the session and commits; every function only flushes. Errors are
support_link.errors' StoreError branch. The store imports the core and dbkit, never an
adapter or the provisioner.

Call `upgrade(engine)` at start-up (idempotent); it never touches the provisioning tables
or their `alembic_version` table, so both may share one database.
"""

from __future__ import annotations

from sqlalchemy import Engine

from dbkit import migrations

MIGRATIONS = "support_link.store:migrations"
VERSION_TABLE = "support_link_alembic_version"
TABLE_PREFIX = "sl_"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic filter: only support_link's tables (a shared database holds the provisioning ones)."""
    if type_ == "table":
        return name is not None and name.startswith(TABLE_PREFIX)
    return True


def upgrade(engine: Engine) -> None:
    """Bring support_link's tables to the newest Alembic revision (idempotent)."""
    migrations.upgrade(engine, MIGRATIONS)
