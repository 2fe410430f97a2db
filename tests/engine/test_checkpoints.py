"""Incident roles and playbook checkpoints with a fake clock and a fake notifier, on SQLite
and PostgreSQL: who takes each role (primary, else alternate), handoffs, and the P1
playbook's tasks opening, reminding and going overdue — exactly the expected messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tocsin.domain.auth import cli_actor
from tocsin.domain.errors import Conflict
from tocsin.engine.engine import Engine
from tocsin.services import (
    catalog,
    checkpoints,
    escalation_policies,
    incidents,
    people,
    roles,
    schedules,
)

ADMIN = cli_actor()
OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


def person(c, name, methods=True):
    email = f"{name.lower()}@example.com"
    return people.create_person(c.uow(), ADMIN, name, email, "UTC",
                                [{"type": "email", "address": email}] if methods else [])


@pytest.fixture
def world(container):
    c = container
    p = {n: person(c, n) for n in ("Eve", "Ina", "Ian", "Cole", "Sam")}
    p["Nomad"] = person(c, "Nomad", methods=False)
    ic = schedules.create_schedule(c.uow(), ADMIN, {"name": "ic-primary", "time_zone": "UTC",
                                                    "layers": [{"rotation": "weekly",
                                                                "start": "2026-03-02",
                                                                "members": [p["Ina"].id]}]})
    sources = {"incident_commander": ({"type": "schedule", "id": ic.id},
                                      {"type": "person", "id": p["Ian"].id}),
               "communications_lead": ({"type": "person", "id": p["Cole"].id}, None),
               "stakeholder_liaison": ({"type": "person", "id": p["Sam"].id}, None)}
    for r in roles.list_roles(c.uow()):
        primary, alternate = sources.get(r.key, (r.primary, r.alternate))
        roles.put_role(c.uow(), ADMIN, {"key": r.key, "name": r.name,
                                        "auto_severities": r.auto_severities,
                                        **({"primary": primary} if primary else {}),
                                        **({"alternate": alternate} if alternate else {})})
    policy = escalation_policies.create_policy(c.uow(), ADMIN, {"name": "pay", "steps": [
        {"delay_minutes": 5, "targets": [{"type": "person", "id": p["Eve"].id}]},
        {"delay_minutes": 10, "targets": [{"type": "person", "id": p["Ina"].id}]}]})
    catalog.create_service(c.uow(), ADMIN, catalog.ServiceInput("payments", tier=1))
    catalog.update_service(c.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    return {"p": p, "engine": Engine(c), "fake": c.notifier, "c": c, "ic_schedule": ic}


def declare(c, attrs=OUTAGE):
    return incidents.declare(c.uow(), ADMIN, incidents.DeclareInput(
        "Card payments failing", "payments", attrs))


def cycle(world):
    """(who, what) of every message one engine cycle sent; a second cycle must send none."""
    world["engine"].run_cycle()
    fake = world["fake"]
    got = sorted((m.address.split("@")[0], m.data["purpose"], m.data["role_name"])
                 for m in fake.sent)
    fake.sent.clear()
    world["engine"].run_cycle()
    assert fake.sent == [], "a second cycle sent more"
    return got


def test_the_p1_playbook_runs_with_roles_from_their_sources(world, container, clock):
    inc = declare(container)
    # Eve is paged by the policy (and is the Engineering Responder, the service's on-call:
    # no second message); the other roles hear they hold them.
    assert cycle(world) == [("cole", "role", "Communications Lead"), ("eve", "page", ""),
                            ("ina", "role", "Incident Commander"),
                            ("sam", "role", "Stakeholder Liaison")]
    held = {h.role: h.person.name for h in roles.incident_roles(container.uow(), inc.id)}
    assert held == {"incident_commander": "Ina", "communications_lead": "Cole",
                    "engineering_responder": "Eve", "stakeholder_liaison": "Sam"}
    clock.advance(minutes=5)      # the ack checkpoint is overdue: the policy's step 2 chases
    assert cycle(world) == [("ina", "page", "")]
    clock.advance(minutes=1)
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    clock.advance(minutes=9)      # +15: the IC confirms scope
    assert cycle(world) == [("ina", "checkpoint", "Incident Commander")]
    clock.advance(minutes=5)      # +20: reminders for containment (due +30) and scope (+25)
    assert cycle(world) == [("eve", "reminder", "Engineering Responder"),
                            ("ina", "reminder", "Incident Commander")]
    scope = next(t for t in checkpoints.tasks_for(container.uow(), inc.id) if t.key == "P1:scope")
    checkpoints.complete(container.uow(), ADMIN, inc.id, scope.id, "EU and US cards")
    clock.advance(minutes=10)     # +30: containment overdue; comms drafts the status note
    assert cycle(world) == [("cole", "checkpoint", "Communications Lead"),
                            ("eve", "overdue", "Engineering Responder")]
    clock.advance(minutes=10)
    assert cycle(world) == [("cole", "reminder", "Communications Lead")]
    clock.advance(minutes=5)
    assert cycle(world) == [("cole", "overdue", "Communications Lead")]
    clock.advance(minutes=15)     # +60: executives, and the first hourly re-evaluation
    assert cycle(world) == [("ina", "checkpoint", "Incident Commander"),
                            ("sam", "checkpoint", "Stakeholder Liaison")]
    tasks = {t.key: t.status for t in checkpoints.tasks_for(container.uow(), inc.id)}
    assert tasks == {"P1:acknowledge": "done", "P1:contain": "overdue", "P1:scope": "done",
                     "P1:status-note": "overdue", "P1:brief-executives": "open",
                     "P1:reevaluate:1": "open", "P1:reevaluate:2": "pending"}
    incidents.transition(container.uow(), ADMIN, inc.id, "resolve")
    clock.advance(hours=3)
    assert cycle(world) == []
    tasks = {t.key: t.status for t in checkpoints.tasks_for(container.uow(), inc.id)}
    # what was still ahead is cancelled; what was missed stays overdue, on the record
    assert [k for k, s in tasks.items() if s == "cancelled"] == [
        "P1:brief-executives", "P1:reevaluate:1", "P1:reevaluate:2"]
    assert [k for k, s in tasks.items() if s == "overdue"] == ["P1:contain", "P1:status-note"]
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert "Checkpoint done (late): Acknowledge the page — done when the incident was " \
           "acknowledged" in texts
    assert any(t.startswith("Checkpoint overdue (was due by 09:") and "Containment" in t
               for t in texts)
    assert "Checkpoint done: Confirm scope and resources — EU and US cards" in texts


def test_hourly_reevaluation_repeats_until_resolved(world, container, clock):
    inc = declare(container)
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    cycle(world)
    clock.advance(minutes=60)
    cycle(world)
    for _ in (2, 3):
        clock.advance(minutes=60)
        assert ("ina", "checkpoint", "Incident Commander") in cycle(world)
    keys = [t.key for t in checkpoints.tasks_for(container.uow(), inc.id)
            if t.key.startswith("P1:reevaluate")]
    assert keys == ["P1:reevaluate:1", "P1:reevaluate:2", "P1:reevaluate:3", "P1:reevaluate:4"]


def test_done_early_keeps_a_repeating_checkpoint_going(world, container, clock):
    inc = declare(container)
    first = next(t for t in checkpoints.tasks_for(container.uow(), inc.id)
                 if t.key == "P1:reevaluate:1")
    assert first.status == "pending"
    checkpoints.complete(container.uow(), ADMIN, inc.id, first.id, "stays P1")
    keys = {t.key: t.status for t in checkpoints.tasks_for(container.uow(), inc.id)}
    assert keys["P1:reevaluate:1"] == "done" and keys["P1:reevaluate:2"] == "pending"


def test_only_pages_carry_an_acknowledge_link(world, container, clock):
    declare(container)
    world["engine"].run_cycle()
    by_purpose = {m.data["purpose"]: m for m in world["fake"].sent}
    assert "/ack/" in by_purpose["page"].text
    assert "/ack/" not in by_purpose["role"].text and "Acknowledge" not in by_purpose["role"].text


def test_the_alternate_takes_the_role_when_the_primary_cannot(world, container, clock):
    p = world["p"]
    schedules.add_override(container.uow(), ADMIN, world["ic_schedule"].id, p["Nomad"].id,
                           clock.now(), clock.now().replace(hour=23))
    inc = declare(container)
    ic = next(h for h in roles.incident_roles(container.uow(), inc.id)
              if h.role == "incident_commander")
    assert ic.person.name == "Ian"
    assert "Nomad has no contact method (on call on schedule ic-primary)" in ic.reason
    assert ("ian", "role", "Incident Commander") in cycle(world)


def test_a_handoff_is_on_the_timeline_and_tells_the_new_holder(world, container, clock):
    inc = declare(container)
    cycle(world)
    clock.advance(minutes=3)
    roles.assign(container.uow(), ADMIN, inc.id, "incident_commander", "ian@example.com",
                 "Ina is driving")
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    assert cycle(world) == [("ian", "role", "Incident Commander")]
    with pytest.raises(Conflict):
        roles.assign(container.uow(), ADMIN, inc.id, "incident_commander", "ian@example.com")
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert "Incident Commander handed over from Ina to Ian: Ina is driving" in texts
    clock.advance(minutes=12)     # +15: the scope checkpoint goes to the new holder
    assert cycle(world) == [("ian", "checkpoint", "Incident Commander")]
    roles.assign(container.uow(), ADMIN, inc.id, "communications_lead", "ian@example.com")
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert texts[-1].endswith("(Ian also holds Incident Commander)")


def test_an_escalation_step_can_page_a_role(world, container, clock):
    ic = next(r for r in roles.list_roles(container.uow()) if r.key == "incident_commander")
    policy = escalation_policies.create_policy(container.uow(), ADMIN, {"name": "to-ic", "steps": [
        {"delay_minutes": 5, "targets": [{"type": "role", "id": ic.id}]}]})
    catalog.update_service(container.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    for severity in ("P1", "P2"):
        checkpoints.delete_playbook(container.uow(), ADMIN, severity)
    roles.put_role(container.uow(), ADMIN, {"key": "incident_commander", "name": "IC",
                                            "primary": {"type": "schedule",
                                                        "id": world["ic_schedule"].id}})
    declare(container)   # the IC is no longer filled on declaring: the step fills it
    assert cycle(world) == [("cole", "role", "Communications Lead"), ("ina", "page", ""),
                            ("ina", "role", "IC"), ("sam", "role", "Stakeholder Liaison")]


def test_raising_the_severity_starts_its_roles_and_playbook(world, container, clock):
    inc = declare(container, {"impact": "degradation", "criticality": "internal",
                              "restore_within": "hours"})
    assert inc.severity == "P2"
    held = {h.role: h.person.name if h.person else None
            for h in roles.incident_roles(container.uow(), inc.id)}
    assert held["stakeholder_liaison"] is None and held["incident_commander"] == "Ina"
    assert {t.key for t in checkpoints.tasks_for(container.uow(), inc.id)} == {
        "P2:acknowledge", "P2:scope", "P2:status-note", "P2:reevaluate:1"}
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    cycle(world)
    clock.advance(minutes=20)
    incidents.change_severity(container.uow(), ADMIN, inc.id, "P1", "all cards fail now")
    assert cycle(world) == [("sam", "role", "Stakeholder Liaison")]   # the others hold theirs
    tasks = checkpoints.tasks_for(container.uow(), inc.id)
    assert {t.key for t in tasks if t.status == "cancelled"} == {
        "P2:scope", "P2:status-note", "P2:reevaluate:1"}
    scope = next(t for t in tasks if t.key == "P1:scope")
    assert scope.starts_at == clock.now() + timedelta(minutes=15)   # timed from the change


def test_an_alert_route_escalates_to_a_role(world, container, clock):
    for severity in ("P1", "P2"):
        checkpoints.delete_playbook(container.uow(), ADMIN, severity)
    service = catalog.get_service(container.uow(), "payments")
    uow = container.uow()
    with uow:
        incidents.open_in(uow, ADMIN, service.id, "Confirmed breach", "P1", "route security",
                          "route:security-breach", {}, escalate_to="incident_commander")
        uow.commit()
    # the route's escalate_to pages the IC's holder, on top of the usual P1 response
    assert cycle(world) == [("cole", "role", "Communications Lead"), ("eve", "page", ""),
                            ("ina", "page", "Incident Commander"),
                            ("ina", "role", "Incident Commander"),
                            ("sam", "role", "Stakeholder Liaison")]


def test_back_at_a_severity_its_playbook_runs_again(world, container, clock):
    inc = declare(container)
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    clock.advance(minutes=20)
    cycle(world)
    incidents.change_severity(container.uow(), ADMIN, inc.id, "P2", "only EU")
    clock.advance(minutes=10)
    incidents.change_severity(container.uow(), ADMIN, inc.id, "P1", "all of it again")
    tasks = checkpoints.tasks_for(container.uow(), inc.id)
    live = [t for t in tasks if t.status in ("pending", "open") and t.key.startswith("P1:")]
    assert {t.key.split("@")[0] for t in live} >= {"P1:scope", "P1:status-note",
                                                    "P1:reevaluate:1"}
    scope = next(t for t in live if t.key.startswith("P1:scope"))
    assert scope.starts_at == clock.now() + timedelta(minutes=15)
    # the first P1 run's open containment was cancelled at the change to P2; a new one runs
    assert next(t for t in tasks if t.key == "P1:contain").status == "cancelled"
    assert any(t.key.startswith("P1:contain@") and t.status == "open" for t in tasks)


def test_a_role_filled_from_the_service_on_call_whose_policy_pages_that_role(world, container,
                                                                              clock):
    """No loop: the service's first step targets the Engineering Responder role, which is
    itself filled from the service's on-call. Nobody can take it; nothing fails."""
    er = next(r for r in roles.list_roles(container.uow()) if r.key == "engineering_responder")
    policy = escalation_policies.create_policy(container.uow(), ADMIN, {"name": "er", "steps": [
        {"delay_minutes": 5, "targets": [{"type": "role", "id": er.id}]}]})
    catalog.update_service(container.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    inc = declare(container)
    held = {h.role: h.person for h in roles.incident_roles(container.uow(), inc.id)}
    assert held["engineering_responder"] is None
    world["engine"].run_cycle()
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert any("Paged nobody" in t for t in texts)
