"""`tocsin serve --workers 2` (web/serving.py): each worker listens on a socket of its own
(SO_REUSEPORT), so the kernel spreads connections over both; the supervisor holds the
sockets, so a worker that dies is replaced on the same socket and no connection is lost.
Read from /proc: which process holds which listening socket and which connection."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import BIN, serve

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists() or
                                not hasattr(socket, "SO_REUSEPORT"),
                                reason="needs Linux /proc and SO_REUSEPORT")

LISTEN, ESTABLISHED = "0A", "01"


def tcp_table(port: int) -> dict[int, tuple[str, int]]:
    """inode -> (state, remote port) of the TCP sockets whose local port is `port`."""
    table = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port:
            table[int(f[9])] = (f[3], int(f[2].split(":")[1], 16))
    return table


def socket_inodes(pid: int) -> set[int]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def listeners(server_pid: int, port: int) -> dict[int, set[int]]:
    """worker pid -> inodes of the listening sockets it holds (the supervisor excluded)."""
    listening = {i for i, (state, _) in tcp_table(port).items() if state == LISTEN}
    held = {}
    for kid in children(server_pid):
        mine = socket_inodes(kid) & listening
        if mine:
            held[kid] = mine
    return held


def ask(port: int, n: int) -> list[socket.socket]:
    """n keep-alive connections, each answered once; left open."""
    conns = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=60)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = c.recv(4096)
            assert chunk, "connection closed before an answer"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
        conns.append(c)
    return conns


def holders(server_pid: int, port: int, conns: list[socket.socket]) -> dict[int, int]:
    """worker pid -> how many of `conns` it serves."""
    ours = {c.getsockname()[1] for c in conns}
    served = {i for i, (state, remote) in tcp_table(port).items()
              if state == ESTABLISHED and remote in ours}
    return {pid: len(socket_inodes(pid) & served) for pid in listeners(server_pid, port)}


def wait_for(check, what: str, timeout: float = 30):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_each_worker_has_its_own_socket_and_connections_spread_over_both(tmp_path):
    with serve(tmp_path, workers=2) as s:
        port = int(s.base.rsplit(":", 1)[1])
        held = wait_for(lambda: (lambda h: h if len(h) == 2 else None)(listeners(s.pid, port)),
                        "two workers listening")
        first, second = held.values()
        assert len(first) == len(second) == 1 and first != second, held
        assert socket_inodes(s.pid) >= first | second   # the supervisor keeps both open

        conns = ask(port, 40)
        try:
            spread = holders(s.pid, port, conns)
            assert sum(spread.values()) == 40, spread
            # with one shared socket, one worker can take them all; hashed over two
            # sockets, the chance that all 40 land on one is 2 in 2**40
            assert min(spread.values()) > 0, spread
        finally:
            for c in conns:
                c.close()


def test_a_dead_worker_is_replaced_on_its_socket_and_no_connection_is_refused(tmp_path):
    with serve(tmp_path, workers=2) as s:
        port = int(s.base.rsplit(":", 1)[1])
        held = wait_for(lambda: (lambda h: h if len(h) == 2 else None)(listeners(s.pid, port)),
                        "two workers listening")
        victim, survivor = held
        os.kill(victim, signal.SIGKILL)
        # connections hashed to the dead worker's socket wait in its queue until the
        # replacement takes it over: every one is answered, none refused
        conns = ask(port, 40)
        for c in conns:
            c.close()
        after = wait_for(lambda: (lambda h: h if len(h) == 2 and victim not in h else None)(
            listeners(s.pid, port)), "a replacement worker")
        assert survivor in after
        replacement = next(pid for pid in after if pid != survivor)
        assert after[replacement] == held[victim]   # the very socket the dead worker had


def test_a_second_server_on_the_same_port_is_refused(tmp_path):
    # SO_REUSEPORT would let it join the port's group and take a share of the connections
    with serve(tmp_path / "first", workers=2) as s:
        port = s.base.rsplit(":", 1)[1]
        second = subprocess.run([BIN, "serve", "--host", "127.0.0.1", "--port", port,
                                 "--workers", "2", "--no-migrate"], env=s.env,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 3, second.stdout + second.stderr   # STARTUP_FAILURE
        assert "Address already in use" in second.stderr + second.stdout
        held = listeners(s.pid, int(port))
        assert len(held) == 2   # the first server still holds the port alone
