"""Requests and retries per operation, counted by both API clients (benchmarks and "calls per record" tests)."""

from __future__ import annotations

import threading
from collections import Counter


class CallCounters:
    def __init__(self) -> None:
        self._counter_lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # requests sent per operation, retries included
        self.retries: Counter[str] = Counter()

    @property
    def call_count(self) -> int:
        with self._counter_lock:
            return sum(self.calls.values())

    @property
    def retry_count(self) -> int:
        with self._counter_lock:
            return sum(self.retries.values())

    def reset_counters(self) -> None:
        with self._counter_lock:
            self.calls.clear()
            self.retries.clear()

    def _count(self, operation: str) -> None:
        with self._counter_lock:
            self.calls[operation] += 1

    def _count_retry(self, operation: str) -> None:
        with self._counter_lock:
            self.retries[operation] += 1
