"""The catalogue as a shop sets it up in AccountView reaches the till whole (issue 13): article life cycle, stock
keeping, attributes and features, B2B item attributes, the shop's currency. Real sockets, both sandboxes."""

from __future__ import annotations

from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync.datamapper import load_default_mapping
from apicenter_sync.engine import Engine
from apicenter_sync.flows.products import REMOVED
from apicenter_sync.i18n import references
from apicenter_sync.profile import ApiProfile


def products_lines(env: Env, result, **where) -> list:
    return env.store.log.list_lines(flow="products", run_id=result.run_id, limit=10_000, **where)


def simple_numeric(env: Env, *, blocked: bool = False, in_mplus: bool | None = None):
    """A numeric article of the world that is its own product."""
    return next(a for a in env.world.articles if a.in_accountview and a.sku.isdigit() and not a.model
                and a.blocked == blocked and (in_mplus is None or a.in_mplus == in_mplus)
                and a.sku not in ("999000", "999100", "999200"))  # fmt: skip


def mapping_with(flow: str, *extra: dict) -> list[dict]:
    """The default mapping of ``flow`` with ``extra`` lines (replacing default lines of the same target)."""
    lines = [line if isinstance(line, dict) else line.model_dump() for line in load_default_mapping(flow).lines]
    replaced = {line["target"] for line in extra}
    return [line for line in lines if line["target"] not in replaced] + list(extra)


# --- life cycle ------------------------------------------------------------------------------------------------
def test_blocked_articles_are_inactive_in_the_till_and_come_back(env: Env):
    blocked = [a for a in env.world.articles if a.blocked and a.sku.isdigit()]
    assert blocked, "the seeded world has blocked articles"
    env.run("products")
    for art in blocked:
        assert env.mplus_article(int(art.sku))["active"] is False, art.sku
    open_one = simple_numeric(env)
    assert env.mplus_article(int(open_one.sku))["active"] is True
    # Unblocked in AccountView: active again; blocked: deactivated (and nothing else is written).
    env.change_article(blocked[0].sku, REC_BLK=False)
    env.change_article(open_one.sku, REC_BLK=True)
    env.mp.reset_counters()
    env.run("products")
    assert env.mplus_article(int(blocked[0].sku))["active"] is True
    assert env.mplus_article(int(open_one.sku))["active"] is False
    assert env.mp.calls["updateProduct"] == 2


def test_inactive_articles_left_alone_by_setting(env: Env):
    env.set("products", inactive_articles="leave")
    art = next(a for a in env.world.articles if a.blocked and a.in_mplus)
    env.run("products")
    assert env.mplus_article(int(art.sku))["active"] is True  # the till's own flag is not touched


def test_article_deleted_in_accountview_is_deactivated_and_reactivated_when_back(env: Env):
    env.run("products")
    gone = simple_numeric(env)
    row = env.article_row(gone.sku)
    env.delete_article(gone.sku)
    # Within removed_check_hours nothing is swept; a full run (or the next check) is.
    env.run("products")
    assert env.mplus_article(int(gone.sku))["active"] is True
    result = env.run("products", full=True)
    assert env.mplus_article(int(gone.sku))["active"] is False
    line = next(ln for ln in products_lines(env, result) if ln.entity == REMOVED)
    assert line.action == "updated" and "deleted in AccountView" in (line.error or "")
    env.mp.reset_counters()
    env.run("products", full=True)  # swept once: not again
    assert not [ln for ln in products_lines(env, env.run("products")) if ln.entity == REMOVED]
    # Re-created in AccountView with the same code: the same till article, active again.
    env.av.create("AK1", "ARTICLE", {k: v for k, v in row.items() if k in ("ART_CODE", "ART_DESC1", "AG_CODE",
                                                                           "PX_SELL", "VAT_CODE")})  # fmt: skip
    env.run("products")
    assert env.mplus_article(int(gone.sku))["active"] is True


def test_sweep_refuses_to_empty_the_till(env: Env):
    env.run("products")
    table = env.av_app.tables["ARTICLE"]
    for key in list(table.rows)[: int(len(table.rows) * 0.8)]:
        table.delete(key)
    result = env.run("products", full=True)
    refused = [ln for ln in products_lines(env, result) if ln.entity == REMOVED and ln.action == "failed"]
    assert len(refused) == 1 and "none was deactivated" in refused[0].error
    assert all(a.get("active") for p in env.mstore.products.values() for a in p["articleList"]["article"]
               if not any(b.blocked and b.sku == str(a["articleNumber"]) for b in env.world.articles))  # fmt: skip


# --- stock keeping -----------------------------------------------------------------------------------------------
def test_stock_keeping_follows_manage_stock_and_the_article_field(env: Env):
    env.run("products")
    art = simple_numeric(env, in_mplus=True)
    assert env.mplus_article(int(art.sku))["stockArticle"] is True
    env.change_article(art.sku, STOCK_ART=False)
    env.run("products")
    assert env.mplus_article(int(art.sku))["stockArticle"] is False
    # The setting switches stock keeping off on every article (products flow) and stops setStock (stock flow).
    env.set(None, manage_stock=False)
    env.run("products", full=True)
    assert not any(a.get("stockArticle") for p in env.mstore.products.values()
                   for a in p["articleList"]["article"] if str(a["articleNumber"]) in env.store.bindings.get_many(
                       "article", [x.sku for x in env.world.articles]))  # fmt: skip


