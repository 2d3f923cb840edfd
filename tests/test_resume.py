"""Runs that stop at ``RunOptions.limit`` (one Odoo job handles a few batches) or die midway go on where they
stopped: AccountView streams from their cursor (the key after the last committed batch), the orders flow from
its syncMarker. Nothing is read twice, nothing is skipped, and the result equals one uninterrupted run."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync.flows.av_source import CURSOR_SUFFIX
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.flows.stock import StockFlow


def run_in_slices(env: Env, flow: str, limit: int, **options) -> list:
    """Like the Odoo job chain: a run with ``limit`` (records, or batches with ``max_batches``), then resumed runs
    until nothing is left."""
    results = [env.run(flow, limit=limit, **options)]
    while results[-1].more:
        assert len(results) < 100, "the runs do not advance"
        results.append(env.run(flow, limit=limit, **{**options, "resume": True}))
    return results


def lines_per_source(env: Env, flow: str, entity: str) -> Counter:
    return Counter(line.source_id for line in env.store.log.list_lines(flow=flow, entity=entity, limit=100_000))


def stock_ready(env: Env) -> int:
    env.set("products", non_numeric_sku="generate")
    env.run("products")
    env.set("stock", batch_size=10)
    return len(env.av_rows("ART_STOCK"))


def test_stock_in_slices_reads_every_row_once_and_moves_the_watermark_at_the_end(env: Env):
    total = stock_ready(env)
    first = env.engine.run("stock", RunOptions(limit=30))
    assert first.more and sum(first.counts.values()) == 30
    assert not env.store.watermarks.get("stock").value, "no watermark before the stream was read to its end"
    assert env.store.watermarks.get("stock", "default" + CURSOR_SUFFIX).value
    results = [first] + run_in_slices(env, "stock", 30, resume=True)
    assert all(r.error is None for r in results)
    assert sum(sum(r.counts.values()) for r in results) == total
    per_row = lines_per_source(env, "stock", "stock")
    assert len(per_row) == total and set(per_row.values()) == {1}, "a row was handled twice"
    assert env.mp.calls["setStock"] == total
    assert env.store.watermarks.get("stock").value
    assert not env.store.watermarks.get("stock", "default" + CURSOR_SUFFIX).value, "the cursor is cleared"
    # The slices did the same as one run: nothing is left to write.
    env.mp.reset_counters()
    again = env.run("stock")
    assert env.mp.calls["setStock"] == 0 and set(again.counts) <= {"unchanged"}


def test_a_run_that_dies_midway_goes_on_after_its_last_batch(env: Env, monkeypatch):
    total = stock_ready(env)

    class Killed(BaseException):
        """Not an Exception: like SIGKILL, nothing of the run gets to clean up."""

    real = StockFlow.process_batch
    batches = []

    def dying(self, batch):
        if batch.records:
            batches.append(len(batch.records))
            if len(batches) == 4:
                raise Killed
        return real(self, batch)

    monkeypatch.setattr(StockFlow, "process_batch", dying)
    with pytest.raises(Killed):
        env.engine.run("stock")
    monkeypatch.setattr(StockFlow, "process_batch", real)
    done = sum(batches[:3])
    assert len(lines_per_source(env, "stock", "stock")) == done
    env.av.reset_counters()
    after = env.run("stock")
    assert sum(after.counts.values()) == total - done, "the next run reads only what the dead run had not committed"
    per_row = lines_per_source(env, "stock", "stock")
    assert len(per_row) == total and set(per_row.values()) == {1}
    assert env.store.watermarks.get("stock").value


def test_full_resync_in_slices_resends_everything_once(env: Env):
    total = stock_ready(env)
    env.run("stock")
    env.mp.reset_counters()
    results = run_in_slices(env, "stock", 25, full=True)
    assert len(results) > 2
    # A continuation of a full run does not start over: every row is sent once again, not once per slice.
    assert env.mp.calls["setStock"] == total
    assert sum(r.counts["updated"] + r.counts["unchanged"] for r in results) == total
    assert env.store.watermarks.get("stock").value


def test_products_in_slices_equal_one_run(env: Env, sandboxes):
    env.set("products", non_numeric_sku="generate", batch_size=7)
    results = run_in_slices(env, "products", None, max_batches=2)
    assert len(results) > 3 and all(r.error is None for r in results)
    assert max(sum(r.counts.values()) for r in results) <= 14, "two batches a run"
    per_article = lines_per_source(env, "products", "article")
    assert len(per_article) == len(env.av_rows("ARTICLE")) and set(per_article.values()) == {1}
    assert env.store.watermarks.get("products", "group").value and env.store.watermarks.get("products", "article").value
    state = (len(env.mstore.products), len(env.mstore.article_product), len(env.mstore.article_groups))
    # The same world synced in one run gives the same Mplus state.
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    one = Env(sandboxes)
    try:
        one.set("products", non_numeric_sku="generate", batch_size=7)
        one.run("products")
        assert (len(one.mstore.products), len(one.mstore.article_product), len(one.mstore.article_groups)) == state
    finally:
        one.close()


def test_a_cursor_that_cannot_be_read_starts_the_stream_over(env: Env, caplog):
    total = stock_ready(env)
    env.store.watermarks.set("stock", "default" + CURSOR_SUFFIX, "{not json")
    result = env.run("stock")
    assert sum(result.counts.values()) == total
    assert "unreadable cursor" in caplog.text
