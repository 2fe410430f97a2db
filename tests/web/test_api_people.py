"""A person's contact methods over HTTP: the test message and its code or link, and
notification rules — with who may change what (their own, or anyone's for an admin)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tocsin.engine.engine import Engine


def me(api, role="responder"):
    return api(role).get("/api/v1/me").json()["id"]


def add_methods(api, role="responder"):
    """The caller adds an email and an SMS number to themselves; returns (person, ids)."""
    client, pid = api(role), me(api, role)
    for kind, address in (("email", f"{role}@example.com"), ("sms", "+15550001111")):
        r = client.post(f"/api/v1/people/{pid}/contact-methods",
                        json={"type": kind, "address": address})
        assert r.status_code == 201, r.text
    return pid, [m["id"] for m in r.json()["contact_methods"]]


def send_test(app, api, pid, method_id, role="responder"):
    """Ask for a test message, run the engine, return the message sent."""
    r = api(role).post(f"/api/v1/people/{pid}/contact-methods/{method_id}/test")
    assert r.status_code == 202, r.text
    assert r.json()["last_test"]["status"] == "pending" and r.json()["verified"] is False
    notifier = app.state.container.notifier
    Engine(app.state.container).run_cycle()
    [msg] = notifier.sent
    notifier.sent.clear()
    return msg


def method(api, pid, method_id):
    person = api("viewer").get(f"/api/v1/people/{pid}").json()
    return next(m for m in person["contact_methods"] if m["id"] == method_id)


def test_a_code_verifies_the_method_and_a_wrong_one_says_so(app, api):
    pid, [_email, sms] = add_methods(api)
    msg = send_test(app, api, pid, sms)
    assert (msg.channel, msg.address, msg.subject) == ("sms", "+15550001111",
                                                       "Tocsin: verify this contact method")
    code = re.search(r"verification code is (\d{6})", msg.text).group(1)
    shown = method(api, pid, sms)
    assert shown["verified"] is False and shown["last_test"]["status"] == "sent"
    assert shown["last_test"]["sent_at"] and shown["last_test"]["attempts_left"] == 5

    url = f"/api/v1/people/{pid}/contact-methods/{sms}/verify"
    wrong = api().post(url, json={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [{"field": "code", "message": "wrong code; 4 attempt(s) left"}]
    ok = api().post(url, json={"code": code})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    assert ok.json()["verified_at"] and method(api, pid, sms)["verified"] is True
    again = api().post(url, json={"code": code})
    assert again.status_code == 409 and "used already" in again.json()["detail"]


def test_codes_expire_and_wrong_ones_are_limited(app, api, clock):
    pid, [email, sms] = add_methods(api)
    msg = send_test(app, api, pid, email)
    code = re.search(r"verification code: (\d{6})", msg.text).group(1)
    clock.advance(hours=24)
    r = api().post(f"/api/v1/people/{pid}/contact-methods/{email}/verify", json={"code": code})
    assert r.status_code == 409 and "expired" in r.json()["detail"]

    send_test(app, api, pid, sms)
    url = f"/api/v1/people/{pid}/contact-methods/{sms}/verify"
    for left in (4, 3, 2, 1):
        assert f"{left} attempt(s) left" in api().post(url, json={"code": "x"}).text
    last = api().post(url, json={"code": "x"})
    assert last.status_code == 422 and "no attempts left" in last.text
    spent = api().post(url, json={"code": "x"})
    assert spent.status_code == 409 and "5 wrong codes" in spent.json()["detail"]


def test_test_messages_are_not_sent_more_than_once_a_minute(app, api, clock):
    pid, [email, _] = add_methods(api)
    send_test(app, api, pid, email)
    r = api().post(f"/api/v1/people/{pid}/contact-methods/{email}/test")
    assert r.status_code == 409 and "send another in 60 s" in r.json()["detail"]
    clock.advance(seconds=60)
    send_test(app, api, pid, email)
    r = api().post(f"/api/v1/people/{pid}/contact-methods/{email}/verify", json={"code": "1"})
    assert r.status_code == 422   # the newer test counts


def test_the_link_shows_first_and_verifies_on_confirm(app, api):
    pid, [email, _] = add_methods(api)
    msg = send_test(app, api, pid, email)
    link = "/verify/" + msg.text.split("/verify/")[1].split()[0]
    anon = TestClient(app)
    page = anon.get(link)   # a mail scanner following the link verifies nothing
    assert page.status_code == 200 and "Verify email responder@example.com" in page.text
    assert method(api, pid, email)["verified"] is False
    done = anon.post(link)
    assert done.status_code == 200 and "Verified." in done.text
    assert method(api, pid, email)["verified"] is True
    again = anon.post(link)
    assert again.status_code == 409 and "used already" in again.text
    assert anon.get("/verify/not-a-token").status_code == 404
    assert anon.post("/verify/not-a-token").status_code == 404


def test_a_new_address_is_unverified(app, api):
    pid, [email, _] = add_methods(api)
    msg = send_test(app, api, pid, email)
    code = re.search(r"verification code: (\d{6})", msg.text).group(1)
    url = f"/api/v1/people/{pid}/contact-methods/{email}"
    assert api().post(f"{url}/verify", json={"code": code}).json()["verified"] is True
    r = api().patch(url, json={"label": "work"})
    assert r.status_code == 200 and method(api, pid, email)["verified"] is True
    r = api().patch(url, json={"address": "new@example.com"})
    assert r.status_code == 200
    shown = method(api, pid, email)
    assert (shown["address"], shown["verified"], shown["verified_at"]) == (
        "new@example.com", False, None)
    assert not shown["last_test"]["usable"]
    assert api().patch(url, json={"address": "not an email"}).status_code == 422


def test_notification_rules_get_put_and_precise_errors(api):
    pid, [email, sms] = add_methods(api)
    url = f"/api/v1/people/{pid}/notification-rules"
    got = api("viewer").get(url).json()
    assert got["default"] is True and got["rules"] == []
    assert got["summary"] == {"high": "email, sms", "low": "email, sms"}
    r = api().put(url, json={"rules": [
        {"contact_method_id": email, "delay_minutes": 0},
        {"contact_method_id": sms, "delay_minutes": 5, "urgency": "high"}]})
    assert r.status_code == 200, r.text
    assert r.json()["summary"] == {"high": "email; sms after 5 min", "low": "email"}
    assert [(x["type"], x["delay_minutes"], x["urgency"]) for x in api().get(url).json()["rules"]] \
        == [("email", 0, None), ("sms", 5, "high")]

    bad = api().put(url, json={"rules": [
        {"contact_method_id": 999, "delay_minutes": 0},
        {"contact_method_id": sms, "delay_minutes": 2000, "urgency": "urgent"}]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "rules[0].contact_method_id", "rules[1].delay_minutes", "rules[1].urgency"}
    late = api().put(url, json={"rules": [{"contact_method_id": sms, "delay_minutes": 5}]})
    assert late.status_code == 422 and "must be at 0 minutes" in late.text
    assert api().put(url, json={"rules": [{"contact_method_id": sms, "wait": 1}]}).status_code == 422
    assert api().put(url, json={"rules": []}).json()["default"] is True
    assert api().get("/api/v1/people/999/notification-rules").status_code == 404


def test_people_change_only_their_own_unless_admin(app, api):
    pid, [email, _] = add_methods(api, "admin")
    rules = {"rules": [{"contact_method_id": email, "delay_minutes": 0}]}
    base = f"/api/v1/people/{pid}"
    for role in ("responder", "viewer"):
        client = api(role)
        assert client.put(f"{base}/notification-rules", json=rules).status_code == 403
        assert client.post(f"{base}/contact-methods/{email}/test").status_code == 403
        assert client.post(f"{base}/contact-methods/{email}/verify",
                           json={"code": "1"}).status_code == 403
        assert client.patch(f"{base}/contact-methods/{email}",
                            json={"label": "x"}).status_code == 403
        assert client.get(f"{base}/notification-rules").status_code == 200
    viewer, [v_email, _] = add_methods(api, "viewer")   # a viewer edits their own
    assert api("viewer").put(f"/api/v1/people/{viewer}/notification-rules", json={
        "rules": [{"contact_method_id": v_email}]}).status_code == 200
    assert api("admin").put(f"/api/v1/people/{viewer}/notification-rules",
                            json={"rules": []}).status_code == 200
    # another person's method through one's own id is not found
    assert api("viewer").post(f"/api/v1/people/{viewer}/contact-methods/{email}/test") \
        .status_code == 404


def test_the_people_page_shows_verification_and_edits_rules(app, api, ui):
    pid, [email, sms] = add_methods(api)
    client, csrf = ui("responder")
    page = client.get("/people").text
    assert 'class="status unverified"' in page and "Send test" in page
    assert f'action="/people/{pid}/notification-rules"' in page
    r = client.post(f"/people/{pid}/contact-methods/{email}/test", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    notifier = app.state.container.notifier
    Engine(app.state.container).run_cycle()
    code = re.search(r"verification code: (\d{6})", notifier.sent.pop().text).group(1)
    page = client.get("/people").text
    assert "test sent" in page and f"/contact-methods/{email}/verify" in page
    r = client.post(f"/people/{pid}/contact-methods/{email}/verify",
                    data={"csrf_token": csrf, "code": "bad"})
    assert r.status_code == 422 and "wrong code" in r.text
    r = client.post(f"/people/{pid}/contact-methods/{email}/verify",
                    data={"csrf_token": csrf, "code": code}, follow_redirects=False)
    assert r.status_code == 303
    assert 'class="status verified"' in client.get("/people").text

    form = {"csrf_token": csrf, "method_0": str(email), "delay_0": "0", "urgency_0": "",
            "method_1": str(sms), "delay_1": "5", "urgency_1": "", "method_2": "", "delay_2": "0"}
    r = client.post(f"/people/{pid}/notification-rules", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "email; sms after 5 min" in client.get("/people").text
    r = client.post(f"/people/{pid}/notification-rules", data={**form, "delay_0": "9"})
    assert r.status_code == 422 and "must be at 0 minutes" in r.text
    admin_pid = me(api, "admin")
    r = client.post(f"/people/{admin_pid}/notification-rules",
                    data={"csrf_token": csrf, "method_0": ""})
    assert r.status_code == 403
