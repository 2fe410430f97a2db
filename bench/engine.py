"""Benchmark the escalation engine: step-firing lateness and notifications per second.

For each setup (SQLite with 1 engine; PostgreSQL with 1 and with 2 engines) this script
prepares a fresh database with the real CLI (`tocsin db upgrade`), then loads N active
escalations directly (one incident each, a policy of 2 steps 1 minute apart paging one
person with one `chat` contact method whose apprise URL is `json://` to a local HTTP sink
in this process), with first steps due spread evenly over the next S seconds. It starts
the engines as `tocsin engine run` processes (real clock, real apprise sends) and waits
until every page is sent (or a timeout), then reads the database:

- firing lateness: when the escalator queued a page (`notifications.created_at`) minus
  when that step was due (the escalation's first due time + the step's offset);
- delivery lateness: when the page was sent (`sent_at`) minus the same due time;
- notifications sent per second through the outbox (first to last `sent_at`, which follows
  the rate they come due, and the busiest second), and the HTTP requests the sink received;
- duplicates (the sink counting each (incident, round, step) more than once) and misses.

Targets (issue 4): p99 firing lateness under 1 s, max under 2 s.

Run it with `make bench-engine`, or directly:

    .venv/bin/python bench/engine.py [--escalations 10000] [--spread 120]
        [--setups sqlite:1,postgresql:1,postgresql:2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import (  # noqa: E402 - bench/api.py is a sibling script, not a package
    PG_BENCH_DB,
    ROOT,
    TOCSIN,
    cli_env,
    create_pg_db,
    drop_pg_db,
    log,
    percentile,
    tocsin,
)

sys.path.insert(0, str(ROOT / "src"))
from tocsin.store.models import (  # noqa: E402
    ContactMethod,
    Escalation,
    Incident,
    Notification,
    Service,
    User,
)

STEP_MINUTES = 1


class Sink:
    """A local HTTP endpoint counting the JSON posts apprise makes."""

    def __init__(self) -> None:
        self.seen: Counter = Counter()
        self.requests = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    title = json.loads(body).get("title", "")
                except ValueError:
                    title = ""
                with sink.lock:
                    sink.requests += 1
                    sink.seen[title] += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def load(url: str, n: int, spread: float, sink_port: int) -> None:
    """N incidents with an active escalation each, first steps due over `spread` seconds."""
    eng = create_engine(url)
    now = datetime.now(UTC)
    base = now + timedelta(seconds=5)
    with eng.begin() as c:
        svc = c.execute(insert(Service).values(name="bench", description="", tier=1, tags=[],
                                               created_at=now).returning(Service.id)).scalar()
        uid = c.execute(insert(User).values(
            email="oncall@example.com", name="On Call", password_hash=None, role="responder",
            time_zone="UTC", active=True, created_at=now).returning(User.id)).scalar()
        c.execute(insert(ContactMethod).values(user_id=uid, type="chat",
                                               address=f"json://127.0.0.1:{sink_port}/",
                                               label="", created_at=now))
        policy = {"name": "bench", "repeat": 0, "steps": [
            {"delay_minutes": STEP_MINUTES, "targets": [{"type": "person", "id": uid}]}] * 2}
        rows = [{"number": i + 1, "title": f"Bench {i}", "description": "", "kind": "incident",
                 "severity": "P1", "severity_reason": "bench", "status": "triggered",
                 "service_id": svc, "attributes": {}, "created_at": now, "updated_at": now,
                 "version": 1} for i in range(n)]
        for i in range(0, n, 1000):
            c.execute(insert(Incident), rows[i:i + 1000])
        ids = list(c.execute(select(Incident.id).order_by(Incident.id)).scalars())
        esc = [{"incident_id": inc, "policy_id": None, "policy": policy, "status": "active",
                "round": 0, "step": 0, "started_at": now, "ended_reason": "", "version": 1,
                "next_at": base + timedelta(seconds=spread * k / n)} for k, inc in enumerate(ids)]
        for i in range(0, n, 1000):
            c.execute(insert(Escalation), esc[i:i + 1000])
    eng.dispose()


def due_times(url: str) -> dict[int, datetime]:
    """Each escalation's first due time, read back before the engines start."""
    eng = create_engine(url)
    with eng.connect() as c:
        got = {eid: _aware(at) for eid, at in c.execute(select(Escalation.id,
                                                                Escalation.next_at)).all()}
    eng.dispose()
    return got


