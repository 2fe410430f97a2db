"""Schedules over HTTP: create, who is on call at a time, the final view, overrides, and
the secret iCal feed that a calendar app fetches without signing in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from icalendar import Calendar


def make(api):
    admin = api("admin")
    ids = [admin.post("/api/v1/people", json={"name": n, "email": f"{n.lower()}@example.com"})
           .json()["id"] for n in ("Ann", "Ben")]
    r = admin.post("/api/v1/schedules", json={
        "name": "primary", "time_zone": "America/New_York", "layers": [
            {"rotation": "daily", "handoff": "09:00", "start": "2026-03-01", "members": ids}]})
    assert r.status_code == 201, r.text
    return r.json(), ids


def test_schedules_over_http(app, api):
    s, (ann, ben) = make(api)
    viewer = api("viewer")
    # 2026-03-08 is the US spring-forward day: the 09:00 handoff is 13:00 UTC from then on
    # (turns from 1 March: Ann, Ben, Ann, … so the 8th is Ben's from 09:00 local)
    r = viewer.get(f"/api/v1/schedules/{s['id']}/oncall", params={"at": "2026-03-08T13:30:00Z"})
    assert r.status_code == 200 and r.json()["person"]["id"] == ben and r.json()["source"]
    r = viewer.get(f"/api/v1/schedules/{s['id']}/oncall", params={"at": "2026-03-08T12:59:00Z"})
    assert r.json()["person"]["id"] == ann
    r = viewer.get(f"/api/v1/schedules/{s['id']}/shifts",
                   params={"from": "2026-03-08T00:00:00Z", "to": "2026-03-09T00:00:00Z"})
    assert [x["start"] for x in r.json()["items"]] == ["2026-03-08T00:00:00Z",
                                                       "2026-03-08T13:00:00Z"]
    r = api().post(f"/api/v1/schedules/{s['id']}/overrides", json={
        "person_id": ann, "start": "2026-03-08T14:00:00Z", "end": "2026-03-08T16:00:00Z"})
    assert r.status_code == 201 and r.json()["items"][0]["source"] == "override"
    feed = TestClient(app).get(s["feed_path"])
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(feed.content).walk("VEVENT")
    url = api().get(f"/api/v1/people/{ann}/ical")
    assert url.status_code == 403   # someone else's feed: admins only
    url = api("admin").get(f"/api/v1/people/{ann}/ical").json()["url"]
    mine = TestClient(app).get(url.removeprefix("http://127.0.0.1:8080"))
    assert mine.status_code == 200 and Calendar.from_ical(mine.content)


def test_bad_schedule_input(app, api):
    s, (ann, _) = make(api)
    admin = api("admin")
    r = admin.post("/api/v1/schedules", json={"name": "x", "time_zone": "Mars/Base", "layers": [
        {"rotation": "daily", "handoff": "25:00", "start": "2026-03-01", "members": [ann]}]})
    assert r.status_code == 422 and "time_zone" in r.text and "layers[0].handoff" in r.text
    r = admin.get(f"/api/v1/schedules/{s['id']}/oncall", params={"at": "2026-03-08T13:30:00"})
    assert r.status_code == 422   # a time without a zone is ambiguous
    for far in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"):
        r = admin.get(f"/api/v1/schedules/{s['id']}/oncall", params={"at": far})
        assert r.status_code == 422 and "between 2000 and 2100" in r.text
    r = admin.get(f"/api/v1/schedules/{s['id']}/shifts",
                  params={"from": "2026-03-08T00:00:00Z", "to": "2027-03-08T00:00:00Z"})
    assert r.status_code == 422 and "at most 93 days" in r.text
    assert TestClient(app).get("/ical/schedules/nope.ics").status_code == 404
    assert api("viewer").post(f"/api/v1/schedules/{s['id']}/overrides", json={
        "person_id": ann, "start": "2026-03-08T14:00:00Z",
        "end": "2026-03-08T16:00:00Z"}).status_code == 403


def test_the_people_page_shows_who_is_on_call_and_how_to_reach_people(app, api, ui):
    s, (ann, ben) = make(api)
    client, csrf = ui("responder")
    page = client.get("/people").text
    roster = page[page.index('id="roster"'):page.index("</section>", page.index('id="roster"'))]
    assert "primary" in roster and s["feed_path"] in roster
    assert ("Ann" in roster or "Ben" in roster) and "until" in roster
    me = [p for p in api().get("/api/v1/people").json()["items"]
          if p["email"] == "responder@example.com"][0]
    r = client.post(f"/people/{me['id']}/contact-methods",
                    data={"type": "sms", "address": "+15550001111", "csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "+15550001111" in client.get("/people").text
    r = client.post(f"/people/{ann}/contact-methods",   # someone else's: admins only
                    data={"type": "sms", "address": "+15550002222", "csrf_token": csrf})
    assert r.status_code == 403 and "+15550002222" not in client.get("/people").text
    r = client.post(f"/people/{me['id']}/contact-methods",
                    data={"type": "pager", "address": "x", "csrf_token": csrf})
    assert r.status_code == 422 and "type: one of email" in r.text


def test_a_schedule_is_replaced_over_http(api):
    s, (ann, ben) = make(api)
    body = {"name": "primary", "time_zone": "UTC", "layers": [
        {"rotation": "weekly", "start": "2026-03-02", "members": [ben]}]}
    assert api().put(f"/api/v1/schedules/{s['id']}", json=body).status_code == 403
    r = api("admin").put(f"/api/v1/schedules/{s['id']}", json=body)
    assert r.status_code == 200 and r.json()["feed_path"] == s["feed_path"]
    assert r.json()["layers"][0]["members"] == [ben]
    bad = api("admin").put(f"/api/v1/schedules/{s['id']}", json={**body, "layers": [
        {"rotation": "weekly", "start": "2026-03-02", "members": [99999]}]})
    assert bad.status_code == 422 and "layers[0].members[0]" in bad.text


def test_the_schedule_page_shows_the_final_view_and_takes_overrides(api, ui):
    s, (ann, ben) = make(api)
    client, csrf = ui()
    page = client.get(f"/schedules/{s['id']}")
    assert page.status_code == 200 and "Who is on call, the next 14 days" in page.text
    assert "Ann" in page.text and "Ben" in page.text
    r = client.post(f"/schedules/{s['id']}/overrides", data={
        "csrf_token": csrf, "person_id": str(ann), "start": "2026-03-03T10:00",
        "end": "2026-03-03T12:00", "reason": "swap with Ben"}, follow_redirects=False)
    assert r.status_code == 303
    # the responder's zone is Europe/Paris: 10:00 there is 09:00 UTC
    shifts = api().get(f"/api/v1/schedules/{s['id']}/shifts", params={
        "from": "2026-03-03T08:00:00Z", "to": "2026-03-03T12:00:00Z"}).json()["items"]
    assert {"start": "2026-03-03T09:00:00Z", "end": "2026-03-03T11:00:00Z"}.items() <= \
        next(x for x in shifts if x["source"] == "override").items()
    bad = client.post(f"/schedules/{s['id']}/overrides", data={
        "csrf_token": csrf, "person_id": str(ann), "start": "yesterday", "end": ""})
    assert bad.status_code == 422 and "a date and time like" in bad.text
    people = client.get("/people").text
    assert f'href="/schedules/{s["id"]}"' in people


def test_configuration_page_edits_schedules_as_yaml(api, ui):
    make(api)
    client, csrf = ui("admin")
    page = client.get("/config").text
    assert 'id="schedules"' in page and "primary" in page and 'id="incident-roles"' in page
    editor = client.get("/config/edit", params={"section": "schedules"})
    assert editor.status_code == 200 and "ann@example.com" in editor.text
    text = ("schedules:\n  - name: nights\n    time_zone: UTC\n    layers:\n"
            "      - {rotation: daily, start: 2026-03-02, members: [ben@example.com]}\n")
    r = client.post("/config/edit", data={"csrf_token": csrf, "section": "schedules",
                                          "text": text}, follow_redirects=False)
    assert r.status_code == 303
    names = [x["name"] for x in api().get("/api/v1/schedules").json()["items"]]
    assert sorted(names) == ["nights", "primary"]


def test_shifts_are_swapped_over_http_and_in_the_page(api, ui):
    s, (ann, ben) = make(api)
    # New York daily turns from 1 March: the 2nd is Ben's, the 3rd Ann's (from 09:00 EST)
    r = api().post(f"/api/v1/schedules/{s['id']}/swaps", json={
        "first": "2026-03-02T18:00:00Z", "second": "2026-03-03T18:00:00Z"})
    assert r.status_code == 201, r.text
    assert [x["person"]["id"] for x in r.json()["items"]] == [ann, ben]
    assert api("viewer").post(f"/api/v1/schedules/{s['id']}/swaps", json={
        "first": "2026-03-02T18:00:00Z", "second": "2026-03-03T18:00:00Z"}).status_code == 403
    client, csrf = ui()
    page = client.get(f"/schedules/{s['id']}").text
    assert 'id="swap"' in page
    r = client.post(f"/schedules/{s['id']}/swaps", data={
        "csrf_token": csrf, "first": "2026-03-04T18:00:00+00:00",
        "second": "2026-03-05T18:00:00+00:00"}, follow_redirects=False)
    assert r.status_code == 303
    on = api().get(f"/api/v1/schedules/{s['id']}/oncall",
                   params={"at": "2026-03-04T18:00:00Z"}).json()
    assert on["person"]["id"] != api().get(f"/api/v1/schedules/{s['id']}/oncall", params={
        "at": "2026-03-05T18:00:00Z"}).json()["person"]["id"]
    assert on["source"] == "override"
