"""Verifying a contact method by a test message: when its one-time code or link may be
used, and what a wrong code leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_DIGITS = 6
CODE_HOURS = 24             # a code and its link work this long after they were sent
MAX_WRONG_CODES = 5         # then the test is spent: send a new one
RESEND_SECONDS = 60         # at most one test message a minute per contact method


@dataclass(frozen=True)
class CodeState:
    """What the latest test of a contact method allows now."""

    usable: bool
    why_not: str            # "" when usable
    attempts_left: int


def state(*, sent: bool, verified_at: datetime | None, expires_at: datetime, wrong_codes: int,
          address_then: str, address_now: str, now: datetime) -> CodeState:
    """Whether the code (or link) of a test may still verify the contact method, and why
    not: it was used, it expired, too many wrong codes, or the address changed since."""
    left = max(0, MAX_WRONG_CODES - wrong_codes)
    why = ""
    if verified_at is not None:
        why = "it was used already"
    elif address_then != address_now:
        why = "the address changed since the test was sent"
    elif not sent:
        why = "the test message has not been sent yet"
    elif expires_at <= now:
        why = f"it has expired (codes work for {CODE_HOURS} hours)"
    elif left == 0:
        why = f"{MAX_WRONG_CODES} wrong codes were entered"
    return CodeState(not why, why, left)


def resend_wait(last_sent_at: datetime | None, now: datetime) -> int:
    """Seconds until another test message may be sent (0: now)."""
    if last_sent_at is None:
        return 0
    ready = last_sent_at + timedelta(seconds=RESEND_SECONDS)
    return max(0, int((ready - now).total_seconds() + 0.999)) if ready > now else 0


def clean_code(code: str) -> str:
    """A code as typed: spaces and dashes ignored ("123 456", "123-456")."""
    return "".join(ch for ch in (code or "") if ch not in " -\t")
