"""Paging over HTTP: people with contact methods, a policy, a service naming it; an incident
declared through the API pages, lists its notifications, and the link in the page
acknowledges it (once)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tocsin.engine.engine import Engine

OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


def setup_paging(api):
    admin = api("admin")
    r = admin.post("/api/v1/people", json={
        "name": "Dana", "email": "dana@example.com", "time_zone": "America/New_York",
        "contact_methods": [{"type": "email", "address": "dana@example.com"},
                            {"type": "webhook", "address": "https://hooks.example.com/p"}]})
    assert r.status_code == 201, r.text
    person = r.json()
    assert [m["type"] for m in person["contact_methods"]] == ["email", "webhook"]
    r = admin.post("/api/v1/escalation-policies", json={
        "name": "payments", "repeat": 0,
        "steps": [{"delay_minutes": 5, "targets": [{"type": "person", "id": person["id"]}]}]})
    assert r.status_code == 201, r.text
    policy = r.json()
    r = admin.patch("/api/v1/services/payments-api", json={"escalation_policy_id": policy["id"]})
    assert r.status_code == 200 and r.json()["escalation_policy"] == "payments"
    return person, policy


def test_an_incident_pages_and_its_link_acknowledges_once(app, api):
    setup_paging(api)
    r = api().post("/api/v1/incidents", json={"title": "Payments down",
                                              "service": "payments-api", "attributes": OUTAGE})
    inc = r.json()
    c = app.state.container
    Engine(c).run_cycle()
    sent = sorted(c.notifier.sent, key=lambda m: m.channel)   # sent in parallel
    assert [(m.channel, m.address) for m in sent] == [
        ("email", "dana@example.com"), ("webhook", "https://hooks.example.com/p")]
    got = api("viewer").get(f"/api/v1/incidents/{inc['id']}/notifications").json()
    assert got["total"] == 2
    assert {(n["channel"], n["status"], n["person"]) for n in got["items"]} == {
        ("email", "sent", "Dana"), ("webhook", "sent", "Dana")}
    assert all(n["attempts"][0]["status"] == "sent" for n in got["items"])

    link = "/ack/" + sent[0].text.split("http://127.0.0.1:8080/ack/")[1].split()[0]
    anon = TestClient(app)
    page = anon.get(link)
    assert page.status_code == 200 and f"Acknowledge INC-{inc['number']}" in page.text
    assert api().get(f"/api/v1/incidents/{inc['id']}").json()["status"] == "triggered"
    done = anon.post(link)
    assert done.status_code == 200 and "Acknowledged" in done.text
    assert api().get(f"/api/v1/incidents/{inc['id']}").json()["status"] == "acknowledged"
    again = anon.post(link)
    assert again.status_code == 409 and "used already" in again.text
    assert anon.get("/ack/not-a-token").status_code == 404
    timeline = api().get(f"/api/v1/incidents/{inc['id']}/timeline").json()["items"]
    assert any("acknowledged from the link" in (e["text"] or "") for e in timeline)
    assert any(e["text"].startswith("Escalation stopped") for e in timeline)


def test_bad_paging_input_gets_precise_errors(api):
    admin = api("admin")
    r = admin.post("/api/v1/people", json={"name": "X", "email": "x@example.com",
                                           "contact_methods": [{"type": "pager", "address": "1"}]})
    assert r.status_code == 422 and "contact_methods[0].type" in r.text
    r = admin.post("/api/v1/escalation-policies", json={
        "name": "p", "steps": [{"delay_minutes": 5, "targets": [{"type": "person", "id": 999}]}]})
    assert r.status_code == 422 and "steps[0].targets[0].id" in r.text
    r = admin.patch("/api/v1/services/payments-api", json={"escalation_policy_id": 12345})
    assert r.status_code == 422 and "escalation_policy_id" in r.text
    assert api("responder").post("/api/v1/escalation-policies", json={
        "name": "p", "steps": [{"delay_minutes": 5, "targets": [
            {"type": "person", "id": 1}]}]}).status_code == 403
    assert api("viewer").get("/api/v1/incidents/999/notifications").status_code == 404


def test_the_incident_page_shows_the_escalation_and_its_pages(app, api, ui):
    setup_paging(api)
    inc = api().post("/api/v1/incidents", json={"title": "Payments down",
                                                "service": "payments-api",
                                                "attributes": OUTAGE}).json()
    Engine(app.state.container).run_cycle()
    client, _ = ui("viewer")
    html = client.get(f"/incidents/{inc['id']}").text
    paging = html[html.index('id="paging"'):html.index("</section>", html.index('id="paging"'))]
    assert "payments" in paging and "active" in paging
    assert "dana@example.com" in paging and "https://hooks.example.com/p" in paging
    assert paging.count("<td>sent") == 2


def test_policies_are_shown_and_edited_as_configuration(app, api, ui):
    setup_paging(api)
    client, csrf = ui("admin")
    page = client.get("/config").text
    card = page[page.index('id="escalation-policies"'):]
    assert "payments" in card and "dana@example.com" in card and "5 min" in card
    form = client.get("/config/edit?section=escalation_policies").text
    assert "escalation_policies:" in form and "person: dana@example.com" in form
    text = ("escalation_policies:\n  - name: payments\n    steps:\n      - delay_minutes: 7\n"
            "        targets: [{person: dana@example.com}]\n")
    r = client.post("/config/edit", data={"section": "escalation_policies", "text": text,
                                          "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    [policy] = api().get("/api/v1/escalation-policies").json()["items"]
    assert policy["steps"][0]["delay_minutes"] == 7
    bad = text.replace("dana@example.com", "ghost@example.com")
    r = client.post("/config/edit", data={"section": "escalation_policies", "text": bad,
                                          "csrf_token": csrf})
    assert r.status_code == 422 and "no person &#39;ghost@example.com&#39;" in r.text
