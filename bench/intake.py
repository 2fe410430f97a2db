"""Benchmark alert intake and triage, on SQLite and on PostgreSQL, against Alertmanager.

For each backend and each scenario this script prepares a fresh database with the real CLI (as
bench/api.py does), starts `tocsin serve` with N workers as a separate process group, creates an
Alertmanager-webhook integration for `payments-api` through the API, and drives `/intake/<key>`
from a separate load generator on 127.0.0.1: `wrk` with a generated Lua script (installed with
apt-get when missing), or, if wrk cannot be had, several asyncio+httpx client processes.
Scenarios, each for D seconds at C connections, each on its own fresh instance (so that a
backlog one leaves cannot slow the next):

1. single: one alert per request, every alert new (unique fingerprint and `instance` label);
2. batch100: 100 new alerts per request;
3. dedup: the same alert in every request (the deduplication path).

Every alert carries env="production" and severity="critical", so triage routes it through the
default `production-outage` route (one P1 incident per alertname, the others attached to it).
For each scenario it reports accepted alerts/s (2xx requests/s x alerts per request), non-2xx
responses and socket errors, p50/p99 ingest latency (a 202 means the event is committed), and
the CPU used by the server and by the generator; then it waits (bounded, --triage-timeout) until
the engine has triaged every stored event and no new one has arrived for 2 s, and reports how
long that took and the triage rate (alerts triaged per second from the start of the load until
then). Durability is checked by counting rows in the database: stored intake events against 2xx
responses (at most one request per connection may have been stored without its answer being
read when the load stopped), alerts against accepted alerts, and for dedup one alert whose
`count` is the number of stored events. Mismatches are printed as PROBLEM lines.

4. alert -> incident latency: with the server idle, single alerts with a new alertname each are
   sent one at a time, and `GET /api/v1/incidents?limit=1` is polled every 5 ms until the
   incident titled with the alert's summary appears (10 s timeout); measured on a fresh
   database, and again after each unique scenario once its alerts are triaged (many open).

When /usr/bin/prometheus-alertmanager exists it is started on a free 127.0.0.1 port (null
receiver, no clustering) and its `POST /api/v2/alerts` is measured with the same generator,
one and 100 alerts per request, and the Tocsin/Alertmanager ratios are printed next to the
targets (single >= 50% of Alertmanager's alert rate; batch100 >= 100%).

PostgreSQL is used at postgresql://postgres@127.0.0.1:5432 (database `tocsin_bench_intake_<pid>`,
created and dropped for each instance, so that runs of this script and of bench/api.py do not
clash); if it is not reachable, that backend is skipped.

Run it with `make bench-intake`, or directly:

    .venv/bin/python bench/intake.py [--backends sqlite,postgresql] [--duration 10]
        [--connections 64] [--workers 2] [--skip-alertmanager] [--generator auto|wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import (  # noqa: E402 - bench/api.py is a sibling script, not a package
    ROOT,
    TOCSIN,
    Server,
    check_backends,
    child_pids,
    cli_env,
    free_port,
    log,
    ms,
    percentile,
    prepare,
    report_problems,
    server_problems,
)
from api import (
    create_pg_db as create_pg_db_named,
)
from api import (
    drop_pg_db as drop_pg_db_named,
)

BACKENDS = ("sqlite", "postgresql")
# Not bench/api.py's `tocsin_bench`, and one per run: runs of either script may overlap.
PG_BENCH_DB = f"tocsin_bench_intake_{os.getpid()}"
PG_BENCH_DSN = f"postgresql://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
SERVICE = "payments-api"
ID_MARK = "@ID@"
WRK_THREADS = 2
POLL_SECONDS = 0.005
LATENCY_TIMEOUT = 10.0
TARGETS = {"single": 0.5, "batch100": 1.0}   # Tocsin / Alertmanager alert rate
AM_SCENARIOS = (("single", 1), ("batch100", 100))


def starts_at() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- payloads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """A request body as head + `per` entries (each with ID_MARK replaced) + tail."""

    path: str
    head: str
    entry: str
    tail: str
    per: int
    unique: bool
    prefix: str

    def body(self, ident: str) -> bytes:
        """The body whose entries are numbered `ident`-1 … `ident`-per."""
        parts = [self.entry.replace(ID_MARK, f"{ident}-{i}") for i in range(1, self.per + 1)]
        return f"{self.head}{','.join(parts)}{self.tail}".encode()


def webhook_entry(alertname: str, summary: str, ident: str, at: str) -> dict[str, Any]:
    return {"status": "firing",
            "labels": {"alertname": alertname, "env": "production", "severity": "critical",
                       "instance": ident},
            "annotations": {"summary": summary}, "startsAt": at,
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://127.0.0.1/graph",
            "fingerprint": ident}


def webhook_body(alertname: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """An Alertmanager webhook (v4) notification, as Alertmanager would post it."""
    return {"version": "4", "groupKey": f'{{}}:{{alertname="{alertname}"}}', "truncatedAlerts": 0,
            "status": "firing", "receiver": "tocsin", "groupLabels": {"alertname": alertname},
            "commonLabels": {"alertname": alertname, "env": "production",
                             "severity": "critical"},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": entries}


def tocsin_payload(path: str, scenario: str, per: int, unique: bool, tag: str) -> Payload:
    alertname = f"Bench{scenario.capitalize()}{tag}"
    prefix = f"{scenario}-{tag}"
    entry = webhook_entry(alertname, f"Bench {scenario} {ID_MARK}", ID_MARK, starts_at())
    head, tail = orjson.dumps(webhook_body(alertname, ["@ALERTS@"])).decode().split('"@ALERTS@"')
    return Payload(path, head, orjson.dumps(entry).decode(), tail, per, unique, prefix)


def alertmanager_payload(scenario: str, per: int, tag: str) -> Payload:
    """`POST /api/v2/alerts`: a JSON array of postable alerts, told apart by `instance`."""
    entry = {"labels": {"alertname": f"Bench{scenario.capitalize()}{tag}", "env": "production",
                        "severity": "critical", "instance": ID_MARK},
             "annotations": {"summary": f"Bench {scenario} {ID_MARK}"}, "startsAt": starts_at(),
             "generatorURL": "http://127.0.0.1/graph"}
    return Payload("/api/v2/alerts", "[", orjson.dumps(entry).decode(), "]", per, True,
                   f"am-{scenario}-{tag}")


# --- load generators --------------------------------------------------------------------------


@dataclass
class Load:
    generator: str
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    socket_errors: Counter = field(default_factory=Counter)
    p50: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    first_error: str = ""
    generator_cpu: float = 0.0   # cores
    server_cpu: float = 0.0      # cores

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def non_2xx(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())

    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


WRK_SCRIPT = """-- generated by bench/intake.py
local path = "{path}"
local head = [==[{head}]==]
local entry = [==[{entry}]==]
local tail = [==[{tail}]==]
local per = {per}
local unique = {unique}
local prefix = "{prefix}"
local headers = {{["Content-Type"] = "application/json"}}
local threads = {{}}
local counter = 0
local fixed = nil
statuses = {{}}
first_error = ""

