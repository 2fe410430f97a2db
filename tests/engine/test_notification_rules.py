"""Personal notification rules in the engine, with a fake clock and a fake notifier, on
SQLite and PostgreSQL: "email and SMS at once, voice after 5 minutes unless acknowledged" —
exactly those pages, none extra — and contact-method test messages through the outbox."""

from __future__ import annotations

import pytest

from tocsin.domain.auth import Actor, cli_actor
from tocsin.domain.errors import Conflict, ValidationFailed
from tocsin.engine.engine import Engine
from tocsin.services import (
    catalog,
    contact_verification,
    escalation,
    escalation_policies,
    incidents,
    notification_rules,
    people,
)

ADMIN = cli_actor()
EMAIL, SMS, VOICE = ("email", "alice@example.com"), ("sms", "+441234567890"), ("voice",
                                                                              "+441234567890")
BOB = [("email", "bob@example.com")]


@pytest.fixture
def world(container):
    c = container
    alice = people.create_person(c.uow(), ADMIN, "Alice", "alice@example.com", "Europe/London",
                                 [{"type": t, "address": a} for t, a in (EMAIL, SMS, VOICE)])
    bob = people.create_person(c.uow(), ADMIN, "Bob", "bob@example.com", "UTC",
                               [{"type": "email", "address": "bob@example.com"}])
    email, sms, voice = (m.id for m in alice.contact_methods)
    policy = escalation_policies.create_policy(c.uow(), ADMIN, {
        "name": "payments-oncall", "steps": [
            {"delay_minutes": 10, "targets": [{"type": "person", "id": alice.id}]},
            {"delay_minutes": 10, "targets": [{"type": "person", "id": bob.id}]}]})
    catalog.create_service(c.uow(), ADMIN, catalog.ServiceInput("payments", tier=1))
    catalog.update_service(c.uow(), ADMIN, "payments", {"escalation_policy_id": policy.id})
    me = Actor(alice.id, "Alice", "responder")
    notification_rules.put_rules(c.uow(), me, alice.id, [
        {"contact_method_id": email, "delay_minutes": 0},
        {"contact_method_id": sms, "delay_minutes": 0},
        {"contact_method_id": voice, "delay_minutes": 5}])
    return {"alice": alice, "bob": bob, "me": me, "engine": Engine(c), "fake": c.notifier,
            "methods": (email, sms, voice)}


def declare(c):
    return incidents.declare(c.uow(), ADMIN, incidents.DeclareInput(
        "Card payments failing", "payments", {"impact": "outage", "criticality": "revenue",
                                              "restore_within": "immediately"}))


def pages(world):
    """(channel, address) of the pages sent in one cycle (other purposes — role and
    checkpoint messages — belong to another feature and are left out)."""
    world["engine"].run_cycle()
    fake = world["fake"]
    with fake._lock:
        sent, fake.sent = fake.sent, []
    return sorted((m.channel, m.address) for m in sent if m.data.get("purpose") == "page")


def test_email_and_sms_at_once_voice_after_five_minutes(world, container, clock):
    inc = declare(container)
    assert pages(world) == sorted([EMAIL, SMS])        # at once
    clock.advance(minutes=4, seconds=59)
    assert pages(world) == []
    clock.advance(seconds=1)
    assert pages(world) == [VOICE]                     # +5, nobody acknowledged
    clock.advance(minutes=4, seconds=59)
    assert pages(world) == []
    clock.advance(seconds=1)
    assert pages(world) == BOB                         # +10: the next step (Bob has no rules)
    clock.advance(hours=1)
    assert pages(world) == []
    texts = [e.text for e in incidents.timeline(container.uow(), inc.id)]
    assert any(t.startswith("Paged Alice (email, sms; voice after 5 min) — step 1 of 2")
               for t in texts)
    assert any(t.startswith("Paged Bob (email) — step 2 of 2") for t in texts)


