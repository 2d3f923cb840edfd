"""Products flow (AccountView articles and article groups → MplusKASSA), over real sockets against the sandboxes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from flow_fixtures import Env, cents, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync.flows.products import GENERATED_NUMBERS
from apicenter_sync.i18n import references

NON_NUMERIC = "AB-0023"
REJECT_TEXT = (
    "SKU 'AB-0023' is not numeric: MplusKASSA article numbers are whole numbers "
    "(set Non-numeric SKU to “Generate an article number” to give it one)"
)


def lines(env: Env, result, **where) -> list:
    return env.store.log.list_lines(flow="products", run_id=result.run_id, limit=10_000, **where)


def av_articles(env: Env) -> list[dict]:
    return [r for r in env.av_rows("ARTICLE")]


def spy(env: Env, method: str) -> list:
    """Record the payloads handed to one MplusClient method (the call still goes out)."""
    seen: list = []
    real = getattr(env.mp, method)

    def wrapper(*args, **kwargs):
        seen.append(args[0] if args else kwargs)
        return real(*args, **kwargs)

    setattr(env.mp, method, wrapper)
    return seen


def test_second_run_writes_nothing(env: Env):
    first = env.run("products")
    assert first.counts["created"] > 0 and first.counts["updated"] > 0
    before = env.writes()
    env.mp.reset_counters()
    second = env.run("products")
    assert env.writes() == before
    assert set(second.counts) <= {"unchanged"}
    assert not {op for op in env.mp.calls if not op.startswith("get")}


def test_changed_article_is_exactly_one_update(env: Env):
    env.run("products")
    sku = "100005"
    env.change_article(sku, PX_SELL=12.34)
    before = env.writes()
    env.mp.reset_counters()
    result = env.run("products")
    assert dict(result.counts) == {"updated": 1}
    assert env.mp.calls["updateProduct"] == 1
    assert not {op for op in env.mp.calls if not op.startswith("get") and op != "updateProduct"}
    assert env.writes() - before == Counter({"product": 1, "article": 1})
    assert env.mplus_article(int(sku))["priceExcl"] == 1234
    # and it stays done
    env.mp.reset_counters()
    assert set(env.run("products").counts) <= {"unchanged"}
    assert env.mp.calls["updateProduct"] == 0


def test_same_article_changed_twice_within_one_second_is_seen_both_times(env: Env, monkeypatch):
    env.run("products")
    now = env.av_app.clock()
    monkeypatch.setattr(env.av_app, "clock", lambda: now)  # both edits get the same CNG_DATE
    env.change_article("100005", PX_SELL=11.11)
    env.run("products")
    env.change_article("100005", PX_SELL=22.22)
    result = env.run("products")
    assert result.counts["updated"] == 1
    assert env.mplus_article(100005)["priceExcl"] == 2222


def test_non_numeric_sku_is_rejected_by_default(env: Env):
    result = env.run("products")
    errors = dict(result.failures)
    assert errors[NON_NUMERIC] == REJECT_TEXT
    assert errors[NON_NUMERIC].startswith("SKU 'AB-0023' is not numeric")
    assert not [a for p in env.mstore.products.values() for a in p["articleList"]["article"]
                if a.get("extArticleId") == NON_NUMERIC]  # fmt: skip
    (line,) = lines(env, result, source_id=NON_NUMERIC)
    assert line.action == "failed" and line.error == REJECT_TEXT


def test_non_numeric_sku_gets_a_stable_generated_number(env: Env):
    env.set("products", non_numeric_sku="generate", generated_number_base=500_000_000)
    result = env.run("products")
    assert not result.failures
    number = int(env.store.mappings.get_table(GENERATED_NUMBERS)[NON_NUMERIC])
    assert number >= 500_000_000
    article = env.mplus_article(number)
    assert article["extArticleId"] == NON_NUMERIC and article["pluNumber"] == NON_NUMERIC
    generated = env.store.mappings.get_table(GENERATED_NUMBERS)
    assert len(set(generated.values())) == len(generated)  # one number per SKU
    # a full re-sync keeps the numbers and creates nothing
    env.mp.reset_counters()
    env.run("products", full=True)
    assert env.store.mappings.get_table(GENERATED_NUMBERS) == generated
    assert env.mp.calls["createProduct"] == 0
    assert [a["articleNumber"] for p in env.mstore.products.values() for a in p["articleList"]["article"]
            if a.get("extArticleId") == NON_NUMERIC] == [number]  # fmt: skip


def test_generated_number_survives_a_lost_reply(env: Env):
    env.set("products", non_numeric_sku="generate", filter_field="ART_CODE", filter_value=NON_NUMERIC)
    products_before = len(env.mstore.products)
    env.faults(1.0, kinds=["lost_reply"], operations=["createProduct"], seed=3)
    first = env.run("products")
    assert [sid for sid, _ in first.failures] == [NON_NUMERIC]
    assert len(env.mstore.products) == products_before + 1  # applied, but the reply was lost
    number = int(env.store.mappings.get_table(GENERATED_NUMBERS)[NON_NUMERIC])
    env.faults(0)
    env.mp.reset_counters()
    second = env.run("products")  # retried at once (retry_delay_seconds = 0)
    assert dict(second.counts) == {"updated": 1}
    assert env.mp.calls["createProduct"] == 0
    assert len(env.mstore.products) == products_before + 1
    assert env.mplus_article(number)["extArticleId"] == NON_NUMERIC
    assert int(env.store.mappings.get_table(GENERATED_NUMBERS)[NON_NUMERIC]) == number


def test_variants_become_one_product_with_several_articles(env: Env):
    model = env.world.edge["variant_model"]
    skus = sorted(
        str(r["ART_CODE"]).strip() for r in av_articles(env) if str(r.get("MODEL_CODE") or "").strip() == model
    )
    assert len(skus) == 4
    env.run("products")
    numbers = {env.mstore.article_product[int(s)] for s in skus}
    assert len(numbers) == 1
    product = env.mstore.products[numbers.pop()]
    assert sorted(str(a["articleNumber"]) for a in product["articleList"]["article"]) == skus
    # one changed variant re-sends the whole product, once
    sent = spy(env, "update_product")
    env.mp.reset_counters()
    env.change_article(skus[1], PX_SELL=77.70)
    result = env.run("products")
    assert dict(result.counts) == {"updated": 1}
    assert env.mp.calls["updateProduct"] == 1
    assert sorted(str(a["articleNumber"]) for a in sent[0]["articleList"]["article"]) == skus
    assert env.mplus_article(int(skus[1]))["priceExcl"] == 7770


def test_update_fields_keep_what_mplus_enriched(env: Env):
    env.set("products", update_fields=["price"])
    env.run("products")
    created = env.mplus_article(100006)  # not in the till before: created with all content
    row = env.article_row("100006")
    assert created["description"] == row["ART_DESC1"].strip()
    assert created["barcode"] == row["EAN_CODE"].strip()
    assert created["vatCode"] == int(row["VAT_CODE"])
    assert created["extraText"] == row["ART_MEMO"].strip()
    assert created["priceExcl"] == cents(row["PX_SELL"])
    product = env.mplus_product_of(100006)
    assert product["groupNumbers"]
    # enrich in Mplus, change name and price in AccountView
    env.mplus_article(100006)["description"] = "Verrijkt in de kassa"
    env.mplus_article(100006)["extraText"] = "Eigen tekst"
    env.mplus_product_of(100006)["description"] = "Eigen productnaam"
    env.change_article("100006", ART_DESC1="Nieuwe naam", PX_SELL=45.67)
    result = env.run("products")
    assert dict(result.counts) == {"updated": 1}
    after = env.mplus_article(100006)
    assert after["priceExcl"] == 4567
    assert after["description"] == "Verrijkt in de kassa"
    assert after["extraText"] == "Eigen tekst"
    assert env.mplus_product_of(100006)["description"] == "Eigen productnaam"


def test_filter_groups_exclude_articles(env: Env):
    env.set("products", filter_groups=["G001"])
    result = env.run("products")
    in_group = {str(r["ART_CODE"]).strip() for r in av_articles(env) if r["AG_CODE"].strip() == "G001"}
    others = {str(r["ART_CODE"]).strip() for r in av_articles(env)} - in_group
    skipped = {ln.source_id for ln in lines(env, result, action="skipped", entity="article")}
    assert others <= skipped
    touched = {ln.source_id for ln in lines(env, result, entity="article") if ln.action in ("created", "updated")}
    assert touched and touched <= in_group
    for sku in others:  # nothing written: an article not in the till stays out of it
        if sku.isdigit() and (int(sku) - 100_000) % 3 == 0:
            assert env.mplus_article(int(sku)) is None
    assert all(ln.error for ln in lines(env, result, action="skipped", entity="article"))


def test_filter_field_excludes_articles(env: Env):
    env.change_article("100006", POS_SELL=False)
    env.set("products", filter_field="POS_SELL", filter_value="true")
    result = env.run("products")
    (line,) = lines(env, result, source_id="100006")
    assert line.action == "skipped" and "filter" in line.error
    assert env.mplus_article(100006) is None
    assert env.mplus_article(100009) is not None  # POS_SELL true: synced


def test_price_excl_by_default_and_incl_by_setting(env: Env):
    env.run("products")
    px = env.article_row("100006")["PX_SELL"]
    assert env.mplus_article(100006)["priceExcl"] == cents(px)
    assert env.mplus_article(100006)["priceIncl"] == round(cents(px) * 1.21)
    env.set("products", prices_include_vat=True)
    env.run("products", full=True)
    assert env.mplus_article(100006)["priceIncl"] == cents(px)
    assert env.mplus_article(100006)["priceExcl"] == round(cents(px) / 1.21)


def test_gross_flag_marks_one_article_price_as_incl_vat(env: Env):
    env.change_article("100006", GROSS_FLG=True, PX_SELL=12.10)
    env.run("products")
    assert env.mplus_article(100006)["priceIncl"] == 1210
    assert env.mplus_article(100006)["priceExcl"] == 1000


def test_vat_code_mapping_and_missing_mapping(env: Env):
    env.store.mappings.set_table("vat_code_av_mplus", {"1": "1"})  # no mapping for the 21 % code 2
    result = env.run("products")
    errors = dict(result.failures)
    row = env.article_row("100006")
    assert row["VAT_CODE"].strip() == "2"
    assert errors["100006"].startswith(
        "AccountView VAT code '2' of article 100006 has no MplusKASSA VAT code (mapping table “VAT codes AccountView → "
        "MplusKASSA”)"
    )
    assert errors["100006"].render("nl").startswith("AccountView-btw-code '2' van artikel 100006 heeft geen")
    assert references(errors["100006"]) == [("table", "vat_code_av_mplus")]
    food = next(r for r in av_articles(env) if r["VAT_CODE"].strip() == "1" and str(r["ART_CODE"]).isdigit()
                and (int(r["ART_CODE"]) - 100_000) % 3 == 0)  # fmt: skip
    assert env.mplus_article(int(food["ART_CODE"]))["vatCode"] == 1  # the batch went on


def test_failed_records_are_retried_when_due_and_succeed_once_fixed(env: Env):
    env.store.mappings.set_table("vat_code_av_mplus", {"1": "1"})
    env.set("products", retry_delay_seconds=3600)
    first = env.run("products")
    failed = {sid for sid, _ in first.failures}
    assert "100006" in failed
    env.store.mappings.set_table("vat_code_av_mplus", {"1": "1", "2": "2"})
    assert dict(env.run("products").counts) == {}  # not due yet
    env.store.clock = lambda: datetime.now(UTC) + timedelta(hours=2)  # the retry delay has passed
    third = env.run("products")
    assert third.counts["updated"] + third.counts["created"] == len(failed - {NON_NUMERIC})
    assert not third.failures
    assert env.mplus_article(100006)["vatCode"] == 2
    assert not env.store.log.list_lines(flow="products", failed_only=True, source_id="100006")


def test_ean_is_the_barcode(env: Env):
    env.run("products")
    row = env.article_row("100006")
    assert env.mplus_article(100006)["barcode"] == row["EAN_CODE"].strip()
    env.change_article("100006", EAN_CODE="8712345678906")
    env.run("products")
    assert env.mplus_article(100006)["barcode"] == "8712345678906"


def test_article_groups_matched_by_name_created_and_updated(env: Env):
    groups_before = dict(env.mstore.article_groups)
    env.mp.reset_counters()
    result = env.run("products")
    assert env.mp.calls["newArticleGroup"] == 0  # every AccountView group already exists in Mplus by name
    # ...with the same name and text: nothing to write but the moves of the child groups under their parents
    children = [g for g in env.world.groups if g.parent]
    assert env.mp.calls["updateArticleGroup"] == len(children) > 0
    assert len(env.mstore.article_groups) == len(groups_before)
    g001 = env.store.bindings.get("group", "G001")
    assert g001.target_id == "100"  # "Bike 1" in Mplus
    assert env.mplus_product_of(100006)["groupNumbers"] == [
        int(env.store.bindings.get("group", env.article_row("100006")["AG_CODE"].strip()).target_id)
    ]
    assert result.counts["failed"] == 1  # only the non-numeric SKU
    # a new group is created, a renamed one updated
    env.av.create("AG1", "ART_GRP", {"AG_CODE": "G900", "AG_DESC": "Nieuwe groep"})
    env.av.update("AG1", "ART_GRP", {"AG_CODE": "G001", "AG_DESC": "Fietsen"}, "AG_CODE")
    env.change_article("100006", AG_CODE="G900")
    env.mp.reset_counters()
    env.run("products")
    assert env.mp.calls["newArticleGroup"] == 1
    assert env.mp.calls["updateArticleGroup"] == 1
    new = int(env.store.bindings.get("group", "G900").target_id)
    assert env.mstore.article_groups[new]["name"] == "Nieuwe groep"
    assert env.mstore.article_groups[100]["name"] == "Fietsen"
    assert env.mplus_product_of(100006)["groupNumbers"] == [new]


def _mplus_parent(env: Env, code: str) -> int:
    return env.mstore.group_parent[int(env.store.bindings.get("group", code).target_id)]


def _bound(env: Env, code: str) -> int:
    return int(env.store.bindings.get("group", code).target_id)


def test_article_groups_form_the_accountview_tree(env: Env):
    """Parents before children, moves when a parent changes, a rename under a parent, no duplicates."""
    env.run("products")
    for group in env.world.groups:
        want = _bound(env, group.parent) if group.parent else 0
        assert _mplus_parent(env, group.code) == want, group.code
    deep = next(g for g in env.world.groups if g.parent and next(p for p in env.world.groups
                                                                  if p.code == g.parent).parent)  # fmt: skip
    count = len(env.mstore.article_groups)
    # New groups, the child listed before its parent in AccountView's key order: both created, the child under it.
    env.av.create("AG1", "ART_GRP", {"AG_CODE": "G800", "AG_DESC": "Kind", "AG_PARENT": "G801"})
    env.av.create("AG1", "ART_GRP", {"AG_CODE": "G801", "AG_DESC": "Ouder", "AG_PARENT": ""})
    # A group moved to another parent and renamed; the deepest group moved to the top level.
    env.av.update("AG1", "ART_GRP", {"AG_CODE": "G001", "AG_DESC": "Fietsen", "AG_PARENT": "G801"}, "AG_CODE")
    env.av.update("AG1", "ART_GRP", {"AG_CODE": deep.code, "AG_PARENT": ""}, "AG_CODE")
    result = env.run("products")
    assert result.counts["failed"] <= 1  # at most the seeded non-numeric SKU
    assert len(env.mstore.article_groups) == count + 2
    assert _mplus_parent(env, "G800") == _bound(env, "G801") and _mplus_parent(env, "G801") == 0
    assert _mplus_parent(env, "G001") == _bound(env, "G801")
    assert env.mstore.article_groups[_bound(env, "G001")]["name"] == "Fietsen"
    assert _mplus_parent(env, deep.code) == 0
    env.mp.reset_counters()
    env.run("products")
    assert env.mp.calls["newArticleGroup"] == env.mp.calls["updateArticleGroup"] == 0


def test_article_group_tree_matched_by_name_without_duplicates(env: Env):
    """Two AccountView groups of one name under different parents bind to two Mplus groups, not one."""
    env.av.create("AG1", "ART_GRP", {"AG_CODE": "G700", "AG_DESC": "Dubbel", "AG_PARENT": "G001"})
    env.av.create("AG1", "ART_GRP", {"AG_CODE": "G701", "AG_DESC": "Dubbel", "AG_PARENT": "G002"})
    env.run("products")
    assert _bound(env, "G700") != _bound(env, "G701")
    assert _mplus_parent(env, "G700") == _bound(env, "G001") and _mplus_parent(env, "G701") == _bound(env, "G002")


def test_incremental_full_and_dry_run(env: Env):
    dry = env.run("products", dry_run=True)
    assert env.writes() == Counter()
    assert dry.counts["dry_run"] > 0 and dry.planned
    assert {p.message for p in dry.planned} == {"would be created", "would be updated"}
    assert env.store.bindings.count("product") == 0
    real = env.run("products")  # the dry run moved no watermark: everything is done now
    assert real.counts["created"] + real.counts["updated"] == dry.counts["dry_run"]
    before = env.writes()
    env.mp.reset_counters()
    full = env.run("products", full=True)
    assert full.counts["updated"] > 0 and full.counts["created"] == 0
    assert env.mp.calls["createProduct"] == 0
    assert env.writes()["product"] - before["product"] == env.store.bindings.count("product")  # every product once
    # dry run after changes: reports, writes nothing
    env.change_article("100005", PX_SELL=1.23)
    before = env.writes()
    dry2 = env.run("products", dry_run=True)
    assert [(p.source_id, p.message) for p in dry2.planned] == [("100005", "would be updated")]
    assert env.writes() == before
    assert env.mplus_article(100005)["priceExcl"] != 123


def test_one_bad_record_does_not_stop_the_batch(env: Env):
    env.store.mappings.set_table("vat_code_av_mplus", {**{"0": "0", "1": "1", "2": "2", "5": "5"}})
    env.change_article("100006", VAT_CODE="4")
    result = env.run("products")
    errors = dict(result.failures)
    assert errors["100006"].startswith("AccountView VAT code '4' of article 100006 has no MplusKASSA VAT code")
    assert set(errors) == {"100006", NON_NUMERIC}
    (line,) = lines(env, result, source_id="100006")
    assert line.action == "failed" and line.error == errors["100006"] and line.source_payload["ART_CODE"] == "100006"
    assert result.counts["created"] + result.counts["updated"] > 40


@pytest.mark.parametrize("seed", [11])
def test_transient_faults_end_in_the_right_state(sandboxes, seed):
    import httpx

    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes, client_timeout=2.0)
    try:
        e.set("products", non_numeric_sku="generate")
        e.faults(0.2, kinds=["timeout", "reset", "http500", "http503", "http429", "lost_reply"], timeout_s=0.2,
                 seed=seed)  # fmt: skip
        for _ in range(4):
            e.engine.run("products")
            e.change_article("100005", PX_SELL=3.21) if _ == 1 else None
        e.faults(0)
        for _ in range(3):
            last = e.run("products")
            if not last.failures:
                break
        assert not last.failures
        check_products_match(e)
    finally:
        e.close()


def check_products_match(env: Env) -> None:
    generated = env.store.mappings.get_table(GENERATED_NUMBERS)
    seen: dict[int, int] = {}
    for product in env.mstore.products.values():
        for article in product["articleList"]["article"]:
            assert article["articleNumber"] not in seen, "article in two products"
            seen[article["articleNumber"]] = product["productNumber"]
    for sku in generated:
        assert sum(1 for p in env.mstore.products.values() for a in p["articleList"]["article"]
                   if a.get("extArticleId") == sku) == 1  # fmt: skip
    for row in av_articles(env):
        sku = str(row["ART_CODE"]).strip()
        number = int(sku) if sku.isdigit() else int(generated[sku])
        article = env.mplus_article(number)
        assert article is not None, sku
        assert article["priceExcl"] == cents(row["PX_SELL"]), sku
        assert article["description"] == row["ART_DESC1"].strip()[:60], sku



def product_partition(env: Env) -> set[frozenset]:
    """Which articles share a product in Mplus (product numbers depend on the order of the creates)."""
    groups: dict[int, set] = {}
    for number, product in env.mstore.article_product.items():
        groups.setdefault(product, set()).add(number)
    return {frozenset(g) for g in groups.values()}


def sync_with_concurrency(env: Env, sandboxes, concurrency: int) -> int:
    env.set("products", write_concurrency=concurrency, non_numeric_sku="generate")
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": 5}).raise_for_status()
    try:
        result = env.run("products")
    finally:
        for url in (sandboxes.accountview_url, sandboxes.mplus_url):
            httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": 0}).raise_for_status()
    assert result.counts["created"] + result.counts["updated"] > 40 and not result.failures
    assert env.store.bindings.count("article") == len(env.av_rows("ARTICLE"))
    return httpx.get(f"{sandboxes.mplus_url}/_sandbox/stats").json()["max_in_flight"]


def test_writes_of_a_batch_go_out_side_by_side_with_the_same_result(env: Env, sandboxes):
    assert sync_with_concurrency(env, sandboxes, 1) == 1
    one_at_a_time = product_partition(env)
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    side_by_side = Env(sandboxes)
    try:
        assert 2 <= sync_with_concurrency(side_by_side, sandboxes, 4) <= 4
        assert product_partition(side_by_side) == one_at_a_time
        before = side_by_side.writes()
        assert set(side_by_side.run("products").counts) <= {"unchanged"} and side_by_side.writes() == before
    finally:
        side_by_side.close()


def test_retried_writes_lower_the_writes_in_flight_and_nothing_is_written_twice(env: Env, sandboxes, caplog):
    env.set("products", write_concurrency=8, non_numeric_sku="generate", batch_size=10)
    # refused before they are applied (HTTP 429): the client retries them, the flow sends fewer at once
    env.faults(0.15, kinds=["http429"], operations=["createProduct"], seed=3)
    till_before = set(env.mstore.article_product)
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": 5}).raise_for_status()
    try:
        with caplog.at_level("WARNING", logger="apicenter_sync.flows.side_by_side"):
            result = env.run("products")
    finally:
        env.faults(0)
        for url in (sandboxes.accountview_url, sandboxes.mplus_url):
            httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": 0}).raise_for_status()
    assert env.faults_injected()["http429"] >= 2 and not result.failures
    assert any("write(s) in flight from now on" in r.getMessage() for r in caplog.records)
    assert env.store.bindings.count("article") == len(env.av_rows("ARTICLE"))
    generated = env.store.mappings.get_table(GENERATED_NUMBERS)
    skus = [str(row["ART_CODE"]).strip() for row in env.av_rows("ARTICLE")]
    numbers = {int(sku) if sku.isdigit() else int(generated[sku]) for sku in skus}
    assert set(env.mstore.article_product) == till_before | numbers, "every article once in MplusKASSA"
    assert set(env.run("products").counts) <= {"unchanged"}
