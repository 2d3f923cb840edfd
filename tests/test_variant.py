"""A tenant whose AccountView names all differ (``--variant renamed``): after changing only the API profile, every
flow reaches the same reconciled end state as on the default sandbox, and the step that needs the absent object
(group discounts) is switched off with a notice while everything else runs."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "chaos"))
from chaos_harness import Faults, Harness, chaos_rounds  # noqa: E402

from apicenter_sandbox.accountview.variant import profile_file  # noqa: E402
from apicenter_sandbox.runner import start_sandboxes  # noqa: E402
from apicenter_sync.doctor import run_doctor  # noqa: E402

SIZE = 60
# The default tenant, told that it has no group discounts either, so both end states can be compared whole.
NO_DISCOUNTS = "[profile.accountview.group_discount]\navailable = false\n"


def end_state(h: Harness) -> dict:
    """What both systems hold after the sync, in the sandbox's own terms (no timestamps, markers or ids)."""
    m = h.sb.mplus.app.store
    skip = {"syncMarker", "changeTimestamp", "createTimestamp"}
    articles = {a["articleNumber"]: {k: v for k, v in a.items() if k not in skip}
                for p in m.products.values() for a in p["articleList"]["article"]}  # fmt: skip
    groups = {tuple(sorted(m.article_groups[g]["name"] for g in p.get("groupNumbers") or ()))
              for p in m.products.values()}  # fmt: skip
    relations = {str(r.get("extRelationId") or r["relationNumber"]): {k: v for k, v in r.items()
                                                                       if k not in skip | {"relationNumber"}}
                 for r in m.relations.values()}  # fmt: skip
    stock = {key: (row["amountFree"], row.get("decimalPlacesFree")) for key, row in m.stock.items()}
    av = h.sb.accountview.app
    headers = av.tables["SO_HDR"].rows
    lines = av.tables["SO_LINE"]
    orders = {}
    for key, row in headers.items():
        ref = str(row.get("COMMENT1") or "")
        booked = sorted((str(ln["ART_CODE"]), Decimal(str(ln["ORD_QTY"])), Decimal(str(ln["ART_PX"])))
                        for ln in (lines.rows[k] for k in lines.by_header.get(key, ())))  # fmt: skip
        orders[ref] = (str(row.get("RPL_INV")), row.get("DISC_CODE"), booked)
    debtors = {str(r["MAIL_BUS"]).lower(): str(r["ACCT_NAME"]) for r in av.tables["CONTACT"].rows.values()}
    return {"articles": articles, "groups": groups, "relations": relations, "stock": stock, "orders": orders,
            "debtors": debtors}  # fmt: skip


def sync(sb, folder: Path, extra: str, faults: Faults | None = None) -> tuple[Harness, object]:
    h = Harness(sb, folder, extra_config=extra)
    if faults is None:
        for _ in range(3):
            results = h.run_round()
            assert all(r.ok for r in results), [r.error for r in results]
        return h, None
    return h, chaos_rounds(h, faults, max_rounds=12)


@pytest.fixture(scope="module")
def default_state(tmp_path_factory):
    with start_sandboxes(size=SIZE) as sb:
        h, _ = sync(sb, tmp_path_factory.mktemp("default"), NO_DISCOUNTS)
        try:
            report = h.reconcile()
            assert report.ok, report.summary()
            yield end_state(h)
        finally:
            h.close()


def test_only_the_profile_changes_and_the_end_state_is_the_same(default_state, tmp_path):
    """(b) and (c): the tenant's own profile (apicenter_sandbox/variants/renamed.toml), no code: the same end state
    as on the default sandbox, reconciled strictly; the group discounts switched off with a notice."""
    profile_text = profile_file("renamed").read_text(encoding="utf-8")
    with start_sandboxes(size=SIZE, variant="renamed") as sb:
        h, _ = sync(sb, tmp_path, profile_text)
        try:
            report = h.reconcile()
            assert report.ok, report.summary()
            assert end_state(h) == default_state
            doctor = run_doctor(h.engine)
            assert not [c for c in doctor.refuted if c.system == "accountview" and c.id != "accountview.article."
                        "numeric_skus"], doctor.text()  # fmt: skip
            notices = [ln for ln in h.store.log.list_lines(flow="prices", limit=1000) if ln.entity == "profile"]
            assert notices and all(ln.action == "skipped" for ln in notices)
            assert "group discounts: switched off" in notices[0].error
            assert "accountview.group_discount.available = false" in notices[0].error
            prices = [a for a in end_state(h)["articles"].values() if (a.get("priceGroupList") or {}).get("priceGroup")]
            assert prices, "B2B prices still reach the till without the discounts"
        finally:
            h.close()


def test_the_renamed_tenant_converges_under_faults(tmp_path):
    """The same sync with 20 % of the requests failing (every kind), still against the renamed tenant."""
    profile_text = profile_file("renamed").read_text(encoding="utf-8")
    with start_sandboxes(size=SIZE, variant="renamed") as sb:
        h, out = sync(sb, tmp_path, profile_text, Faults(0.2, seed=3))
        try:
            assert out.converged, out.stops[-5:]
            report = h.reconcile()
            assert report.ok, report.summary()
            assert sum(out.faults.values()) > 0
        finally:
            h.close()


def test_the_default_profile_on_the_renamed_tenant_stops_with_the_name_it_could_not_find(tmp_path):
    """Without the profile change the flows do not guess: each run stops or fails its records, naming the field."""
    with start_sandboxes(size=SIZE, variant="renamed") as sb:
        h = Harness(sb, tmp_path)
        try:
            results = {r.flow: r for r in h.run_round()}
            assert "STK1" in (results["stock"].error or ""), results["stock"].error
            assert "PRL1" in (results["prices"].error or ""), results["prices"].error
            orders = results["orders"]
            assert orders.error or orders.failures
            text = orders.error or orders.failures[0][1]
            assert "COMMENT1" in text or "REC_ID" in text, text
        finally:
            h.close()
