"""The public API contract for incidents, severity evaluation and errors."""

from __future__ import annotations

OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}
PROBLEM = "application/problem+json"


def declare(client, **kw):
    body = {"title": "Payments down", "service": "payments-api", "attributes": OUTAGE, **kw}
    return client.post("/api/v1/incidents", json=body)


def test_declare_returns_the_contract_fields(api):
    r = declare(api())
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"id", "number", "kind", "severity", "severity_reason", "status"} <= set(body)
    assert (body["kind"], body["severity"], body["status"]) == ("incident", "P1", "triggered")
    assert r.headers["location"] == f"/api/v1/incidents/{body['id']}"
    got = api("viewer").get(f"/api/v1/incidents/{body['id']}").json()
    assert got["severity_reason"] == body["severity_reason"]


def test_contract_rules(api):
    client = api()
    cases = [({"impact": "outage", "criticality": "revenue"}, "P1"),
             ({"impact": "limited", "criticality": "none", "data_exposure": True}, "P1"),
             ({"impact": "outage", "criticality": "internal", "workaround": False}, "P2"),
             ({"impact": "degradation", "criticality": "internal"}, "P2"),
             ({"impact": "limited", "criticality": "internal"}, "P3"),
             ({"impact": "degradation", "criticality": "internal", "workaround": True}, "P3"),
             ({"impact": "cosmetic", "criticality": "none"}, "P4")]
    for attrs, expected in cases:
        r = client.post("/api/v1/severity/evaluate", json={
            "service": "wiki", "attributes": {**attrs, "restore_within": "hours"}})
        assert r.status_code == 200, r.text
        assert r.json()["severity"] == expected, (attrs, r.json())
        assert set(r.json()) >= {"kind", "severity", "reason", "rule"}
    assert client.get("/api/v1/incidents").json()["total"] == 0  # evaluate creates nothing


def test_list_filters(api):
    client = api()
    declare(client)
    declare(client, service="wiki", attributes={"impact": "cosmetic", "criticality": "none",
                                                "restore_within": "days"})
    assert client.get("/api/v1/incidents").json()["total"] == 2
    p4 = client.get("/api/v1/incidents?severity=P4").json()
    assert p4["total"] == 1 and p4["items"][0]["severity"] == "P4"
    assert client.get("/api/v1/incidents?status=resolved").json()["total"] == 0


def test_invalid_form_data_is_422_naming_each_field(api):
    r = declare(api(), attributes={"impact": "boom", "users_affected": -3, "colour": "red"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"impact", "users_affected", "colour", "criticality", "restore_within"}
    assert api().get("/api/v1/incidents").json()["total"] == 0


def test_request_shape_errors_are_problems(api):
    r = api().post("/api/v1/incidents", json={"service": "payments-api"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "title"
    r = api().post("/api/v1/incidents", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


def test_unknown_service_or_form_is_404(api):
    assert declare(api(), service="nope").status_code == 404
    r = declare(api(), form="nope")
    assert r.status_code == 404 and "no form 'nope'" in r.json()["detail"]
    assert api().get("/api/v1/incidents/999").status_code == 404


def test_illegal_transition_is_409_with_allowed(api):
    inc = declare(api()).json()
    r = api().post(f"/api/v1/incidents/{inc['id']}/close")
    assert r.status_code == 409
    assert r.json()["allowed"] == ["acknowledge", "mitigate", "resolve"]
    for action, status in [("acknowledge", "acknowledged"), ("mitigate", "mitigated"),
                           ("resolve", "resolved"), ("close", "closed"),
                           ("reopen", "triggered")]:
        r = api().post(f"/api/v1/incidents/{inc['id']}/{action}", json={"note": "x"})
        assert r.status_code == 200 and r.json()["status"] == status


def test_notes_timeline_and_versions(api):
    inc = declare(api()).json()
    note = api().post(f"/api/v1/incidents/{inc['id']}/notes", json={"text": "looking"})
    assert note.status_code == 201
    edited = api().put(f"/api/v1/incidents/{inc['id']}/notes/{note.json()['id']}",
                       json={"text": "looking at the DB"})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    timeline = api("viewer").get(f"/api/v1/incidents/{inc['id']}/timeline").json()
    assert [e["kind"] for e in timeline["items"]] == ["declared", "checkpoint", "role_unfilled",
                                                      "note"]
    assert timeline["items"][3]["text"] == "looking at the DB"
    hist = api().get(f"/api/v1/incidents/{inc['id']}/timeline/{edited.json()['id']}/history")
    assert [v["text"] for v in hist.json()["items"]] == ["looking at the DB", "looking"]
    update = api().post(f"/api/v1/incidents/{inc['id']}/notes", json={
        "kind": "update", "impact": "all cards", "action": "rollback", "next_step": "watch"})
    assert update.status_code == 201 and update.json()["body"]["impact"] == "all cards"
    assert api().post(f"/api/v1/incidents/{inc['id']}/notes", json={}).status_code == 422


def test_severity_change_and_patch(api):
    inc = declare(api()).json()
    r = api().post(f"/api/v1/incidents/{inc['id']}/severity", json={"severity": "P2"})
    assert r.status_code == 422
    r = api().post(f"/api/v1/incidents/{inc['id']}/severity",
                   json={"severity": "P2", "reason": "EU only"})
    assert r.status_code == 200 and r.json()["severity"] == "P2"
    r = api().patch(f"/api/v1/incidents/{inc['id']}",
                    json={"title": "EU card payments down", "owner": "responder@example.com",
                          "version": r.json()["version"]})
    assert r.status_code == 200 and r.json()["owner"]["email"] == "responder@example.com"
    stale = api().patch(f"/api/v1/incidents/{inc['id']}", json={"title": "x", "version": 1})
    assert stale.status_code == 409


def test_viewer_reads_but_cannot_write(api):
    assert declare(api("viewer")).status_code == 403
    assert api("viewer").get("/api/v1/incidents").status_code == 200


def test_attachment_round_trip(api):
    import base64

    attrs = {**OUTAGE, "evidence": {"filename": "trace.txt", "content_type": "text/plain",
                                    "content_base64": base64.b64encode(b"stack").decode()}}
    inc = declare(api(), attributes=attrs).json()
    ref = inc["attributes"]["evidence"]
    r = api("viewer").get(f"/api/v1/incidents/{inc['id']}/attachments/{ref['attachment_id']}")
    assert r.status_code == 200 and r.content == b"stack"
    bad = declare(api(), attributes={**OUTAGE, "evidence": {"filename": "x",
                                                            "content_base64": "@@"}})
    assert bad.status_code == 422
