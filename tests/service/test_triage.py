"""Alert intake and triage on SQLite and PostgreSQL: the hot path, dead letters, dedup,
cooldown, grouping, silences, inhibition, routing actions, snooze, auto-resolve."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tocsin.bootstrap import build
from tocsin.domain.auth import cli_actor
from tocsin.engine.engine import Engine
from tocsin.integrations.outbound.fake import FakeNotifier
from tocsin.services import alerts, catalog, config, incidents, intake
from tocsin.store.alerting_repos import AlertFilter
from tocsin.store.models import Alert
from tocsin.web.app import create_asgi

PAYLOADS = Path(__file__).resolve().parents[3] / "shared" / "data" / "payloads"
ADMIN = cli_actor()


def am_alert(name="HighErrorRate", status="firing", **labels):
    return {"status": status, "labels": {"alertname": name, **labels},
            "annotations": {"summary": f"{name} on {labels.get('instance', 'x')}"},
            "startsAt": "2026-03-02T09:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}


def am_body(*alerts_, status="firing"):
    return {"version": "4", "status": status, "receiver": "tocsin", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": list(alerts_)}


@pytest.fixture
def world(container):
    for name, tier in (("checkout", 1), ("reports", 3)):
        catalog.create_service(container.uow(), ADMIN, catalog.ServiceInput(name, tier=tier))
    am = alerts.create_integration(container.uow(), ADMIN, "prom", "alertmanager", "checkout",
                                   {}, "http://t")
    with TestClient(create_asgi(container), raise_server_exceptions=False) as client:
        yield {"am": am, "client": client, "engine": Engine(container), "c": container}


def post(world, *alerts_, status="firing"):
    r = world["client"].post(f"/intake/{world['am'].key}", json=am_body(*alerts_, status=status))
    assert r.status_code == 202, r.text
    world["engine"].drain()
    return r.json()


def all_alerts(container, **f):
    return alerts.list_alerts(container.uow(), AlertFilter(limit=500, **f))[0]


def test_critical_production_alerts_open_one_p1_incident_then_resolve_it(world, container):
    prod = {"env": "production", "severity": "critical", "instance": "a"}
    post(world, am_alert(**prod), am_alert(**{**prod, "instance": "b"}))
    found = all_alerts(container)
    assert len(found) == 2 and found[0].incident_id == found[1].incident_id is not None
    inc = incidents.get(container.uow(), found[0].incident_id)
    assert (inc.severity, inc.status, inc.severity_rule) == ("P1", "triggered",
                                                             "route:production-outage")
    assert "production-outage" in inc.severity_reason
    assert any("asks to page on-call" in d["reason"] for d in found[0].decisions)
    resolved = [dict(am_alert(**p), status="resolved") for p in (prod, {**prod, "instance": "b"})]
    post(world, *resolved, status="resolved")
    inc = incidents.get(container.uow(), inc.id)
    assert inc.status == "resolved"
    entries = incidents.timeline(container.uow(), inc.id)
    texts = [e.text for e in entries]
    # one entry for the two alerts of one batch, naming both, before the auto-resolve
    [attached] = [e for e in entries if e.kind == "alerts_attached"]
    assert attached.body["count"] == 2 and attached.body["routes"] == ["production-outage"]
    assert {a["alert_id"] for a in attached.body["alerts"]} == {a.id for a in found}
    assert attached.text.startswith("2 alerts attached (route production-outage): ")
    assert texts.index(attached.text) < len(texts) - 1
    assert "resolved automatically: all 2 alert(s) resolved" in texts[-2]
    assert texts[-1] == "the incident is resolved: 6 open checkpoints cancelled"


def test_repeats_are_deduplicated_and_cooldown_reopens(world, container, clock):
    alert = am_alert(env="production", severity="critical", instance="a")
    post(world, alert)
    post(world, alert)
    [one] = all_alerts(container)
    assert one.count == 2 and one.status == "open"
    post(world, dict(alert, status="resolved"), status="resolved")
    clock.advance(minutes=5)
    post(world, alert)
    [again] = all_alerts(container)
    assert again.id == one.id and again.status == "open" and again.count == 3
    assert "within the 10 min cooldown" in again.decisions[-2]["reason"] or any(
        "cooldown" in d["reason"] for d in again.decisions)
    inc = incidents.get(container.uow(), again.incident_id)
    assert inc.status == "triggered"  # the auto-resolved incident re-opened with its alert
    post(world, dict(alert, status="resolved"), status="resolved")
    clock.advance(minutes=11)
    post(world, alert)
    newest = all_alerts(container, status="open")
    assert len(newest) == 1 and newest[0].id != one.id


def test_unrouted_alerts_stay_visible(world, container):
    post(world, am_alert(name="DiskFilling", severity="warning", instance="x"))
    [a] = all_alerts(container)
    assert a.suppressed == "unrouted" and a.incident_id is None and a.status == "open"
    assert "no route matched" in a.decisions[-1]["reason"]


def test_silence_mutes_and_expires(world, container, clock):
    sil = alerts.create_silence(container.uow(), ADMIN, ['instance="a"'], None,
                                clock.now() + timedelta(hours=1), "db failover drill")
    post(world, am_alert(env="production", severity="critical", instance="a"))
    [a] = all_alerts(container)
    assert a.suppressed == "silenced" and a.incident_id is None
    assert f"silence #{sil.id}" in a.decisions[-1]["reason"]
    clock.advance(hours=2)
    post(world, am_alert(env="production", severity="critical", instance="b"))
    b = [x for x in all_alerts(container) if x.labels["instance"] == "b"][0]
    assert b.suppressed is None and b.incident_id is not None


def test_critical_inhibits_warnings_of_the_same_service(world, container):
    post(world, am_alert(name="Down", env="production", severity="critical", instance="a"))
    post(world, am_alert(name="Slow", severity="warning", instance="a"))
    slow = [a for a in all_alerts(container) if a.labels["alertname"] == "Slow"][0]
    assert slow.suppressed == "inhibited"
    assert "critical-mutes-lesser-on-same-instance" in slow.decisions[-1]["reason"]


def source_marks(container):
    with container.uow() as uow:
        return {a.labels["alertname"]: a.inhibit_source for a in uow.session.scalars(
            select(Alert).where(Alert.status != "resolved"))}


def test_a_source_new_in_the_same_batch_is_named_by_its_id(world, container):
    post(world, am_alert(name="Down", env="production", severity="critical", instance="a"),
         am_alert(name="Slow", severity="warning", instance="a"))
    found = {a.labels["alertname"]: a for a in all_alerts(container)}
    assert found["Slow"].suppressed == "inhibited"
    assert found["Slow"].decisions[-1]["source"] == f"alert:{found['Down'].id}"
    assert source_marks(container) == {"Down": True, "Slow": False}


def test_inhibition_marks_follow_rule_changes(world, container):
    post(world, am_alert(name="Down", env="production", severity="critical", instance="a"))
    assert source_marks(container) == {"Down": True}
    exported = config.export_text(container.uow())
    rules = ("inhibit_rules:\n- name: page-mutes-rest\n  source: {tier: page}\n"
             "  target: {severity: warning}\n  equal: [instance]\n")
    config.apply_text(container.uow(), ADMIN, rules, "inhibit.yaml")
    post(world, am_alert(name="Slow", severity="warning", instance="a"))
    found = {a.labels["alertname"]: a for a in all_alerts(container)}
    assert not source_marks(container)["Down"]  # recomputed for the new rules
    assert found["Slow"].suppressed != "inhibited"
    post(world, am_alert(name="Pager", tier="page", category="performance", instance="a"),
         am_alert(name="Slower", severity="warning", instance="a"))
    found = {a.labels["alertname"]: a for a in all_alerts(container)}
    assert found["Slower"].suppressed == "inhibited" and source_marks(container)["Pager"]
    config.apply_text(container.uow(), ADMIN, exported, "all.yaml")  # the old rules again
    post(world, am_alert(name="Slowest", severity="warning", instance="a"))
    found = {a.labels["alertname"]: a for a in all_alerts(container)}
    marks = source_marks(container)
    assert marks["Down"] and not marks["Pager"]
    assert found["Slowest"].suppressed == "inhibited"
    assert found["Slowest"].decisions[-1]["source"] == f"alert:{found['Down'].id}"


def test_log_and_close_and_queue_routes(world, container):
    post(world, am_alert(name="BackupSucceeded", severity="info", instance="db"))
    [backup] = all_alerts(container)
    assert backup.status == "resolved" and "logged and closed" in backup.decisions[-1]["reason"]
    post(world, am_alert(name="Breach", category="security", confirmed="true", severity="critical"))
    breach = [a for a in all_alerts(container) if a.labels["alertname"] == "Breach"][0]
    assert breach.queue == "security"
    inc = incidents.get(container.uow(), breach.incident_id)
    assert inc.title.startswith("Security: ") and inc.severity == "P1"


def test_performance_regression_after_hours_is_snoozed_until_business_hours(world, container,
                                                                            clock):
    clock.advance(hours=12)  # Monday 21:00 UTC = 21:00 London, office closed
    post(world, am_alert(name="LatencyUp", category="performance", severity="warning"))
    [a] = all_alerts(container)
    assert a.queue == "devops" and a.suppressed == "snoozed"
    inc = incidents.get(container.uow(), a.incident_id)
    assert inc.severity == "P3"
    assert a.snoozed_until.isoformat() == "2026-03-03T09:00:00+00:00"
    clock.advance(hours=12, minutes=1)
    world["engine"].drain()
    [a] = all_alerts(container)
    assert a.snoozed_until is None and a.suppressed is None
    assert any(e.kind == "unsnoozed" for e in incidents.timeline(container.uow(), inc.id))


def test_group_wait_collects_alerts_before_the_incident(world, container, clock):
    text = ("routes:\n  - name: grouped\n    match: ['team=\"db\"']\n    group_by: [cluster]\n"
            "    group_wait: 30s\n    actions: {open_incident: {severity: P2}}\n")
    config.apply_text(container.uow(), ADMIN, text, "routes.yaml")
    post(world, am_alert(name="A", team="db", cluster="c1"))
    clock.advance(seconds=10)
    post(world, am_alert(name="B", team="db", cluster="c1"))
    assert all(a.incident_id is None for a in all_alerts(container))
    clock.advance(seconds=25)
    world["engine"].drain()
    found = all_alerts(container)
    assert len({a.incident_id for a in found}) == 1 and found[0].incident_id
    assert incidents.get(container.uow(), found[0].incident_id).severity == "P2"


def test_bad_payloads_are_dead_letters_that_can_be_replayed(world, container):
    key = world["am"].key
    r = world["client"].post(f"/intake/{key}", content=b'{"alerts": 5}',
                             headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["path"] == "alerts"
    dl_id = r.json()["dead_letter_id"]
    with pytest.raises(Exception, match="still cannot be parsed"):
        intake.replay(container.uow(), ADMIN, dl_id)
    bad_json = world["client"].post(f"/intake/{key}", content=b"{nope",
                                    headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["detail"]
    wrong_type = world["client"].post(f"/intake/{key}", content=b"<xml/>",
                                      headers={"content-type": "application/xml"})
    assert wrong_type.status_code == 415
    items, total = intake.list_dead_letters(container.uow(), None)
    assert total == 3 and items[0].body == "<xml/>"
    assert world["client"].post("/intake/not-a-key", json={}).status_code == 404
    huge = world["client"].post(f"/intake/{key}", content=b"x" * (1024 * 1024 + 1),
                                headers={"content-type": "application/json"})
    assert huge.status_code == 413


def test_replay_after_fixing_the_generic_mapping(world, container):
    gen = alerts.create_integration(container.uow(), ADMIN, "custom", "generic", "reports",
                                    {"title": "headline"}, "http://t")
    r = world["client"].post(f"/intake/{gen.key}", json={"subject": "Disk full", "env": "x"})
    assert r.status_code == 422
    alerts.update_integration(container.uow(), ADMIN, gen.id, None,  # an admin fixes the mapping
                              {"title": "subject", "labels": {"env": "env"}}, None, "http://t")
    with pytest.raises(Exception, match="options"):
        alerts.update_integration(container.uow(), ADMIN, gen.id, None, {"nonsense": 1}, None,
                                  "http://t")
    done = intake.replay(container.uow(), ADMIN, r.json()["dead_letter_id"])
    world["engine"].drain()
    [a] = all_alerts(container, service_id=None)
    assert done["alerts"] == 1 and a.summary == "Disk full" and a.labels["env"] == "x"


def test_pagerduty_events_v2(world, container):
    pd = alerts.create_integration(container.uow(), ADMIN, "pd", "pagerduty", "checkout", {},
                                   "http://t")
    body = {"routing_key": pd.key, "event_action": "trigger", "dedup_key": "disk-1",
            "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"}}
    r = world["client"].post("/v2/enqueue", json=body)
    assert r.status_code == 202
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "disk-1"}
    no_key = world["client"].post("/v2/enqueue", json={**body, "dedup_key": None})
    assert len(no_key.json()["dedup_key"]) == 32
    bad = world["client"].post("/v2/enqueue", json={**body, "event_action": "explode"})
    assert bad.status_code == 400 and bad.json()["status"] == "invalid event"
    world["engine"].drain()
    world["client"].post("/v2/enqueue", json={**body, "event_action": "resolve"})
    world["engine"].drain()
    disk = [a for a in all_alerts(container) if a.dedup_key == "disk-1"][0]
    assert disk.status == "resolved"


def test_fifty_concurrent_identical_triggers_make_one_open_alert(world, container):
    body = json.dumps(am_body(am_alert(env="production", severity="critical", instance="z")))
    start, codes = threading.Barrier(50), []

    def send():
        start.wait()
        r = world["client"].post(f"/intake/{world['am'].key}", content=body,
                                 headers={"content-type": "application/json"})
        codes.append(r.status_code)
    threads = [threading.Thread(target=send) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [202] * 50
    engines = [Engine(container), Engine(container)]
    runners = [threading.Thread(target=e.drain) for e in engines]
    for t in runners:
        t.start()
    for t in runners:
        t.join()
    Engine(container).drain()
    found = all_alerts(container)
    assert len(found) == 1 and found[0].count == 50 and found[0].status == "open"


def test_route_test_explains(world, container):
    result = alerts.test_route(container.uow(), {"env": "production", "severity": "critical"},
                               "checkout", "critical")
    assert result["matched"] == ["production-outage"]
    assert any(line.startswith("security-breach: no") for line in result["trace"]) is False
    none = alerts.test_route(container.uow(), {"env": "dev"}, "checkout")
    assert none["matched"] == [] and "no route matched" in none["reason"]


@pytest.fixture
def unverified_client(container):
    """A client of an app built with TOCSIN_SNS_VERIFY_SIGNATURES=false on the same database:
    AWS's signatures on the real payloads need AWS's certificate, which tests cannot fetch.
    tests/web/test_sns_signatures.py checks signatures with a certificate of its own."""
    settings = container.settings.model_copy(update={"sns_verify_signatures": False})
    unverified = build(settings, container.clock, FakeNotifier())
    with TestClient(create_asgi(unverified), raise_server_exceptions=False) as client:
        yield client
    unverified.dispose()


def test_sns_subscription_confirmation_is_a_notice_for_a_person(world, container,
                                                                 unverified_client):
    cw = alerts.create_integration(container.uow(), ADMIN, "aws", "cloudwatch", "checkout", {},
                                   "http://t")
    body = (PAYLOADS / "aws-cloudwatch-sns" / "alerta_sns_subscription_confirmation.json")
    r = unverified_client.post(f"/intake/{cw.key}", content=body.read_bytes(),
                               headers={"content-type": "text/plain; charset=UTF-8"})
    assert r.status_code == 202 and r.json()["alerts"] == 0
    world["engine"].drain()
    [notice] = alerts.integration_notices(container.uow())
    assert notice["kind"] == "sns_subscription_confirmation"
    assert notice["data"]["SubscribeURL"].startswith("https://sns.")
    assert all_alerts(container) == []
    alarm = PAYLOADS / "aws-cloudwatch-sns" / "alerta_sns_notification_cloudwatch_alarm.json"
    r = unverified_client.post(f"/intake/{cw.key}", content=alarm.read_bytes(),
                               headers={"content-type": "text/plain; charset=UTF-8"})
    assert r.status_code == 202 and r.json()["alerts"] == 1


def test_disabled_integration_is_refused_but_kept(world, container):
    alerts.update_integration(container.uow(), ADMIN, world["am"].id, None, None, False, "x")
    r = world["client"].post(f"/intake/{world['am'].key}", json=am_body(am_alert()))
    assert r.status_code == 403 and r.json()["dead_letter_id"]
    assert intake.list_dead_letters(container.uow(), None)[1] == 1


def test_a_payload_naming_a_known_service_is_filed_there(world, container):
    post(world, am_alert(name="ReportLag", service="reports", severity="warning"))
    post(world, am_alert(name="Other", service="nonexistent", severity="warning"))
    by_name = {a.labels["alertname"]: a.service for a in all_alerts(container)}
    assert by_name == {"ReportLag": "reports", "Other": "checkout"}


def test_removing_a_calendar_that_a_route_uses_is_refused(world, container):
    with pytest.raises(config.ConfigInvalid, match="no calendar 'office'"):
        config.apply_text(container.uow(), ADMIN, "calendars: []\n", "cal.yaml")


def test_janitor_drops_old_unreferenced_events_only(world, container, clock):
    from tocsin.services import janitor

    post(world, am_alert(name="A", instance="1"))
    post(world, am_alert(name="A", instance="1"))  # the alert now points at the 2nd event
    clock.advance(days=31)
    assert janitor.sweep(container.uow(), 30) == 1
    [a] = all_alerts(container)
    assert alerts.raw_event(container.uow(), a.last_event_id)["body"]


def test_a_route_pages_the_policy_it_names(world, container):
    from tocsin.services import escalation, escalation_policies, people

    prod = {"env": "production", "severity": "critical"}
    post(world, am_alert(name="NoPolicyYet", instance="a", **prod))
    [first] = all_alerts(container)
    texts = [e.text for e in incidents.timeline(container.uow(), first.incident_id)]
    assert any("asks to page policy 'on-call', which does not exist" in t for t in texts)
    assert escalation.escalations_for(container.uow(), first.incident_id) == []

    dana = people.create_person(container.uow(), ADMIN, "Dana", "dana@example.com", "UTC",
                                [{"type": "email", "address": "dana@example.com"}])
    escalation_policies.create_policy(container.uow(), ADMIN, {"name": "on-call", "steps": [
        {"delay_minutes": 5, "targets": [{"type": "person", "id": dana.id}]}]})
    post(world, am_alert(name="DatabaseDown", instance="a", **prod))
    inc_id = [a for a in all_alerts(container)
              if a.labels["alertname"] == "DatabaseDown"][0].incident_id
    [esc] = escalation.escalations_for(container.uow(), inc_id)
    assert (esc.policy, esc.status) == ("on-call", "active")
    sent = escalation.notifications_for(container.uow(), inc_id)
    assert [(n.address, n.status) for n in sent] == [("dana@example.com", "sent")]
