"""Silences and maintenance windows: which one, if any, mutes an alert right now, and why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import FieldError
from .matchers import Matcher, matches_all

KINDS = ("silence", "maintenance")


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    kind: str = "silence"

    def state(self, now: datetime) -> str:
        """ "pending" before it starts, "active" in [starts_at, ends_at), then "expired"."""
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"


@dataclass(frozen=True)
class SilenceDecision:
    silenced: bool
    silence_id: int | None
    reason: str


def decide(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> SilenceDecision:
    """The first active silence whose matchers all match the labels mutes the alert."""
    for s in silences:
        # Validation refuses matcher-less silences; never let one slip through and mute everything.
        if not s.matchers or s.state(now) != "active" or not matches_all(s.matchers, labels):
            continue
        lead = f"in maintenance window #{s.id}" if s.kind == "maintenance" else f"silenced by silence #{s.id}"
        reason = f'{lead} ({s.created_by}: "{s.comment}") until {format_utc(s.ends_at)}'
        return SilenceDecision(True, s.id, reason)
    return SilenceDecision(False, None, "no active silence matches")


def format_utc(at: datetime) -> str:
    """`2026-03-02T10:00:00Z`: the form shown on timelines, whatever zone `at` was in."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(at: datetime) -> bool:
    return at.tzinfo is not None and at.utcoffset() is not None


def validate(
    matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime, comment: str
) -> list[FieldError]:
    """Everything wrong with a silence before it is created (empty list when it is fine)."""
    errors: list[FieldError] = []
    if not matchers:
        errors.append(FieldError("matchers", "at least one matcher is required"))
    elif all(m.matches({}) for m in matchers):
        # Same refusal as Alertmanager: such a silence would also match alerts without the labels.
        errors.append(
            FieldError(
                "matchers",
                "at least one matcher must not match the empty string; "
                "as written this silence would match every alert",
            )
        )
    for fld, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not _aware(at):
            errors.append(FieldError(fld, "must include a time zone (UTC offset)"))
    if _aware(starts_at) and _aware(ends_at) and ends_at <= starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    if not comment or not comment.strip():
        errors.append(FieldError("comment", "required: say why alerts are silenced"))
    return errors
