"""What a page says, rendered from sandboxed templates (a template can read the facts it is
given, nothing else): a subject, a short text for SMS/voice/chat, and JSON for webhooks."""

from __future__ import annotations

from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from ..ports import Message
from ..store.models import Incident

_env = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)

SUBJECT = "[{{ severity }}] INC-{{ number }}: {{ title }}"
EMAIL = """{{ severity }} incident INC-{{ number }} on {{ service }} is {{ status }}.

{{ title }}
{% if reason %}
Why {{ severity }}: {{ reason }}
{% endif %}

Acknowledge (you will be asked to confirm): {{ ack_url }}
Open the incident: {{ incident_url }}

You are paged by escalation policy step {{ step + 1 }}{% if round %}, round {{ round + 1 }}{% endif %}.
"""
SHORT = "{{ severity }} INC-{{ number }} {{ title[:80] }} — ack: {{ ack_url }}"


def render(n: Any, inc: Incident, service: str, base_url: str, token: str) -> Message:
    """A page: the email template for email, the short one for every other channel."""
    facts = _facts(n, inc, service, base_url, token)
    subject = _env.from_string(SUBJECT).render(facts)
    text = _env.from_string(EMAIL if n.channel == "email" else SHORT).render(facts)
    return Message(n.channel, n.address, subject, text, {**facts, "subject": subject})


def _facts(n: Any, inc: Incident, service: str, base_url: str, token: str) -> dict[str, Any]:
    ctx = dict(n.context or {})
    return {
        "purpose": n.purpose, "incident_id": inc.id, "number": inc.number, "title": inc.title,
        "severity": inc.severity, "status": inc.status, "reason": inc.severity_reason or "",
        "service": service, "incident_url": f"{base_url}/incidents/{inc.id}",
        "ack_url": f"{base_url}/ack/{token}",
        "round": ctx.get("round", 0), "step": ctx.get("step", 0),
    }
