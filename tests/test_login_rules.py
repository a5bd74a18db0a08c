"""Where a login may send the browser, and login throttling (provisioner.web.login_rules)."""

from __future__ import annotations

import pytest

from provisioner.web.login_rules import LoginThrottle, ThrottleRules, safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tickets/12", "/tickets/12"),
        ("/tickets?estado=abierto&page=2", "/tickets?estado=abierto&page=2"),
        (None, "/tickets"),
        ("", "/tickets"),
        ("/\t/evil.example", "/tickets"),  # the finding: the tab was stripped after the check
        ("/%09/evil.example", "/tickets"),  # decoded once more, it is the same trick
        ("//evil.example", "/tickets"),
        ("/\\evil.example", "/tickets"),
        ("\\/evil.example", "/tickets"),
        ("/\n/evil.example", "/tickets"),
        (" //evil.example", "/tickets"),
        ("https://evil.example/", "/tickets"),
        ("javascript:alert(1)", "/tickets"),
        ("/%2F%2Fevil.example", "/tickets"),
        ("/%2f/evil.example", "/tickets"),
        ("evil.example", "/tickets"),
    ],
)
def test_safe_next_only_allows_paths_of_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_ten_failures_lock_the_user_name_for_ten_minutes_even_from_another_address() -> None:
    throttle = LoginThrottle(ThrottleRules(failures=10, window=600, lockout=600))
    for second in range(9):
        throttle.failed("laura", f"192.0.2.{second}", float(second))
        assert not throttle.locked("laura", "198.51.100.1", float(second))
    throttle.failed("Laura", "192.0.2.99", 9.0)
    assert throttle.locked("laura", "198.51.100.1", 10.0)
    assert throttle.locked("LAURA ", "198.51.100.1", 608.0)
    assert not throttle.locked("laura", "198.51.100.1", 610.0)
    assert not throttle.locked("pedro", "198.51.100.1", 10.0)


def test_ten_failures_from_one_address_lock_that_address_for_every_name() -> None:
    throttle = LoginThrottle()
    for index in range(10):
        throttle.failed(f"guess{index}", "203.0.113.5", float(index))
    assert throttle.locked("laura", "203.0.113.5", 20.0)
    assert not throttle.locked("laura", "203.0.113.6", 20.0)


def test_failures_spread_over_more_than_the_window_do_not_lock() -> None:
    throttle = LoginThrottle()
    for minute in range(30):
        throttle.failed("laura", "192.0.2.1", minute * 70.0)  # 8 or 9 per 10 minutes
    assert not throttle.locked("laura", "192.0.2.1", 30 * 70.0)


def test_a_success_clears_the_user_names_count() -> None:
    throttle = LoginThrottle()
    for second in range(9):
        throttle.failed("laura", "192.0.2.1", float(second))
    throttle.succeeded("laura", "192.0.2.1")
    throttle.failed("laura", "192.0.2.2", 10.0)
    assert not throttle.locked("laura", "192.0.2.3", 11.0)
