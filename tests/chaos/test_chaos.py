"""Chaos suite: all five flows under injected faults on both sandboxes, then a strict reconciliation.

Per scenario (rate x kinds, see conftest.py): a seeded world in both sandboxes; fault rounds of all five flows
(products, customers, stock, prices, orders) with source edits between the first rounds and expired access
tokens mid-run, until the flows converge (bounded); then clean rounds; then ``reconcile``: every sendable order
exactly once in AccountView with equal totals and lines, every article / relation / stock figure / price in
Mplus equal to its AccountView source field by field, no duplicate by any key, and every record that cannot
converge (seeded non-numeric SKUs, the order with a till-only article) open in the log with its reason.
"""

from __future__ import annotations

import random

from chaos_harness import ALL_KINDS, Faults, Harness, chaos_rounds, post

from apicenter_sandbox.runner import start_sandboxes

MAX_ROUNDS = 12


def test_chaos(scenario, chaos_options, chaos_results, tmp_path):
    rate, label = scenario
    kinds = ALL_KINDS if label == "all" else tuple(label.split("+"))
    seed = chaos_options["chaos_seed"]
    faults = Faults(rate, kinds, seed=seed)
    with start_sandboxes(size=chaos_options["chaos_size"], seed=1) as sb:
        h = Harness(sb, tmp_path)
        rng = random.Random(seed)

        def changes(round_no: int) -> bool:
            """Edits made in AccountView while the sync runs (bumping CNG_DATE), in the first two rounds."""
            if round_no > 2:
                return False
            for table in ("ARTICLE", "CONTACT", "ART_STOCK"):
                post(sb.accountview_url, "/_sandbox/touch", {"table": table, "count": rng.randint(1, 4)})
            return True

        try:
            out = chaos_rounds(h, faults, max_rounds=MAX_ROUNDS, changes=changes)
            report = h.reconcile()
            open_lines = h.open_failures()
            records = sum(report.records.values())
            duplicates, lost = len(report.duplicates), len(report.lost)
            injected = sum(out.faults.values())
            chaos_results.add(
                f"| {rate:.0%} | {faults.label()} | {records} | {injected} | {out.http_retries} | {out.flow_retries} "
                f"| {out.rounds}{'' if out.converged else ' (not converged)'} | {out.reconnects} | {duplicates} | {lost} | {len(report.mismatches)} "
                f"| {len(open_lines)} ({'yes' if not report.unexplained_failures else 'NO'}) | {out.seconds:.1f} |\n",
                note=f"{rate:.0%} {faults.label()}: faults by kind {dict(sorted(out.faults.items()))}; "
                f"{out.token_expiries} access tokens expired mid-run; runs stopped: {len(out.stops)}",
            )
            print(f"\nchaos {rate:.0%} {faults.label()}: {out}\n{report.summary()}")
            # The strict reconciliation after the clean rounds must hold at every rate. Converging *while* the faults
            # go on is required up to 30 % with the kinds mixed or alone (docs/reliability.md, Limits): at 50 % too many
            # runs stop on a request that failed all its tries to finish within MAX_ROUNDS.
            may_not_converge = rate >= 0.5
            assert report.ok, report.summary()
            assert out.converged or may_not_converge, f"no convergence in {MAX_ROUNDS} rounds: {out.stops[-5:]}"
            assert injected > 0
        finally:
            h.close()


def test_reconcile_catches_every_kind_of_damage(tmp_path):
    """The reconciliation is only a proof if it fails on damage: a changed field, a duplicate, a lost record."""
    with start_sandboxes(size=40, seed=3) as sb:
        h = Harness(sb, tmp_path)
        try:
            h.run_round()
            h.run_round()
            assert h.reconcile().ok, h.reconcile().summary()
            m, av = sb.mplus.app.store, sb.accountview.app.tables
            with sb.mplus.app.lock:
                number = next(n for n in sorted(m.article_product) if n in {int(a.sku) for a in sb.world.articles
                                                                              if a.sku.isdigit()})  # fmt: skip
                product = m.products[m.article_product[number]]
                for article in product["articleList"]["article"]:
                    if article["articleNumber"] == number:
                        article["priceExcl"] += 1  # a field differs
                relation = next(r for r in m.relations.values() if r.get("extRelationId"))
                m.relations[max(m.relations) + 1] = {**relation, "relationNumber": max(m.relations) + 1}  # duplicate
                m.stock.pop(next(iter(m.stock)))  # a stock figure never sent
            with sb.accountview.app.lock:
                key = next(k for k, r in av["SO_HDR"].rows.items() if r.get("INP_USR") == "API")
                av["SO_HDR"].update(key, {"COMMENT1": "somebody else's"})  # an order lost
            report = h.reconcile()
            assert any(f"article {number}" in x and "priceExcl" in x for x in report.mismatches), report.summary()
            assert any("extRelationId" in x for x in report.duplicates), report.summary()
            assert any(x.startswith("stock") for x in report.lost), report.summary()
            assert any(x.startswith("order") for x in report.lost), report.summary()
            h.store.log.mark_ignored([ln.id for ln in h.open_failures()][:1])  # a non-converging record dismissed
            assert h.reconcile().missing_failures
        finally:
            h.close()
