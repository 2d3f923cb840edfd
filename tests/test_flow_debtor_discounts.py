"""Discounts per debtor and article (issue 27, delivery 5) against both sandboxes over real sockets.

The AccountView sandbox's ``discounts`` tenant keeps them (business object ``DDS1``, table ``DEB_DISC``, seeded
from the world's ``debtor_discounts``); ``variants/discounts.toml`` switches the profile object on. With it the
prices flow sends each debtor's rows as its till relation's ``relationArticleDiscountList``, exactly once under
faults: a re-run writes nothing, a change rewrites that relation's list, a removed row is removed from it.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import httpx
import pytest
from flow_fixtures import Env

from apicenter_sandbox.accountview.variant import profile_file
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.engine import Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.profile import parse_profile_text

PROFILE = parse_profile_text(profile_file("discounts").read_text(encoding="utf-8"))
OBJ = PROFILE.accountview.debtor_article_discount


@pytest.fixture(scope="module")
def sandboxes():
    with start_sandboxes(size=60, variant="discounts") as sb:
        yield sb


@pytest.fixture
def env(sandboxes):
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes)
    e.engine = Engine(e.store, e.av, e.mp, PROFILE)
    e.set("prices", retry_delay_seconds=0)
    yield e
    e.close()


def rows(env: Env) -> list[dict]:
    return env.av_rows(OBJ.table)


def expected(env: Env) -> dict[int, list[tuple[int, int]]]:
    """Relation number -> (article number, whole percent) of every discount row now in AccountView."""
    relations = env.store.bindings.get_many("relation", sorted({str(r[OBJ["debtor"]]).strip() for r in rows(env)}))
    out: dict[int, list[tuple[int, int]]] = {}
    for r in rows(env):
        number = int(relations[str(r[OBJ["debtor"]]).strip()].target_id)
        out.setdefault(number, []).append((int(str(r[OBJ["sku"]]).strip()), int(Decimal(str(r[OBJ["pct"]])))))
    return {n: sorted(v) for n, v in out.items()}


def held(env: Env, number: int) -> list[tuple[int, int]]:
    """What the till relation holds, as the till keeps it (each entry with its relation number and its own id)."""
    rel = env.mstore.relations[number]
    entries = (rel.get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []
    assert all(e["relationNumber"] == number and e["relationArticleDiscountId"] for e in entries), entries
    return sorted((e["articleNumber"], e["discountPercentage"]) for e in entries)


def relation_writes(env: Env) -> int:
    return env.writes()["relation"]


def sync(env: Env, *flows: str, **options) -> None:
    for flow in flows or ("products", "customers", "prices"):
        env.run(flow, **options)


def test_absent_by_default_the_flow_reads_none(sandboxes):
    """The shipped profile has the object switched off: the prices flow does not ask for it and sends no list."""
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes)
    try:
        assert not e.engine.profile.accountview.debtor_article_discount.available
        sync(e)
        calls = httpx.get(f"{sandboxes.accountview_url}/_sandbox/stats").json()["calls"]
        assert not any(OBJ.code in op for op in calls), calls
        assert not any(r.get("relationArticleDiscountList") for r in e.mstore.relations.values())
    finally:
        e.close()


def test_seeded_discounts_reach_the_relations_once(env):
    assert len(rows(env)) == len(env.world.debtor_discounts) >= 4
    sync(env)
    want = expected(env)
    assert len(want) >= 2
    for number, pairs in want.items():
        assert held(env, number) == pairs
    lines = [ln for ln in env.store.log.list_lines(flow="prices", limit=5000) if ln.entity == "debtor_article_discount"]
    assert Counter(ln.action for ln in lines)["updated"] == len(want)
    before = relation_writes(env)
    env.run("prices")
    assert relation_writes(env) == before
    # A lost state store (no bindings): what the till already holds is compared first, not written again.
    for sid in {d.customer for d in env.world.debtor_discounts}:
        env.store.bindings.delete("relation_article_discounts", sid)
    for r in rows(env):  # read again (an edit that changes nothing)
        env.av.update(OBJ.code, OBJ.table, {OBJ.key_field: r[OBJ.key_field], OBJ["pct"]: r[OBJ["pct"]]}, OBJ.key_field)
    env.run("prices")
    assert relation_writes(env) == before
    assert len(env.store.bindings.get_many("relation_article_discounts", [d.customer for d in env.world.debtor_discounts]))


def test_a_change_rewrites_that_relation_and_a_removed_row_is_removed(env):
    sync(env)
    first, *others = sorted(rows(env), key=lambda r: r[OBJ.key_field])
    debtor = str(first[OBJ["debtor"]]).strip()
    number = int(env.store.bindings.get("relation", debtor).target_id)
    env.av.update(OBJ.code, OBJ.table, {OBJ.key_field: first[OBJ.key_field], OBJ["pct"]: 12.4}, OBJ.key_field)
    before = relation_writes(env)
    env.run("prices")
    assert relation_writes(env) == before + 1
    assert (int(str(first[OBJ["sku"]]).strip()), 12) in held(env, number)
    # A row deleted in AccountView (no deletion feed): gone from the till on the next change of that debtor's rows.
    sibling = next(r for r in others if str(r[OBJ["debtor"]]).strip() == debtor)
    env.av_app.tables[OBJ.table].delete(sibling[OBJ.key_field])
    env.av.update(OBJ.code, OBJ.table, {OBJ.key_field: first[OBJ.key_field], OBJ["pct"]: 11}, OBJ.key_field)
    env.run("prices")
    assert held(env, number) == [(int(str(first[OBJ["sku"]]).strip()), 11)]
    # Every row of a debtor deleted: a full resync empties its relation's list.
    env.av_app.tables[OBJ.table].delete(first[OBJ.key_field])
    env.run("prices")
    assert held(env, number) == [(int(str(first[OBJ["sku"]]).strip()), 11)]  # nothing changed that a run can see
    env.run("prices", full=True)
    assert held(env, number) == []
    for other, pairs in expected(env).items():
        assert held(env, other) == pairs


def test_a_new_row_and_a_bad_row(env):
    sync(env)
    debtor = next(c.number for c in env.world.customers if c.number not in {d.customer for d in env.world.debtor_discounts})
    number = int(env.store.bindings.get("relation", debtor).target_id)
    sku = env.world.debtor_discounts[0].sku
    env.av.create(OBJ.code, OBJ.table, {OBJ["debtor"]: debtor, OBJ["sku"]: sku, OBJ["pct"]: 7.5})
    env.run("prices")
    assert held(env, number) == [(int(sku), 8)]  # whole percent at the till, half up
    # A second row of the same article with another percentage: that debtor fails with the reason, the list stays.
    env.av.create(OBJ.code, OBJ.table, {OBJ["debtor"]: debtor, OBJ["sku"]: sku, OBJ["pct"]: 30})
    result = env.run("prices")
    failed = [(k, e) for k, e in result.failures if k == debtor]
    assert failed and sku in str(failed[0][1]), result.failures
    assert held(env, number) == [(int(sku), 8)]


def test_a_debtor_without_relation_waits_for_the_customers_flow(env):
    """Discount rows do not change when the relation is created: the debtor is retried until it exists."""
    env.run("products")
    result = env.run("prices")
    debtors = {d.customer for d in env.world.debtor_discounts}
    failed = {k for k, _e in result.failures}
    assert debtors <= failed, result.failures
    env.run("customers")
    env.run("prices")
    for number, pairs in expected(env).items():
        assert held(env, number) == pairs
    assert not env.store.log.list_lines(flow="prices", entity="debtor_article_discount", failed_only=True)


def test_exactly_once_under_faults(env):
    """A quarter of the requests fail (lost replies too): runs until nothing fails; every relation holds exactly
    its debtor's rows, once, and a run after that writes nothing."""
    sync(env)
    for r in rows(env):  # every row changes: every relation is rewritten under faults
        env.av.update(OBJ.code, OBJ.table, {OBJ.key_field: r[OBJ.key_field],
                                            OBJ["pct"]: float(r[OBJ["pct"]]) + 1}, OBJ.key_field)  # fmt: skip
    env.faults(0.25, seed=5)
    for _ in range(12):
        result = env.engine.run("prices", RunOptions())
        if result.error is None and not result.failures:
            break
    env.faults(0)
    env.run("prices")
    assert sum(env.faults_injected().values()) > 0
    for number, pairs in expected(env).items():
        assert held(env, number) == pairs
    before = relation_writes(env)
    env.run("prices")
    assert relation_writes(env) == before


def test_the_doctor_finds_the_object_on_a_tenant_that_keeps_it(env):
    """With the shipped profile (object off) the doctor sees the tenant has it after all and proposes switching it
    on; with the variant's profile it confirms the object and its fields."""
    from apicenter_sync.doctor import run_doctor
    from apicenter_sync.profile import ApiProfile

    shipped = Engine(env.store, env.av, env.mp, ApiProfile.default())
    check = next(c for c in run_doctor(shipped, systems=("accountview",)).checks
                 if c.id == "accountview.debtor_article_discount.available")  # fmt: skip
    assert check.status == "refuted" and [p.value for p in check.proposals] == [True], check
    env.av.use_profile(PROFILE)
    report = run_doctor(env.engine, systems=("accountview",))
    for key in ("code", "fields.debtor", "fields.sku", "fields.pct"):
        assert next(c for c in report.checks if c.id == f"accountview.debtor_article_discount.{key}").status == (
            "confirmed"), key
