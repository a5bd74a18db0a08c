"""dbkit.bulk: pages of rows through one statement store exactly what SQLAlchemy's
own executemany stores (compared as the database holds them), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from provisioner import admin
from dbkit.bulk import PAGE_ROWS, insert_rows
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Sighting

BOGOTA = timezone(timedelta(hours=-5))


def rows(tenant_id: int, count: int, offset: int) -> list[dict[str, object]]:
    return [
        {
            "tenant_id": tenant_id, "seen_at": datetime(2026, 11, 26, 14, 30, i % 60, i, tzinfo=UTC),
            "protocol": "tftp" if i % 3 else "http", "source_ip": f"127.0.{i // 250}.{i % 250}",
            "filename": f"cfg001565{offset + i:06x}.xml", "user_agent": None if i % 5 == 0 else "Yealink SIP-T46U 108.86.0.75 ñandú",
            "served": bool(i % 2), "role": "device", "mac": f"001565{offset + i:06x}", "vendor": "yealink", "model": "T46U",
            "catalog_key": None, "firmware": "108.86.0.75", "certainty": i % 4,
            "findings": ["firmware_older", "lines_exceeded"][: i % 3],
        }
        for i in range(count)
    ]


def test_pages_of_rows_store_what_executemany_stores(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    count = PAGE_ROWS * 2 + 7  # full pages and a short one
    with engine.begin() as connection:
        connection.execute(insert(Sighting.__table__), rows(tenant_id, count, 0))
        insert_rows(connection, insert(Sighting.__table__), rows(tenant_id, count, 100_000))
    columns = [c for c in Sighting.__table__.columns.keys() if c not in ("id", "filename", "mac")]
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT {', '.join(columns)}, mac FROM sighting ORDER BY id")).all()
        typed = connection.execute(select(Sighting.seen_at, Sighting.findings, Sighting.served).order_by(Sighting.id)).all()
    by_executemany, by_pages = stored[:count], stored[count:]
    assert [r[:-1] for r in by_pages] == [r[:-1] for r in by_executemany]  # identical as stored
    assert [r[-1] for r in by_pages] == [f"001565{100_000 + i:06x}" for i in range(count)]  # in order
    # And read back through the ORM types: the same instants, lists and booleans.
    first, again = typed[1], typed[count + 1]
    assert first == again and first.findings == ["firmware_older"] and first.served is True
    engine.dispose()


def test_a_time_in_another_zone_is_stored_as_its_utc_instant(database_url: str) -> None:
    """SQLite keeps times as text without a zone: the page writer converts to UTC first
    (SQLAlchemy's own SQLite binding would drop the offset and shift the instant)."""
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    row = rows(tenant_id, 1, 0)[0] | {"seen_at": datetime(2026, 11, 26, 9, 30, tzinfo=BOGOTA)}
    with engine.begin() as connection:
        insert_rows(connection, insert(Sighting.__table__), [row])
    with engine.connect() as connection:
        seen = connection.execute(select(Sighting.seen_at)).scalar_one()
    assert seen.replace(tzinfo=seen.tzinfo or UTC) == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    engine.dispose()


def test_an_over_long_value_is_refused_not_cut(database_url: str) -> None:
    """As a plain INSERT would: no silent truncation by the page writer (PostgreSQL; SQLite
    does not enforce VARCHAR lengths at all)."""
    import pytest

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    row = rows(tenant_id, 1, 0)[0] | {"protocol": "gopher-over-avian-carrier"}
    with pytest.raises(Exception, match="too long"), engine.begin() as connection:
        insert_rows(connection, insert(Sighting.__table__), [row])
    engine.dispose()


def ticket(engine) -> int:  # type: ignore[no-untyped-def]
    from support_link import lifecycle
    from support_link.store import tickets

    created = datetime(2026, 11, 26, 9, 30, tzinfo=BOGOTA)
    new, event = lifecycle.new_ticket(
        ticket_type="incident", urgency="medium", impact="individual", subject="Firmware", detail="-",
        requester_name="Marta", requester_contact="marta@acme.co", channel="device", created_at=created,
        actor=lifecycle.Actor(lifecycle.ActorKind.SYSTEM, "bench"),
    )
    with session_factory(engine).begin() as session:
        return tickets.create(session, new, event, "acme")


def test_a_type_decorator_binds_as_it_would_through_sqlalchemy(database_url: str) -> None:
    """The store's timeline events (a UTC-only datetime type, JSON) written in pages are what
    executemany writes, and a naive time is refused the same way."""
    import pytest

    from support_link.errors import NaiveDatetimeError
    from support_link.store.models import EventRecord

    engine = make_engine(database_url)
    ticket_id = ticket(engine)
    at = datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=BOGOTA)
    events = [{"ticket_id": ticket_id, "at": at + timedelta(seconds=i), "actor_kind": "system", "actor": "bench",
               "kind": "device_joined", "before": {}, "after": {"device": f"00156500{i:04d}", "department": "Ventas ñ"},
               "note": None} for i in range(300)]
    with engine.begin() as connection:
        first = connection.execute(select(EventRecord.id).order_by(EventRecord.id.desc())).scalar()
        connection.execute(insert(EventRecord.__table__), events)
        insert_rows(connection, insert(EventRecord.__table__), events)
    columns = ["ticket_id", "at", "actor_kind", "actor", "kind", "before", "after", "note"]
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT {', '.join(columns)} FROM sl_ticket_event WHERE id > :first ORDER BY id"),
                                    {"first": first or 0}).all()
        typed = connection.execute(select(EventRecord.at, EventRecord.after).where(EventRecord.id > (first or 0))
                                   .order_by(EventRecord.id)).all()
    assert len(stored) == 600 and stored[300:] == stored[:300]
    assert typed[301] == typed[1] and typed[1].at == at + timedelta(seconds=1) and typed[1].after["department"] == "Ventas ñ"
    with pytest.raises(NaiveDatetimeError), engine.begin() as connection:
        insert_rows(connection, insert(EventRecord.__table__), [events[0] | {"at": datetime(2026, 11, 26, 9, 30)}])
    engine.dispose()


def test_a_driver_error_comes_out_as_sqlalchemys(database_url: str) -> None:
    """A duplicate device on a ticket raises sqlalchemy's IntegrityError, as Connection.execute
    would: the store's callers catch that one (another process added the device first)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from support_link.store.models import AffectedDeviceRecord

    engine = make_engine(database_url)
    ticket_id = ticket(engine)
    device = {"ticket_id": ticket_id, "device": "001565000001", "department": "Ventas", "evidence": {"ip": "10.0.0.7"},
              "joined_at": datetime(2026, 11, 26, 14, 30, tzinfo=UTC)}
    with engine.begin() as connection:
        insert_rows(connection, insert(AffectedDeviceRecord.__table__), [device])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_rows(connection, insert(AffectedDeviceRecord.__table__), [device])
    with engine.connect() as connection:
        assert connection.execute(select(AffectedDeviceRecord.evidence)).scalars().all() == [{"ip": "10.0.0.7"}]
    engine.dispose()
