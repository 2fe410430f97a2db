"""SQLite: beside a running `tocsin serve` (whose engine holds the lease), a second engine
process does not start processing."""

from __future__ import annotations

import subprocess
import time

from .conftest import BIN


def test_a_second_engine_process_does_nothing(server):
    deadline = time.monotonic() + 20
    while True:   # the server's engine takes the lease on its first cycle
        done = subprocess.run([BIN, "engine", "run", "--once"], env=server.env,
                              capture_output=True, text=True)
        if done.returncode == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "another engine" in done.stdout and "is running on this SQLite database" in done.stdout
