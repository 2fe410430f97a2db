"""Real processes for end-to-end tests: a `tocsin serve` on 127.0.0.1, and Chromium."""

from __future__ import annotations

import email
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

BIN = Path(sys.executable).parent / "tocsin"
CHROMIUM = os.environ.get("TOCSIN_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str
    email: str
    password: str
    env: dict
    pid: int

    def cli(self, *args: str) -> str:
        done = subprocess.run([BIN, *args], env=self.env, check=True, capture_output=True,
                              text=True)
        return done.stdout


@contextmanager
def serve(tmp_path: Path, port: int | None = None, workers: int = 1,
          **extra_env: str) -> Iterator[Server]:
    """A seeded Tocsin on SQLite, started as `tocsin serve` (settings in `extra_env`)."""
    env = {**os.environ, "TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db",
           "TOCSIN_VAR_DIR": str(tmp_path / "var"), **extra_env}
    subprocess.run([BIN, "db", "upgrade"], env=env, check=True, capture_output=True)
    seeded = subprocess.run([BIN, "demo", "seed"], env=env, check=True, capture_output=True,
                            text=True)
    email, password = (tmp_path / "var" / "demo-admin.txt").read_text().split()[:2]
    assert password in seeded.stdout
    port = port or free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers), "--no-migrate"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield Server(base, email, password, env, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def server(tmp_path):
    with serve(tmp_path) as s:
        yield s


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd API
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: (inbox, port)."""
    inbox, port = Inbox(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("TOCSIN_REQUIRE_BROWSER"):
            pytest.fail(msg + " — TOCSIN_REQUIRE_BROWSER is set", pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