def _aware(v: datetime | str) -> datetime:
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def start_engines(env: dict[str, str], count: int, logs: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(count):
        out = open(logs / f"engine{i}.log", "w")  # noqa: SIM115 - lives as long as the process
        procs.append(subprocess.Popen([str(TOCSIN), "engine", "run"], env=env, cwd=ROOT,
                                      stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def sent_count(url: str) -> int:
    eng = create_engine(url)
    with eng.connect() as c:
        n = c.execute(text("SELECT count(*) FROM notifications WHERE status = 'sent'")).scalar()
    eng.dispose()
    return int(n)


def run(setup: str, engines: int, args: argparse.Namespace) -> dict | None:
    tmp = Path(tempfile.mkdtemp(prefix="tocsin-bench-engine-"))
    if setup == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
    else:
        url = create_pg_db()
        if url is None:
            return None
    sink = Sink()
    env = cli_env(url, tmp / "var")
    try:
        tocsin(env, "db", "upgrade")
        load(url, args.escalations, args.spread, sink.port)
        due = due_times(url)
        expected = args.escalations * 2
        procs = start_engines(env, engines, tmp)
        deadline = time.monotonic() + args.spread + 60 * STEP_MINUTES + args.timeout
        while sent_count(url) < expected and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(2)   # anything extra would show up now
        stop(procs)
        return summarise(setup, engines, url, due, sink, expected)
    finally:
        sink.stop()
        if setup != "sqlite":
            drop_pg_db(PG_BENCH_DB)


def summarise(setup: str, engines: int, url: str, due: dict[int, datetime], sink: Sink,
              expected: int) -> dict:
    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(select(Notification.escalation_id, Notification.context,
                                Notification.created_at, Notification.sent_at,
                                Notification.status)).all()
    eng.dispose()
    fire, deliver, sent = [], [], []
    for esc_id, ctx, created, sent_at, _status in rows:
        ctx = json.loads(ctx) if isinstance(ctx, str) else ctx
        step_due = due[esc_id] + timedelta(minutes=STEP_MINUTES * ctx["step"])
        fire.append((_aware(created) - step_due).total_seconds())
        if sent_at is not None:
            deliver.append((_aware(sent_at) - step_due).total_seconds())
            sent.append(_aware(sent_at))
    span = (max(sent) - min(sent)).total_seconds() if len(sent) > 1 else 0.0
    per_second = Counter(int(t.timestamp()) for t in sent)
    # each incident is paged twice (its two steps); more reached the sink only if resent
    dupes = sum(c - 2 for c in sink.seen.values() if c > 2) + max(0, sink.requests - len(sent))
    return {"setup": f"{setup} × {engines}", "queued": len(rows), "sent": len(sent),
            "expected": expected, "fire": fire, "deliver": deliver,
            "rate": len(sent) / span if span else 0.0, "peak": max(per_second.values(), default=0),
            "requests": sink.requests, "dupes": dupes}


def report(r: dict) -> None:
    f, d = r["fire"], r["deliver"]
    log(f"[{r['setup']}] {r['queued']} pages queued, {r['sent']} sent of {r['expected']}; "
        f"sink got {r['requests']} requests, {r['dupes']} duplicates")
    if f:
        log(f"[{r['setup']}] firing lateness p50 {percentile(f, 50):.3f} s, p99 "
            f"{percentile(f, 99):.3f} s, max {max(f):.3f} s (target p99 < 1 s, max < 2 s)")
    if d:
        log(f"[{r['setup']}] delivery lateness p50 {percentile(d, 50):.3f} s, p99 "
            f"{percentile(d, 99):.3f} s, max {max(d):.3f} s; {r['rate']:.0f} notifications/s on "
            f"average (as they came due), {r['peak']} in the busiest second")
    if r["sent"] != r["expected"] or r["dupes"] or r["requests"] != r["sent"]:
        log(f"[{r['setup']}] PROBLEM: sent {r['sent']} of {r['expected']}, sink requests "
            f"{r['requests']}, duplicates {r['dupes']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--escalations", type=int, default=10_000)
    p.add_argument("--spread", type=float, default=120.0,
                   help="seconds over which the first steps come due")
    p.add_argument("--setups", default="sqlite:1,postgresql:1,postgresql:2",
                   help="backend:engines, comma-separated")
    p.add_argument("--timeout", type=float, default=180.0,
                   help="extra seconds to wait for the last pages")
    args = p.parse_args(argv)
    if not TOCSIN.exists():
        log(f"error: {TOCSIN} not found; run `make setup` first")
        return 2
    for spec in args.setups.split(","):
        backend, _, count = spec.partition(":")
        log(f"[{backend} × {count or 1}] {args.escalations} escalations, first steps due over "
            f"{args.spread:.0f} s, second steps {STEP_MINUTES} min later")
        result = run(backend, int(count or 1), args)
        if result is not None:
            report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
