"""What a page says, rendered from sandboxed templates (a template can read the facts it is
given, nothing else): a subject, a short text for SMS/voice/chat, and JSON for webhooks."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from ..ports import Message
from ..store.models import Incident

_env = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)

SUBJECTS = {
    "page": "[{{ severity }}] INC-{{ number }}: {{ title }}",
    "role": "[{{ severity }}] INC-{{ number }}: you are the {{ role_name }} — {{ title }}",
    "checkpoint": "[{{ severity }}] INC-{{ number }} {{ role_name }}: {{ task }} (due {{ due }})",
    "reminder": "[{{ severity }}] INC-{{ number }} reminder: {{ task }} is due at {{ due }}",
    "overdue": "[{{ severity }}] INC-{{ number }} OVERDUE: {{ task }} (was due {{ due }})",
}
EMAIL = """{{ severity }} incident INC-{{ number }} on {{ service }} is {{ status }}.

{{ title }}
{% if purpose == "role" %}

You are the {{ role_name }} of this incident: {{ why }}
{% elif purpose in ("checkpoint", "reminder", "overdue") %}

As {{ role_name }}: {{ task }}
Due by {{ due }}{% if purpose == "overdue" %} — this is overdue{% endif %}.
{% if description %}{{ description }}
{% endif %}
Mark it done on the incident page.
{% elif reason %}

Why {{ severity }}: {{ reason }}
{% endif %}

{% if status == "triggered" and ack_url %}Acknowledge (you will be asked to confirm): {{ ack_url }}
{% endif %}
Open the incident: {{ incident_url }}
{% if purpose == "page" and role_name %}

You are paged as the {{ role_name }}.
{% elif purpose == "page" %}

You are paged by escalation policy step {{ step + 1 }}{% if round %}, round {{ round + 1 }}{% endif %}.
{% endif %}
"""
SHORT = {
    "page": "{{ severity }} INC-{{ number }} {{ title[:80] }} — ack: {{ ack_url }}",
    "role": "{{ severity }} INC-{{ number }} you are {{ role_name }}: {{ title[:60] }} "
            "{{ incident_url }}",
    "checkpoint": "{{ severity }} INC-{{ number }} {{ role_name }}: {{ task[:80] }} by {{ due }} "
                  "{{ incident_url }}",
    "reminder": "{{ severity }} INC-{{ number }} reminder: {{ task[:80] }} by {{ due }} "
                "{{ incident_url }}",
    "overdue": "{{ severity }} INC-{{ number }} OVERDUE: {{ task[:80] }} {{ incident_url }}",
}


@lru_cache(maxsize=64)
def _template(source: str) -> Template:
    """Compiled once: compiling a template costs ~100× rendering it (pages come in storms)."""
    return _env.from_string(source)


def render(n: Any, inc: Incident, service: str, base_url: str, token: str) -> Message:
    """A message of its purpose: the email template for email, the short one for every
    other channel."""
    facts = _facts(n, inc, service, base_url, token)
    purpose = n.purpose if n.purpose in SUBJECTS else "page"
    subject = _template(SUBJECTS[purpose]).render(facts)
    text = _template(EMAIL if n.channel == "email" else SHORT[purpose]).render(facts)
    return Message(n.channel, n.address, subject, text, {**facts, "subject": subject})


def _facts(n: Any, inc: Incident, service: str, base_url: str, token: str) -> dict[str, Any]:
    ctx = dict(n.context or {})
    return {
        "purpose": n.purpose, "incident_id": inc.id, "number": inc.number, "title": inc.title,
        "severity": inc.severity, "status": inc.status, "reason": inc.severity_reason or "",
        "service": service, "incident_url": f"{base_url}/incidents/{inc.id}",
        "ack_url": f"{base_url}/ack/{token}" if token else "",
        "round": ctx.get("round", 0), "step": ctx.get("step", 0),
        "role_name": ctx.get("role_name", ""), "why": ctx.get("reason", ""),
        "task": ctx.get("task", ""), "description": ctx.get("description", ""),
        "due": _hhmm(ctx.get("deadline"), ctx.get("time_zone")),
    }


def _hhmm(iso: str | None, zone: str | None) -> str:
    """A deadline on the recipient's own clock."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone or "UTC")).strftime("%H:%M %Z")
