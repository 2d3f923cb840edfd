"""Store.flow_lock on SQLite: one runner per flow and store, re-entrant, never blocked by a dead holder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from apicenter_sync.flows.prices import PricesFlow
from apicenter_sync.flows.products import ProductsFlow
from apicenter_sync.flows.stock import StockFlow
from apicenter_sync.store import SqliteStore, Store


def test_second_store_is_refused_until_the_first_releases(tmp_path):
    path = tmp_path / "s.sqlite3"
    a, b = SqliteStore(path), SqliteStore(path)
    assert isinstance(a, Store)
    with a.flow_lock("products") as got_a:
        assert got_a
        with b.flow_lock("products") as got_b:
            assert not got_b
        with b.flow_lock("stock") as other_flow:
            assert other_flow  # locks are per flow
        with a.flow_lock("products") as again:
            assert again  # re-entrant for its holder
        assert a.lock_holder("products")["pid"] == os.getpid()
    assert a.lock_holder("products") is None
    with b.flow_lock("products") as got_b:
        assert got_b


def test_locks_are_per_backend(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path, "one").flow_lock("orders") as one, SqliteStore(path, "two").flow_lock("orders") as two:
        assert one and two


def test_expired_lease_of_another_host_is_taken_over(tmp_path):
    path = tmp_path / "s.sqlite3"
    now = datetime.now(UTC)
    later = SqliteStore(path, clock=lambda: now + timedelta(hours=1))
    store = SqliteStore(path)
    store.execute(
        "INSERT INTO flow_lock VALUES ('default', 'stock', 'elsewhere:1:x', 'elsewhere', 1, ?, ?)",
        (store.now(), later.now()),
    )
    with store.flow_lock("stock") as got:
        assert not got  # alive as far as we can tell: another host, not expired
    much_later = SqliteStore(path, clock=lambda: now + timedelta(hours=2))
    with much_later.flow_lock("stock") as got:
        assert got


def test_lease_of_a_killed_process_is_free_at_once(tmp_path):
    path = tmp_path / "s.sqlite3"
    SqliteStore(path).close()
    code = (
        "import sys, time\n"
        "from apicenter_sync.store import SqliteStore\n"
        f"s = SqliteStore({str(path)!r})\n"
        "with s.flow_lock('orders') as got:\n"
        "    print(got, flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "True"
        store = SqliteStore(path)
        with store.flow_lock("orders") as got:
            assert not got
        child.kill()  # SIGKILL: no release
        child.wait(10)
        assert store.lock_holder("orders")["pid"] == child.pid
        with store.flow_lock("orders") as got:
            assert got
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_commits_renew_the_lease(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3", lock_ttl_seconds=60)
    with store.flow_lock("prices"):
        first = store.lock_holder("prices")["expires_at"]
        time.sleep(0.01)
        store._renewed = 0.0  # pretend ttl/10 has passed
        store.watermarks.set("prices", "price", "2026-01-01T00:00:00")  # any commit
        assert store.lock_holder("prices")["expires_at"] > first


def test_a_locked_out_run_ends_at_once_and_writes_nothing(tmp_path):
    path = tmp_path / "s.sqlite3"
    holder, store = SqliteStore(path), SqliteStore(path)
    with holder.flow_lock("products"):
        # No clients at all: a run that got past the lock would fail on them.
        result = ProductsFlow(store, None, None).run()
    assert result.locked_out and not result.ok and result.run_id is None
    assert result.error == "another run of products is in progress"
    assert store.log.list_runs() == [] and store.watermarks.list("products") == {}


def test_a_run_under_the_lock_marks_the_dead_runs_of_its_flow_aborted(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3")
    dead = store.log.start_run("products")  # its process was killed: never finished
    other = store.log.start_run("stock")  # another flow, maybe running in another process right now
    assert store.log.abandon_stale_runs(0, flow="products") == 1
    assert store.log.get_run(dead).state == "aborted" and store.log.get_run(other).state == "running"


def test_the_lease_is_renewed_while_a_call_is_in_flight(tmp_path):
    # A run that waits on one slow API call (no commit for longer than the lease) keeps its lock: a heartbeat
    # renews the lease. Before, the lease expired under the call and a second runner took the flow over.
    path = tmp_path / "s.sqlite3"
    holder, other = SqliteStore(path, lock_ttl_seconds=1.0), SqliteStore(path, lock_ttl_seconds=1.0)
    with holder.flow_lock("products") as got:
        assert got
        first = holder.lock_holder("products")["expires_at"]
        time.sleep(2.5)  # "in flight": no commit at all, 2.5 lease lengths
        with other.flow_lock("products") as stolen:
            assert not stolen
        assert holder.lock_holder("products")["expires_at"] > first
    assert holder.lock_holder("products") is None  # released at the end, heartbeat stopped
    time.sleep(0.5)
    assert holder.lock_holder("products") is None  # and the heartbeat wrote no lease back


def test_prices_and_stock_wait_for_a_products_run_in_another_process(tmp_path):
    # engine.NEEDS across processes: while another process runs products, stock and prices do not start.
    path = tmp_path / "s.sqlite3"
    SqliteStore(path).close()
    code = (
        "import time\n"
        "from apicenter_sync.store import SqliteStore\n"
        f"s = SqliteStore({str(path)!r})\n"
        "with s.flow_lock('products') as got:\n"
        "    print(got, flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "True"
        store = SqliteStore(path)
        for flow_class in (StockFlow, PricesFlow):
            # No clients: a run that started would fail on them.
            result = flow_class(store, None, None).run()
            assert result.locked_out and result.transient and result.run_id is None
            assert result.error == (f"{flow_class.name} waits for products: a run of products is in progress in "
                                    "another process")  # fmt: skip
        assert store.log.list_runs() == []
        assert store.lock_holder("stock") is None and store.lock_holder("prices") is None  # their locks released
        child.kill()
        child.wait(10)
        assert not store.flow_lock_held_elsewhere("products")  # a dead holder does not block them
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_a_flow_does_not_wait_for_its_own_store(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3")
    with store.flow_lock("products"):
        assert not store.flow_lock_held_elsewhere("products")  # `run all` in one process: products, then stock
