"""Incident roles, the roster, playbooks and an incident's checkpoints over HTTP and in the
UI: define a role from a schedule, declare a P1, see who holds it, hand it off, tick the
containment checklist and mark a checkpoint done — each on the timeline."""

from __future__ import annotations

OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


def setup_ic(api):
    admin = api("admin")
    person = admin.post("/api/v1/people", json={
        "name": "Ina", "email": "ina@example.com", "contact_methods": [
            {"type": "email", "address": "ina@example.com"}]}).json()
    schedule = admin.post("/api/v1/schedules", json={
        "name": "ic-primary", "time_zone": "UTC", "layers": [
            {"rotation": "weekly", "start": "2026-03-02", "members": [person["id"]]}]})
    assert schedule.status_code == 201, schedule.text
    r = admin.put("/api/v1/roles/incident_commander", json={
        "name": "Incident Commander", "responsibilities": "Owns the response",
        "primary": {"type": "schedule", "id": schedule.json()["id"]},
        "auto_severities": ["P1", "P2"]})
    assert r.status_code == 200, r.text
    assert r.json()["primary_label"] == "on call on schedule ic-primary"
    return person


def test_roles_are_defined_listed_and_checked(api):
    setup_ic(api)
    keys = [r["key"] for r in api("viewer").get("/api/v1/roles").json()["items"]]
    assert keys[:4] == ["incident_commander", "communications_lead", "engineering_responder",
                        "stakeholder_liaison"]
    assert api().put("/api/v1/roles/scribe", json={"name": "Scribe"}).status_code == 403
    r = api("admin").put("/api/v1/roles/scribe", json={
        "name": "Scribe", "primary": {"type": "schedule", "id": 999}})
    assert r.status_code == 422 and "no schedule 999" in r.text
    r = api("admin").put("/api/v1/roles/Bad Key", json={"name": "x"})
    assert r.status_code == 422
    r = api("admin").put("/api/v1/roles/scribe", json={
        "name": "Scribe", "responsibilities": "Keeps the timeline"})
    assert r.status_code == 200
    roster = api("viewer").get("/api/v1/roles/roster").json()["items"]
    ic = next(e for e in roster if e["role"]["key"] == "incident_commander")
    assert ic["now"]["person"]["name"] == "Ina" and ic["now"]["methods"] == [
        ["email", "ina@example.com"]]
    assert ic["path"][0] == "primary: on call on schedule ic-primary"
    assert api("admin").delete("/api/v1/roles/scribe").status_code == 204
    used = api("admin").delete("/api/v1/roles/incident_commander")
    assert used.status_code == 409 and "playbook P1" in used.text and "playbook P2" in used.text


def test_a_p1_gets_its_roles_and_checkpoints_and_they_are_worked(api):
    setup_ic(api)
    inc = api().post("/api/v1/incidents", json={"title": "Payments down",
                                                "service": "payments-api",
                                                "attributes": OUTAGE}).json()
    held = api("viewer").get(f"/api/v1/incidents/{inc['id']}/roles").json()["items"]
    ic = next(h for h in held if h["role"] == "incident_commander")
    assert ic["person"]["name"] == "Ina" and "Ina is the primary" in ic["reason"]
    r = api().put(f"/api/v1/incidents/{inc['id']}/roles/incident_commander",
                  json={"person": "admin@example.com", "reason": "Ina is on a plane"})
    assert r.status_code == 200, r.text
    r = api().put(f"/api/v1/incidents/{inc['id']}/roles/incident_commander",
                  json={"person": "nobody@example.com"})
    assert r.status_code == 422 and "no active person" in r.text
    r = api().put(f"/api/v1/incidents/{inc['id']}/roles/incident_commander",
                  json={"person": 10**30})
    assert r.status_code == 422 and "no active person" in r.text
    tasks = api("viewer").get(f"/api/v1/incidents/{inc['id']}/tasks").json()["items"]
    contain = next(t for t in tasks if t["key"] == "P1:contain")
    assert len(contain["checklist"]) == 4 and contain["role"] == "engineering_responder"
    r = api().post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/checklist/1",
                   json={"done": True})
    assert r.status_code == 200 and r.json()["checklist"][1]["done"] is True
    r = api().post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/checklist/9",
                   json={"done": True})
    assert r.status_code == 422
    r = api().post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/done",
                   json={"note": "rolled back 4.2"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    again = api().post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/done", json={})
    assert again.status_code == 409
    assert api("viewer").post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/done",
                              json={}).status_code == 403
    texts = [e["text"] for e in api().get(f"/api/v1/incidents/{inc['id']}/timeline")
             .json()["items"]]
    assert "Incident Commander handed over from Ina to Admin: Ina is on a plane (Admin has " \
           "no contact method: not told)" in texts
    assert "☑ Check recent changes (deploys, config, feature flags) and roll back if one " \
           "fits (Containment)" in texts
    assert "Checkpoint done: Containment — rolled back 4.2; 3 of 4 checklist items not ticked" \
        in texts
    r = api().post(f"/api/v1/incidents/{inc['id']}/tasks/{contain['id']}/checklist/2",
                   json={"done": True})
    assert r.status_code == 409 and "its checklist is closed" in r.text
    r = api().put(f"/api/v1/incidents/{inc['id']}/roles/communications_lead",
                  json={"person": "viewer@example.com"})
    assert r.status_code == 422 and "is a viewer and cannot work an incident" in r.text
    # refilled from its schedule, with the reason given; then released by someone else
    r = api().put(f"/api/v1/incidents/{inc['id']}/roles/incident_commander",
                  json={"reason": "Ina landed"})
    assert r.status_code == 200
    assert api().delete(f"/api/v1/incidents/{inc['id']}/roles/incident_commander")\
        .status_code == 204
    texts = [e["text"] for e in api().get(f"/api/v1/incidents/{inc['id']}/timeline")
             .json()["items"]]
    assert "Incident Commander handed over from Admin to Ina: Ina is the primary (on call on " \
           "schedule ic-primary) — Ina landed" in texts
    assert texts[-1] == "Incident Commander released: Ina no longer holds it (by Responder)"


