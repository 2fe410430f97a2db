"""Normalized alerts: what every inbound format is parsed into, whatever its source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# What a source event asks for.
ACTIONS = ("trigger", "acknowledge", "resolve")
# Tocsin's alert severities, most severe first; parsers map each source's words onto these.
ALERT_SEVERITIES = ("critical", "error", "warning", "info")
# Well-known link names (others are kept as they come).
LINK_NAMES = ("runbook", "dashboard", "generator", "source", "silence", "image")


class ParseError(ValueError):
    """A payload that cannot be understood. `path` points into the JSON body."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


@dataclass(frozen=True)
class InboundAlert:
    """One alert event as a source sent it, normalized. Parsers build these, purely."""

    source: str                       # "alertmanager", "pagerduty", "grafana", ...
    action: str                       # one of ACTIONS
    dedup_key: str                    # same key = same alert (non-empty, <= 255 chars)
    summary: str                      # one line, <= 500 chars
    severity: str | None = None       # one of ALERT_SEVERITIES, or None when unknown
    source_severity: str | None = None  # the source's own word, kept for display
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)   # name -> URL
    service: str | None = None        # a service named by the payload, if any
    starts_at: datetime | None = None  # aware UTC
    ends_at: datetime | None = None    # aware UTC


@dataclass(frozen=True)
class Notice:
    """Something a payload asks of us that is not an alert (e.g. SNS subscription)."""

    kind: str                         # e.g. "sns_subscription_confirmation"
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseOutcome:
    alerts: tuple[InboundAlert, ...] = ()
    notices: tuple[Notice, ...] = ()
