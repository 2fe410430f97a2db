"""Engine.run_cycle runs each processor on a bounded batch, in its own transaction, with
its exceptions isolated; EngineThread runs cycles in the background and on kick()."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..bootstrap import Container
from ..services import (
    checkpoints,
    engine_lease,
    escalation,
    intake_spool,
    janitor,
    shift_notices,
    triage,
)

log = logging.getLogger("tocsin.engine")


@dataclass
class Processor:
    name: str
    run: Callable[[Container], int]   # returns how many rows it handled
    every: float = 0.0                # at most once per this many seconds (0: every cycle)
    paced: bool = False               # alert intake work: held back by the Pacer in a flood


FLOOD_BACKLOG = intake_spool.BATCH


@dataclass
class Pacer:
    """Under an alert flood, taking alerts comes first. While alerts keep arriving (the
    newest one less than `recent` seconds old), the paced processors (moving spooled
    alerts in, triage) work at most `share` of the time: after spending t seconds they rest
    t * (1 - share) / share. Timers and pages are not paced. Once the flood stops they run
    flat out again. Used by the engine beside a server (`tocsin serve`), on either database:
    the web workers and the engine share the machine's cores."""

    share: float = 0.2
    recent: float = 1.0
    longest: float = 2.0        # a rest never lasts longer than this
    paused_until: float = 0.0   # time.monotonic()

    def after(self, spent: float, flooding: bool, now: float) -> None:
        rest = min(self.longest, spent * (1 - self.share) / self.share)
        self.paused_until = now + rest if flooding else 0.0

    def resume(self) -> None:
        self.paused_until = 0.0

    def paused_for(self, now: float) -> float:
        return max(0.0, self.paused_until - now)


def flooding(c: Container, recent: float) -> bool:
    """Whether alerts pour in faster than the engine takes them: more than a batch waiting
    (on SQLite spooled and not moved yet, on PostgreSQL stored and not triaged yet), and
    still arriving (the newest in the last `recent` seconds)."""
    if c.spools is not None:
        waiting, newest = intake_spool.inflow(c.uow, c.spools)
        age = None if newest is None else time.time() - newest
    else:
        waiting, received = triage.inflow(c.uow(read_only=True), FLOOD_BACKLOG + 1)
        age = None if received is None else (c.clock.now() - received).total_seconds()
    return waiting > FLOOD_BACKLOG and age is not None and age < recent


def default_processors() -> list[Processor]:
    return [
        Processor("spool", _spool, paced=True),
        Processor("triage", lambda c: triage.process_pending(c.uow()), paced=True),
        Processor("group_flush", lambda c: triage.flush_groups(c.uow())),
        Processor("snooze_wakeup", lambda c: triage.wake_snoozed(c.uow())),
        Processor("escalator", lambda c: escalation.fire_due(c.uow())),
        Processor("checkpoints", lambda c: checkpoints.process_due(c.uow())),
        # handoff and gap notices are minutes ahead: once a minute is on time
        Processor("shift_notices", lambda c: shift_notices.process(c.uow()), every=60.0),
        Processor("dispatcher", lambda c: escalation.dispatch(c.uow, c.notifier,
                                                              c.settings.public_url)),
        # Housekeeping scans tables: once a minute, not on every cycle of a busy engine.
        Processor("janitor", _janitor, every=60.0),
    ]


def _spool(c: Container) -> int:
    return intake_spool.move(c.uow, c.spools) if c.spools is not None else 0


def _janitor(c: Container) -> int:
    return janitor.sweep(c.uow(), c.settings.retention_days)


