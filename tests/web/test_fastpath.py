"""The lean intake protocol (web/fastpath.py) over real sockets: a uvicorn server in a thread,
spoken to in raw HTTP/1.1 so that keep-alive, pipelining and chunked bodies are exact."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tocsin.domain.auth import cli_actor
from tocsin.engine.engine import Engine
from tocsin.services import alerts, catalog
from tocsin.web import fastpath
from tocsin.web.app import create_asgi


@pytest.fixture
def server(sqlite_container, monkeypatch) -> Iterator[dict]:
    c = sqlite_container
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput("checkout", tier=1))
    am = alerts.create_integration(c.uow(), cli_actor(), "prom", "alertmanager", "checkout",
                                   {}, "http://t")
    pd = alerts.create_integration(c.uow(), cli_actor(), "pd", "pagerduty", "checkout",
                                   {}, "http://t")
    app = create_asgi(c)
    app.intake.max_bytes = 4000
    fast: list[str] = []
    run = fastpath.IntakeCycle.run

    async def counted(cycle):
        fast.append(cycle.path)
        await run(cycle)
    monkeypatch.setattr(fastpath.IntakeCycle, "run", counted)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=fastpath.IntakeHttpProtocol,
                            log_level="warning", lifespan="off", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"port": port, "am": am, "pd": pd, "fast": fast, "c": c}
    srv.should_exit = True
    thread.join(10)


def am_body(name: str = "HighErrorRate", status: str = "firing") -> bytes:
    return json.dumps({"version": "4", "status": status, "alerts": [{
        "status": status, "labels": {"alertname": name, "severity": "critical"},
        "annotations": {"summary": f"{name} on checkout"},
        "startsAt": "2026-11-27T12:29:28Z", "fingerprint": f"fp-{name}"}]}).encode()


def request(path: str, body: bytes = b"", method: str = "POST", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: t"]
    if method == "POST" and "Transfer_Encoding" not in headers:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        size = int(headers.get("content-length", 0))   # none on "100 Continue"
        while len(self.buf) < size:
            self._more()
        body, self.buf = self.buf[:size], self.buf[size:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        return self.sock.recv(1) == b""

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "connection closed before the response was complete"
        self.buf += chunk


def test_an_alert_is_accepted_stored_and_triaged(server):
    conn = Conn(server["port"])
    for name in ("A", "B"):   # twice on one keep-alive connection
        conn.send(request(f"/intake/{server['am'].key}", am_body(name)))
        status, headers, body = conn.response()
        assert status == 202, body
        assert json.loads(body) == {"status": "accepted", "alerts": 1,
                                    "dedup_keys": [f"fp-{name}"], "notices": []}
        assert headers["content-type"] == "application/json" and "date" in headers
    assert server["fast"] == [f"/intake/{server['am'].key}"] * 2
    Engine(server["c"]).drain()
    with server["c"].uow(read_only=True) as uow:
        assert {a.dedup_key for a in uow.alerts.open_by_keys(["fp-A", "fp-B"])} == {"fp-A", "fp-B"}


def test_pagerduty_enqueue_answers_as_pagerduty_does(server):
    conn = Conn(server["port"])
    event = {"routing_key": server["pd"].key, "event_action": "trigger", "dedup_key": "db-1",
             "payload": {"summary": "db down", "source": "db", "severity": "critical"}}
    conn.send(request("/v2/enqueue", json.dumps(event).encode()))
    status, _, body = conn.response()
    assert (status, json.loads(body)) == (202, {"status": "success", "message": "Event processed",
                                                "dedup_key": "db-1"})
    conn.send(request("/v2/enqueue", b'{"routing_key": "nope"}'))
    assert conn.response()[0] == 404
    assert server["fast"] == ["/v2/enqueue", "/v2/enqueue"]


def test_refusals_are_precise_and_keep_the_connection(server):
    conn = Conn(server["port"])
    conn.send(request("/intake/wrong-key", am_body()))
    status, headers, body = conn.response()
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["detail"] == "no integration has this key"
    conn.send(request(f"/intake/{server['am'].key}", b"{not json"))
    status, _, body = conn.response()
    problem = json.loads(body)
    assert status == 400 and "not valid JSON" in problem["detail"]
    assert problem["dead_letter_id"] > 0            # kept, to fix and replay
    conn.send(request(f"/intake/{server['am'].key}", am_body(), Content_Type="text/plain"))
    assert conn.response()[0] == 415


def test_a_body_over_the_limit_is_refused_whether_declared_or_chunked(server):
    key = server["am"].key
    conn = Conn(server["port"])
    conn.send(request(f"/intake/{key}", b"x" * 5000))    # declared: refused before reading
    status, _, body = conn.response()
    assert status == 413 and "5000 bytes" in json.loads(body)["detail"]
    conn = Conn(server["port"])
    chunks = b"".join(b"%x\r\n%s\r\n" % (1000, b"x" * 1000) for _ in range(6)) + b"0\r\n\r\n"
    conn.send(request(f"/intake/{key}", chunks, Transfer_Encoding="chunked",
                      Content_Type="application/json"))
    status, _, body = conn.response()
    assert status == 413 and "over the 4000 byte limit" in json.loads(body)["detail"]
    conn.send(request(f"/intake/{key}", am_body()))   # the connection is still good
    assert conn.response()[0] == 202
    assert server["fast"][-2:] == [f"/intake/{key}"] * 2  # chunked: the lean path too


def test_pipelined_requests_are_answered_in_order(server):
    key = server["am"].key
    conn = Conn(server["port"])
    conn.send(request(f"/intake/{key}", am_body("P1")) + request("/healthz", method="GET")
              + request(f"/intake/{key}", am_body("P2")) + request("/intake/wrong", am_body()))
    answers = [conn.response() for _ in range(4)]
    assert [a[0] for a in answers] == [202, 200, 202, 404]
    assert json.loads(answers[0][2])["dedup_keys"] == ["fp-P1"]
    assert json.loads(answers[2][2])["dedup_keys"] == ["fp-P2"]


def test_other_requests_take_the_usual_path(server):
    conn = Conn(server["port"])
    conn.send(request("/healthz", method="GET"))
    assert conn.response()[0] == 200
    conn.send(request(f"/intake/{server['am'].key}", method="GET"))
    status, _, body = conn.response()
    assert status == 405 and "POST" in json.loads(body)["detail"]
    conn.send(request(f"/intake/{server['am'].key}", am_body("E"), Expect="100-continue"))
    status, _, _ = conn.response()
    if status == 100:   # uvicorn says "continue" first
        status, _, _ = conn.response()
    assert status == 202
    assert server["fast"] == []   # none of these was a plain intake request


def test_connection_close_is_honoured(server):
    conn = Conn(server["port"])
    conn.send(request(f"/intake/{server['am'].key}", am_body(), Connection="close"))
    status, headers, _ = conn.response()
    assert status == 202 and headers["connection"] == "close"
    assert conn.closed()


def test_a_failure_is_a_500_and_the_server_goes_on(server, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("bug")
    monkeypatch.setattr(server["c"], "clock", None)   # the handler's clock.now() fails
    conn = Conn(server["port"])
    conn.send(request(f"/intake/{server['am'].key}", am_body()))
    status, _, body = conn.response()
    assert status == 500 and json.loads(body)["status"] == 500
    monkeypatch.undo()
    conn = Conn(server["port"])
    conn.send(request("/healthz", method="GET"))
    assert conn.response()[0] == 200
