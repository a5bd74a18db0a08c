"""`provisioner billing report`: urgent work logged outside business hours, priced per call-out."""

from datetime import UTC, datetime

from provisioner.db.engine import make_engine, session_factory
from support_link import lifecycle
from support_link.store import tickets, work_logs
from tests.conftest import cli_json


def test_monthly_report_bills_out_of_hours_urgent_work(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    created = datetime(2026, 3, 20, 23, 0, tzinfo=UTC)  # Friday 18:00 in Bogota
    with sessions.begin() as session:
        ticket, event = lifecycle.new_ticket(
            ticket_type="incident", urgency="high", impact="organization", subject="Caída total", detail="x",
            requester_name="Ana", requester_contact="ana@acme.co", channel="phone", created_at=created, actor=lifecycle.SYSTEM,
        )
        ticket_id = tickets.create(session, ticket, event, "acme")
        # Saturday 21 March 20:00-20:20 Bogota: 20 minutes, billed as the one-hour minimum.
        work_logs.log_work(session, ticket_id, "laura", datetime(2026, 3, 22, 1, 0, tzinfo=UTC), datetime(2026, 3, 22, 1, 20, tzinfo=UTC))
    engine.dispose()
    report = cli_json(database_url, "billing", "report", "--tenant", "acme", "--month", "2026-03")
    assert report["total_usd"] in ("250", "250.00")
    assert [line["billed_minutes"] for line in report["lines"]] == [60.0]
    assert cli_json(database_url, "billing", "report", "--tenant", "acme", "--month", "2026-04")["lines"] == []
