"""Sightings and phone_state: what a phone's contacts change in what we know of it, folded in
memory (fold_batch) and merged into the stored row by the writer's upsert."""

from datetime import UTC, datetime, timedelta

import pytest

from provisioner.sightings import SightingRecord, fold_batch

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def sighting(**changes: object) -> SightingRecord:
    values: dict[str, object] = dict(
        tenant_id=1, seen_at=T0, protocol="http", source_ip="127.0.0.5", filename="001565aabbcc.cfg",
        user_agent="Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", served=True, role="device",
        mac="001565aabbcc", vendor="yealink", model="T21P", catalog_key="yealink-t21p",
        firmware="34.72.0.75", certainty=3, findings=(), judged=True,
    )
    values.update(changes)
    return SightingRecord(**values)  # type: ignore[arg-type]


def state_after(*records: SightingRecord) -> dict[str, object]:
    [(state, _judged)] = fold_batch(list(records))
    return state


def test_first_sighting_creates_state() -> None:
    state = state_after(sighting())
    assert state["first_seen"] == state["last_seen"] == T0
    assert state["firmware"] == "34.72.0.75" and state["findings"] == []


def test_a_request_without_firmware_keeps_the_last_trusted_version() -> None:
    later = state_after(
        sighting(findings=("firmware_older",), firmware="34.72.0.60"),
        sighting(seen_at=T0 + timedelta(minutes=1), protocol="tftp", user_agent=None, model=None,
                 vendor=None, catalog_key=None, firmware=None, findings=("firmware_older",)),
    )
    assert later["firmware"] == "34.72.0.60"
    assert later["model"] == "T21P" and str(later["user_agent"]).startswith("Yealink")
    assert later["last_protocol"] == "tftp" and later["first_seen"] == T0


def test_unjudged_requests_do_not_clear_findings() -> None:
    later = state_after(sighting(findings=("firmware_newer",)),
                        sighting(seen_at=T0 + timedelta(minutes=1), judged=False, findings=()))
    assert later["findings"] == ["firmware_newer"]


def test_upgrade_clears_the_finding() -> None:
    later = state_after(sighting(firmware="34.72.0.60", findings=("firmware_older",)),
                        sighting(seen_at=T0 + timedelta(hours=1)))
    assert later["findings"] == [] and later["firmware"] == "34.72.0.75"


def test_a_model_report_beats_a_vendor_guess_whatever_comes_first() -> None:
    guess = dict(model=None, catalog_key=None, vendor="yealink", firmware=None, user_agent=None)
    for records in ([sighting(**guess), sighting(seen_at=T0 + timedelta(minutes=1))],
                    [sighting(), sighting(seen_at=T0 + timedelta(minutes=1), **guess)]):
        state = state_after(*records)
        assert (state["vendor"], state["model"], state["catalog_key"]) == ("yealink", "T21P", "yealink-t21p")


def test_hostile_text_is_stored_and_never_blocks_later_sightings(database_url: str) -> None:
    import asyncio

    from sqlalchemy import func, select

    from provisioner import admin
    from provisioner.db.engine import make_engine, session_factory
    from provisioner.db.models import PhoneState, Sighting
    from provisioner.sightings import SightingRecorder

    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    recorder = SightingRecorder(sessions)
    recorder.record(sighting(tenant_id=tenant_id, filename="\x00evil\udcff.cfg", user_agent="UA\x00x", mac=None))
    recorder.record(sighting(tenant_id=tenant_id))
    asyncio.run(recorder.flush())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 2
        assert session.scalar(select(Sighting.filename).where(Sighting.mac.is_(None))) == "\ufffdevil?.cfg"
        assert session.scalar(select(PhoneState.firmware)) == "34.72.0.75"
    assert recorder.written == 2 and recorder.dropped == 0


