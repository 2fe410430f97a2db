"""A notifier that only records: engine tests assert on exactly what it was given."""

from __future__ import annotations

import threading

from ...ports import Delivery, Message


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.failing: dict[str, Delivery] = {}   # address -> what sending to it returns
        self._lock = threading.Lock()

    def send(self, message: Message) -> Delivery:
        with self._lock:
            self.sent.append(message)
        return self.failing.get(message.address, Delivery("sent"))

    def take(self) -> list[tuple[str, str]]:
        """(channel, address) of everything sent since the last take, sorted: the pages of
        one engine cycle go out in parallel, in no set order."""
        with self._lock:
            got, self.sent = sorted((m.channel, m.address) for m in self.sent), []
        return got