def test_an_acknowledgement_before_five_minutes_means_no_voice_call(world, container, clock):
    inc = declare(container)
    assert pages(world) == sorted([EMAIL, SMS])
    clock.advance(minutes=3)
    incidents.transition(container.uow(), ADMIN, inc.id, "acknowledge")
    clock.advance(minutes=2)
    assert pages(world) == []
    clock.advance(hours=1)
    assert pages(world) == []                          # no voice call, and no step 2 either
    found = {(n.channel, n.status) for n in escalation.notifications_for(container.uow(), inc.id)
             if n.purpose == "page"}
    assert found == {("email", "sent"), ("sms", "sent"), ("voice", "cancelled")}


def test_rules_by_urgency(world, container, clock):
    email, _sms, voice = world["methods"]
    notification_rules.put_rules(container.uow(), world["me"], world["alice"].id, [
        {"contact_method_id": voice, "delay_minutes": 0, "urgency": "high"},
        {"contact_method_id": email, "delay_minutes": 0, "urgency": "low"}])
    low = declare(container)
    incidents.change_severity(container.uow(), ADMIN, low.id, "P3", "only one merchant")
    assert pages(world) == [EMAIL]                      # P3 when the step fires: low urgency
    declare(container)                                  # P1: high urgency
    assert pages(world) == [VOICE]


def test_a_person_without_rules_gets_every_method_at_once(world, container, clock):
    notification_rules.put_rules(container.uow(), world["me"], world["alice"].id, [])
    declare(container)
    assert pages(world) == sorted([EMAIL, SMS, VOICE])
    clock.advance(minutes=5)
    assert pages(world) == []


def test_a_test_message_carries_a_code_that_verifies_the_method(world, container, clock):
    c, me, alice = container, world["me"], world["alice"]
    _email, sms, _voice = world["methods"]
    view = contact_verification.send_test(c.uow(), me, alice.id, sms)
    assert (view.verified, view.last_test.status) == (False, "pending")
    world["engine"].run_cycle()
    [msg] = world["fake"].sent
    world["fake"].sent.clear()
    assert (msg.channel, msg.address, msg.data["purpose"]) == ("sms", SMS[1], "test")
    code = msg.data["code"]
    assert f"verification code is {code}" in msg.text and "/verify/" in msg.text
    shown = people.get_person(c.uow(), alice.id).contact_methods[1]
    assert (shown.verified, shown.last_test.status, shown.last_test.usable) == (False, "sent", True)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationFailed, match="wrong code; 4 attempt"):
        contact_verification.verify_code(c.uow(), me, alice.id, sms, wrong)
    done = contact_verification.verify_code(c.uow(), me, alice.id, sms, code[:3] + " " + code[3:])
    assert done.verified and done.verified_at == clock.now()
    with pytest.raises(Conflict, match="used already"):
        contact_verification.verify_code(c.uow(), me, alice.id, sms, code)


def test_a_failed_test_message_is_retried_with_a_new_code(world, container, clock):
    from tocsin.ports import Delivery

    c, me, alice = container, world["me"], world["alice"]
    email = world["methods"][0]
    world["fake"].failing[EMAIL[1]] = Delivery("failed", True, "mail server busy")
    contact_verification.send_test(c.uow(), me, alice.id, email)
    world["engine"].run_cycle()
    first = world["fake"].sent.pop().data["code"]
    shown = people.get_person(c.uow(), alice.id).contact_methods[0].last_test
    assert (shown.status, shown.last_error) == ("pending", "mail server busy")
    world["fake"].failing.clear()
    clock.advance(seconds=30)
    world["engine"].run_cycle()
    second = world["fake"].sent.pop().data["code"]
    assert people.get_person(c.uow(), alice.id).contact_methods[0].last_test.status == "sent"
    if first != second:
        with pytest.raises(ValidationFailed):
            contact_verification.verify_code(c.uow(), me, alice.id, email, first)
    assert contact_verification.verify_code(c.uow(), me, alice.id, email, second).verified
