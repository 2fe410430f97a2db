"""Escalation scenarios with a fake clock and a fake notifier, on SQLite and PostgreSQL:
advance time, run engine cycles, and assert exactly which pages went out — any extra one
fails the test."""

from __future__ import annotations

import pytest

from tocsin.domain.auth import cli_actor
from tocsin.domain.errors import Conflict, ValidationFailed
from tocsin.engine.engine import Engine
from tocsin.ports import Delivery
from tocsin.services import catalog, checkpoints, escalation, escalation_policies, incidents, people

ADMIN = cli_actor()


@pytest.fixture
def world(container):
    c = container
    alice = people.create_person(c.uow(), ADMIN, "Alice", "alice@example.com", "Europe/London",
                                 [{"type": "email", "address": "alice@example.com"},
                                  {"type": "sms", "address": "+441234567890"}])
    bob = people.create_person(c.uow(), ADMIN, "Bob", "bob@example.com", "UTC",
                               [{"type": "email", "address": "bob@example.com"}])
    policy = escalation_policies.create_policy(c.uow(), ADMIN, {
        "name": "payments-oncall", "repeat": 1, "steps": [
            {"delay_minutes": 5, "targets": [{"type": "person", "id": alice.id}]},
            {"delay_minutes": 10, "targets": [{"type": "person", "id": bob.id}]}]})
    catalog.create_service(c.uow(), ADMIN, catalog.ServiceInput("payments", tier=1))
    catalog.update_service(c.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    for severity in ("P1", "P2"):   # these scenarios are about paging alone (see test_checkpoints)
        checkpoints.delete_playbook(c.uow(), ADMIN, severity)
    return {"alice": alice, "bob": bob, "policy": policy, "engine": Engine(c),
            "fake": c.notifier, "c": c}


def declare(c):
    return incidents.declare(c.uow(), ADMIN, incidents.DeclareInput(
        "Card payments failing", "payments", {"impact": "outage", "criticality": "revenue",
                                              "restore_within": "immediately"}))


def cycle(world):
    world["engine"].run_cycle()
    return world["fake"].take()


ALICE = [("email", "alice@example.com"), ("sms", "+441234567890")]
BOB = [("email", "bob@example.com")]


def test_steps_fire_on_time_and_repeat_then_stop(world, container, clock):
    inc = declare(container)
    assert cycle(world) == ALICE                      # at once
    clock.advance(minutes=4, seconds=59)
    assert cycle(world) == []
    clock.advance(seconds=1)
    assert cycle(world) == BOB                        # +5
    clock.advance(minutes=10)
    assert cycle(world) == ALICE                      # +15: the repeat round
    clock.advance(minutes=5)
    assert cycle(world) == BOB                        # +20: the last step
    clock.advance(hours=3)
    assert cycle(world) == []                         # exhausted: nothing more, ever
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert any(t.startswith("Escalation started: policy payments-oncall") for t in texts)
    assert sum(t.startswith("Paged ") for t in texts) == 4
    assert texts[-1].startswith("Escalation exhausted")


def test_acknowledge_stops_the_escalation(world, container, clock):
    inc = declare(container)
    assert cycle(world) == ALICE
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    clock.advance(hours=2)
    assert cycle(world) == []
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert any("Escalation stopped: acknowledged by" in t for t in texts)


def test_resolve_cancels_pages_not_sent_yet(world, container, clock):
    inc = declare(container)
    escalation.fire_due(container.uow())              # queued, not dispatched yet
    incidents.transition(container.uow(), ADMIN, inc.id, "resolve")
    assert cycle(world) == []
    found = escalation.notifications_for(container.uow(), inc.id)
    assert {n.status for n in found} == {"cancelled"} and len(found) == 2


def test_a_late_engine_fires_each_due_step_once(world, container, clock):
    """After a crash or restart nothing is missed and nothing doubles: the steps due while
    no engine ran fire when one is back, each once."""
    declare(container)
    clock.advance(minutes=7)  # the engine was down at 0 and at +5
    assert cycle(world) == ALICE
    assert cycle(world) == BOB     # +5 was due already (its due time is kept, not "now")
    assert cycle(world) == []
    clock.advance(minutes=8)       # +15 is due
    assert cycle(world) == ALICE


def test_every_attempt_is_recorded_and_retryable_failures_retry(world, container, clock):
    world["fake"].failing["+441234567890"] = Delivery("failed", True, "provider timed out")
    inc = declare(container)
    assert cycle(world) == ALICE
    clock.advance(seconds=30)
    assert cycle(world) == [("sms", "+441234567890")]     # the retry, after its backoff
    world["fake"].failing.clear()
    clock.advance(seconds=60)
    assert cycle(world) == [("sms", "+441234567890")]
    [email, sms] = escalation.notifications_for(container.uow(), inc.id)
    assert (email.status, [a.status for a in email.attempts]) == ("sent", ["sent"])
    assert sms.status == "sent"
    assert [a.status for a in sms.attempts] == ["failed", "failed", "sent"]
    assert sms.attempts[0].detail == "provider timed out"


def test_a_permanent_failure_is_not_retried(world, container, clock):
    world["fake"].failing["bob@example.com"] = Delivery("failed", False, "mailbox unknown")
    inc = declare(container)
    cycle(world)
    clock.advance(minutes=5)
    assert cycle(world) == BOB
    clock.advance(minutes=3)
    assert cycle(world) == []
    bob = [n for n in escalation.notifications_for(container.uow(), inc.id)
           if n.address == "bob@example.com"]
    assert [(n.status, n.last_error) for n in bob] == [("failed", "mailbox unknown")]


def test_the_policy_is_snapshotted_when_escalation_starts(world, container, clock):
    declare(container)
    assert cycle(world) == ALICE
    carol = people.create_person(container.uow(), ADMIN, "Carol", "carol@example.com", "UTC",
                                 [{"type": "email", "address": "carol@example.com"}])
    other = escalation_policies.create_policy(container.uow(), ADMIN, {
        "name": "other", "steps": [{"delay_minutes": 1, "targets": [
            {"type": "person", "id": carol.id}]}]})
    catalog.update_service(container.uow(), ADMIN, "payments",
                           {"escalation_policy_id": other.id})
    clock.advance(minutes=5)
    assert cycle(world) == BOB       # the running escalation keeps its own policy


def test_the_ack_link_acknowledges_once(world, container, clock):
    inc = declare(container)
    cycle(world)
    clock.advance(minutes=5)
    world["engine"].run_cycle()
    [page] = world["fake"].sent                       # Bob's email
    assert page.subject == f"[P1] INC-{inc.number}: Card payments failing"
    token = page.text.split("/ack/")[1].split()[0]
    shown = escalation.ack_link(container.uow(), token)
    assert shown.usable and shown.number == inc.number and shown.person == "Bob"
    assert incidents.get(container.uow(), inc.id).status == "triggered"  # looking is not acking
    escalation.acknowledge_by_link(container.uow(), token)
    assert incidents.get(container.uow(), inc.id).status == "acknowledged"
    with pytest.raises(Conflict, match="used already"):
        escalation.acknowledge_by_link(container.uow(), token)


@pytest.mark.parametrize("data, field", [
    ({"name": "", "steps": []}, "name"),
    ({"name": "x", "steps": []}, "steps"),
    ({"name": "x", "steps": [{"delay_minutes": 0, "targets": [{"type": "person", "id": 1}]}]},
     "steps[0].delay_minutes"),
    ({"name": "x", "steps": [{"delay_minutes": 5, "targets": [{"type": "robot", "id": 1}]}]},
     "steps[0].targets[0].type"),
    ({"name": "x", "steps": [{"delay_minutes": 5, "targets": [{"type": "person", "id": 999}]}]},
     "steps[0].targets[0].id"),
    ({"name": "x", "repeat": 99, "steps": [{"delay_minutes": 5, "targets": [
        {"type": "person", "id": 1}]}]}, "repeat"),
])
def test_bad_policies_name_the_field(container, data, field):
    with pytest.raises(ValidationFailed) as err:
        escalation_policies.create_policy(container.uow(), ADMIN, data)
    assert field in [e.field for e in err.value.errors]


def test_housekeeping_runs_at_most_once_a_minute(container):
    from tocsin.engine.engine import Processor

    runs = []
    engine = Engine(container, [Processor("often", lambda c: runs.append("often") or 0),
                                Processor("rare", lambda c: runs.append("rare") or 0, every=60)])
    engine.run_cycle()
    engine.run_cycle()
    assert runs == ["often", "rare", "often"]
