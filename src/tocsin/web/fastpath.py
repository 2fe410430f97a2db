"""Alert intake without the ASGI machinery: uvicorn's httptools protocol, with intake POSTs
answered straight from the protocol.

Measured on the 2-core reference machine, uvicorn spends about 60 µs of CPU per request
around the application (the scope, the cycle object, a task with its own context, the
receive/send messages, header checks, two socket writes), where a bare httptools protocol
needs about 15 µs. For the one-alert requests of a monitoring flood that is a fifth of all
the work. Here a plain intake request (`POST /intake/<key>` or `/v2/enqueue`, HTTP/1.1,
no `Expect: 100-continue`, not a websocket upgrade, nothing else in flight on the connection)
gets an `IntakeCycle` in place of uvicorn's cycle: the body is collected as uvicorn's parser
callbacks deliver it, `IntakeApp.answer` (the same code the ASGI app runs) decides, and the
response leaves in one write. Everything else (the UI, the API, pipelined requests behind
an intake request, odd intake requests) takes uvicorn's usual path, unchanged.

The protocol is given to uvicorn as `http="tocsin.web.fastpath:IntakeHttpProtocol"` by
`tocsin serve`. It relies on uvicorn's protocol internals, so uvicorn is pinned
(constraints.txt) and tests/web/test_fastpath.py drives it over real sockets.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .intake import IntakeApp, is_intake

log = logging.getLogger("tocsin.intake")
SERVER_ERROR = (500, b"application/problem+json",
                b'{"type":"about:blank","title":"Internal Server Error","status":500}')


class _Wake:
    """Stands in for the cycle's asyncio.Event: uvicorn sets it when body arrives, when the
    request is complete and when the connection is lost."""

    __slots__ = ("cycle",)

    def __init__(self, cycle: IntakeCycle) -> None:
        self.cycle = cycle

    def set(self) -> None:
        self.cycle.changed()


class IntakeCycle:
    """One intake request, from its headers to its response. Has the attributes uvicorn's
    protocol reads and writes on a cycle (body, more_body, message_event, response_complete,
    keep_alive, disconnected)."""

    def __init__(self, protocol: IntakeHttpProtocol, intake: IntakeApp, path: str,
                 headers: dict[str, str], keep_alive: bool) -> None:
        self.protocol, self.intake, self.path, self.headers = protocol, intake, path, headers
        self.keep_alive = keep_alive
        self.body = bytearray()          # uvicorn's on_body appends to it
        self.more_body = True            # uvicorn's on_message_complete clears it
        self.message_event = _Wake(self)
        self.response_complete = False
        self.disconnected = False        # uvicorn's connection_lost sets it
        self.oversized = False
        self.task: asyncio.Task | None = None

    def changed(self) -> None:
        p = self.protocol
        if self.disconnected or self.task is not None:
            return
        if self.more_body:
            if len(self.body) > self.intake.max_bytes:
                self.oversized = True
                self.body = bytearray()  # read the rest and drop it; answer 413 at the end
            p.flow.resume_reading()      # uvicorn pauses past 64 KiB, for an app to catch up
            return
        self.task = p.loop.create_task(self.run())
        p.tasks.add(self.task)
        self.task.add_done_callback(p.tasks.discard)

    async def _read(self) -> bytes:
        if self.oversized or len(self.body) > self.intake.max_bytes:
            raise self.intake.over_limit()
        return bytes(self.body)

    async def run(self) -> None:
        p = self.protocol
        try:
            status, ctype, data = await self.intake.answer("POST", self.path, self.headers,
                                                           self._read)
        except Exception:  # noqa: BLE001 - as uvicorn does: log it, answer 500
            log.exception("intake request failed")
            status, ctype, data = SERVER_ERROR
        self.response_complete = True
        if p.access_log:   # as uvicorn logs it (`tocsin serve --access-log`)
            client = "{}:{}".format(*p.client) if p.client else ""
            p.access_logger.info('%s - "POST %s HTTP/1.1" %d', client, self.path, status)
        if self.disconnected:
            return
        head = [STATUS_LINE[status], b"content-type: ", ctype,
                b"\r\ncontent-length: %d\r\n" % len(data)]
        for name, value in p.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        if not self.keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", data]
        p.transport.write(b"".join(head))
        if not self.keep_alive:
            p.transport.close()
        p.on_response_complete()   # keep-alive timer, and the next pipelined request


def find_intake(app: Any) -> IntakeApp | None:
    """The IntakeApp of tocsin.web.app.Dispatcher, through uvicorn's middleware wrappers
    (e.g. proxy headers: the intake never looks at the client's address)."""
    for _ in range(5):
        intake = getattr(app, "intake", None)
        if isinstance(intake, IntakeApp):
            return intake
        app = getattr(app, "app", None)
    return None


class IntakeHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; plain intake requests skip the ASGI layer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._intake = find_intake(self.app)

    def on_headers_complete(self) -> None:
        cycle = self._intake_cycle()
        if cycle is None:
            super().on_headers_complete()
        else:
            self.cycle = cycle  # type: ignore[assignment]

    def _intake_cycle(self) -> IntakeCycle | None:
        intake = self._intake
        if (intake is None or self.expect_100_continue
                or (self.cycle is not None and not self.cycle.response_complete)
                or self.parser.get_method() != b"POST"
                or self.parser.get_http_version() != "1.1" or self.parser.should_upgrade()):
            return None
        path = self.url.partition(b"?")[0]
        if b"%" in path or not path.isascii():
            return None   # uvicorn unquotes such paths; leave them to it
        text = path.decode("ascii")
        if not is_intake(text):
            return None
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.headers}
        if intake.too_big(headers.get("content-length")):
            return None   # the ASGI path refuses it before reading the body
        return IntakeCycle(self, intake, text, headers, self.parser.should_keep_alive())
