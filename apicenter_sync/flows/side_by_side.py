"""Writes side by side only when they wait on the network.

Measured (bench/concurrency_bench.py, bench/README.md "Write concurrency"): with a 20 ms round trip, 8 writes in
flight cut the wall time of a first sync to a fifth at the same CPU per record; with a server that answers in
under a millisecond they shorten nothing and cost 17-25 % more CPU per record (threads contending for the
interpreter). So each batch's writes go to the threads only while the writes of the run so far spent, on
average, at least ``MIN_WAIT_S`` waiting (wall time minus the CPU time of the thread that made them); otherwise
they run one after the other on the calling thread.

A server that struggles gets fewer: when calls of a batch had to be retried (timeouts, 5xx, dropped
connections: the clients' retry counters), the next batch has half as many writes in flight; every batch
without a retry adds one back, up to ``write_concurrency`` (additive increase, multiplicative decrease, as TCP
does with a congested link). MplusKASSA documents no rate limit, so this is how the engine stays polite to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# A write that waits less than this gains nothing from company: the thread switches cost about as much.
MIN_WAIT_S = 0.002
# Writes timed one after the other before the first decision of a run.
PROBE = 4

_log = logging.getLogger(__name__)


class SideBySide:
    """Runs ``fn`` over the items of a batch, with up to ``workers`` at a time when that pays. One per flow run."""

    def __init__(self, workers: int, name: str = "write", retried: Callable[[], int] | None = None):
        """``retried``: how many calls the clients have retried so far (a rising count means the server
        struggles)."""
        self.workers = max(1, workers)
        self.limit = self.workers  # writes in flight allowed now
        self.name = name
        self._retried = retried
        self._pool: ThreadPoolExecutor | None = None
        self._wait = 0.0  # seconds waited by the writes timed so far
        self._timed = 0

    @property
    def mean_wait(self) -> float | None:
        return self._wait / self._timed if self._timed else None

    @property
    def pays(self) -> bool:
        mean = self.mean_wait
        return self.workers > 1 and mean is not None and mean >= MIN_WAIT_S

    def map(self, fn: Callable[[Any], Any], items: list) -> list:
        """``[fn(item) for item in items]``, in the order of ``items``."""
        timed = self._timing(fn)
        if self.workers <= 1 or len(items) <= 1:
            return [timed(item) for item in items]
        head = []
        if self._timed < PROBE:  # a run starts with a few writes alone: their wait decides
            head = [timed(item) for item in items[:PROBE]]
            items = items[PROBE:]
        if not self.pays or len(items) <= 1:
            return head + [timed(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
        gate = threading.Semaphore(self.limit)

        def gated(item):
            with gate:
                return timed(item)

        retried = self._retried() if self._retried else 0
        try:
            return head + list(self._pool.map(gated, items))
        finally:
            if self._retried:
                self._adapt(self._retried() - retried)

    def _adapt(self, retried: int) -> None:
        if retried and self.limit > 1:
            self.limit = max(1, self.limit // 2)
            _log.warning("%s: %d call(s) retried in the last batch: at most %d write(s) in flight from now on",
                         self.name, retried, self.limit)  # fmt: skip
        elif not retried and self.limit < self.workers:
            self.limit += 1

    def _timing(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def timed(item):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(item)
            finally:
                waited = (time.perf_counter() - wall) - (time.thread_time() - cpu)
                self._wait += max(0.0, waited)  # a float += under the GIL: a lost update only blurs the mean
                self._timed += 1

        return timed

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
