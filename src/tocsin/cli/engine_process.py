"""`tocsin serve` keeps one `tocsin engine run` process beside the web workers, restarting
it if it dies (after a crash, due rows are simply picked up again)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..settings import Settings

log = logging.getLogger("tocsin.serve")


class EngineProcess:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._supervise, daemon=True, name="engine-watch")

    def _spawn(self) -> subprocess.Popen:
        tocsin = Path(sys.executable).parent / "tocsin"
        return subprocess.Popen([str(tocsin), "engine", "run", "--parent-pid", str(os.getpid())],
                                env=dict(os.environ))

    def start(self) -> None:
        self._proc = self._spawn()
        self._watch.start()

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            if self._proc and self._proc.poll() is not None:
                log.warning("engine process exited with %s; starting it again",
                            self._proc.returncode)
                time.sleep(1.0)
                if not self._stopping.is_set():
                    self._proc = self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
