"""Real senders: the Debian prometheus-alertmanager binary posting its webhook to Tocsin, and
the pdpyras PagerDuty client pointed at Tocsin's Events API v2."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from .conftest import free_port

pytestmark = pytest.mark.e2e
ALERTMANAGER = os.environ.get("TOCSIN_ALERTMANAGER", "/usr/bin/prometheus-alertmanager")


def wait_for(check, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def api(server) -> httpx.Client:
    token = server.cli("tokens", "create", "--email", server.email, "--name", "e2e").strip()
    return httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"})


def key_of(output: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("key:"))


@pytest.fixture
def alertmanager(tmp_path, server):
    if not shutil.which(ALERTMANAGER):
        msg = f"{ALERTMANAGER} not found (apt-get install prometheus-alertmanager)"
        if os.environ.get("TOCSIN_REQUIRE_ALERTMANAGER"):
            pytest.fail(msg + " — TOCSIN_REQUIRE_ALERTMANAGER is set", pytrace=False)
        pytest.skip(msg)
    key = key_of(server.cli("integrations", "create", "--name", "prometheus", "--type",
                            "alertmanager", "--service", "checkout-web"))
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: tocsin
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: {server.base}/intake/{key}
        send_resolved: true
""")
    port = free_port()
    log = open(tmp_path / "alertmanager.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([ALERTMANAGER, f"--config.file={config}",
                             f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(base, proc), 30, "alertmanager to start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _ready(base: str, proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise RuntimeError("alertmanager exited")
    try:
        return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def am_alerts(ends_at: datetime | None = None) -> list[dict]:
    now = datetime.now(UTC)
    out = []
    for instance in ("checkout-1", "checkout-2"):
        alert = {"labels": {"alertname": "CheckoutDown", "env": "production",
                            "severity": "critical", "instance": instance},
                 "annotations": {"summary": f"{instance} is not answering"},
                 "startsAt": (now - timedelta(minutes=1)).isoformat()}
        if ends_at:
            alert["endsAt"] = ends_at.isoformat()
        out.append(alert)
    return out


def test_alertmanager_opens_then_resolves_an_incident(server, alertmanager):
    client = api(server)
    r = httpx.post(f"{alertmanager}/api/v2/alerts", json=am_alerts())
    assert r.status_code == 200, r.text

    def incident():
        items = client.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
        ours = [a for a in items if a["labels"].get("alertname") == "CheckoutDown"]
        ids = {a["incident_id"] for a in ours}
        return len(ours) == 2 and len(ids) == 1 and ids.pop()
    incident_id = wait_for(incident, what="Alertmanager's alerts to open one incident")
    inc = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert (inc["severity"], inc["status"]) == ("P1", "triggered")
    assert "production-outage" in inc["severity_reason"]

    r = httpx.post(f"{alertmanager}/api/v2/alerts", json=am_alerts(ends_at=datetime.now(UTC)))
    assert r.status_code == 200
    wait_for(lambda: client.get(f"/api/v1/incidents/{incident_id}").json()["status"]
             == "resolved", what="the resolved notification to resolve the incident")
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"]
    changes = [e for e in timeline if e["kind"] == "status_changed"]
    assert "resolved automatically: all 2 alert(s) resolved" in changes[-1]["text"]
    # the demo's payments-api pages the `on-call` policy, which the resolve stopped
    assert timeline[-1]["text"] == "Escalation stopped: the incident was resolved by alert triage"


def test_pdpyras_triggers_and_resolves(server, tmp_path):
    pdpyras = pytest.importorskip("pdpyras")
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  - name: pagerduty-db\n    match: ['__source__=\"pagerduty\"', "
                      "'component=\"db\"']\n    actions: {open_incident: {severity: P2}}\n")
    server.cli("config", "apply", str(routes))
    key = key_of(server.cli("integrations", "create", "--name", "pd", "--type", "pagerduty",
                            "--service", "customer-db"))
    session = pdpyras.EventsAPISession(key)
    session.url = server.base
    dedup = session.trigger("Replica lag over 30s", "db-replica-2", severity="error",
                            payload={"component": "db"})
    assert dedup  # Tocsin answered like PagerDuty: 202 with a dedup_key
    client = api(server)

    def the_alert():
        items = client.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
        return next((a for a in items if a["dedup_key"] == dedup and a["incident_id"]), None)
    alert = wait_for(the_alert, what="the PagerDuty event to open an incident")
    assert client.get(f"/api/v1/incidents/{alert['incident_id']}").json()["severity"] == "P2"
    assert session.resolve(dedup) == dedup
    wait_for(lambda: client.get(f"/api/v1/alerts/{alert['id']}").json()["status"] == "resolved",
             what="the resolve event")
    with pytest.raises(pdpyras.PDClientError):
        session.send_event("trigger", payload={"summary": "no source"})
