"""Incident use cases on SQLite and PostgreSQL: declare, lifecycle, severity, notes, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tocsin.domain.auth import Actor, cli_actor
from tocsin.domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from tocsin.services import audit, catalog, classify, users
from tocsin.services import incidents as svc
from tocsin.store.models import AuditLog, Incident, TimelineEntry

OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


@pytest.fixture
def world(container):
    admin = cli_actor()
    catalog.create_service(container.uow(), admin, catalog.ServiceInput(
        "payments-api", tier=1, tags=["revenue"]))
    catalog.create_service(container.uow(), admin, catalog.ServiceInput("wiki", tier=4))
    u = users.create_user(container.uow(), admin, "rita@example.com", "password1", "responder",
                          "Rita")
    v = users.create_user(container.uow(), admin, "vic@example.com", "password1", "viewer")
    return {"responder": Actor(u.id, u.name, u.role), "viewer": Actor(v.id, v.name, v.role)}


def declare(container, actor, attrs=None, service="payments-api", **kw):
    return svc.declare(container.uow(), actor, svc.DeclareInput(
        "Payments down", service, dict(OUTAGE if attrs is None else attrs), **kw))


def count(container, model):
    with container.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_declare_classifies_and_records(container, world):
    view = declare(container, world["responder"])
    assert (view.number, view.kind, view.severity, view.status) == (1, "incident", "P1",
                                                                    "triggered")
    assert view.severity_rule == "critical-service-outage"
    assert "criticality is revenue" in view.severity_reason
    assert view.targets.ack_within_minutes == 5 and view.targets.coverage == "24/7"
    entries = svc.timeline(container.uow(), view.id)
    # the P1 playbook's checkpoints, and the default roles (no schedules here: unfilled)
    assert [e.kind for e in entries] == ["declared", "checkpoint", "role_unfilled"]
    assert entries[0].actor == "Rita" and entries[0].body["rule"] == "critical-service-outage"
    assert declare(container, world["responder"]).number == 2


@pytest.mark.parametrize(("attrs", "severity", "kind"), [
    ({"impact": "cosmetic", "criticality": "none", "restore_within": "next_release"}, "P4",
     "ticket"),
    ({"impact": "limited", "criticality": "internal", "restore_within": "days"}, "P3", "issue"),
    ({"impact": "degradation", "criticality": "internal", "restore_within": "hours"}, "P2",
     "incident"),
    ({"impact": "limited", "criticality": "none", "restore_within": "days",
      "data_exposure": True, "records_exposed": 10}, "P1", "incident"),
])
def test_contract_severities(container, world, attrs, severity, kind):
    view = declare(container, world["responder"], attrs, service="wiki")
    assert (view.severity, view.kind) == (severity, kind)


def test_invalid_form_data_names_each_field_and_writes_nothing(container, world):
    with pytest.raises(ValidationFailed) as err:
        declare(container, world["responder"], {"impact": "meh", "users_affected": "lots",
                                                "records_exposed": 3, "bogus": 1})
    fields = {e.field for e in err.value.errors}
    assert fields == {"impact", "users_affected", "records_exposed", "bogus", "criticality",
                      "restore_within"}
    assert count(container, Incident) == 0 and count(container, TimelineEntry) == 0


def test_unknown_service_and_form(container, world):
    with pytest.raises(NotFound):
        declare(container, world["responder"], service="nope")
    with pytest.raises(NotFound):
        declare(container, world["responder"], form="nope")


def test_viewer_cannot_declare(container, world):
    with pytest.raises(Forbidden):
        declare(container, world["viewer"])


def test_lifecycle_and_timestamps(container, world, clock):
    r = world["responder"]
    inc = declare(container, r)
    clock.advance(minutes=3)
    inc = svc.transition(container.uow(), r, inc.id, "acknowledge")
    assert inc.acknowledged_at == clock.now() and inc.allowed_actions == ["mitigate", "resolve"]
    with pytest.raises(InvalidTransition) as err:
        svc.transition(container.uow(), r, inc.id, "close")
    assert err.value.allowed == ["mitigate", "resolve"]
    for action, status in [("mitigate", "mitigated"), ("resolve", "resolved"),
                           ("close", "closed"), ("reopen", "triggered")]:
        inc = svc.transition(container.uow(), r, inc.id, action)
        assert inc.status == status
    assert inc.resolved_at is None and inc.closed_at is None
    kinds = [e.body.get("to") for e in svc.timeline(container.uow(), inc.id)
             if e.kind == "status_changed"]
    assert kinds == ["acknowledged", "mitigated", "resolved", "closed", "triggered"]


def test_ack_overdue_follows_the_clock(container, world, clock):
    inc = declare(container, world["responder"])
    clock.advance(minutes=6)
    assert svc.get(container.uow(), inc.id).targets.ack_overdue is True


def test_stale_version_is_a_conflict(container, world):
    r = world["responder"]
    inc = declare(container, r)
    svc.transition(container.uow(), r, inc.id, "acknowledge", expected_version=inc.version)
    with pytest.raises(Conflict):
        svc.transition(container.uow(), r, inc.id, "resolve", expected_version=inc.version)


def test_change_severity_records_who_when_why(container, world, clock):
    r = world["responder"]
    inc = declare(container, r)
    with pytest.raises(ValidationFailed):
        svc.change_severity(container.uow(), r, inc.id, "P2", "  ")
    clock.advance(minutes=10)
    inc = svc.change_severity(container.uow(), r, inc.id, "P2", "only EU cards fail")
    assert inc.severity == "P2" and "only EU cards fail" in inc.severity_reason
    entries = svc.timeline(container.uow(), inc.id)
    [last] = [e for e in entries if e.kind == "severity_changed"]
    assert (last.actor, last.at) == ("Rita", clock.now())
    assert last.body == {"from": "P1", "to": "P2", "reason": "only EU cards fail"}
    # the P1 checkpoints give way to the P2 playbook; no role is listed twice as unfilled
    after = [e.text for e in entries[entries.index(last) + 1:]]
    assert after[0].startswith("the incident is P2 now: ") and "of the P1 playbook cancelled" in after[0]
    assert after[1].startswith("Playbook P2 response: ") and len(after) == 2


def test_editing_a_note_keeps_history(container, world, clock):
    r = world["responder"]
    inc = declare(container, r)
    note = svc.add_note(container.uow(), r, inc.id, "DB at 100% CPU")
    clock.advance(minutes=1)
    edited = svc.edit_note(container.uow(), r, inc.id, note.id, "DB at 100% CPU on replica 2")
    assert edited.version == 2 and edited.supersedes_id == note.id
    current = svc.timeline(container.uow(), inc.id)
    assert [e.text for e in current if e.kind == "note"] == ["DB at 100% CPU on replica 2"]
    history = svc.entry_history(container.uow(), inc.id, edited.id)
    assert [h.text for h in history] == ["DB at 100% CPU on replica 2", "DB at 100% CPU"]
    with pytest.raises(Conflict):  # the old version cannot be edited again
        svc.edit_note(container.uow(), r, inc.id, note.id, "fork")
    other = users.create_user(container.uow(), cli_actor(), "o@example.com", "password1",
                              "responder")
    with pytest.raises(Forbidden):
        svc.edit_note(container.uow(), Actor(other.id, other.name, "responder"), inc.id,
                      edited.id, "not mine")


def test_structured_update_sets_last_update(container, world, clock):
    r = world["responder"]
    inc = declare(container, r)
    clock.advance(minutes=20)
    e = svc.add_note(container.uow(), r, inc.id, "", "update",
                     {"impact": "EU cards fail", "action": "failover", "next_step": "verify"})
    assert e.text == "Impact: EU cards fail · Action: failover · Next step: verify"
    inc = svc.get(container.uow(), inc.id)
    assert inc.targets.next_update_due_at == clock.now() + timedelta(minutes=30)
    assert inc.targets.update_overdue is False


def test_update_fields_each_become_entries(container, world):
    r = world["responder"]
    inc = declare(container, r)
    inc = svc.update(container.uow(), r, inc.id, {
        "title": "Card payments failing", "owner_email": "rita@example.com",
        "services": ["wiki"]})
    assert inc.title == "Card payments failing" and inc.owner.name == "Rita"
    assert inc.services == ["payments-api", "wiki"]
    changed = [e.body["field"] for e in svc.timeline(container.uow(), inc.id)
               if e.kind == "field_changed"]
    assert sorted(changed) == ["owner", "services", "title"]


def test_attachment_is_stored_with_the_incident(container, world):
    import base64

    attrs = {**OUTAGE, "evidence": {"filename": "log.txt", "content_type": "text/plain",
                                    "content_base64": base64.b64encode(b"boom").decode()}}
    inc = declare(container, world["responder"], attrs)
    ref = inc.attributes["evidence"]
    att = svc.attachment(container.uow(), inc.id, ref["attachment_id"])
    assert att.data == b"boom" and ref["size"] == 4


def test_audit_verify_detects_changes_and_deletions(container, world):
    r = world["responder"]
    inc = declare(container, r)
    svc.add_note(container.uow(), r, inc.id, "first")
    svc.transition(container.uow(), r, inc.id, "acknowledge")
    report = audit.verify(container.uow())
    # declared, playbook, unfilled roles, the note, acknowledged, the ack checkpoint done
    assert report.ok and report.entries == 6 and report.records >= 6
    with container.engine.begin() as conn:
        conn.execute(TimelineEntry.__table__.update().where(TimelineEntry.id == 2)
                     .values(body={"text": "rewritten"}))
    problems = [p.message for p in audit.verify(container.uow()).problems]
    assert problems == ["timeline entry 2 was changed"]
    with container.engine.begin() as conn:
        conn.execute(TimelineEntry.__table__.delete().where(TimelineEntry.id == 2))
    assert [p.message for p in audit.verify(container.uow()).problems] == [
        "timeline entry 2 was deleted"]


def test_audit_verify_detects_edited_or_deleted_audit_rows(container, world):
    declare(container, world["responder"])
    with container.engine.begin() as conn:
        conn.execute(AuditLog.__table__.update().where(AuditLog.seq == 2)
                     .values(actor="mallory"))
    assert any("content changed" in p.message for p in audit.verify(container.uow()).problems)
    with container.engine.begin() as conn:
        conn.execute(AuditLog.__table__.delete().where(AuditLog.seq == 2))
    messages = " ".join(p.message for p in audit.verify(container.uow()).problems)
    assert "missing" in messages


def test_evaluate_does_not_create_anything(container, world):
    result = classify.evaluate(container.uow(), "payments-api", OUTAGE)
    assert (result.severity, result.rule) == ("P1", "critical-service-outage")
    assert count(container, Incident) == 0
    partial = classify.evaluate(container.uow(), "payments-api", {"impact": "cosmetic"},
                                partial=True)
    assert partial.severity == "P4"


def test_note_edits_keep_author_place_and_untouched_parts(container, world, clock):
    r = world["responder"]
    inc = declare(container, r)
    upd = svc.add_note(container.uow(), r, inc.id, "", "update",
                       {"impact": "EU cards", "action": "failover", "next_step": "verify"})
    clock.advance(minutes=5)
    later = svc.add_note(container.uow(), r, inc.id, "later note")
    clock.advance(minutes=5)
    fixed = svc.edit_note(container.uow(), cli_actor(), inc.id, upd.id, "",
                          {"impact": "EU and UK cards"})  # an admin corrects one part
    assert fixed.body["action"] == "failover" and fixed.body["impact"] == "EU and UK cards"
    assert fixed.actor == "Rita" and fixed.edited_by == "cli" and fixed.at == upd.at
    order = [e.id for e in svc.timeline(container.uow(), inc.id)]
    assert order.index(fixed.id) < order.index(later.id)  # stays where it happened
    again = svc.edit_note(container.uow(), r, inc.id, fixed.id, "", {"next_step": "close"})
    assert again.version == 3  # the author can still edit after the admin did
    from_oldest = svc.entry_history(container.uow(), inc.id, upd.id)
    assert [v.version for v in from_oldest] == [3, 2, 1]
    with pytest.raises(ValidationFailed):
        svc.add_note(container.uow(), r, inc.id, "", "note", {"impact": "x"})


def test_raising_an_issue_to_p1_makes_it_an_incident_with_its_response(container, world):
    from tocsin.services import checkpoints

    r = world["responder"]
    issue = declare(container, r, {"impact": "limited", "criticality": "internal",
                                   "restore_within": "days"})
    assert (issue.kind, issue.severity) == ("issue", "P3")
    inc = svc.change_severity(container.uow(), r, issue.id, "P1", "it is all customers now")
    assert inc.kind == "incident"
    texts = [e.text for e in svc.timeline(container.uow(), inc.id)]
    assert "Kind: “issue” → “incident”" in texts
    assert any(t.startswith("Playbook P1 response: ") for t in texts)
    assert len(checkpoints.tasks_for(container.uow(), inc.id)) == 6
