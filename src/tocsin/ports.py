"""Protocols the core depends on; bootstrap plugs real or fake adapters in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self._now += timedelta(**kwargs)


@dataclass(frozen=True)
class Message:
    """One notification to one address, already rendered."""

    channel: str        # email | sms | voice | chat | webhook
    address: str
    subject: str
    text: str
    data: dict          # for webhooks: the same facts as JSON


@dataclass(frozen=True)
class Delivery:
    status: str         # sent | failed
    retryable: bool = False
    detail: str = ""


class Notifier(Protocol):
    def send(self, message: Message) -> Delivery: ...
