"""Paging end to end: `tocsin serve` with its engine, a real SMTP server (aiosmtpd). An
incident pages the on-call person by email; following the link in the email and
confirming acknowledges it, and its escalation sends nothing more — while an incident
nobody acknowledges goes on to the next step."""

from __future__ import annotations

import re
import time

import httpx

from .conftest import free_port, serve

OUTAGE = {"impact": "outage", "criticality": "revenue", "restore_within": "immediately"}


def wait_for(pred, timeout=20.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pred()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def body_of(msg) -> str:
    return "".join(p.get_payload(decode=True).decode() for p in msg.walk()
                   if p.get_content_type() == "text/plain")


def test_email_page_ack_link_stops_the_escalation(tmp_path, smtp):
    inbox, smtp_port = smtp
    port = free_port()
    with serve(tmp_path, port, TOCSIN_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
               TOCSIN_MAIL_FROM="Tocsin <pager@example.com>",
               TOCSIN_BASE_URL=f"http://127.0.0.1:{port}") as server:
        token = re.search(r"tcn_\S+", server.cli("tokens", "create", "--email", server.email,
                                                  "--name", "e2e")).group(0)
        api = httpx.Client(base_url=f"{server.base}/api/v1",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
        addresses = {"Dana": "dana.oncall@example.com", "Bob": "bob.oncall@example.com"}
        ids = [api.post("/people", json={
            "name": name, "email": address,
            "contact_methods": [{"type": "email", "address": address}]}).json()["id"]
            for name, address in addresses.items()]
        policy = api.post("/escalation-policies", json={"name": "e2e", "steps": [
            {"delay_minutes": 1, "targets": [{"type": "person", "id": ids[0]}]},
            {"delay_minutes": 1, "targets": [{"type": "person", "id": ids[1]}]}]}).json()
        assert api.patch("/services/payments-api",
                         json={"escalation_policy_id": policy["id"]}).status_code == 200

        def declare(title):
            return api.post("/incidents", json={"title": title, "service": "payments-api",
                                                "attributes": OUTAGE}).json()

        def ours():  # the demo's own incidents page its people too: only ours count here
            return [m for m in inbox.messages if m[1][0] in addresses.values()]

        acked, ignored = declare("Card payments failing"), declare("Refunds failing")
        pages = wait_for(lambda: len(ours()) >= 2 and ours(), what="2 pages")
        assert sorted(r for _, [r], _ in pages) == ["dana.oncall@example.com"] * 2
        [(sender, _, msg)] = [m for m in pages if f"INC-{acked['number']}:" in m[2]["Subject"]]
        assert sender == "pager@example.com"
        link = re.search(r"http://127\.0\.0\.1:\d+/ack/\S+", body_of(msg)).group(0)

        page = httpx.get(link)   # opening the link (as a mail scanner would) changes nothing
        assert page.status_code == 200 and f"Acknowledge INC-{acked['number']}" in page.text
        assert api.get(f"/incidents/{acked['id']}").json()["status"] == "triggered"
        done = httpx.post(link)
        assert done.status_code == 200 and "Acknowledged" in done.text
        assert api.get(f"/incidents/{acked['id']}").json()["status"] == "acknowledged"

        # Step 2 is due a minute after step 1: only the unacknowledged incident reaches Bob.
        third = wait_for(lambda: len(ours()) >= 3 and ours()[2], timeout=90,
                         what="the second step of the unacknowledged incident")
        assert third[1] == ["bob.oncall@example.com"]
        assert f"INC-{ignored['number']}:" in third[2]["Subject"]
        time.sleep(3)   # a cycle or more after that step: nothing for the acknowledged one
        assert len(ours()) == 3
        sent = api.get(f"/incidents/{acked['id']}/notifications").json()["items"]
        # (the demo's roles are filled too: their holders hear of it, in "role" messages)
        assert [(n["address"], n["status"]) for n in sent if n["purpose"] == "page"] == [
            (addresses["Dana"], "sent")]
        assert {n["purpose"] for n in sent} == {"page", "role"}
        timeline = [e["text"] for e in api.get(f"/incidents/{acked['id']}/timeline")
                    .json()["items"]]
        assert any(t.startswith("Escalation stopped: acknowledged by Dana") for t in timeline)