# -- the batch writer: one upsert per phone must equal merging sighting by sighting ----------------
def _stored_state(sessions, tenant_id: int, mac: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from provisioner.db.models import PhoneState

    with sessions() as session:
        row = session.scalar(select(PhoneState).where(PhoneState.tenant_id == tenant_id, PhoneState.mac == mac))
        fields = ("first_seen", "last_seen", "last_ip", "last_protocol", "user_agent", "vendor", "model",
                  "catalog_key", "firmware", "findings")
        return {name: getattr(row, name) for name in fields}


def _comparable(state: dict[str, object]) -> dict[str, object]:
    """Timestamps as UTC instants (SQLite hands them back naive)."""
    out = {}
    for name, value in state.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        out[name] = value
    return {k: v for k, v in out.items() if k not in ("tenant_id", "mac")}


# Sequences of real contact kinds of one Yealink phone: app fetch, TFTP without UA, a request
# that told us nothing (unjudged), a vendor-only guess, an upgrade.
APP = dict(findings=("firmware_older",), firmware="34.72.0.60")
TFTP = dict(protocol="tftp", user_agent=None, model=None, vendor=None, catalog_key=None, firmware=None,
            findings=("firmware_older",))
UNJUDGED = dict(judged=False, findings=(), model=None, catalog_key=None, firmware=None, user_agent=None)
VENDOR_ONLY = dict(model=None, catalog_key=None, firmware=None, user_agent=None, vendor="yealink", findings=())
UPGRADED = dict(findings=(), firmware="34.72.0.75", user_agent="Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc")
KINDS = {"app": APP, "tftp": TFTP, "unjudged": UNJUDGED, "vendor_only": VENDOR_ONLY, "upgraded": UPGRADED}
SEQUENCES = [
    "app", "app,tftp", "tftp,app", "app,unjudged", "unjudged,app", "unjudged", "vendor_only,app,unjudged",
    "app,vendor_only", "app,tftp,upgraded,unjudged", "tftp,unjudged,vendor_only",
]


@pytest.mark.parametrize("split", [0, 1, 2])
@pytest.mark.parametrize("sequence", SEQUENCES)
def test_upserts_over_several_batches_store_what_one_batch_folds(database_url: str, sequence, split: int) -> None:  # type: ignore[no-untyped-def]
    from provisioner import admin
    from provisioner.db.engine import make_engine, session_factory
    from provisioner.sightings import write_batch

    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    records = [
        sighting(tenant_id=tenant_id, seen_at=T0 + timedelta(minutes=i), source_ip=f"127.0.0.{i + 1}", **changes)
        for i, changes in enumerate(KINDS[kind] for kind in sequence.split(","))
    ]
    expected = state_after(*records)
    # The same sightings written split over two batches: the stored row then gets a delta.
    cut = min(split, len(records))
    write_batch(sessions, records[:cut])
    write_batch(sessions, list(reversed(records[cut:])))  # order within a batch must not matter
    assert _comparable(_stored_state(sessions, tenant_id, "001565aabbcc")) == _comparable(expected)


def test_concurrent_writers_lose_no_sighting_and_no_phone(database_url: str) -> None:
    """Two writers (as two server processes would) folding the same 300 phones at once."""
    import threading

    from sqlalchemy import func, select

    from provisioner import admin
    from provisioner.db.engine import make_engine, session_factory
    from provisioner.db.models import PhoneState, Sighting
    from provisioner.sightings import write_batch

    engines = [make_engine(database_url) for _ in range(2)]
    sessions = [session_factory(engine) for engine in engines]
    with sessions[0].begin() as session:
        tenant_id = admin.create_tenant(session, "Acme", "pbx.example.net").id
    macs = [f"001565{i:06x}" for i in range(300)]
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for round_ in range(4):
                batch = [sighting(tenant_id=tenant_id, mac=mac, seen_at=T0 + timedelta(seconds=round_ * 2 + index))
                         for mac in (macs if index == 0 else list(reversed(macs)))]
                write_batch(sessions[index], batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with sessions[0]() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 2 * 4 * 300
        assert session.scalar(select(func.count()).select_from(PhoneState)) == 300
        assert session.scalar(select(func.count()).select_from(PhoneState).where(PhoneState.first_seen == T0)) == 300


def test_shutdown_keeps_retrying_a_database_that_refuses_for_a_moment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """stop() must not give up after one failed flush: the tables appear 1 s into the shutdown."""
    import asyncio
    import threading

    from sqlalchemy import func, select

    from provisioner import admin
    from provisioner.db.engine import make_engine, session_factory, upgrade_all
    from provisioner.db.models import Sighting
    from provisioner.sightings import SightingRecorder

    engine = make_engine(f"sqlite:///{tmp_path / 'late.sqlite3'}")
    recorder = SightingRecorder(session_factory(engine), shutdown_grace=10)
    for minute in range(3):
        recorder.record(sighting(tenant_id=1, seen_at=T0 + timedelta(minutes=minute)))
    def database_comes_back() -> None:
        upgrade_all(engine)
        with session_factory(engine).begin() as session:
            assert admin.create_tenant(session, "Acme", "pbx.example.net").id == 1

    threading.Timer(1.0, database_comes_back).start()

    async def shut_down() -> None:
        recorder.start()
        await recorder.stop()

    asyncio.run(shut_down())
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 3
    assert recorder.written == 3 and recorder.dropped == 0


def test_folding_does_not_depend_on_the_order_sightings_arrive_in() -> None:
    """Batches hold sightings in arrival order, which two workers can interleave."""
    import itertools

    for kinds in itertools.product(KINDS, repeat=3):
        records = [sighting(seen_at=T0 + timedelta(seconds=i), **KINDS[kind]) for i, kind in enumerate(kinds)]
        assert fold_batch(records) == fold_batch(list(reversed(records))) == fold_batch(records[1:] + records[:1]), kinds