def test_playbooks_over_the_api(api):
    items = api("viewer").get("/api/v1/playbooks").json()["items"]
    assert [p["severity"] for p in items] == ["P1", "P2"]
    r = api("admin").put("/api/v1/playbooks/P3", json={"checkpoints": [
        {"key": "triage", "at_minutes": 0, "title": "Triage", "role": "nobody_role"}]})
    assert r.status_code == 422 and "no incident role 'nobody_role'" in r.text
    r = api("admin").put("/api/v1/playbooks/P3", json={"name": "P3 care", "checkpoints": [
        {"key": "triage", "at_minutes": 60, "title": "Triage", "role": "incident_commander",
         "deadline_minutes": 240}]})
    assert r.status_code == 200 and r.json()["severity"] == "P3"
    assert api("admin").delete("/api/v1/playbooks/P3").status_code == 204
    assert api("admin").delete("/api/v1/playbooks/P3").status_code == 404


def test_the_incident_page_shows_roles_and_checkpoints_and_works_them(api, ui):
    setup_ic(api)
    inc = api().post("/api/v1/incidents", json={"title": "Payments down",
                                                "service": "payments-api",
                                                "attributes": OUTAGE}).json()
    client, csrf = ui()
    page = client.get(f"/incidents/{inc['id']}").text
    assert 'id="roles"' in page and "Ina" in page and "Containment" in page
    tasks = api().get(f"/api/v1/incidents/{inc['id']}/tasks").json()["items"]
    contain = next(t for t in tasks if t["key"] == "P1:contain")
    r = client.post(f"/incidents/{inc['id']}/tasks/{contain['id']}/checklist/0",
                    data={"csrf_token": csrf, "done": "1"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "☑" in r.text
    r = client.post(f"/incidents/{inc['id']}/roles/communications_lead",
                    data={"csrf_token": csrf, "person": "me", "reason": "I'll write"},
                    follow_redirects=False)
    assert r.status_code == 303
    held = api().get(f"/api/v1/incidents/{inc['id']}/roles").json()["items"]
    assert next(h for h in held if h["role"] == "communications_lead")["person"]["name"] == \
        "Responder"
    r = client.post(f"/incidents/{inc['id']}/tasks/{contain['id']}/done",
                    data={"csrf_token": csrf, "note": ""}, follow_redirects=False)
    assert r.status_code == 303
    roster = client.get("/roles").text
    assert "Incident Commander" in roster and "ina@example.com" in roster
    assert "P1 response" in roster


def test_roles_page_lets_an_admin_add_a_role(ui):
    client, csrf = ui("admin")
    r = client.post("/roles", data={"csrf_token": csrf, "key": "scribe", "name": "Scribe",
                                    "responsibilities": "Keeps notes",
                                    "auto_severities": ["P1"]}, follow_redirects=False)
    assert r.status_code == 303
    assert "Keeps notes" in client.get("/roles").text
    again = client.post("/roles", data={"csrf_token": csrf, "key": "scribe", "name": "Other"})
    assert again.status_code == 409 and "exists already" in again.text
    viewer, vcsrf = ui("viewer")
    r = viewer.post("/roles", data={"csrf_token": vcsrf, "key": "x", "name": "X"},
                    follow_redirects=False)
    assert r.status_code == 403
