"""The intake hot path, a bare ASGI app: parse, commit in groups, answer. No ORM, no
middleware, no per-request session: senders wait only for their events to be durable."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from ..bootstrap import Container
from ..domain.alert import ParseOutcome
from ..services import intake as svc
from ..services.intake import IntegrationInfo, Rejected

log = logging.getLogger("tocsin.intake")
PREFIX = "/intake/"
PAGERDUTY_PATH = "/v2/enqueue"
CACHE_SECONDS = 10.0


class _LoopState:
    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, Any], asyncio.Future]] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.expect = 0   # senders probably active: see GroupCommitter._gather
        self.written_at = 0.0   # loop.time() when the last write ended
        self.enough = asyncio.Event()   # set once `expect` requests wait


class GroupCommitter:
    """Requests that arrive while a write is in flight share the next transaction. State is
    kept per event loop (a server has one; test clients may have several).

    Commit delay (like PostgreSQL's `commit_delay`): under concurrent load a group's fixed
    cost (a commit, an fsync, on PostgreSQL COPY's two round trips: about 230 µs of CPU
    measured on PostgreSQL) dominates when groups stay small, and they do: with one write in flight, the
    senders answered by one group come back while the next is being written, so two groups
    of about half the connections alternate. So when the writer is free and fewer requests
    wait than there were senders at the end of the last write (the group it wrote, whose
    senders are being answered, and those that arrived meanwhile), it waits up to `delay`
    seconds for the rest. A lone sender (groups of one) never waits."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], None],
                 on_commit: Callable[[], None], max_batch: int = 2000,
                 delay: float = 0.0) -> None:
        self._write, self._on_commit, self._max = write, on_commit, max_batch
        self._delay = delay
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tocsin-intake-writer")

    async def submit(self, row: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        if state.task is None or state.task.done():
            state.task = loop.create_task(self._run(state))
        fut = loop.create_future()
        state.pending.append((row, fut))
        state.wake.set()
        if len(state.pending) >= state.expect:
            state.enough.set()   # only a waiting _gather (which cleared it) listens
        await fut

    async def _gather(self, state: _LoopState, loop: asyncio.AbstractEventLoop) -> None:
        """Hold the next group back while more senders are probably on their way back (see
        the class)."""
        if not self._delay or state.expect < 3 or len(state.pending) >= state.expect:
            return
        if loop.time() - state.written_at > min(10 * self._delay, 0.1):
            return   # the senders of a burst that ended a while ago are not coming back
        state.enough.clear()
        try:
            async with asyncio.timeout(self._delay):
                await state.enough.wait()
        except TimeoutError:
            pass

    async def _run(self, state: _LoopState) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await state.wake.wait()
            state.wake.clear()
            while state.pending:
                await self._gather(state, loop)
                batch, state.pending = state.pending[:self._max], state.pending[self._max:]
                try:
                    await loop.run_in_executor(self._pool, self._write, [r for r, _ in batch])
                    state.expect = min(self._max, len(batch) + len(state.pending)) \
                        if len(batch) > 1 else 0
                    state.written_at = loop.time()
                except Exception as exc:  # noqa: BLE001 - every waiter must hear of it
                    state.expect = 0
                    if len(batch) == 1:
                        log.exception("intake event could not be stored")
                        self._settle(batch, exc)
                        continue
                    # One bad row must not fail the others: store them one by one.
                    log.warning("intake batch of %d failed (%s); storing one by one",
                                len(batch), exc)
                    for item in batch:
                        try:
                            await loop.run_in_executor(self._pool, self._write, [item[0]])
                        except Exception as one:  # noqa: BLE001
                            log.exception("intake event could not be stored")
                            self._settle([item], one)
                        else:
                            self._settle([item], None)
                    self._on_commit()
                    continue
                self._settle(batch, None)
                self._on_commit()

    @staticmethod
    def _settle(batch: list[tuple[dict[str, Any], asyncio.Future]],
                exc: BaseException | None) -> None:
        for _, fut in batch:
            if not fut.done():
                if exc is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(exc)


class IntegrationCache:
    def __init__(self, container: Container) -> None:
        self._c = container
        self._entries: dict[str, tuple[float, IntegrationInfo | None]] = {}

    async def get(self, key: str) -> IntegrationInfo | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        info = await run_in_threadpool(svc.lookup, self._c.uow(read_only=True), key)
        if len(self._entries) > 10_000:  # wrong-key floods must not grow it without bound
            self._entries.clear()
        self._entries[key] = (now, info)
        return info


class IntakeApp:
    def __init__(self, container: Container, kick: Callable[[], None]) -> None:
        self.c = container
        self.cache = IntegrationCache(container)
        self.max_bytes = container.settings.intake_max_bytes
        self.committer = GroupCommitter(
            svc.event_writer(container.engine, container.write_lock, container.spool_dir), kick,
            delay=container.settings.intake_commit_delay_ms / 1000)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, ctype, data = await self.answer(scope["method"], scope["path"], headers,
                                                lambda: self._read(receive, headers))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype),
                                (b"content-length", b"%d" % len(data))]})
        await send({"type": "http.response.body", "body": data})

    async def answer(self, method: str, path: str, headers: dict[str, str],
                     body: Callable[[], Awaitable[bytes]]) -> tuple[int, bytes, bytes]:
        """(status, content type, JSON body) for one intake request, whichever server
        carries it (this ASGI app, or web/fastpath.py's lean protocol). `headers` have
        lower-case names; `body()` gives the request body, or raises Rejected (413)."""
        pd = path == PAGERDUTY_PATH
        try:
            if method != "POST":
                raise Rejected(405, "send alerts with POST", keep=False)
            status, out = await self._accept(path, headers, await body(), pd)
        except Rejected as exc:
            # PagerDuty answers every invalid event with 400; its clients expect that.
            status = 400 if pd and exc.status == 422 else exc.status
            out = self._error(exc, pd)
        ctype = b"application/problem+json" if status >= 400 and not pd else b"application/json"
        return status, ctype, orjson.dumps(out)

    async def _accept(self, path: str, headers: dict[str, str], raw: bytes,
                      pd: bool) -> tuple[int, Any]:
        info = await self._integration(path, raw, pd)
        ctype = headers.get("content-type", "")
        try:
            svc.check_content_type(info, ctype)
            if not info.enabled:
                raise Rejected(403, f"integration {info.name!r} is disabled")
            outcome = await self._parse(info, raw, headers)
        except Rejected as exc:
            exc.dead_letter_id = await self._keep(info, exc, ctype, headers, raw)
            raise
        rows = svc.to_rows(outcome)
        row = svc.event_row(info, self.c.clock.now(), ctype, raw, rows)
        if outcome.notices:
            row["result"] = {"notices": [dict(n.__dict__, data=dict(n.data))
                                         for n in outcome.notices]}
        try:
            await self.committer.submit(row)
        except Exception as exc:  # noqa: BLE001 - the sender should retry, not see a 500
            raise Rejected(503, "the alert could not be stored just now; send it again",
                           keep=False) from exc
        keys = [r["dedup_key"] for r in rows]
        if pd:
            return 202, {"status": "success", "message": "Event processed",
                         "dedup_key": keys[0] if keys else None}
        return 202, {"status": "accepted", "alerts": len(rows), "dedup_keys": keys[:100],
                     "notices": [n.message for n in outcome.notices]}

    async def _parse(self, info: IntegrationInfo, raw: bytes, headers: dict[str, str]) -> ParseOutcome:
        certs = self.c.sns_certs
        if certs is not None and info.type in svc.SNS_TYPES:
            # Checking the signature may fetch a certificate: not on the event loop.
            return await run_in_threadpool(svc.parse, info, raw, headers, certs)
        return svc.parse(info, raw, headers)

    def too_big(self, declared: str | None) -> bool:
        """Whether a declared content-length is over the limit (refused before reading)."""
        return bool(declared and declared.isdigit() and int(declared) > self.max_bytes)

    def over_limit(self, declared: str | None = None) -> Rejected:
        if declared is not None:
            return Rejected(413, f"body of {declared} bytes is over the {self.max_bytes} limit",
                            keep=False)
        return Rejected(413, f"body is over the {self.max_bytes} byte limit", keep=False)

    async def _read(self, receive: Callable, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length")
        if self.too_big(declared):
            raise self.over_limit(declared)
        chunks, size = [], 0
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise self.over_limit()
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks)

    async def _integration(self, path: str, raw: bytes, pd: bool) -> IntegrationInfo:
        if pd:
            try:
                key = orjson.loads(raw).get("routing_key")
            except (orjson.JSONDecodeError, AttributeError) as exc:
                raise Rejected(400, "body is not a JSON object", keep=False) from exc
            if not isinstance(key, str) or not key:
                raise Rejected(400, "routing_key is required", "routing_key", keep=False)
        else:
            key = path[len(PREFIX):].strip("/")
        info = await self.cache.get(key) if key else None
        if info is None:
            raise Rejected(404, "no integration has this key", keep=False)
        if pd and info.type != "pagerduty":
            raise Rejected(400, f"routing_key belongs to a {info.type} integration, not a "
                                "pagerduty one", "routing_key", keep=False)
        return info

    async def _keep(self, info: IntegrationInfo, exc: Rejected, ctype: str,
                    headers: dict[str, str], raw: bytes) -> int | None:
        if not exc.keep:
            return None
        safe = {k: v for k, v in headers.items() if k not in ("authorization", "cookie")}
        return await run_in_threadpool(svc.keep_dead_letter, self.c.uow(), info.id, exc.reason,
                                       exc.path, ctype, safe, raw)

    @staticmethod
    def _error(exc: Rejected, pd: bool) -> dict[str, Any]:
        dl = getattr(exc, "dead_letter_id", None)
        if pd:
            return {"status": "invalid event", "message": "Event object is invalid",
                    "errors": [exc.reason]}
        body = {"type": "/problems/intake-rejected", "title": "Alert not accepted",
                "status": exc.status, "detail": exc.reason}
        if exc.path:
            body["path"] = exc.path
        if dl:
            body["dead_letter_id"] = dl
            body["detail"] += f" (kept as dead letter {dl}; fix and replay it)"
        return body


def is_intake(path: str) -> bool:
    return path.startswith(PREFIX) or path == PAGERDUTY_PATH
