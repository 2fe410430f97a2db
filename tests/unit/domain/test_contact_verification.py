"""Contact-method verification codes: when a code still works, and why not."""

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.contact_verification import MAX_WRONG_CODES, clean_code, resend_wait, state

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)


def st(**kw):
    args = {"sent": True, "verified_at": None, "expires_at": LATER, "wrong_codes": 0,
            "address_then": "+15550001111", "address_now": "+15550001111", "now": NOW} | kw
    return state(**args)


@pytest.mark.parametrize(("kw", "why"), [
    ({}, ""),
    ({"wrong_codes": MAX_WRONG_CODES - 1}, ""),
    ({"verified_at": NOW}, "it was used already"),
    ({"address_now": "+15550002222"}, "the address changed since the test was sent"),
    ({"sent": False}, "the test message has not been sent yet"),
    ({"now": LATER}, "it has expired (codes work for 24 hours)"),
    ({"wrong_codes": MAX_WRONG_CODES}, "5 wrong codes were entered"),
])
def test_state(kw, why):
    s = st(**kw)
    assert (s.usable, s.why_not) == (not why, why)


def test_attempts_left():
    assert st(wrong_codes=2).attempts_left == MAX_WRONG_CODES - 2
    assert st(wrong_codes=9).attempts_left == 0


def test_resend_wait():
    assert resend_wait(None, NOW) == 0
    assert resend_wait(NOW, NOW) == 60
    assert resend_wait(NOW - timedelta(seconds=59, microseconds=500), NOW) == 1
    assert resend_wait(NOW - timedelta(seconds=60), NOW) == 0


def test_clean_code():
    assert clean_code(" 123 456 ") == "123456"
    assert clean_code("123-456") == "123456"
    assert clean_code(None) == ""
