"""Benchmark the Tocsin HTTP API and the incident page, on SQLite and on PostgreSQL.

For each backend this script prepares a fresh database with the real CLI (`tocsin db upgrade`,
`tocsin demo seed`, `tocsin tokens create`), starts `tocsin serve` as a separate process with
N uvicorn workers, and measures from this process, over HTTP/1.1 on localhost:

* declare throughput: `POST /api/v1/incidents` at concurrency C for D seconds (after a short
  warm-up), cycling through service/attribute combinations that fire different severity
  rules. Reports incidents/s, p50/p99/max latency and errors (any response other than 201);
* incident page render: one incident gets `--entries` timeline notes (added concurrently
  through the API, any that fail retried one at a time; a setup step, timed and reported
  separately), then `GET /incidents/{id}` (HTML, signed
  in) and `GET /api/v1/incidents/{id}/timeline` are each timed sequentially. Latencies are
  measured by the client, so they include local transfer time;
* the server's peak RSS (VmHWM) for the supervisor and the sum over its worker processes.

PostgreSQL is used at postgresql+psycopg://postgres@127.0.0.1:5432 (database `tocsin_bench`,
created and dropped here); if it is not reachable, that backend is skipped.

Run it with `make bench`, or directly:

    .venv/bin/python bench/api.py [--backends sqlite,postgresql] [--duration 10]
        [--concurrency 16] [--workers 2] [--entries 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
TOCSIN = ROOT / ".venv" / "bin" / "tocsin"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
# One database per run: runs of the bench scripts may overlap and must not drop each other's.
PG_BENCH_DB = f"tocsin_bench_{os.getpid()}"


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
BACKENDS = ("sqlite", "postgresql")
ADMIN_EMAIL = "admin@example.com"
BASE_ATTRS = {"workaround": False}
# (service, attributes) pairs chosen so that several default severity rules fire.
COMBOS = [
    ("payments-api", {"impact": "outage", "criticality": "revenue",
                      "restore_within": "immediately"}),
    ("checkout-web", {"impact": "degradation", "criticality": "revenue",
                      "restore_within": "hours", "users_affected": 400}),
    ("customer-db", {"impact": "degradation", "criticality": "compliance",
                     "restore_within": "hours", "compliance_exposure": True}),
    ("customer-db", {"impact": "limited", "criticality": "compliance",
                     "restore_within": "immediately", "data_exposure": True,
                     "records_exposed": 120}),
    ("internal-dashboard", {"impact": "limited", "criticality": "internal",
                            "restore_within": "days", "workaround": True,
                            "workaround_description": "use the US region"}),
    ("docs-site", {"impact": "cosmetic", "criticality": "none",
                   "restore_within": "next_release"}),
    ("payments-api", {"impact": "degradation", "criticality": "internal",
                      "restore_within": "hours"}),
]
SERVER_TIMING_RE = re.compile(r"app;dur=([0-9.]+)")
CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def log(msg: str) -> None:
    print(msg, flush=True)


# --- statistics -------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (values in seconds); 0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses[201]

    def fail(self, detail: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = detail


@dataclass
class NotesSetup:
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    failed_concurrently: int = 0
    lost: int = 0
    first_error: str | None = None

    def fail(self, detail: str) -> None:
        if self.first_error is None:
            self.first_error = detail


@dataclass
class GetTimings:
    latencies: list[float]
    size: int
    status: int
    server: list[float] = field(default_factory=list)  # Server-Timing app;dur, seconds


@dataclass
class Result:
    backend: str
    load: LoadResult
    notes: NotesSetup
    entries: int
    page: GetTimings
    timeline: GetTimings
    rss_kb: dict[str, int]


# --- databases --------------------------------------------------------------------------------


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def create_pg_db(name: str = PG_BENCH_DB) -> str | None:
    """A fresh bench database; None (after saying why) if the server is unreachable."""
    try:
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log(f"[postgresql] skipped: PostgreSQL not reachable ({reason})")
        return None
    return pg_url(name)


def drop_pg_db(name: str = PG_BENCH_DB) -> None:
    try:
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except psycopg.Error as exc:
        log(f"[postgresql] warning: could not drop {name}: {exc}")


# --- CLI preparation --------------------------------------------------------------------------


def cli_env(url: str, var_dir: Path) -> dict[str, str]:
    return {**os.environ, "TOCSIN_DATABASE_URL": url, "TOCSIN_VAR_DIR": str(var_dir)}


def tocsin(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(TOCSIN), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"`tocsin {' '.join(args)}` exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc.stdout


def prepare(env: dict[str, str], var_dir: Path) -> tuple[str, str]:
    """Schema, demo data and an API token. Returns (token, admin password)."""
    tocsin(env, "db", "upgrade")
    tocsin(env, "demo", "seed")
    token = tocsin(env, "tokens", "create", "--email", ADMIN_EMAIL, "--name", "bench")
    password = (var_dir / "demo-admin.txt").read_text().splitlines()[1].strip()
    return token.strip().splitlines()[-1], password


# --- the server process -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`tocsin serve` in its own process group, its output in a log file."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(TOCSIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--no-migrate"],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def peak_rss_kb(self) -> dict[str, int]:
        """VmHWM of the supervisor and the sum over its worker children (spawned processes)."""
        workers = [p for p in child_pids(self.proc.pid) if "spawn_main" in cmdline(p)]
        return {"supervisor": vm_hwm_kb(self.proc.pid),
                "workers": sum(vm_hwm_kb(p) for p in workers), "worker_count": len(workers)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self._log.close()


def child_pids(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_problems(log_path: Path) -> tuple[Counter, Counter]:
    """(5xx responses by request line, exceptions by their final line) from the server log."""
    lines = log_path.read_text(errors="replace").splitlines()
    access = re.compile(r'"(\w+ \S+) HTTP/[\d.]+" (5\d\d)')
    exc_line = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning)\b")
    responses = Counter(re.sub(r"/\d+", "/{id}", f"{m[2]} {m[1]}") for m in map(access.search,
                                                                                 lines) if m)
    exceptions = Counter(line[:300] for line in lines if exc_line.match(line))
    return responses, exceptions


# --- HTTP measurements ------------------------------------------------------------------------


def make_client(base_url: str, concurrency: int, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, http1=True, http2=False, limits=limits,
                             headers=headers, timeout=120)


def declare_body(n: int) -> dict:
    service, attrs = COMBOS[n % len(COMBOS)]
    return {"title": f"bench incident {n}", "service": service,
            "attributes": {**BASE_ATTRS, **attrs}}


async def declare_once(http: httpx.AsyncClient, n: int, result: LoadResult | None) -> None:
    start = time.perf_counter()
    try:
        resp = await http.post("/api/v1/incidents", json=declare_body(n))
    except httpx.HTTPError as exc:
        if result is not None:
            result.statuses[type(exc).__name__] += 1
            result.fail(f"{type(exc).__name__}: {exc}")
        return
    elapsed = time.perf_counter() - start
    if result is None:
        return
    result.statuses[resp.status_code] += 1
    if resp.status_code == 201:
        result.latencies.append(elapsed)
        result.rules[resp.json().get("severity_rule") or "(fallback)"] += 1
    else:
        result.fail(f"HTTP {resp.status_code}: {resp.text[:500]}")


async def drive(http: httpx.AsyncClient, concurrency: int, seconds: float, max_requests: int,
                result: LoadResult | None, counter: itertools.count) -> float:
    """Run `concurrency` request loops until the deadline or the request budget is spent."""
    deadline = time.perf_counter() + seconds
    budget = itertools.count()

    async def loop() -> None:
        while time.perf_counter() < deadline and next(budget) < max_requests:
            await declare_once(http, next(counter), result)

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return time.perf_counter() - start


async def load_test(http: httpx.AsyncClient, args: argparse.Namespace) -> LoadResult:
    counter = itertools.count(1)
    await drive(http, args.concurrency, args.warmup, args.max_requests, None, counter)
    result = LoadResult()
    result.elapsed = await drive(http, args.concurrency, args.duration, args.max_requests,
                                 result, counter)
    return result


async def create_incident(http: httpx.AsyncClient) -> int:
    resp = await http.post("/api/v1/incidents", json={**declare_body(0),
                                                      "title": "bench page incident"})
    if resp.status_code != 201:
        raise RuntimeError(f"declaring the page incident: HTTP {resp.status_code} {resp.text}")
    return resp.json()["id"]


async def post_notes(http: httpx.AsyncClient, incident_id: int, numbers: list[int],
                     concurrency: int, setup: NotesSetup) -> list[int]:
    """POST one note per number, `concurrency` at a time. Returns the numbers that failed."""
    todo, failed = iter(numbers), []

    async def loop() -> None:
        for n in todo:
            try:
                resp = await http.post(f"/api/v1/incidents/{incident_id}/notes",
                                       json={"text": f"note {n}"})
            except httpx.HTTPError as exc:
                setup.statuses[type(exc).__name__] += 1
                setup.fail(f"{type(exc).__name__}: {exc}")
                failed.append(n)
                continue
            setup.statuses[resp.status_code] += 1
            if resp.status_code != 201:
                setup.fail(f"HTTP {resp.status_code}: {resp.text[:300]}")
                failed.append(n)

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return failed


async def add_notes(http: httpx.AsyncClient, incident_id: int, count: int,
                    concurrency: int) -> NotesSetup:
    """Add `count` notes concurrently; retry the ones that failed one at a time."""
    setup = NotesSetup()
    start = time.perf_counter()
    failed = await post_notes(http, incident_id, list(range(1, count + 1)), concurrency, setup)
    setup.failed_concurrently = len(failed)
    for _ in range(3):
        if not failed:
            break
        failed = await post_notes(http, incident_id, failed, 1, setup)
    setup.lost = len(failed)
    setup.seconds = time.perf_counter() - start
    return setup


async def time_get(http: httpx.AsyncClient, path: str, samples: int,
                   check: Callable[[httpx.Response], None] | None = None) -> GetTimings:
    """One warm-up GET, then `samples` sequential timed GETs (each must answer 200)."""
    latencies, server = [], []
    for n in range(samples + 1):
        start = time.perf_counter()
        resp = await http.get(path)
        elapsed = time.perf_counter() - start
        if resp.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {resp.status_code} {resp.text[:500]}")
        if n == 0 and check:
            check(resp)
        elif n:
            latencies.append(elapsed)
            timing = SERVER_TIMING_RE.search(resp.headers.get("server-timing", ""))
            if timing:
                server.append(float(timing.group(1)) / 1000)
    return GetTimings(latencies, len(resp.content), resp.status_code, server)


def require_html(resp: httpx.Response) -> None:
    if not resp.headers.get("content-type", "").startswith("text/html"):
        raise RuntimeError(f"expected an HTML page, got {resp.headers.get('content-type')}")


async def sign_in(web: httpx.AsyncClient, password: str) -> None:
    resp = await web.get("/login")
    match = CSRF_RE.search(resp.text)
    if resp.status_code != 200 or not match:
        raise RuntimeError(f"GET /login: HTTP {resp.status_code}, csrf token not found")
    resp = await web.post("/login", data={"email": ADMIN_EMAIL, "password": password,
                                          "csrf_token": match.group(1), "next": "/incidents"})
    if resp.status_code != 303:
        raise RuntimeError(f"POST /login: HTTP {resp.status_code} {resp.text[:500]}")


async def timeline_total(http: httpx.AsyncClient, incident_id: int) -> int:
    resp = await http.get(f"/api/v1/incidents/{incident_id}/timeline")
    return resp.json()["total"] if resp.status_code == 200 else -1


async def measure(base_url: str, token: str, password: str, args: argparse.Namespace,
                  backend: str) -> tuple[LoadResult, NotesSetup, int, GetTimings, GetTimings]:
    async with make_client(base_url, args.concurrency, token) as api:
        log(f"[{backend}] declaring incidents: C={args.concurrency}, {args.duration:g}s "
            f"(+{args.warmup:g}s warm-up)")
        load = await load_test(api, args)
        incident_id = await create_incident(api)
        log(f"[{backend}] adding {args.entries} notes to incident {incident_id}")
        setup = await add_notes(api, incident_id, args.entries, args.concurrency)
        log(f"[{backend}]   took {setup.seconds:.1f}s ({args.entries / setup.seconds:.0f} "
            f"notes/s); statuses {dict(setup.statuses)}")
        entries = await timeline_total(api, incident_id)
        timeline = await time_get(api, f"/api/v1/incidents/{incident_id}/timeline",
                                  args.samples)
    async with make_client(base_url, 1) as web:
        await sign_in(web, password)
        page = await time_get(web, f"/incidents/{incident_id}", args.samples, require_html)
    return load, setup, entries, page, timeline


# --- one backend ------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> Result | None:
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        var_dir = Path(tmp)
        url = f"sqlite:///{var_dir / 'tocsin.db'}" if backend == "sqlite" else create_pg_db()
        if url is None:
            return None
        try:
            return run_on(backend, url, var_dir, args)
        finally:
            if backend == "postgresql":
                drop_pg_db()


def run_on(backend: str, url: str, var_dir: Path, args: argparse.Namespace) -> Result:
    env = cli_env(url, var_dir)
    start = time.perf_counter()
    token, password = prepare(env, var_dir)
    log(f"[{backend}] database prepared in {time.perf_counter() - start:.1f}s")
    server = Server(env, args.workers, var_dir / "server.log")
    try:
        ready = server.wait_ready()
        log(f"[{backend}] server on {server.base_url} ({args.workers} workers) "
            f"healthy after {ready:.1f}s")
        load, setup, entries, page, timeline = asyncio.run(
            measure(server.base_url, token, password, args, backend))
        rss = server.peak_rss_kb()
    except Exception:
        log(f"[{backend}] server log tail:\n{server.log_tail()}")
        raise
    finally:
        server.stop()
        report_problems(backend, server_problems(server.log_path))
    return Result(backend, load, setup, entries, page, timeline, rss)


def report_problems(backend: str, problems: tuple[Counter, Counter]) -> None:
    responses, exceptions = problems
    for what, counts in (("5xx responses", responses), ("exceptions", exceptions)):
        if counts:
            log(f"[{backend}] server log: {sum(counts.values())} {what}:")
            for line, n in counts.most_common(5):
                log(f"    {n:6d} x {line}")


# --- reporting --------------------------------------------------------------------------------


def print_details(r: Result, args: argparse.Namespace) -> None:
    load = r.load
    log(f"\n== {r.backend} ==")
    log(f"declare: {load.ok} incidents in {load.elapsed:.2f}s = {load.ok / load.elapsed:.1f}/s; "
        f"latency p50 {ms(percentile(load.latencies, 50))} ms, "
        f"p99 {ms(percentile(load.latencies, 99))} ms, "
        f"max {ms(max(load.latencies, default=0))} ms")
    log(f"  statuses: {dict(load.statuses)}; errors: {load.errors}")
    if load.first_error:
        log(f"  first error: {load.first_error}")
    log(f"  severity rules fired: {dict(load.rules.most_common())}")
    notes = r.notes
    log(f"timeline setup: {r.entries} entries on the incident; notes added in "
        f"{notes.seconds:.1f}s (C={args.concurrency}); statuses {dict(notes.statuses)}")
    if notes.failed_concurrently:
        log(f"  {notes.failed_concurrently} notes failed when posted concurrently and were "
            f"retried one at a time ({notes.lost} still failed); first error: "
            f"{notes.first_error}")
    for name, t in (("page GET /incidents/{id}", r.page),
                    ("API GET /api/v1/incidents/{id}/timeline", r.timeline)):
        log(f"{name}: {len(t.latencies)} sequential GETs, p50 {ms(percentile(t.latencies, 50))}"
            f" ms, p99 {ms(percentile(t.latencies, 99))} ms, max {ms(max(t.latencies))} ms, "
            f"{t.size / 1024:.0f} KiB; server render (Server-Timing) p50 "
            f"{ms(percentile(t.server, 50))} ms, p99 {ms(percentile(t.server, 99))} ms")
    rss = r.rss_kb
    log(f"peak RSS: supervisor {rss['supervisor'] / 1024:.0f} MiB, "
        f"{rss['worker_count']} workers {rss['workers'] / 1024:.0f} MiB total")


COLUMNS = [("backend", 10), ("incid/s", 8), ("p50 ms", 7), ("p99 ms", 7), ("max ms", 7),
           ("errors", 6), ("entries", 7), ("page p50", 9), ("page p99", 9), ("render p50", 10),
           ("page KiB", 8), ("tl p50", 7), ("tl p99", 7), ("RSS MiB", 8)]


def summary_row(r: Result) -> list[str]:
    load, page, tl = r.load, r.page, r.timeline
    rss = (r.rss_kb["workers"] or r.rss_kb["supervisor"]) / 1024
    return [r.backend, f"{load.ok / load.elapsed:.1f}", ms(percentile(load.latencies, 50)),
            ms(percentile(load.latencies, 99)), ms(max(load.latencies, default=0)),
            str(load.errors), str(r.entries), ms(percentile(page.latencies, 50)),
            ms(percentile(page.latencies, 99)), ms(percentile(page.server, 50)),
            f"{page.size / 1024:.0f}",
            ms(percentile(tl.latencies, 50)), ms(percentile(tl.latencies, 99)), f"{rss:.0f}"]


def print_summary(results: list[Result], args: argparse.Namespace) -> None:
    log(f"\nSummary (C={args.concurrency}, {args.duration:g}s, {args.workers} workers; "
        f"page/timeline on an incident with `entries` timeline entries ({args.entries} notes); "
        f"RSS = sum of worker VmHWM)")
    log("  ".join(name.rjust(width) for name, width in COLUMNS))
    for r in results:
        log("  ".join(v.rjust(width) for v, (_, width) in zip(summary_row(r), COLUMNS,
                                                                strict=True)))


# --- entry point ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS),
                   help="comma-separated: sqlite,postgresql")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of declare load")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up load")
    p.add_argument("--max-requests", type=int, default=100_000,
                   help="upper bound on measured declare requests")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--entries", type=int, default=5000, help="timeline notes for the page test")
    p.add_argument("--samples", type=int, default=20, help="sequential GETs per page timing")
    args = p.parse_args(argv)
    check_backends(p, args)
    return args


def check_backends(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--backends a,b as a list of known backends (shared with bench/intake.py)."""
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        p.error(f"unknown backend(s): {', '.join(sorted(unknown))}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not TOCSIN.exists():
        log(f"error: {TOCSIN} not found; run `make setup` first")
        return 2
    results, failed = [], []
    for backend in args.backends:
        try:
            result = run_backend(backend, args)
        except Exception as exc:  # report it and go on with the next backend
            log(f"[{backend}] FAILED: {type(exc).__name__}: {exc}")
            failed.append(backend)
            continue
        if result is not None:
            results.append(result)
            print_details(result, args)
    if results:
        print_summary(results, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
