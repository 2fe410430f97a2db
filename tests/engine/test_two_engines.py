"""PostgreSQL: two engines, each with its own connection pool and notifier, run side by side
over many escalations while time passes — every step fires exactly once: no duplicate
notification, no missed one."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tocsin.bootstrap import build
from tocsin.domain.auth import cli_actor
from tocsin.engine.engine import Engine
from tocsin.integrations.outbound.fake import FakeNotifier
from tocsin.services import catalog, escalation_policies, incidents, people
from tocsin.settings import Settings

ADMIN = cli_actor()
OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}
INCIDENTS, STEPS, ROUNDS = 40, 3, 2


def test_two_engines_fire_every_step_once(container, clock, tmp_path):
    if container.write_lock is not None:
        pytest.skip("SQLite runs one engine at a time (see test_lease.py)")
    ids = [people.create_person(container.uow(), ADMIN, f"P{i}", f"p{i}@example.com", "UTC",
                                [{"type": "email", "address": f"p{i}@example.com"}]).id
           for i in range(STEPS)]
    policy = escalation_policies.create_policy(container.uow(), ADMIN, {
        "name": "three", "repeat": ROUNDS - 1, "steps": [
            {"delay_minutes": 1, "targets": [{"type": "person", "id": i}]} for i in ids]})
    catalog.create_service(container.uow(), ADMIN, catalog.ServiceInput("svc", tier=1))
    catalog.update_service(container.uow(), ADMIN, "svc", {"escalation_policy_id": policy.id})
    for n in range(INCIDENTS):
        incidents.declare(container.uow(), ADMIN, incidents.DeclareInput(f"Outage {n}", "svc",
                                                                          OUTAGE))
    second = build(Settings(database_url=container.settings.database_url,
                            var_dir=str(tmp_path / "var2"), secret_key="x", engine=False),
                   clock, FakeNotifier())
    engines = [Engine(container, holder="one"), Engine(second, holder="two")]
    try:
        for _ in range(STEPS * ROUNDS + 2):      # a minute at a time, past the last step
            threads = [threading.Thread(target=e.drain) for e in engines]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            clock.advance(minutes=1)
    finally:
        second.dispose()
    sent = container.notifier.sent + second.notifier.sent
    per_page = Counter((m.data["incident_id"], m.data["round"], m.data["step"], m.address)
                       for m in sent)
    assert max(per_page.values()) == 1                                  # no duplicate
    assert len(per_page) == INCIDENTS * STEPS * ROUNDS                  # none missed
    assert container.notifier.sent and second.notifier.sent            # both did work
