"""Demo data: people, teams, services and a few incidents of each severity."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import orjson

from ..domain.auth import Actor, cli_actor
from ..ports import FixedClock
from ..store.uow import UnitOfWork
from . import config, incidents, users
from . import people as people_svc

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
ADMIN_EMAIL = "admin@example.com"
PEOPLE = [
    ("alice@example.com", "Alice Moreau", "responder", "Europe/Paris"),
    ("bob@example.com", "Bob Okafor", "responder", "Africa/Lagos"),
    ("chen@example.com", "Chen Wei", "responder", "Asia/Singapore"),
    ("dara@example.com", "Dara Byrne", "responder", "Europe/Dublin"),
    ("erin@example.com", "Erin Walsh", "responder", "America/New_York"),
    ("viewer@example.com", "Vic Viewer", "viewer", "UTC"),
]
BASE = {"users_affected": 0, "business_functions_affected": 0, "workaround": False,
        "data_exposure": False, "compliance_exposure": False, "customer_count": 0}
INCIDENTS = [
    ("Payment API returns 503 for all card payments", "payments-api", "alice@example.com",
     {"impact": "outage", "criticality": "revenue", "restore_within": "immediately",
      "users_affected": 12000, "customer_count": 3400, "business_functions_affected": 2},
     ["acknowledge"], "update"),
    ("Customer records visible in a public bucket", "customer-db", "erin@example.com",
     {"impact": "limited", "criticality": "compliance", "restore_within": "immediately",
      "data_exposure": True, "records_exposed": 1800, "compliance_exposure": True}, [], None),
    ("Checkout latency spikes, 30% of transactions fail", "checkout-web", "bob@example.com",
     {"impact": "degradation", "criticality": "revenue", "restore_within": "hours",
      "users_affected": 4000}, ["acknowledge", "mitigate"], "update"),
    ("Database failover slower than expected", "customer-db", "chen@example.com",
     {"impact": "degradation", "criticality": "internal", "restore_within": "hours"},
     ["acknowledge", "mitigate", "resolve"], "note"),
    ("EU region of the internal dashboard is down", "internal-dashboard", "dara@example.com",
     {"impact": "limited", "criticality": "internal", "restore_within": "days",
      "workaround": True, "workaround_description": "Use the US region dashboard"},
     ["acknowledge"], "note"),
    ("Typo on the pricing page", "docs-site", "dara@example.com",
     {"impact": "cosmetic", "criticality": "none", "restore_within": "next_release"}, [], None),
    ("Add dark mode to the docs", "docs-site", "bob@example.com",
     {"impact": "cosmetic", "criticality": "none", "restore_within": "next_release"},
     ["acknowledge", "resolve", "close"], None),
]


def is_empty(uow: UnitOfWork) -> bool:
    with uow:
        return uow.users.count() == 0


def seed(container, var_dir: Path) -> str:  # noqa: ANN001
    """Load the default configuration and the demo organisation. Returns the admin password."""
    cli = cli_actor()
    config.apply_text(container.uow(), cli, (CONFIG_DIR / "default.yaml").read_text(),
                      "default.yaml")
    password = secrets.token_urlsafe(12)
    users.create_user(container.uow(), cli, ADMIN_EMAIL, password, "admin", "Ada Admin",
                      "Europe/London")
    people = {}
    for email, name, role, tz in PEOPLE:
        people[email] = users.create_user(container.uow(), cli, email, secrets.token_urlsafe(16),
                                          role, name, tz)
        if role != "viewer":  # pages go by email (set TOCSIN_SMTP_URL to deliver them)
            people_svc.add_contact_method(container.uow(), cli, people[email].id,
                                          {"type": "email", "address": email})
    config.apply_text(container.uow(), cli, (CONFIG_DIR / "demo.yaml").read_text(), "demo.yaml")
    _incidents(container, people)
    _alerts(container)
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "demo-admin.txt"
    path.write_text(f"{ADMIN_EMAIL}\n{password}\n")
    path.chmod(0o600)
    return password


def _incidents(container, people) -> None:  # noqa: ANN001
    """Declare the demo incidents with a history spread over the last hours."""
    start = container.clock.now() - timedelta(hours=len(INCIDENTS) * 3)
    for n, (title, service, email, attrs, actions, note) in enumerate(INCIDENTS):
        person = people[email]
        actor = Actor(person.id, person.name, person.role, person.time_zone)
        clock = FixedClock(start + timedelta(hours=3 * n))
        view = incidents.declare(container.uow(clock=clock), actor, incidents.DeclareInput(
            title, service, {**BASE, **attrs}, owner_email=email))
        for action in actions:
            clock.advance(minutes=4)
            incidents.transition(container.uow(clock=clock), actor, view.id, action)
            if action == "acknowledge" and note == "update":
                clock.advance(minutes=3)
                incidents.add_note(container.uow(clock=clock), actor, view.id, "", "update", {
                    "impact": "Customers cannot complete payments",
                    "action": "Rolled back the last deploy", "next_step": "Watch the error rate"})
            elif action == "acknowledge" and note:
                clock.advance(minutes=3)
                incidents.add_note(container.uow(clock=clock), actor, view.id,
                                   "Looking at the logs; will post an update in 30 minutes.")


DEMO_ALERTS = [
    {"alertname": "CheckoutErrors", "env": "production", "severity": "critical",
     "instance": "checkout-7d9f:8080", "summary": "5xx rate above 5% on checkout"},
    {"alertname": "CheckoutErrors", "env": "production", "severity": "critical",
     "instance": "checkout-a1b2:8080", "summary": "5xx rate above 5% on checkout"},
    {"alertname": "CheckoutLatency", "severity": "warning", "instance": "checkout-7d9f:8080",
     "summary": "p99 latency above 800 ms (muted: a critical alert fires on checkout)"},
    {"alertname": "NightlyBackupSucceeded", "severity": "info", "instance": "db-backup",
     "summary": "Nightly backup completed"},
    {"alertname": "DiskFilling", "severity": "warning", "instance": "build-3",
     "summary": "Disk 85% full on build-3 (no route matches: stays visible, unrouted)"},
]


def _alerts(container) -> None:  # noqa: ANN001
    """An Alertmanager integration and a few alerts through the real intake and triage."""
    from ..engine.engine import Engine
    from . import alerts, intake

    view = alerts.create_integration(container.uow(), cli_actor(), "prometheus", "alertmanager",
                                     "checkout-web", {}, container.settings.public_url)
    alerts.create_integration(container.uow(), cli_actor(), "pagerduty-clients", "pagerduty",
                              "payments-api", {}, container.settings.public_url)
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager",
            "alerts": [{"status": "firing", "labels": {k: v for k, v in a.items()
                                                         if k != "summary"},
                        "annotations": {"summary": a["summary"]},
                        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}
                       for a in DEMO_ALERTS]}
    raw = orjson.dumps(body)
    info = intake.lookup(container.uow(read_only=True), view.key)
    rows = intake.to_rows(intake.parse(info, raw, {}))
    intake.insert_events(container.engine, container.write_lock, [intake.event_row(
        info, container.clock.now(), "application/json", raw, rows)])
    engine = Engine(container)
    engine.drain()
    engine.release()   # or the server's engine would wait for this one's lease to run out
