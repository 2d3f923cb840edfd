"""B2B prices flow (AccountView → MplusKASSA) against both sandboxes over real sockets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.engine import Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.flows.price_rules import price_group_list, same_entries, staffel_threshold, whole_percent
from apicenter_sync.i18n import references
from apicenter_sync.models import Discount, PriceListPrice
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore
from apicenter_sync.units import to_cents

GROUPS = {"MKB": "2", "HOR": "3"}  # the sandbox seeds price group 2 for MKB and 3 for HOR


@pytest.fixture(scope="module")
def sb():
    with start_sandboxes(size=160) as sandboxes:
        yield sandboxes


@dataclass
class Env:
    sb: object
    store: SqliteStore
    av: AccountViewClient
    mp: MplusClient
    engine: Engine

    def run(self, flow: str = "prices", **options):
        return self.engine.run(flow, RunOptions(**options))

    def writes(self) -> dict:
        return httpx.get(self.sb.mplus_url + "/_sandbox/stats").json()["writes"]

    def article(self, sku: str) -> dict:
        return self.sb.mplus.app.store.article(int(sku))

    def lines(self, **filters):
        return self.store.log.list_lines(flow="prices", limit=5000, **filters)


@pytest.fixture
def env(sb):
    for url in (sb.accountview_url, sb.mplus_url):
        httpx.post(url + "/_sandbox/reset").raise_for_status()
    store = SqliteStore(":memory:")
    store.mappings.set_table("vat_code_av_mplus", {c: c for c in ("0", "1", "2", "4", "5")})
    store.mappings.set_table("customer_group_price_group", dict(GROUPS))
    tokens = SqliteTokenStore(store)
    oauth = AccountViewOAuth(sb.accountview_url, sb.av_client_id, sb.av_client_secret, "http://localhost/cb")
    location = httpx.get(oauth.authorization_url("s1")).headers["location"]
    tokens.save(oauth.exchange_code(parse_qs(urlsplit(location).query)["code"][0]))
    av = AccountViewClient(oauth.api_url, oauth, tokens)
    av.company_id = av.companies()[0]["Id"]
    mp = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret)
    engine = Engine(store, av, mp)
    # Prices need the bindings of the articles and relations.
    assert engine.run("products").ok and engine.run("customers").ok
    yield Env(sb, store, av, mp, engine)
    engine.close()


# --- what the world says the Mplus article must hold -----------------------------------------------------------
def expected_entries(world, sku: str) -> list[dict]:
    groups = {pl.code: pl.mplus_price_group for pl in world.price_lists}
    article = next(a for a in world.articles if a.sku == sku)
    discounts = {groups[d.price_list]: int(d.pct) for d in world.group_discounts if d.article_group == article.group}
    entries = {}
    for item in (i for i in world.price_items if i.sku == sku):
        group, step = groups[item.price_list], int(item.min_qty)
        entry = {"priceGroupNumber": group, "priceExcl": to_cents(item.price_excl)}
        if step > 1:
            entry["minimumAmount"] = step
        if discounts.get(group):
            entry["discountPercentage"] = discounts[group]
        entries[(group, step if step > 1 else 0)] = entry
    for group, pct in discounts.items():
        if not any(g == group for g, _ in entries):
            entries[(group, 0)] = {"priceGroupNumber": group, "discountPercentage": pct}
    return [entries[k] for k in sorted(entries)]


def staffel_sku(world) -> str:
    """A numeric article with staffel prices whose article group has a group discount."""
    discounted = {d.article_group for d in world.group_discounts}
    staffel = {i.sku for i in world.price_items if i.min_qty > 1 and i.sku.isdigit()}
    return next(a.sku for a in world.articles if a.sku in staffel and a.group in discounted)


def price_row(env: Env, sku: str, price_list: str, min_qty: int = 1) -> dict:
    return next(
        r
        for r in env.sb.accountview.app.tables["PRICE_ART"].rows.values()
        if r["ART_CODE"] == sku and r["PL_CODE"] == price_list and int(r.get("MIN_QTY") or 1) == min_qty
    )


# --- the flow --------------------------------------------------------------------------------------------------
def test_staffel_prices_and_group_discounts_land_per_article(env):
    world = env.sb.world
    result = env.run()
    assert result.ok, result.error
    sku = staffel_sku(world)
    held = env.article(sku)["priceGroupList"]["priceGroup"]
    assert held == expected_entries(world, sku)
    assert any(e.get("minimumAmount") == 10 for e in held)  # staffel from 10 pieces
    assert any(e.get("discountPercentage") for e in held)  # group discount of HOR
    # Every article with a price row got its whole list (numeric SKUs: the AB-… ones are not in Mplus).
    for item in world.price_items:
        if item.sku.isdigit():
            assert env.article(item.sku)["priceGroupList"]["priceGroup"] == expected_entries(world, item.sku)


def test_discount_only_article_gets_a_discount_entry(env):
    world = env.sb.world
    env.run()
    with_prices = {i.sku for i in world.price_items}
    for discount in world.group_discounts:
        sku = next(
            (a.sku for a in world.articles
             if a.group == discount.article_group and a.sku not in with_prices and a.sku.isdigit() and a.in_accountview),
            None,
        )  # fmt: skip
        if sku:
            held = env.article(sku)["priceGroupList"]["priceGroup"]
            assert held == [{"priceGroupNumber": 3, "discountPercentage": int(discount.pct)}]
            return
    pytest.fail("the world has no discounted article without price-list prices")


def test_relation_price_group_and_discount(env):
    relations = env.store.bindings
    debtor = next(c for c in env.sb.world.customers if c.price_list == "MKB")
    number = int(relations.get("relation", debtor.number).target_id)
    before = env.writes().get("relation", 0)
    first = env.run()
    assert first.ok and env.writes().get("relation", 0) == before  # the customers flow already set both
    env.av.update("AR1", "CONTACT", {"SUB_NR": debtor.number, "APX_LIST": "HOR", "DISC_PCT": 7.5}, "SUB_NR")
    result = env.run()
    assert result.ok, result.error
    relation = env.sb.mplus.app.store.relations[number]
    assert relation["priceGroupNumber"] == 3
    assert relation["discountPercentage"] == 8  # whole percent, half up
    assert env.writes().get("relation", 0) == before + 1
    # The discount removed in AccountView is removed from the relation too.
    env.av.update("AR1", "CONTACT", {"SUB_NR": debtor.number, "DISC_PCT": 0}, "SUB_NR")
    env.run()
    assert env.sb.mplus.app.store.relations[number]["discountPercentage"] == 0


def test_debtor_without_relation_is_skipped(env):
    assert env.run().ok
    debtor = next(c for c in env.sb.world.customers if c.price_list == "HOR")
    env.store.bindings.delete("relation", debtor.number)  # as if the customers flow never synced it
    before = env.writes()
    env.av.update("AR1", "CONTACT", {"SUB_NR": debtor.number, "APX_LIST": "MKB"}, "SUB_NR")
    assert env.run().ok
    line = env.lines(entity="debtor", source_id=debtor.number)[0]
    assert line.action == "skipped" and "customers flow" in line.error
    assert env.writes() == before


def test_changed_price_writes_once_and_a_second_run_nothing(env):
    world = env.sb.world
    assert env.run().ok
    sku = staffel_sku(world)
    row = price_row(env, sku, "MKB")
    before = env.writes()
    env.av.update("PRI1", "PRICE_ART", {"REC_ID": row["REC_ID"], "PX_SELL": 12.34}, "REC_ID")
    result = env.run()
    assert result.ok, result.error
    assert result.counts["updated"] == 1 and not result.counts["failed"]
    after = env.writes()
    assert after.get("product", 0) - before.get("product", 0) == 1  # one updateProduct for the article
    assert after.get("relation", 0) == before.get("relation", 0)
    held = env.article(sku)["priceGroupList"]["priceGroup"]
    assert {"priceGroupNumber": 2, "priceExcl": 1234} in held
    assert len(held) == len(expected_entries(world, sku))  # the whole list was sent, staffel kept
    again = env.run()
    assert again.ok and env.writes() == after
    assert not again.counts["updated"]


def test_unchanged_rows_read_again_cost_no_write(env):
    assert env.run().ok
    before = env.writes()
    # A price row saved without a change (new CNG_DATE, same price) re-reads its article: same payload, no write.
    sku = staffel_sku(env.sb.world)
    row = price_row(env, sku, "HOR", 10)
    env.av.update("PRI1", "PRICE_ART", {"REC_ID": row["REC_ID"], "PX_SELL": row["PX_SELL"]}, "REC_ID")
    result = env.run()
    assert result.ok and result.counts["unchanged"] >= 1 and not result.counts["updated"]
    assert env.writes() == before


def test_full_resync_rewrites_every_article(env):
    first = env.run()
    result = env.run(full=True)
    assert result.ok
    assert result.counts["updated"] >= first.counts["updated"] - first.counts["failed"]


def test_full_resync_clears_prices_deleted_in_accountview(env):
    world = env.sb.world
    assert env.run().ok
    discounted = {d.article_group for d in world.group_discounts}
    sku = next(a.sku for a in world.articles for i in world.price_items if i.sku == a.sku and a.group not in discounted)
    table = env.sb.accountview.app.tables["PRICE_ART"]
    for key in [k for k, r in table.rows.items() if r["ART_CODE"] == sku]:
        del table.rows[key]  # AccountView has no deletion feed: only a full resync notices
    table._queries.clear()
    assert env.run().ok and env.article(sku)["priceGroupList"]["priceGroup"]
    result = env.run(full=True)
    assert result.ok, result.error
    assert not (env.article(sku).get("priceGroupList") or {}).get("priceGroup")
    line = env.lines(entity="article", source_id=sku)[0]
    assert line.action == "updated"


def test_broken_discount_row_fails_only_the_articles_of_its_group(env):
    world = env.sb.world
    broken = world.group_discounts[0].article_group
    table = env.sb.accountview.app.tables["DISC_GRP"]
    key = next(k for k, r in table.rows.items() if r["AG_CODE"] == broken)
    table.update(key, {"PCT_LIST": ""})  # the mandatory discount group is empty
    result = env.run()
    assert result.ok, result.error
    failed = {line.source_id: line.error for line in env.lines(action="failed")}
    in_group = {a.sku for a in world.articles if a.group == broken and a.in_accountview and a.sku.isdigit()}
    assert in_group and in_group <= set(failed)
    assert all(f"article group '{broken}'" in failed[sku] for sku in in_group)
    others = [line for line in env.lines(action="updated") if line.source_id not in in_group]
    assert others


def test_unmapped_price_list_is_a_clear_error(env):
    env.store.mappings.set_table("customer_group_price_group", {"MKB": "2"})
    result = env.run()
    assert result.ok
    failed = env.lines(action="failed")
    by_entity = {line.entity for line in failed}
    assert {"price_list", "article"} <= by_entity
    price_list = next(line for line in failed if line.entity == "price_list")
    assert price_list.source_id == "HOR"
    assert ("table", "customer_group_price_group") in references(price_list.error) and "'HOR'" in price_list.error
    assert all(("table", "customer_group_price_group") in references(line.error) or "not in MplusKASSA yet" in line.error
               for line in failed)  # fmt: skip
    # Every priced article is in both lists: none got a partial list (which would hide the HOR prices).
    sku = staffel_sku(env.sb.world)
    assert sku in {line.source_id for line in failed}
    assert not env.article(sku).get("priceGroupList")


def test_skipped_price_list_needs_no_mapping(env):
    env.store.mappings.set_table("customer_group_price_group", {"MKB": "2"})
    env.store.settings.set("skip_price_lists", ["HOR"], "prices")
    result = env.run()
    assert result.ok
    assert all("not in MplusKASSA yet" in (line.error or "") for line in env.lines(action="failed"))
    sku = staffel_sku(env.sb.world)
    groups = {e["priceGroupNumber"] for e in env.article(sku)["priceGroupList"]["priceGroup"]}
    assert groups == {2}


def test_article_not_in_mplus_is_a_retryable_failure(env):
    world = env.sb.world
    # Non-numeric SKUs are not in Mplus by default: those with a price row or in a discounted article group.
    discounted = {d.article_group for d in world.group_discounts}
    priced = {i.sku for i in world.price_items}
    missing = sorted(
        a.sku for a in world.articles
        if a.in_accountview and not a.sku.isdigit() and (a.sku in priced or a.group in discounted)
    )  # fmt: skip
    assert missing and set(missing) & priced
    result = env.run()
    failed = {line.source_id: line for line in env.lines(action="failed")}
    for sku in missing:
        assert "not in MplusKASSA yet" in failed[sku].error
        assert failed[sku].retry_at is not None  # retried automatically
    assert result.counts["failed"] == len(missing)
    # Once the products flow gives them a number, the retry succeeds.
    env.store.settings.set("non_numeric_sku", "generate", "products")
    assert env.run("products", full=True).ok
    env.store.log.mark_retry([line.id for line in failed.values()])  # what the "Retry" button does (due at once)
    retried = env.run()
    assert retried.ok and retried.counts["updated"] == len(missing), retried.failures
    number = int(env.store.bindings.get("article", missing[0]).target_id)
    assert env.sb.mplus.app.store.article(number)["priceGroupList"]["priceGroup"] == expected_entries(world, missing[0])


def test_dry_run_writes_nothing(env):
    before = env.writes()
    result = env.run(dry_run=True)
    assert result.ok
    assert result.counts["dry_run"] > 0 and result.planned
    assert env.writes() == before
    assert not any(env.article(i.sku).get("priceGroupList") for i in env.sb.world.price_items if i.sku.isdigit())
    # The watermarks did not move: the real run still sends everything.
    assert env.run().counts["updated"] == result.counts["dry_run"]


def test_prices_include_vat_sends_price_incl(env):
    env.store.settings.set("prices_include_vat", True, "prices")
    env.run()
    sku = staffel_sku(env.sb.world)
    held = env.article(sku)["priceGroupList"]["priceGroup"]
    assert all("priceExcl" not in e for e in held)
    assert [e["priceIncl"] for e in held if e.get("priceGroupNumber") == 2] == [
        to_cents(i.price_excl) for i in env.sb.world.price_items if i.sku == sku and i.price_list == "MKB"
    ]  # the PX_SELL figure, now read as including VAT


# --- the pure rules ---------------------------------------------------------------------------------------------
def test_rules_rounding_and_thresholds():
    assert whole_percent(Decimal("2.5")) == 3 and whole_percent(None) == 0
    assert staffel_threshold(Decimal(1)) is None and staffel_threshold(Decimal("2.5")) == 3
    assert staffel_threshold(Decimal(10)) == 10


def test_rules_conflicting_price_lists_on_one_group():
    a = PriceListPrice(price_list="A", sku="1", price_excl=Decimal("1.00"))
    b = PriceListPrice(price_list="B", sku="1", price_excl=Decimal("2.00"))
    with pytest.raises(Exception, match="price lists 'A' and 'B'"):
        price_group_list("1", [(2, a), (2, b)], [], include_vat=False)
    same = PriceListPrice(price_list="B", sku="1", price_excl=Decimal("1.00"))
    assert price_group_list("1", [(2, a), (2, same)], [], include_vat=False) == [
        {"priceGroupNumber": 2, "priceExcl": 100}
    ]


def test_rules_discount_rides_on_every_step_and_compare_ignores_server_fields():
    base = PriceListPrice(price_list="A", sku="1", price_excl=Decimal("10"))
    step = PriceListPrice(price_list="A", sku="1", min_qty=Decimal(5), price_excl=Decimal("9"))
    disc = Discount(customer_group="A", article_group="G", pct=Decimal("12.5"))
    entries = price_group_list("1", [(2, step), (2, base)], [(2, disc), (3, disc)], include_vat=False)
    assert entries == [
        {"priceGroupNumber": 2, "priceExcl": 1000, "discountPercentage": 13},
        {"priceGroupNumber": 2, "priceExcl": 900, "minimumAmount": 5, "discountPercentage": 13},
        {"priceGroupNumber": 3, "discountPercentage": 13},
    ]
    held = [{**e, "priceIncl": 1, "description": "x"} for e in reversed(entries)]
    assert same_entries(held, entries)
    assert not same_entries(held[1:], entries)
