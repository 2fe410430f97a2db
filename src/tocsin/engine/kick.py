"""Waking the engine process at once after an intake commit: a datagram on a UNIX socket
in the var directory. Best effort by design — the engine also wakes every second."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path


def socket_path(var_dir: str) -> str:
    return str(Path(var_dir).resolve() / "engine.sock")


class KickListener:
    def __init__(self, path: str) -> None:
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def wait(self, timeout: float) -> bool:
        """True when kicked (all queued kicks are drained), False on timeout."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recv(16)
        except TimeoutError:
            return False
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.recv(16)
        return True

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class Kicker:
    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def __call__(self) -> None:
        # No engine listening, or its queue is full: it wakes on its own within a second.
        with contextlib.suppress(OSError):
            self.sock.sendto(b"k", self.path)
