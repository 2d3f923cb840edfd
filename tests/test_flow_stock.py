"""Stock flow (AccountView stock per warehouse → MplusKASSA setStock per branch), over real sockets."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import httpx
import pytest
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync.i18n import references

BRANCH = {"HOOFD": 1, "WINKEL": 2}


def level(env: Env, sku: str, warehouse: str) -> dict:
    row = next(r for r in env.stock_rows(sku) if str(r["WH_CODE"]).strip() == warehouse)
    return {k: Decimal(str(row[k] or 0)) for k in ("QTY_ONHAND", "QTY_RES", "QTY_INC")} | {"row": row}


def synced_env(env: Env) -> Env:
    """Products first (stock needs the articles in Mplus), non-numeric SKUs with generated numbers."""
    env.set("products", non_numeric_sku="generate")
    env.run("products")
    return env


def sent(env: Env) -> list[dict]:
    return env.mstore.stock_history


def test_second_run_writes_nothing(env: Env):
    synced_env(env)
    first = env.run("stock")
    assert first.counts["updated"] == len(env.av_rows("ART_STOCK"))
    assert not first.failures
    before = env.writes()
    env.mp.reset_counters()
    second = env.run("stock")
    assert env.writes() == before
    assert set(second.counts) <= {"unchanged"}
    assert env.mp.calls["setStock"] == 0


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("available", lambda q: q["QTY_ONHAND"] - q["QTY_RES"]),
        ("on_hand", lambda q: q["QTY_ONHAND"]),
        ("economic", lambda q: q["QTY_ONHAND"] - q["QTY_RES"] + q["QTY_INC"]),
    ],
)
def test_stock_figure_modes(env: Env, mode, expected):
    synced_env(env)
    env.set("stock", stock_figure=mode)
    env.run("stock")
    checked = 0
    for row in env.av_rows("ART_STOCK"):
        sku, wh = str(row["ART_CODE"]).strip(), str(row["WH_CODE"]).strip()
        if not sku.isdigit():
            continue
        q = level(env, sku, wh)
        assert env.mplus_stock(int(sku), BRANCH[wh]) == expected(q), (sku, wh)
        checked += 1
    assert checked > 100
    # the three modes really differ on this data
    assert any(level(env, s, "HOOFD")["QTY_INC"] for s in ("100001", "100002", "100004", "100005", "100008"))


def test_stock_figure_field(env: Env):
    synced_env(env)
    env.set("stock", stock_figure="field", stock_field="QTY_INC")
    env.run("stock")
    q = level(env, "100008", "HOOFD")
    assert env.mplus_stock(100008, 1) == q["QTY_INC"]


def test_settings_help_and_code_agree_on_economic():
    from apicenter_sync.settings import get_setting

    text = get_setting("stock_figure").help
    assert "economic (on hand minus reserved plus incoming)" in " ".join(text.split())
    assert "available (on hand minus reserved" in text


def test_warehouse_branch_mapping_and_unmapped_warehouse(env: Env):
    synced_env(env)
    env.store.mappings.set_table("warehouse_branch", {"HOOFD": "1"})
    result = env.run("stock")
    errors = dict(result.failures)
    assert errors["100005@WINKEL"].startswith("warehouse 'WINKEL' has no MplusKASSA branch (mapping table “Warehouses → "
                                             "MplusKASSA branches”)")  # fmt: skip
    assert references(errors["100005@WINKEL"]) == [("table", "warehouse_branch")]
    assert {sid.split("@")[1] for sid in errors} == {"WINKEL"}
    assert result.counts["updated"] == len([r for r in env.av_rows("ART_STOCK") if r["WH_CODE"].strip() == "HOOFD"])
    q = level(env, "100005", "HOOFD")
    assert env.mplus_stock(100005, 1) == q["QTY_ONHAND"] - q["QTY_RES"]
    # mapped later: the failed rows are retried by the next run and land on branch 2
    env.store.mappings.set_table("warehouse_branch", {"HOOFD": "1", "WINKEL": "2"})
    again = env.run("stock")
    assert not again.failures and again.counts["updated"] == len(errors)
    q = level(env, "100005", "WINKEL")
    assert env.mplus_stock(100005, 2) == q["QTY_ONHAND"] - q["QTY_RES"]


def test_manage_stock_off_sends_nothing(env: Env):
    synced_env(env)
    env.set("stock", manage_stock=False)
    env.mp.reset_counters()
    before = env.writes()
    result = env.run("stock")
    assert env.mp.calls["setStock"] == 0 and env.mp.calls["updateStock"] == 0
    assert env.writes() == before
    assert set(result.counts) == {"skipped"}


def test_negative_fractional_and_zero_stock(env: Env):
    synced_env(env)
    env.set("stock", stock_figure="on_hand")
    env.run("stock")
    history = {(h["articleNumber"], h["branchNumber"]): h for h in sent(env)}
    neg, frac, zero = (int(env.world.edge[k]) for k in ("negative_stock", "fractional_stock", "zero_stock"))
    assert (history[(neg, 1)]["amount"], history[(neg, 1)]["decimalPlaces"]) == (-3, 0)
    assert (history[(frac, 1)]["amount"], history[(frac, 1)]["decimalPlaces"]) == (125, 1)
    assert (history[(zero, 1)]["amount"], history[(zero, 1)]["decimalPlaces"]) == (0, 0)
    assert env.mplus_stock(neg, 1) == Decimal(-3)
    assert env.mplus_stock(frac, 1) == Decimal("12.5")
    # a fractional available figure: 12.5 on hand minus what is reserved
    env.set("stock", stock_figure="available")
    env.run("stock", full=True)  # a changed setting applies to what is read next; full re-sends everything
    q = level(env, str(frac), "HOOFD")
    assert env.mplus_stock(frac, 1) == q["QTY_ONHAND"] - q["QTY_RES"]


def test_changed_stock_is_exactly_one_set_stock(env: Env):
    synced_env(env)
    env.run("stock")
    env.change_stock("100005", "WINKEL", QTY_ONHAND=42, QTY_RES=2)
    env.mp.reset_counters()
    before = env.writes()
    result = env.run("stock")
    assert dict(result.counts) == {"updated": 1}
    assert env.mp.calls["setStock"] == 1
    assert env.writes() - before == Counter({"stock": 1})
    assert env.mplus_stock(100005, 2) == Decimal(40)
    # a change that leaves the figure as it was sends nothing
    env.change_stock("100005", "WINKEL", QTY_ONHAND=43, QTY_RES=3)
    env.mp.reset_counters()
    result = env.run("stock")
    assert dict(result.counts) == {"unchanged": 1}
    assert env.mp.calls["setStock"] == 0


def test_stock_before_products_is_retried_once_the_article_exists(env: Env):
    env.set("products", non_numeric_sku="generate")
    result = env.run("stock")  # products not synced yet
    errors = dict(result.failures)
    assert "AB-0023@HOOFD" in errors and "not in MplusKASSA yet" in errors["AB-0023@HOOFD"]
    assert "100003@HOOFD" in errors  # numeric, but not in the till yet
    assert "100001@HOOFD" not in errors  # already sold by the till
    env.run("products")
    again = env.run("stock")
    assert not again.failures
    assert again.counts["updated"] == len(errors)
    number = int(env.store.bindings.get("article", "AB-0023").target_id)
    q = level(env, "AB-0023", "HOOFD")
    assert env.mplus_stock(number, 1) == q["QTY_ONHAND"] - q["QTY_RES"]


def test_filter_groups_apply_to_stock(env: Env):
    synced_env(env)
    env.set(None, filter_groups=["G001"])
    result = env.run("stock")
    groups = {str(r["ART_CODE"]).strip(): r["AG_CODE"].strip() for r in env.av_rows("ARTICLE")}
    lines = env.store.log.list_lines(flow="stock", run_id=result.run_id, limit=10_000)
    updated = {ln.source_id.split("@")[0] for ln in lines if ln.action == "updated"}
    skipped = {ln.source_id.split("@")[0] for ln in lines if ln.action == "skipped"}
    assert updated and {groups[s] for s in updated} == {"G001"}
    assert skipped and "G001" not in {groups[s] for s in skipped}
    assert result.counts["updated"] == env.mp.calls["setStock"]


def test_dry_run_and_full(env: Env):
    synced_env(env)
    before = env.writes()
    dry = env.run("stock", dry_run=True)
    assert env.writes() == before
    assert len(dry.planned) == len(env.av_rows("ART_STOCK"))
    env.run("stock")
    env.mp.reset_counters()
    full = env.run("stock", full=True)
    assert full.counts["updated"] == len(env.av_rows("ART_STOCK"))
    assert env.mp.calls["setStock"] == len(env.av_rows("ART_STOCK"))


def test_transient_faults_end_in_the_right_state(sandboxes):
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes, client_timeout=2.0)
    try:
        synced_env(e)
        e.set("stock", batch_size=25)
        e.faults(0.2, kinds=["timeout", "reset", "http500", "http503", "http429", "lost_reply"], timeout_s=0.2,
                 seed=9)  # fmt: skip
        for i in range(3):
            e.engine.run("stock")
            if i == 0:
                e.change_stock("100005", "HOOFD", QTY_ONHAND=77)
        assert sum(e.faults_injected().values()) > 0
        e.faults(0)
        for _ in range(3):
            last = e.run("stock")
            if not last.failures:
                break
        assert not last.failures
        check_stock_matches(e)
    finally:
        e.close()


def check_stock_matches(env: Env) -> None:
    for row in env.av_rows("ART_STOCK"):
        sku, wh = str(row["ART_CODE"]).strip(), str(row["WH_CODE"]).strip()
        number = int(env.store.bindings.get("article", sku).target_id)
        q = level(env, sku, wh)
        assert env.mplus_stock(number, BRANCH[wh]) == q["QTY_ONHAND"] - q["QTY_RES"], (sku, wh)