# --- attributes and features -------------------------------------------------------------------------------------
def _custom(article: dict) -> dict:
    return {f["fieldName"]: f for f in (article.get("customFieldList") or {}).get("customField") or []}


def test_variants_carry_every_attribute_and_feature_in_the_wsdl_structures(env: Env):
    env.run("products")
    model = next(a.model for a in env.world.articles if a.model and a.sku.isdigit() and a.material)
    members = [a for a in env.world.articles if a.model == model]
    product = env.mplus_product_of(int(members[0].sku))
    assert len(product["articleList"]["article"]) == len(members) > 1  # one product, several articles
    for art in members:
        held = env.mplus_article(int(art.sku))
        assert (held["colour"], held["size"]) == (art.colour, art.size)
        custom = _custom(held)
        assert custom["material"]["strValue"] == art.material
        assert custom["country_of_origin"]["strValue"] == art.country_of_origin
        assert custom["delivery_days"]["intValue"] == art.delivery_days  # typed as the till defines it


def test_an_attribute_the_till_cannot_take_is_an_error_on_that_article(env: Env):
    env.store.mappings.set_datamapper("products", mapping_with(
        "products", {"source": "@article.unit", "target": "attributes.finish", "transforms": ["strip"],
                     "sequence": 999}))  # fmt: skip
    art = simple_numeric(env)
    result = env.run("products")
    line = next(ln for ln in products_lines(env, result, source_id=art.sku))
    assert line.action == "failed"
    assert "has no place in MplusKASSA: the till defines no article custom field 'finish'" in line.error
    assert line.wait == "mapping"  # waits (retried) until the till defines it
    # The till defines it: the waiting articles go through on their retry.
    env.mstore.article_custom_fields["finish"] = "DATA-TYPE-STRING"
    env.set("products", retry_delay_seconds=0)
    env.run("products")
    assert _custom(env.mplus_article(int(art.sku)))["finish"]["strValue"] == art.unit


def test_profile_sends_an_attribute_to_an_article_field(env: Env):
    profile = ApiProfile.from_overrides({"mplus": {"attribute_fields": ["colour=colour", "size=size",
                                                                         "material=brandName"]}})  # fmt: skip
    env.engine = Engine(env.store, env.av, env.mp, profile)
    env.run("products")
    art = next(a for a in env.world.articles if a.material and a.sku.isdigit())
    held = env.mplus_article(int(art.sku))
    assert held["brandName"] == art.material and "material" not in _custom(held)


def test_b2b_item_attribute_discount_group(env: Env):
    env.run("products")
    for art in env.world.articles:
        if art.discount_group and art.sku.isdigit() and art.in_accountview:
            assert env.mplus_article(int(art.sku))["articleDiscountGroupNumber"] == int(art.discount_group)
    # A code the till does not know as a number waits for the mapping table, then goes through.
    art = simple_numeric(env)
    env.set("products", retry_delay_seconds=0)
    env.change_article(art.sku, DISC_GRP="WINTER")
    failed = env.run("products")
    line = next(ln for ln in products_lines(env, failed, source_id=art.sku))
    assert line.action == "failed" and "discount group 'WINTER'" in line.error
    assert references(line.error) == [("table", "article_discount_group")]
    env.store.mappings.set_table("article_discount_group", {"WINTER": "7"})
    env.run("products")
    assert env.mplus_article(int(art.sku))["articleDiscountGroupNumber"] == 7


def test_an_article_in_another_currency_is_refused(env: Env):
    env.store.mappings.set_datamapper("products", mapping_with(
        "products", {"source": "@article.unit", "target": "currency", "transforms": [
            "strip", {"name": "map_table", "params": {"values": {"kg": "USD"}, "default": "EUR"}}], "sequence": 999}))  # fmt: skip
    result = env.run("products")
    refused = [ln for ln in products_lines(env, result) if ln.action == "failed" and "currency" in (ln.error or "")]
    kg = [a for a in env.world.articles if a.unit == "kg" and a.in_accountview and a.sku.isdigit()]
    assert kg and {ln.source_id for ln in refused} >= {a.sku for a in kg if not a.model}
    assert "priced in USD, not in the shop's currency EUR" in refused[0].error


def test_a_stored_mapping_that_no_longer_compiles_stops_the_run_in_the_readers_language(env: Env):
    """Every problem of the stored mapping is named, in the language of whoever reads the run."""
    from apicenter_sync.flows.base import RunOptions

    env.store.mappings.set_datamapper("products", mapping_with("products", {"source": "X", "target": "nmae"}))
    result = env.engine.run("products", RunOptions())
    assert "unknown canonical field 'nmae' for Article" in result.error
    assert result.error.render("nl").startswith("de datamapper van flow products is ongeldig: regel ")
    assert "onbekend canoniek veld 'nmae' voor Article" in result.error.render("nl")
