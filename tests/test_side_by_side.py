"""Writes go side by side only while they wait on the network (apicenter_sync/flows/side_by_side.py)."""

import threading
import time

from apicenter_sync.flows.side_by_side import MIN_WAIT_S, PROBE, SideBySide


class Tracker:
    """``fn`` for SideBySide: records how many calls were in flight at once; ``wait`` seconds asleep per call."""

    def __init__(self, wait: float):
        self.wait, self.now, self.most = wait, 0, 0
        self.lock = threading.Lock()

    def __call__(self, item):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        if self.wait:
            time.sleep(self.wait)
        with self.lock:
            self.now -= 1
        return item * 10


def test_writes_that_wait_on_the_network_go_out_side_by_side_in_order():
    writes, fn = SideBySide(4), Tracker(wait=MIN_WAIT_S * 3)
    try:
        assert writes.map(fn, list(range(20))) == [i * 10 for i in range(20)]
        assert 2 <= fn.most <= 4
        assert writes.pays and writes.mean_wait >= MIN_WAIT_S
    finally:
        writes.close()


def test_writes_that_do_not_wait_run_one_after_the_other_without_threads():
    writes, fn = SideBySide(8), Tracker(wait=0)
    for batch in range(3):
        items = list(range(batch * 50, batch * 50 + 50))
        assert writes.map(fn, items) == [i * 10 for i in items]
    assert fn.most == 1 and writes._pool is None and not writes.pays


def test_the_first_writes_of_a_run_are_timed_alone_then_the_rest_of_the_batch_is_shared():
    writes, fn = SideBySide(4), Tracker(wait=MIN_WAIT_S * 3)
    try:
        writes.map(fn, list(range(PROBE)))
        assert fn.most == 1 and writes.pays  # the probe alone, then the decision
        writes.map(fn, list(range(12)))
        assert fn.most >= 2
    finally:
        writes.close()


def test_one_writer_never_shares_whatever_the_wait():
    fn = Tracker(wait=MIN_WAIT_S * 2)
    assert SideBySide(1).map(fn, list(range(8))) == [i * 10 for i in range(8)]
    assert fn.most == 1


def test_a_struggling_server_gets_half_as_many_writes_then_one_more_per_calm_batch():
    retried = {"n": 0}
    writes, fn = SideBySide(8, retried=lambda: retried["n"]), Tracker(wait=MIN_WAIT_S * 3)

    def struggling(item):
        retried["n"] += 1  # every write of this batch needed a retry
        return fn(item)

    try:
        writes.map(fn, list(range(PROBE)))  # the probe decides that sharing pays
        writes.map(struggling, list(range(16)))
        assert writes.limit == 4
        writes.map(struggling, list(range(16)))
        assert writes.limit == 2
        fn.most = 0
        writes.map(fn, list(range(16)))
        assert fn.most <= 2, "the batch after a struggle keeps to the lowered limit"
        assert writes.limit == 3
        for _ in range(8):
            writes.map(fn, list(range(16)))
        assert writes.limit == 8, "calm batches restore write_concurrency, never more"
    finally:
        writes.close()
