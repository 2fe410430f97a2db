"""Alert pages over HTTP: integrations, the stream, detail with decisions and raw payload,
silences, the route tester, dead letters and replay."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tocsin.engine.engine import Engine
from tocsin.web.app import Dispatcher, IntakeApp

FIRING = {"version": "4", "status": "firing", "receiver": "t", "externalURL": "http://am",
          "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
          "alerts": [{"status": "firing", "labels": {"alertname": "Down", "env": "production",
                                                     "severity": "critical", "instance": "db1"},
                      "annotations": {"summary": "db1 is down"},
                      "startsAt": "2026-03-02T09:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}


def test_integration_alert_stream_detail_and_silence(app, ui):
    admin, csrf = ui("admin")
    r = admin.post("/integrations", data={"csrf_token": csrf, "name": "prom",
                                          "type": "alertmanager", "service": "payments-api"},
                   follow_redirects=True)
    url = re.search(r"<code>(http://[^<]+/intake/([0-9a-f]+))</code>", r.text)
    assert url, r.text
    intake = TestClient(Dispatcher(app, IntakeApp(app.state.container, lambda: None)))
    assert intake.post(f"/intake/{url.group(2)}", json=FIRING).status_code == 202
    Engine(app.state.container).drain()
    stream = admin.get("/alerts").text
    assert "db1 is down" in stream
    alert_id = re.search(r'href="/alerts/(\d+)"', stream).group(1)
    detail = admin.get(f"/alerts/{alert_id}").text
    assert "production-outage" in detail, detail
    assert "&#34;alertname&#34;: &#34;Down&#34;" in detail
    assert "Raw payload" in detail
    r = admin.post("/silences", data={"csrf_token": csrf, "matchers": 'instance="db1"',
                                      "hours": "2", "comment": "planned failover"},
                   follow_redirects=True)
    assert 'instance=&#34;db1&#34;' in r.text and "planned failover" in r.text
    bad = admin.post("/silences", data={"csrf_token": csrf, "matchers": "not a matcher",
                                        "hours": "2", "comment": "x"})
    assert bad.status_code == 422


def test_route_tester_and_dead_letter_replay(app, ui):
    admin, csrf = ui("admin")
    r = admin.post("/routes/test", data={"csrf_token": csrf,
                                         "labels": "env=production\nseverity=critical"})
    assert "production-outage" in r.text and "MATCH" in r.text
    # a generic integration whose mapping is wrong at first
    admin.post("/integrations", data={"csrf_token": csrf, "name": "custom", "type": "generic",
                                      "service": "wiki", "options": '{"title": "headline"}'})
    page = admin.get("/integrations").text
    key = re.findall(r"/intake/([0-9a-f]+)", page)[-1]
    intake = TestClient(Dispatcher(app, IntakeApp(app.state.container, lambda: None)))
    assert intake.post(f"/intake/{key}", json={"subject": "disk"}).status_code == 422
    letters = admin.get("/dead-letters").text
    assert "headline" in letters and "Replay" in letters
    dl = re.search(r'/dead-letters/(\d+)/replay', letters).group(1)
    still = admin.post(f"/dead-letters/{dl}/replay", data={"csrf_token": csrf})
    assert still.status_code == 422 and "still cannot be parsed" in still.text
