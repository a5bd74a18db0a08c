"""merge_phone_state: what a phone's latest contact changes in what we know of it."""

from datetime import UTC, datetime, timedelta

from provisioner.sightings import SightingRecord, merge_phone_state

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


def test_first_sighting_creates_state() -> None:
    state = merge_phone_state(None, sighting())
    assert state["first_seen"] == state["last_seen"] == T0
    assert state["firmware"] == "34.72.0.75" and state["findings"] == []


def test_a_request_without_firmware_keeps_the_last_trusted_version() -> None:
    first = merge_phone_state(None, sighting(findings=("firmware_older",), firmware="34.72.0.60"))
    later = merge_phone_state(
        first,
        sighting(seen_at=T0 + timedelta(minutes=1), protocol="tftp", user_agent=None, model=None,
                 vendor=None, catalog_key=None, firmware=None, findings=("firmware_older",)),
    )
    assert later["firmware"] == "34.72.0.60"
    assert later["model"] == "T21P" and later["user_agent"].startswith("Yealink")
    assert later["last_protocol"] == "tftp" and later["first_seen"] == T0


def test_unjudged_requests_do_not_clear_findings() -> None:
    first = merge_phone_state(None, sighting(findings=("firmware_newer",)))
    later = merge_phone_state(first, sighting(judged=False, findings=()))
    assert later["findings"] == ["firmware_newer"]


def test_upgrade_clears_the_finding() -> None:
    first = merge_phone_state(None, sighting(firmware="34.72.0.60", findings=("firmware_older",)))
    later = merge_phone_state(first, sighting(seen_at=T0 + timedelta(hours=1)))
    assert later["findings"] == [] and later["firmware"] == "34.72.0.75"


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
