"""UI flows over HTTP: sign in, the intake form and its preview, the incident page."""

from __future__ import annotations

import re

from .conftest import PASSWORD, csrf_from

FORM = {"service": "payments-api", "form": "default", "title": "Card payments failing",
        "a_impact": "outage", "a_criticality": "revenue", "a_restore_within": "immediately"}


def test_login_wrong_password_and_redirects(app):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    r = client.get("/incidents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/incidents"
    csrf = csrf_from(client.get("/login").text)
    bad = client.post("/login", data={"email": "admin@example.com", "password": "nope",
                                      "csrf_token": csrf})
    assert bad.status_code == 401 and "wrong email or password" in bad.text
    ok = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD,
                                     "csrf_token": csrf, "next": "//evil.example"},
                     follow_redirects=False)
    assert ok.headers["location"] == "/incidents"  # no open redirect


def test_preview_shows_severity_and_reason(ui):
    client, csrf = ui()
    r = client.post("/incidents/preview", data=FORM, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert 'id="preview-severity">P1<' in r.text and "criticality is revenue" in r.text
    partial = client.post("/incidents/preview", data={"service": "wiki", "form": "default",
                                                      "a_impact": "cosmetic"},
                          headers={"X-CSRF-Token": csrf})
    assert ">P4<" in partial.text


def test_declare_through_the_form_lands_on_the_incident(ui):
    client, csrf = ui()
    r = client.post("/incidents/new", data={**FORM, "csrf_token": csrf},
                    files={"a_evidence": ("trace.txt", b"stack trace", "text/plain")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "Card payments failing" in page.text and 'id="incident-severity">P1<' in page.text
    assert "Declared P1 incident" in page.text
    link = re.search(r'href="(/incidents/\d+/attachments/\d+)"', page.text).group(1)
    assert client.get(link).content == b"stack trace"
    # Times are shown in the viewer's zone (Europe/Paris in the fixture).
    assert re.search(r"\d\d:\d\d:\d\d CES?T", page.text)


def test_invalid_form_rerenders_with_field_errors(ui):
    client, csrf = ui()
    r = client.post("/incidents/new", data={"service": "payments-api", "form": "default",
                                            "title": "", "a_users_affected": "many",
                                            "csrf_token": csrf})
    assert r.status_code == 422
    assert "must be a whole number" in r.text and "is required" in r.text


def test_work_the_incident_from_the_page(ui):
    client, csrf = ui()
    inc = client.post("/incidents/new", data={**FORM, "csrf_token": csrf},
                      follow_redirects=False).headers["location"]
    client.post(f"{inc}/action/acknowledge", data={"csrf_token": csrf})
    client.post(f"{inc}/notes", data={"csrf_token": csrf, "kind": "update", "impact": "EU",
                                      "action": "rollback", "next_step": "watch", "text": ""})
    client.post(f"{inc}/severity", data={"csrf_token": csrf, "severity": "P2",
                                         "reason": "EU cards only"})
    page = client.get(inc).text
    assert 'id="incident-status">acknowledged<' in page
    assert "Impact: EU · Action: rollback · Next step: watch" in page
    assert "Severity P1 → P2: EU cards only" in page
    bad = client.post(f"{inc}/action/close", data={"csrf_token": csrf})
    assert bad.status_code == 409 and "allowed: mitigate, resolve" in bad.text


def test_config_editor_reports_line_and_path(ui):
    client, csrf = ui("admin")
    text = "severity_rules:\n  - name: x\n    severity: P7\n    when: {impact: outage}\n"
    r = client.post("/config/edit", data={"csrf_token": csrf, "section": "severity_rules",
                                          "text": text})
    assert r.status_code == 422
    assert "line 3" in r.text and "severity_rules[0].severity" in r.text


def test_people_page_creates_people_and_teams(ui):
    admin, csrf = ui("admin")
    r = admin.post("/people", data={"csrf_token": csrf, "email": "new@example.com",
                                    "name": "Nia New", "role": "responder",
                                    "time_zone": "Asia/Tokyo", "password": "longenough"},
                   follow_redirects=False)
    assert r.status_code == 303
    bad = admin.post("/people", data={"csrf_token": csrf, "email": "nope", "role": "boss",
                                      "time_zone": "Mars/Base"})
    assert bad.status_code == 422 and "must be an email address" in bad.text
    admin.post("/teams", data={"csrf_token": csrf, "name": "sre",
                               "members": ["new@example.com"]})
    page = admin.get("/people").text
    assert "Nia New" in page and "Asia/Tokyo" in page and "<strong>sre</strong>" in page
    responder, csrf2 = ui("responder")
    refused = responder.post("/people", data={"csrf_token": csrf2, "email": "x@example.com",
                                              "role": "admin"})
    assert refused.status_code == 403


def test_sign_out_ends_the_session_even_for_a_copied_cookie(ui):
    client, csrf = ui()
    stolen = dict(client.cookies)
    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    from fastapi.testclient import TestClient

    replay = TestClient(client.app, cookies=stolen)
    r = replay.get("/incidents", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
