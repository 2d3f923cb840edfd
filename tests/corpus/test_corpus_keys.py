"""Keys no list filter can carry (a comma, quotes, a semicolon, blanks, non-ASCII) through every flow's retry path:
each failed record is read back by its key and handled on its own line; the run never stops over a key.
Cases: README.md ("Odd keys")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from corpus_env import inject_rows, lines_by_source
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"
from test_flow_orders import Env as OrdersEnv

from apicenter_sync.clients.accountview_filters import Filter, fits_in_list, key_filters
from apicenter_sync.store import LogLine

KEYS = ["A,B", "O'Brien", '50"', "x;y", "two words", "Ünï-çødé", "a,b,'c\"", "100001"]
LONG_AGO = "2001-01-01T00:00:00"  # older than every watermark: only the retry path reads these rows


def test_key_filters_put_odd_keys_on_their_own():
    filters = list(key_filters("ART_CODE", [*KEYS, "", "  ", "100001"]))
    lists = [f for f in filters if f.is_list]
    alone = [f.value for f in filters if not f.is_list]
    assert [f.value for f in lists] == ["x;y,two words,Ünï-çødé,100001"]
    assert alone == ["A,B", "O'Brien", '50"', "a,b,'c\""]  # blanks and repeats left out
    assert all(f.operator == "Equal" for f in filters)
    assert not fits_in_list(" padded") and not fits_in_list("tab\there") and fits_in_list("x;y")
    with pytest.raises(TypeError, match="cannot contain a comma"):
        Filter.in_("ART_CODE", ["A,B"])  # the raw builder still refuses; the helper never asks it to


def test_key_filters_chunk_by_count_and_length():
    many = [f"{n:06d}" for n in range(120)]
    assert [len(f.value.split(",")) for f in key_filters("ART_CODE", many)] == [50, 50, 20]
    wide = ["x" * 400 for _ in range(10)]
    wide = [w + str(i) for i, w in enumerate(wide)]
    assert all(len(f.value) <= 1500 for f in key_filters("ART_CODE", wide))


def _retry_lines(env: Env, flow: str, entity: str, direction: str, ids: list[str]) -> None:
    run_id = env.store.log.start_run(flow, "normal")
    past = datetime.now(UTC) - timedelta(minutes=5)
    env.store.log.add_lines(run_id, [LogLine(flow, entity, direction, sid, "failed", error="an earlier failure",
                                             retry_at=past) for sid in ids])  # fmt: skip
    env.store.log.finish_run(run_id, state="done", counts={}, error=None)


def _article(env: Env, sku: str) -> dict:
    row = dict(env.av_app.tables["ARTICLE"].rows["100001"])
    row.pop("CNG_DATE", None)
    return {**row, "ART_CODE": sku}


def test_odd_keys_go_through_every_flows_retry_path(env: Env):
    for flow in ("products", "customers", "stock", "prices"):
        env.run(flow)
    odd = KEYS[:-1]
    inject_rows(env, "ARTICLE", {f"odd-{i}": _article(env, k) for i, k in enumerate(odd)}, changed=LONG_AGO)
    debtor = dict(env.av_app.tables["CONTACT"].rows["10000"])
    debtor.pop("CNG_DATE", None)
    inject_rows(env, "CONTACT", {f"odd-{i}": {**debtor, "SUB_NR": k, "MAIL_BUS": f"odd{i}@example.nl"}
                                 for i, k in enumerate(odd)}, changed=LONG_AGO)  # fmt: skip
    stock = next(r for r in env.av_rows("ART_STOCK") if str(r["ART_CODE"]).strip() == "100001")
    inject_rows(env, "ART_STOCK", {f"odd-{i}": {**stock, "ART_CODE": k, "REC_ID": 990000 + i}
                                   for i, k in enumerate(odd)}, changed=LONG_AGO)  # fmt: skip
    warehouse = str(stock["WH_CODE"]).strip()
    retried = {
        "products": ("article", odd),
        "customers": ("relation", odd),
        "stock": ("stock", [f"{k}@{warehouse}" for k in odd]),
        "prices": ("article", odd),
    }
    for flow, (entity, ids) in retried.items():
        _retry_lines(env, flow, entity, "av_to_mplus", ids)
    env.set("products", non_numeric_sku="generate")  # the odd SKUs get article numbers: every flow can finish them

    for flow, (_entity, ids) in retried.items():
        result = env.engine.run(flow)
        assert result.error is None, f"{flow} stopped: {result.error}"  # was: a value … cannot contain a comma
        lines = lines_by_source(env, flow, result.run_id)
        for sid in ids:
            line = lines.get(sid)
            assert line is not None, f"{flow}: {sid!r} was not retried"
            # Read back by its key: never taken for deleted at the source.
            assert "no longer in the source" not in (line.error or ""), f"{flow}: {sid!r} was not found"
            if flow != "customers":  # the articles were created by the products retry, so the rest lands too
                assert line.action in ("created", "updated"), f"{flow}: {sid!r}: {line.action} {line.error}"
            else:
                assert line.action == "created", f"{flow}: {sid!r}: {line.action} {line.error}"


def test_odd_order_references_go_through_the_orders_retry_path(sandboxes):
    # The orders flow reads MplusKASSA; its AccountView lookups (booked documents by reference, articles) take the
    # same helper. Orders whose references no list can carry are retried by id and booked exactly once.
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    env = OrdersEnv(sandboxes)
    try:
        env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
        env.store.settings.set("default_debtor_number", "10001", "orders")
        assert env.run().ok
        refs = ["WEB,1'x\"", "WEB 2;ü", "WEB,3"]
        for ref in refs:
            env.add_order(ref, [("100001", "1", "5.00", "0", 21)])
        run_id = env.store.log.start_run("orders", "normal")
        past = datetime.now(UTC) - timedelta(minutes=5)
        env.store.log.add_lines(run_id, [LogLine("orders", "order", "mplus_to_av", ref, "failed", error="earlier",
                                                 retry_at=past) for ref in refs])  # fmt: skip
        env.store.log.finish_run(run_id, state="done", counts={}, error=None)
        result = env.run()
        assert result.ok, result.error
        again = env.run()
        assert again.ok, again.error
        for ref in refs:
            env.one_document(ref)  # booked exactly once, found again by its reference
    finally:
        env.store.close()