local function body(ident)
  local parts = {{}}
  for i = 1, per do
    parts[i] = (entry:gsub("{mark}", ident .. "-" .. i))
  end
  return head .. table.concat(parts, ",") .. tail
end

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  if not unique then
    fixed = wrk.format("POST", path, headers, body(prefix .. "-same"))
  end
end

function request()
  if fixed then
    return fixed
  end
  counter = counter + 1
  return wrk.format("POST", path, headers, body(prefix .. "-" .. tid .. "-" .. counter))
end

function response(status, hdrs, resp)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and first_error == "" then
    first_error = status .. " " .. string.sub(resp or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %d %d %d %d %d\\n", summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
  local err = ""
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      io.write(string.format("BENCH-STATUS %d %d\\n", code, n))
    end
    local f = t:get("first_error")
    if err == "" and f ~= "" then
      err = f
    end
  end
  if err ~= "" then
    io.write("BENCH-FIRST-ERROR " .. err:gsub("%s+", " ") .. "\\n")
  end
end
"""


def wrk_script(p: Payload) -> str:
    for part in (p.head, p.entry, p.tail):
        if "]==]" in part:
            raise ValueError("payload cannot be quoted as a Lua long string")
    return WRK_SCRIPT.format(path=p.path, head=p.head, entry=p.entry, tail=p.tail, per=p.per,
                             unique="true" if p.unique else "false", prefix=p.prefix,
                             mark=ID_MARK)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(base_url: str, p: Payload, args: argparse.Namespace, tmp: Path) -> Load:
    script = tmp / f"{p.prefix}.lua"
    script.write_text(wrk_script(p))
    threads = min(WRK_THREADS, args.connections)
    cmd = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.duration:g}s",
           "--timeout", "30s", "--latency", "-s", str(script), base_url]
    cpu = children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 90,
                          check=False)
    load = Load("wrk")
    load.generator_cpu = children_cpu() - cpu
    match = re.search(r"^BENCH-RESULT ([\d ]+)$", proc.stdout, re.M)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"wrk exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    duration, p50, p99, top, *errs = (int(v) for v in match.group(1).split())
    load.seconds, load.p50, load.p99, load.max = duration / 1e6, p50 / 1e6, p99 / 1e6, top / 1e6
    for name, n in zip(("connect", "read", "write", "timeout"), errs[:4], strict=True):
        if n:
            load.socket_errors[name] = n
    for code, n in re.findall(r"^BENCH-STATUS (\d+) (\d+)$", proc.stdout, re.M):
        load.statuses[int(code)] += int(n)
    first = re.search(r"^BENCH-FIRST-ERROR (.*)$", proc.stdout, re.M)
    load.first_error = first.group(1) if first else ""
    return load


def httpx_worker(base_url: str, p: Payload, connections: int, seconds: float,
                 number: int) -> dict[str, Any]:
    """One client process: `connections` request loops for `seconds` (run via multiprocessing)."""
    return asyncio.run(_httpx_loops(base_url, p, connections, seconds, number))


async def _httpx_loops(base_url: str, p: Payload, connections: int, seconds: float,
                       number: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    out: dict[str, Any] = {"latencies": [], "statuses": Counter(), "errors": Counter(),
                           "first_error": ""}
    fixed = p.body(f"{p.prefix}-same") if not p.unique else None
    counter = iter(range(1, 1 << 62))
    headers = {"content-type": "application/json"}

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                body = fixed or p.body(f"{p.prefix}-{number}-{next(counter)}")
                start = time.perf_counter()
                try:
                    resp = await http.post(p.path, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    out["errors"][type(exc).__name__] += 1
                    continue
                out["latencies"].append(time.perf_counter() - start)
                out["statuses"][resp.status_code] += 1
                if not 200 <= resp.status_code < 300 and not out["first_error"]:
                    out["first_error"] = f"{resp.status_code} {resp.text[:300]}"

        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        out["seconds"] = time.perf_counter() - start
    return out


def run_httpx(base_url: str, p: Payload, args: argparse.Namespace) -> Load:
    procs = max(1, min(args.client_processes, args.connections))
    shares = [args.connections // procs + (i < args.connections % procs) for i in range(procs)]
    ctx = multiprocessing.get_context("spawn")
    cpu = children_cpu()
    with ctx.Pool(procs) as pool:
        pending = pool.starmap_async(httpx_worker, [(base_url, p, n, args.duration, i)
                                                    for i, n in enumerate(shares)])
        parts = pending.get(timeout=args.duration + 90)
    load = Load(f"httpx x{procs} processes")
    load.generator_cpu = children_cpu() - cpu
    latencies: list[float] = []
    for part in parts:
        latencies += part["latencies"]
        load.statuses.update(part["statuses"])
        load.socket_errors.update(part["errors"])
        load.first_error = load.first_error or part["first_error"]
    load.seconds = max(part["seconds"] for part in parts)
    load.p50, load.p99 = percentile(latencies, 50), percentile(latencies, 99)
    load.max = max(latencies, default=0.0)
    return load


def ensure_wrk() -> bool:
    """wrk on the PATH, installed with apt-get (bounded) when missing and we are root."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    log("wrk not found: trying `apt-get install -y wrk`")
    for cmd in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"],
                ["apt-get", "install", "-y", "wrk"]):
        try:
            subprocess.run(cmd, capture_output=True, timeout=300, check=False,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        except subprocess.TimeoutExpired:
            return False
        if shutil.which("wrk"):
            return True
    return False


def generate(base_url: str, p: Payload, args: argparse.Namespace, tmp: Path,
             cpu_pid: int | None = None) -> Load:
    """Drive `p` at base_url for args.duration; with cpu_pid, also the CPU of that process tree."""
    before = tree_cpu(cpu_pid) if cpu_pid else 0.0
    if args.generator == "wrk":
        load = run_wrk(base_url, p, args, tmp)
    else:
        load = run_httpx(base_url, p, args)
    if cpu_pid and load.seconds:
        load.server_cpu = (tree_cpu(cpu_pid) - before) / load.seconds
    if load.seconds:
        load.generator_cpu /= load.seconds
    return load


# --- processes --------------------------------------------------------------------------------


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for p in [pid, *child_pids(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


# --- Alertmanager -----------------------------------------------------------------------------


AM_CONFIG = """route:
  receiver: 'null'
receivers:
  - name: 'null'
"""


def measure_alertmanager(args: argparse.Namespace, tag: str) -> dict[str, Load]:
    results: dict[str, Load] = {}
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-am-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "alertmanager.yml").write_text(AM_CONFIG)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        out = (tmpdir / "alertmanager.log").open("wb")
        proc = subprocess.Popen(
            [str(ALERTMANAGER), f"--config.file={tmpdir / 'alertmanager.yml'}",
             f"--storage.path={tmpdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--cluster.listen-address="],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(f"{base}/-/ready", proc, tmpdir / "alertmanager.log")
            log(f"[alertmanager] {ALERTMANAGER} on {base}")
            for scenario, per in AM_SCENARIOS:
                p = alertmanager_payload(scenario, per, tag)
                resp = httpx.post(base + p.path, content=p.body(f"{p.prefix}-probe"),
                                  headers={"content-type": "application/json"}, timeout=10)
                if resp.status_code != 200:
                    raise RuntimeError(f"alertmanager probe: HTTP {resp.status_code} {resp.text}")
                load = generate(base, p, args, tmpdir, proc.pid)
                results[scenario] = load
                log(f"[alertmanager] {scenario}: {describe_load(load, per)}")
        finally:
            stop_group(proc)
            out.close()
    return results


def wait_http(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")


# --- databases --------------------------------------------------------------------------------


def create_pg_db() -> str | None:
    return create_pg_db_named(PG_BENCH_DB)


def drop_pg_db() -> None:
    drop_pg_db_named(PG_BENCH_DB)


# --- database counts --------------------------------------------------------------------------


class Counts:
    """Row counts read straight from the backend's database (read-only)."""

    def __init__(self, backend: str, sqlite_path: Path | None) -> None:
        self.backend, self.path = backend, sqlite_path

    def row(self, sql: str) -> tuple:
        if self.backend == "sqlite":
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute(sql).fetchone()
        with psycopg.connect(PG_BENCH_DSN, connect_timeout=5) as conn:
            return conn.execute(sql).fetchone()

    def spooled(self, sql: str) -> list[tuple]:
        """SQLite: `sql` on each intake spool (`<db>.inbox/*.db`, events the web workers
        accepted and the engine has not moved into intake_events yet); `{after}` in it is
        how far that spool was moved. PostgreSQL has no spools."""
        if self.backend != "sqlite":
            return []
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as conn:
            marks = dict(conn.execute("SELECT name, moved_upto FROM intake_spools").fetchall())
        out = []
        for spool in sorted(Path(f"{self.path}.inbox").glob("*.db")):
            try:
                with sqlite3.connect(f"file:{spool}?mode=ro", uri=True, timeout=30) as conn:
                    out.append(conn.execute(sql.format(after=marks.get(spool.stem, 0)))
                               .fetchone())
            except sqlite3.OperationalError:   # deleted meanwhile, or not set up yet: empty
                continue
        return out

    def _spool_count(self, extra: str = "") -> int:
        return sum(int(r[0] or 0) for r in self.spooled(
            f"SELECT count(*) FROM events WHERE id > {{after}} {extra}"))

    def backlog(self) -> int:
        return (self.row("SELECT count(*) FROM intake_events WHERE processed_at IS NULL")[0]
                + self._spool_count())

    def progress(self) -> tuple[int, int]:
        """(events stored, events not triaged yet), over all integrations."""
        stored, untriaged = self.row(
            "SELECT count(*), count(*) - count(processed_at) FROM intake_events")
        spooled = self._spool_count()
        return stored + spooled, untriaged + spooled

    def events(self, integration_id: int) -> tuple[int, int]:
        """(events stored, alerts in them) for one integration."""
        where = f"integration_id = {int(integration_id)}"
        rows = [self.row(f"SELECT count(*), sum(json_array_length(alerts)) FROM intake_events "
                         f"WHERE {where}"),
                *self.spooled("SELECT count(*), sum(json_array_length(alerts)) FROM events "
                              f"WHERE id > {{after}} AND {where}")]
        return (sum(int(r[0] or 0) for r in rows), sum(int(r[1] or 0) for r in rows))

    def alerts(self, integration_id: int) -> tuple[int, int, int, int]:
        """(alert rows, distinct dedup keys, sum of their counts, rows linked to an incident)."""
        return tuple(int(v or 0) for v in self.row(
            "SELECT count(*), count(DISTINCT dedup_key), sum(count), count(incident_id) "
            f"FROM alerts WHERE integration_id = {int(integration_id)}"))


# --- Tocsin scenarios -------------------------------------------------------------------------


SCENARIOS = (("single", 1, True), ("batch100", 100, True), ("dedup", 1, False))


@dataclass
class ScenarioResult:
    name: str
    per: int
    load: Load
    backlog_events: int = 0          # untriaged events when the load stopped
    drain_seconds: float | None = None   # None: still not triaged at the deadline
    left: int = 0
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    mismatch: bool = False           # stored rows do not match the accepted requests
    triaged: int = 0                 # alerts in the scenario's stored events
    alert_rows: int = 0              # alerts triaged into rows (committed) when verified
    waited: float = 0.0              # seconds from the end of the load until verified

    def alerts_per_s(self) -> float:
        return self.load.rps() * self.per

    def triage_rate(self) -> float | None:
        """Alerts triaged per second from the start of the load until the backlog was gone or,
        if it was not gone by the deadline, alert rows committed by then per second."""
        if self.drain_seconds is not None:
            return self.triaged / (self.load.seconds + self.drain_seconds) if self.triaged else None
        if self.name == "dedup":   # its one alert row tells nothing of the progress
            return None
        return self.alert_rows / (self.load.seconds + self.waited)


@dataclass
class LatencyResult:
    phase: str
    label: str
    latencies: list[float] = field(default_factory=list)
    ingest: list[float] = field(default_factory=list)
    timeouts: int = 0
    note: str = ""
    first: float | None = None      # the warm-up alert's latency


@dataclass
class BackendResult:
    backend: str
    scenarios: list[ScenarioResult]
    latency: list[LatencyResult]
    problems: list[str]


class Api:
    """The admin API over one keep-alive connection."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.http.close()

    def integration(self, name: str) -> tuple[int, str]:
        resp = self.http.post("/api/v1/integrations", json={"name": name, "type": "alertmanager",
                                                             "service": SERVICE})
        if resp.status_code != 201:
            raise RuntimeError(f"creating integration {name}: HTTP {resp.status_code} {resp.text}")
        data = resp.json()
        return data["id"], f"/intake/{data['key']}"

    def post(self, path: str, body: bytes) -> httpx.Response:
        return self.http.post(path, content=body, headers={"content-type": "application/json"})


def probe(api: Api, counts: Counts, tag: str, timeout: float) -> None:
    """One single and one 100-alert request on a side integration: both must be accepted and
    triaged into alerts, or the scenarios would measure rejections."""
    integ, path = api.integration("bench-probe")
    for scenario, per in (("single", 1), ("batch100", 100)):
        p = tocsin_payload(path, f"probe{scenario}", per, True, tag)
        resp = api.post(path, p.body(f"{p.prefix}-probe"))
        if resp.status_code != 202:
            raise RuntimeError(f"probe {scenario}: HTTP {resp.status_code} {resp.text[:500]}")
    deadline = time.monotonic() + timeout
    while counts.alerts(integ)[0] < 101 and time.monotonic() < deadline:
        time.sleep(0.05)
    rows = counts.alerts(integ)[0]
    if rows != 101:
        raise RuntimeError(f"probe: 101 alerts accepted, {rows} triaged after {timeout:.0f}s")


def settle(counts: Counts, timeout: float, quiet: float = 2.0) -> tuple[float | None, int]:
    """Wait until every stored event is triaged and no new one has arrived for `quiet` seconds
    (a server still working through queued requests stores them after the load stopped).
    Returns (seconds until that state began, or None at the deadline; events left)."""
    start = time.perf_counter()
    last, since = None, start
    while True:
        stored, left = counts.progress()
        now = time.perf_counter()
        if left or stored != last:
            since, last = now, stored
        elif now - since >= quiet:
            return since - start, 0
        if now - start > timeout:
            return None, left
        time.sleep(0.05)


def run_scenario(inst: Instance, name: str, per: int, unique: bool, args: argparse.Namespace,
                 tag: str) -> ScenarioResult:
    backend, counts = inst.backend, inst.counts
    integ, path = inst.api.integration(f"bench-{name}")
    p = tocsin_payload(path, name, per, unique, tag)
    log(f"[{backend}] {name}: {per} alert(s)/request, {'new' if unique else 'repeated'} alerts, "
        f"C={args.connections}, {args.duration:g}s")
    load = generate(inst.server.base_url, p, args, inst.var_dir, inst.server.proc.pid)
    r = ScenarioResult(name, per, load)
    r.backlog_events = counts.backlog()
    stopped = time.perf_counter()
    r.drain_seconds, r.left = settle(counts, args.triage_timeout)
    r.waited = time.perf_counter() - stopped
    verify(r, counts, integ, args)
    log(f"[{backend}]   {describe_load(load, per)}")
    log(f"[{backend}]   {describe_triage(r)}")
    if load.ok == 0:
        r.problems.append(f"{name}: not one request was answered 2xx during the run")
    if load.first_error:
        r.problems.append(f"{name}: first non-2xx response: {load.first_error}")
    if load.non_2xx or load.errors:
        r.problems.append(f"{name}: {load.non_2xx} non-2xx responses "
                          f"{dict(load.statuses)}, socket errors {dict(load.socket_errors)}")
    if r.drain_seconds is None:
        r.problems.append(f"{name}: {r.left} intake events still untriaged "
                          f"{args.triage_timeout:g}s after the load stopped")
    for line in r.checks:
        log(f"[{backend}]   check: {line}")
    for line in r.problems:
        log(f"[{backend}]   PROBLEM: {line}")
    return r


def verify(r: ScenarioResult, counts: Counts, integ: int, args: argparse.Namespace) -> None:
    """Rows stored against the 2xx answers. A request whose answer had not been read when
    the generator stopped (at most one per connection), or one that failed on the client
    side, may be stored without being counted as accepted."""

    def mismatch(text: str) -> None:
        r.problems.append(f"{r.name}: {text}")
        r.mismatch = True

    ok = r.load.ok
    slack = args.connections + r.load.errors
    events, entries = counts.events(integ)
    r.triaged = entries
    rows, keys, total, linked = counts.alerts(integ)
    r.alert_rows = rows
    r.checks.append(f"{ok} requests answered 2xx; {events} events stored holding {entries} "
                    f"alerts; {rows} alert rows ({keys} distinct keys, counts summing to {total}, "
                    f"{linked} linked to an incident)")
    if events < ok:
        mismatch(f"LOST: {ok - events} requests answered 2xx but not stored ({ok} accepted, "
                 f"{events} stored)")
    elif events > ok + slack:
        mismatch(f"{events - ok} more events stored than 2xx answers (more than the {slack} "
                 "that may have been in flight)")
    if entries != events * r.per:
        mismatch(f"{entries} alerts inside {events} stored events, expected {events * r.per}")
    if r.drain_seconds is None:
        return  # alert rows are not final yet
    if r.name != "dedup":
        if rows != entries or keys != rows:
            mismatch(f"LOST in triage: {entries} alerts stored in events, {rows} alert rows "
                     f"with {keys} distinct keys")
        if rows < ok * r.per:
            mismatch(f"LOST: {ok * r.per} alerts accepted, {rows} alert rows")
    else:
        if rows != 1:
            mismatch(f"{rows} alert rows, expected exactly 1 open alert")
        if total != events:
            mismatch(f"alert count {total} != {events} stored events ({ok} accepted)")
    if linked != rows:
        r.problems.append(f"{r.name}: {rows - linked} of {rows} alerts not attached to an "
                          "incident")


def measure_latency(api: Api, phase: str, n: int, tag: str, label: str = "") -> LatencyResult:
    """Single new alerts one at a time; each time until its incident is listed. Alert 0 warms
    the server up (its first request on a worker is slower) and is reported apart."""
    _, path = api.integration(f"bench-latency-{phase}")
    result = LatencyResult(phase, label or phase)
    for i in range(n + 1):
        alertname = f"Bench{phase.capitalize()}{i}{tag}"
        summary = f"Bench latency {phase} {i} {tag}"
        entry = webhook_entry(alertname, summary, f"latency-{phase}-{i}-{tag}", starts_at())
        sent = time.perf_counter()
        resp = api.post(path, orjson.dumps(webhook_body(alertname, [entry])))
        ingest = time.perf_counter() - sent
        if resp.status_code != 202:
            result.note = f"alert {i}: HTTP {resp.status_code} {resp.text[:300]}"
            break
        waited = incident_listed(api, summary, sent)
        if i == 0:
            result.first = waited
            continue
        result.ingest.append(ingest)
        if waited is None:
            result.timeouts += 1
            if result.timeouts >= 3:
                result.note = (f"gave up after {result.timeouts} alerts without an incident in "
                               f"{LATENCY_TIMEOUT:g}s")
                break
        else:
            result.latencies.append(waited)
    return result


def incident_listed(api: Api, title: str, sent: float) -> float | None:
    """Seconds from `sent` until the newest incident is titled `title` (None: timed out)."""
    while True:
        listed = api.http.get("/api/v1/incidents", params={"limit": 1}).json()["items"]
        waited = time.perf_counter() - sent
        if listed and listed[0]["title"] == title:
            return waited
        if waited > LATENCY_TIMEOUT:
            return None
        time.sleep(POLL_SECONDS)


def describe_latency(r: LatencyResult) -> str:
    first = f"{ms(r.first)} ms" if r.first is not None else "timed out"
    text = (f"{len(r.latencies)} alerts: incident listed after p50 {ms(percentile(r.latencies, 50))}"
            f" ms, p99 {ms(percentile(r.latencies, 99))} ms, max {ms(max(r.latencies, default=0))}"
            f" ms (intake 202 p50 {ms(percentile(r.ingest, 50))} ms; warm-up alert {first}); "
            f"timeouts {r.timeouts}")
    return text + (f"; {r.note}" if r.note else "")


def describe_load(load: Load, per: int) -> str:
    return (f"{load.ok} x 2xx in {load.seconds:.2f}s = {load.rps():.0f} req/s = "
            f"{load.rps() * per:.0f} alerts/s; non-2xx {load.non_2xx}, socket errors "
            f"{load.errors}; latency p50 {ms(load.p50)} ms, p99 {ms(load.p99)} ms, max "
            f"{ms(load.max)} ms; CPU server {load.server_cpu:.2f} / generator "
            f"{load.generator_cpu:.2f} cores")


def describe_triage(r: ScenarioResult) -> str:
    if r.drain_seconds is None:
        return (f"triage: {r.backlog_events} events untriaged when the load stopped, {r.left} "
                f"still untriaged {r.waited:.0f}s later; {r.alert_rows} of {r.triaged} alerts "
                f"committed as alert rows by then ({r.triage_rate() or 0:.0f} alerts/s)")
    rate = r.triage_rate()
    return (f"triage: {r.backlog_events} events ({r.backlog_events * r.per} alerts) stored but "
            f"untriaged when the load stopped; all stored and triaged {r.drain_seconds:.1f}s "
            f"later; {r.triaged} alerts triaged at {rate or 0:.0f} alerts/s (load start to end)")


@dataclass
class Instance:
    """A fresh database and a `tocsin serve` on it."""

    backend: str
    server: Server
    api: Api
    counts: Counts
    var_dir: Path


@contextmanager
def tocsin_instance(backend: str, args: argparse.Namespace, label: str,
                    problems: list[str]) -> Iterator[Instance | None]:
    """Yields None when PostgreSQL is not reachable. Server-log 5xx and exceptions are logged
    and added to `problems`; the server, its temp dir and the PG database are removed."""
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-intake-") as tmp:
        var_dir = Path(tmp)
        db_path = var_dir / "tocsin.db"
        url = f"sqlite:///{db_path}" if backend == "sqlite" else create_pg_db()
        if url is None:
            yield None
            return
        server, api = None, None
        try:
            env = cli_env(url, var_dir)
            prepared = time.perf_counter()
            token, _ = prepare(env, var_dir)
            prepared = time.perf_counter() - prepared
            server = Server(env, args.workers, var_dir / "server.log")
            ready = server.wait_ready()
            log(f"[{backend}] {label}: fresh database ({prepared:.1f}s), server on "
                f"{server.base_url} with {args.workers} workers healthy after {ready:.1f}s")
            api = Api(server.base_url, token)
            yield Instance(backend, server, api, Counts(backend, db_path), var_dir)
        except Exception:
            if server:
                log(f"[{backend}] server log tail:\n{server.log_tail()}")
            raise
        finally:
            if api:
                api.close()
            if server:
                server.stop()
                found = server_problems(server.log_path)
                report_problems(backend, found)
                problems.extend(f"{label}: server log: {sum(c.values())} {what}, most often: "
                                f"{c.most_common(1)[0][0]}" for what, c in
                                zip(("5xx responses", "exceptions"), found, strict=True) if c)
            if backend == "postgresql":
                drop_pg_db()


def run_backend(backend: str, args: argparse.Namespace, tag: str) -> BackendResult | None:
    """The alert -> incident latency on a fresh instance, then each load scenario on its own
    fresh instance (so a backlog one leaves cannot slow the next), with the latency measured
    again once that scenario's alerts are triaged."""
    problems: list[str] = []
    scenarios: list[ScenarioResult] = []
    latency: list[LatencyResult] = []
    with tocsin_instance(backend, args, "latency", problems) as inst:
        if inst is None:
            return None
        if args.latency_alerts:
            latency.append(measure_latency(inst.api, "fresh", args.latency_alerts, tag))
            log(f"[{backend}] alert -> incident, fresh database: "
                f"{describe_latency(latency[-1])}")
            probe(inst.api, inst.counts, tag, 30)
    for name, per, unique in SCENARIOS:
        if name not in args.scenarios:
            continue
        with tocsin_instance(backend, args, name, problems) as inst:
            if inst is None:
                raise RuntimeError("PostgreSQL is no longer reachable")
            r = run_scenario(inst, name, per, unique, args, tag)
            scenarios.append(r)
            if name == "dedup":
                continue
            if not args.latency_alerts:
                continue
            if r.drain_seconds is None:
                log(f"[{backend}] alert -> incident after {name}: not measured, its backlog "
                    "is not triaged")
                continue
            latency.append(measure_latency(inst.api, name, args.latency_alerts, tag,
                                           f"after {name}, {r.triaged} alerts open"))
            log(f"[{backend}] alert -> incident {latency[-1].label}: "
                f"{describe_latency(latency[-1])}")
    for r in latency:
        if r.timeouts or r.note:
            problems.append(f"alert -> incident ({r.label}): {r.timeouts} timeouts {r.note}")
    return BackendResult(backend, scenarios, latency, problems)


# --- reporting --------------------------------------------------------------------------------


COLUMNS = [("scenario", 9), ("alerts/req", 10), ("req/s", 7), ("alerts/s", 8), ("non-2xx", 7),
           ("sock err", 8), ("p50 ms", 7), ("p99 ms", 7), ("srv CPU", 7), ("backlog", 8),
           ("drain s", 7), ("triage/s", 8), ("durable", 7), ("vs AM", 6), ("target", 7)]


def row(r: ScenarioResult, am: dict[str, Load]) -> list[str]:
    load = r.load
    ratio, target = "-", "-"
    am_rate = am_alert_rates(am)
    if r.name in TARGETS and am_rate.get(r.name):
        value = r.alerts_per_s() / am_rate[r.name]
        ratio = f"{value:.2f}"
        target = f"{'ok' if value >= TARGETS[r.name] else 'MISS'} {TARGETS[r.name]:g}"
    rate = r.triage_rate()
    durable = "MISMATCH" if r.mismatch else "ok"
    return [r.name, str(r.per), f"{load.rps():.0f}", f"{r.alerts_per_s():.0f}", str(load.non_2xx),
            str(load.errors), ms(load.p50), ms(load.p99), f"{load.server_cpu:.2f}",
            str(r.backlog_events * r.per),
            f"{r.drain_seconds:.1f}" if r.drain_seconds is not None else f">{r.left}ev",
            (f"~{rate:.0f}" if r.drain_seconds is None else f"{rate:.0f}") if rate else "-",
            durable, ratio, target]


def am_alert_rates(am: dict[str, Load]) -> dict[str, float]:
    return {name: am[name].rps() * per for name, per in AM_SCENARIOS if name in am}


def print_table(headers: list[tuple[str, int]], rows: list[list[str]]) -> None:
    log("  ".join(name.rjust(width) for name, width in headers))
    for values in rows:
        log("  ".join(v.rjust(width) for v, (_, width) in zip(values, headers, strict=True)))


def print_summary(results: list[BackendResult], am: dict[str, Load],
                  args: argparse.Namespace, generator: str) -> None:
    log(f"\nSummary: generator {generator}, C={args.connections}, {args.duration:g}s per "
        f"scenario, {args.workers} Tocsin workers. backlog = alerts stored but untriaged when "
        "the load stopped; drain s = until all were stored and triaged (>Nev: N events left at "
        "the deadline); triage/s = alerts triaged per second from load start to then (~: alert "
        "rows committed per second up to the deadline); vs AM = "
        f"Tocsin/Alertmanager alert rate, target single >= {TARGETS['single']:g}, batch100 >= "
        f"{TARGETS['batch100']:g}")
    if am:
        log("\nAlertmanager POST /api/v2/alerts")
        am_cols = [("scenario", 9), ("alerts/req", 10), ("req/s", 7), ("alerts/s", 8),
                   ("non-2xx", 7), ("p50 ms", 7), ("p99 ms", 7), ("srv CPU", 7)]
        print_table(am_cols, [[name, str(per), f"{am[name].rps():.0f}",
                               f"{am[name].rps() * per:.0f}", str(am[name].non_2xx),
                               ms(am[name].p50), ms(am[name].p99), f"{am[name].server_cpu:.2f}"]
                              for name, per in AM_SCENARIOS if name in am])
    for res in results:
        log(f"\n{res.backend}")
        print_table(COLUMNS, [row(r, am) for r in res.scenarios])
        for lat in res.latency:
            log(f"  alert -> incident ({lat.label}): p50 {ms(percentile(lat.latencies, 50))} ms, "
                f"p99 {ms(percentile(lat.latencies, 99))} ms, max "
                f"{ms(max(lat.latencies, default=0))} ms over {len(lat.latencies)} alerts"
                + (f" (warm-up alert {ms(lat.first)} ms)" if lat.first is not None else "")
                + (f", {lat.timeouts} timeouts" if lat.timeouts else ""))
        problems = res.problems + [p for r in res.scenarios for p in r.problems]
        for p in problems:
            log(f"  PROBLEM: {p}")


# --- entry point ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS),
                   help="comma-separated: sqlite,postgresql")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per load scenario")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections")
    p.add_argument("--workers", type=int, default=2, help="tocsin serve worker processes")
    p.add_argument("--skip-alertmanager", action="store_true",
                   help="do not measure prometheus-alertmanager")
    p.add_argument("--generator", choices=("auto", "wrk", "httpx"), default="auto",
                   help="auto: wrk (installed with apt-get if missing), else httpx processes")
    p.add_argument("--client-processes", type=int, default=4,
                   help="client processes of the httpx generator")
    # 100 alerts per request leave ~800,000 alerts to triage, at ~3,000/s: about 5 minutes
    p.add_argument("--triage-timeout", type=float, default=420.0,
                   help="seconds to wait for the engine to triage a scenario's backlog")
    p.add_argument("--latency-alerts", type=int, default=30,
                   help="alerts sent one at a time for the alert -> incident latency")
    p.add_argument("--scenarios", default=",".join(s[0] for s in SCENARIOS),
                   help="comma-separated load scenarios to run: single,batch100,dedup")
    args = p.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if set(args.scenarios) - {s[0] for s in SCENARIOS}:
        p.error(f"unknown scenario(s) in {args.scenarios}")
    check_backends(p, args)
    if args.connections < 1 or args.duration <= 0:
        p.error("--connections and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not TOCSIN.exists():
        log(f"error: {TOCSIN} not found; run `make setup` first")
        return 2
    if args.generator == "auto":
        args.generator = "wrk" if ensure_wrk() else "httpx"
    elif args.generator == "wrk" and not ensure_wrk():
        log("error: wrk is not installed and could not be installed")
        return 2
    generator = (f"wrk ({WRK_THREADS} threads, Lua-built bodies)" if args.generator == "wrk"
                 else f"asyncio+httpx ({args.client_processes} client processes; wrk unavailable)")
    log(f"load generator: {generator}; cwd {ROOT}")
    tag = str(int(time.time()))
    am: dict[str, Load] = {}
    if args.skip_alertmanager:
        log("[alertmanager] skipped (--skip-alertmanager)")
    elif not ALERTMANAGER.exists():
        log(f"[alertmanager] skipped: {ALERTMANAGER} not installed "
            "(apt-get install prometheus-alertmanager)")
    else:
        try:
            am = measure_alertmanager(args, tag)
        except Exception as exc:  # report it and go on with Tocsin
            log(f"[alertmanager] FAILED: {type(exc).__name__}: {exc}")
    results, failed = [], []
    for backend in args.backends:
        try:
            result = run_backend(backend, args, tag)
        except Exception as exc:  # report it and go on with the next backend
            log(f"[{backend}] FAILED: {type(exc).__name__}: {exc}")
            failed.append(backend)
            continue
        if result is not None:
            results.append(result)
    if results:
        print_summary(results, am, args, generator)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