@dataclass
class Engine:
    container: Container
    processors: list[Processor] = field(default_factory=default_processors)
    # who this engine is, for the SQLite lease: engines in one process share it
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _last: dict[str, float] = field(default_factory=dict)
    _lease_until: datetime | None = None
    _waiting_for: str = ""
    pacer: Pacer | None = None

    def run_cycle(self) -> dict[str, int]:
        """One pass over every processor; a failing one is logged and the others still run.
        On SQLite only the engine holding the lease works; the others do nothing."""
        if not self._may_work():
            return {}
        done: dict[str, int] = {}
        if self.paused_for() and not self._flooding():
            self.pacer.resume()   # the flood is over: no need to rest any longer
        resting, spent = self.paused_for() > 0, 0.0
        for p in self.processors:
            if p.every and time.monotonic() - self._last.get(p.name, -p.every) < p.every:
                continue
            if p.paced and resting:
                continue
            started = self._last[p.name] = time.monotonic()
            try:
                done[p.name] = p.run(self.container)
            except Exception:  # noqa: BLE001 - one processor's bug must not stop the others
                log.exception("engine processor %s failed", p.name)
                done[p.name] = -1
            if p.paced:
                spent += time.monotonic() - started
        if self.pacer is not None and not resting and any(
                done.get(p.name, 0) > 0 for p in self.processors if p.paced):
            self.pacer.after(spent, self._flooding(), time.monotonic())
        return done

    def _flooding(self) -> bool:
        try:
            return self.pacer is not None and flooding(self.container, self.pacer.recent)
        except Exception:  # noqa: BLE001 - pacing is an optimisation: never stop the engine
            log.exception("could not tell whether alerts are flooding in")
            return False

    def paused_for(self) -> float:
        """Seconds until the paced processors may work again (0 when they may now)."""
        return self.pacer.paused_for(time.monotonic()) if self.pacer is not None else 0.0

    def _may_work(self) -> bool:
        if self.container.write_lock is None:   # PostgreSQL: engines share the work
            return True
        now = self.container.clock.now()
        if self._lease_until and self._lease_until - now > engine_lease.TTL / 2:
            return True
        lease = engine_lease.acquire(self.container.uow(), self.holder)
        if lease.held:
            if self._waiting_for:
                log.info("engine %s took the lease over from %s", self.holder, self._waiting_for)
            self._lease_until, self._waiting_for = lease.expires_at, ""
            return True
        if self._waiting_for != lease.holder:
            log.warning("another engine (%s) is running on this SQLite database; this one (%s) "
                        "waits, and takes over if that one stops", lease.holder, self.holder)
        self._lease_until, self._waiting_for = None, lease.holder
        return False

    def idle_seconds(self, cap: float = 1.0) -> float:
        """How long to sleep when there is nothing to do: until the next escalation step,
        checkpoint or page is due, at most `cap` (other timers are seconds-coarse: the cap covers them)."""
        if self._waiting_for:
            return cap
        due = escalation.next_due(self.container.uow(read_only=True))
        if due is None:
            return cap
        # a floor: a step due now that another engine holds (PostgreSQL) must not spin us
        return max(0.02, min(cap, (due - self.container.clock.now()).total_seconds()))

    @property
    def waiting_for(self) -> str:
        """The engine holding the SQLite lease while this one waits ("" when it works)."""
        return self._waiting_for

    def release(self) -> None:
        if self.container.write_lock is not None and self._lease_until:
            engine_lease.release(self.container.uow(), self.holder)
            self._lease_until = None

    def drain(self, max_cycles: int = 100) -> int:
        """Run cycles until nothing is left to do (tests, CLI)."""
        total = 0
        for _ in range(max_cycles):
            n = sum(v for v in self.run_cycle().values() if v > 0)
            total += n
            if n == 0:
                break
        return total


class EngineThread:
    """Runs the engine every `interval` seconds, or at once when kicked."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tocsin-engine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.engine.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.engine.idle_seconds(self.interval))
            self._wake.clear()
            if self._stop.is_set():
                break
            started = time.monotonic()
            done = self.engine.run_cycle()
            if any(v > 0 for v in done.values()):
                log.debug("engine cycle %s in %.1f ms", done, (time.monotonic() - started) * 1e3)
                self._wake.set()  # there may be more: go again at once
