"""Strict reconciliation of both sandboxes after a sync: every record exactly once, every field as the source says.

AccountView is read over HTTP with the engine's own client (faults off), so the expectation starts from exactly
the rows a flow sees; MplusKASSA is read in-process from the sandbox's store (everything it holds, not only what
its API shows). The expected Mplus payloads are computed from the AccountView rows through the same datamapper
defaults and mapping tables the flows use (``expected_*``), and the parts that do not depend on the mapping
(stock figure, price entries, order totals, debtors) from the raw fields, independently of the flow code.

:func:`reconcile` returns a :class:`Report`; a clean report has no duplicate, no lost record, no field mismatch,
and an open failure (with its reason) for exactly the records that can never converge. ``store`` is the engine's
state store of the sync being checked (SQLite for the command line, ``OdooStore`` in the Odoo tests).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.flows.customers import CustomersFlow
from apicenter_sync.flows.price_rules import same_entries, whole_percent
from apicenter_sync.flows.products import ALWAYS, ARTICLE_GROUPS, PRODUCT_GROUPS, STATUS, ProductsFlow, _numeric
from apicenter_sync.flows.stock_sales import booked_sources, drift_reasons, sale_ref
from apicenter_sync.profile import ApiProfile
from apicenter_sync.units import to_cents

from .reconcile_sales import SalesCheck

CENT = Decimal("0.01")


@dataclass
class Report:
    records: Counter = field(default_factory=Counter)  # reconciled records per kind
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # expected at the target, not there, and no open failure says why
    mismatches: list[str] = field(default_factory=list)  # (record, field, expected, actual)
    unexplained_failures: list[str] = field(default_factory=list)  # open failures of records that should converge
    missing_failures: list[str] = field(default_factory=list)  # records that cannot converge but have no open line

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.mismatches or self.unexplained_failures
                    or self.missing_failures)  # fmt: skip

    def summary(self, limit: int = 15) -> str:
        parts = [f"records {dict(self.records)}"]
        for name in ("duplicates", "lost", "mismatches", "unexplained_failures", "missing_failures"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name} ({len(items)}): " + "; ".join(items[:limit]))
        return "\n".join(parts)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _key(text) -> str:
    return str(text or "").strip().lower()


def _quantity(mantissa, places) -> Decimal:
    return Decimal(int(mantissa or 0)).scaleb(-int(places or 0))


class Reconciler:
    def __init__(self, sb, store, av: AccountViewClient, mplus_client, *, seeded_in_mplus: set[int],
                 profile: ApiProfile | None = None):  # fmt: skip
        self.sb, self.store, self.av, self.mp_client = sb, store, av, mplus_client
        # The names AccountView shows (a variant tenant's with its profile); the expectations follow the profile.
        self.profile = profile or ApiProfile.default()
        self.n = self.profile.accountview
        self.m = sb.mplus.app.store  # the Mplus sandbox's storage
        self.seeded_in_mplus = seeded_in_mplus  # article numbers the till had before any sync (update_fields apply)
        self.report = Report()
        self.expected_open: dict[tuple[str, str], str] = {}  # (flow, source id) -> a substring of its reason
        # (flow, source id) -> a substring of its reason: an open line is explained, but none is needed (a receipt
        # tried on its own before the shop switched to booking per closing)
        self.allowed_open: dict[tuple[str, str], str] = {}
        self.settings = store.settings

    # --- helpers -----------------------------------------------------------------------------------------------
    def rows(self, name: str) -> list[dict]:
        obj = self.n.objects[name]
        return list(self.av.iter_rows(obj.reader, obj.table, page_size=1000))

    def mismatch(self, what: str, name: str, expected, actual) -> None:
        self.report.mismatches.append(f"{what} {name}: expected {expected!r}, got {actual!r}")

    def compare(self, what: str, expected: dict, actual: dict, keys=None) -> None:
        for k in keys if keys is not None else expected:
            if k in expected and expected[k] != actual.get(k):
                self.mismatch(what, k, expected[k], actual.get(k))

    def duplicates(self, what: str, values) -> None:
        for value, n in Counter(v for v in values if v not in (None, "")).items():
            if n > 1:
                self.report.duplicates.append(f"{what} {value!r} x{n}")

    # --- the whole check ---------------------------------------------------------------------------------------
    def run(self, *, sales_only: bool = False) -> Report:
        art, debtor = self.n.article, self.n.debtor
        self.articles = {str(r[art.key_field]).strip(): r for r in self.rows("article")}
        self.contacts = {str(r[debtor.key_field]).strip(): r for r in self.rows("debtor")}
        if not sales_only:
            self.check_duplicates()
            self.check_products()
            self.check_group_tree()
            self.check_relations()
            self.check_stock()
            self.check_prices()
        SalesCheck(self).run()
        self.check_open_failures(flows=("orders",) if sales_only else None)
        return self.report

    def check_duplicates(self) -> None:
        articles = [a for p in self.m.products.values() for a in p["articleList"]["article"]]
        self.duplicates("Mplus article number", [a["articleNumber"] for a in articles])
        self.duplicates("Mplus extArticleId", [a.get("extArticleId") for a in articles])
        self.duplicates("Mplus article group name", [_key(g.get("name")) for g in self.m.article_groups.values()])
        relations = list(self.m.relations.values())
        self.duplicates("Mplus extRelationId", [str(r.get("extRelationId") or "").strip() for r in relations])
        mail = self.n.debtor["email"]
        unique_mail = {e for e, n in Counter(_key(r.get(mail)) for r in self.contacts.values()).items() if n == 1}
        self.duplicates("Mplus relation e-mail", [_key(r.get("email")) for r in relations
                                                  if _key(r.get("email")) in unique_mail])  # fmt: skip
        self.duplicates("AccountView debtor e-mail", [_key(r.get(mail)) for r in self.contacts.values()])
        so = self.n.sales_order
        refs = []
        for page in self.av.iter_pages(so.reader, so.table, page_size=1000):
            refs.extend(str(h.get(so["reference"]) or "").strip() for h in page[so.table.upper()])
        self.duplicates(f"AccountView {so.table}.{so['reference']}", refs)

    # --- products ----------------------------------------------------------------------------------------------
    def check_products(self) -> None:
        flow = ProductsFlow(self.store, self.av, self.mp_client, RunOptions(dry_run=True), profile=self.profile)
        art = self.n.article
        flow.prepare()
        ticked = set(self.settings.get("update_fields", "products") or ())
        always = ALWAYS + STATUS if flow.deactivate else ALWAYS
        updated_fields = set(always).union(*(ARTICLE_GROUPS[g] for g in ticked if g in ARTICLE_GROUPS))
        product_fields = {f for g in ticked for f in PRODUCT_GROUPS.get(g, ())}
        generate = self.settings.get("non_numeric_sku", "products") == "generate"
        bindings = {b.source_id: b for b in self.store.bindings.iter("article")}
        for sku, row in self.articles.items():
            self.report.records["article"] += 1
            if not _numeric(sku) and not generate:
                self.expected_open[("products", sku)] = f"SKU '{sku}' is not numeric"
                if any(a.get("extArticleId") == sku for p in self.m.products.values()
                       for a in p["articleList"]["article"]):  # fmt: skip
                    self.report.duplicates.append(f"rejected SKU {sku} is in Mplus anyway")
                continue
            article = flow.mapper().to_model(row, flow.tables)
            expected = flow.article_payload(article, bindings)
            number = expected["articleNumber"]
            held = self.m.article(number)
            if held is None:
                self.report.lost.append(f"article {sku} ({number}) is not in Mplus")
                continue
            seeded = number in self.seeded_in_mplus
            self.compare(f"article {sku}", expected, held, updated_fields if seeded else None)
            # Independent of the mapping code: the raw AccountView fields.
            raw = {"priceExcl": to_cents(Decimal(str(row[art["price"]]))),
                   "description": str(row[art["description"]]).strip()[:60]}
            if flow.deactivate and "blocked" in art.fields:  # a blocked article is not sold at the till
                raw["active"] = not bool(row.get(art["blocked"]))
            self.compare(f"article {sku} (raw)", raw, held)
            product = self.m.products[self.m.article_product[number]]
            group = str(row.get(art["group"]) or "").strip()
            bound = self.store.bindings.get("group", group)
            if not seeded or "groupNumbers" in product_fields:
                want = [int(bound.target_id)] if bound and bound.target_id else None
                if want is None or product.get("groupNumbers") != want:
                    self.mismatch(f"product of {sku}", "groupNumbers", want, product.get("groupNumbers"))
                elif _key(self.m.article_groups[want[0]].get("name")) != _key(self.group_name(group)):
                    self.mismatch(f"article group of {sku}", "name", self.group_name(group),
                                  self.m.article_groups[want[0]].get("name"))  # fmt: skip
            model = str(row.get(art["model"]) or "").strip()
            if model:  # every variant of a model in one product
                siblings = [s for s, r in self.articles.items() if str(r.get(art["model"]) or "").strip() == model]
                numbers = {a["articleNumber"] for a in product["articleList"]["article"]}
                if not {int(s) for s in siblings if _numeric(s)} <= numbers:
                    self.mismatch(f"product of {sku}", "variants", sorted(siblings), sorted(numbers))
            if bindings.get(sku) is None or bindings[sku].target_id != str(number):
                self.mismatch(f"article {sku}", "binding", str(number), bindings.get(sku))

    def check_group_tree(self) -> None:
        """Every article group under the parent AccountView gives it (raw fields, not the flow's mapping)."""
        grp = self.n.article_group
        if "parent" not in grp.fields:
            return
        for row in self.rows("article_group"):
            code, parent = str(row[grp.key_field]).strip(), str(row.get(grp["parent"]) or "").strip()
            child, above = self.store.bindings.get("group", code), self.store.bindings.get("group", parent)
            if child is None or not child.target_id:
                continue  # a group no article uses may be filtered out; the articles' checks catch a missing one
            want = int(above.target_id) if parent and above and above.target_id else (None if parent else 0)
            held = self.m.group_parent.get(int(child.target_id))
            if held != want:
                self.mismatch(f"article group {code}", "parent", want, held)

    def group_name(self, code: str) -> str:
        if not hasattr(self, "_groups"):
            grp = self.n.article_group
            self._groups = {str(r[grp.key_field]).strip(): str(r.get(grp["description"]) or "").strip()
                            for r in self.rows("article_group")}  # fmt: skip
        return self._groups.get(code) or code

    # --- relations ---------------------------------------------------------------------------------------------
    def check_relations(self) -> None:
        flow = CustomersFlow(self.store, self.av, self.mp_client, RunOptions(dry_run=True), profile=self.profile)
        debtor = self.n.debtor
        flow.prepare()
        by_ext = defaultdict(list)
        for rel in self.m.relations.values():
            by_ext[str(rel.get("extRelationId") or "").strip()].append(rel)
        groups = self.store.mappings.get_table("customer_group_price_group")
        for sid, row in self.contacts.items():
            self.report.records["relation"] += 1
            found = by_ext.get(sid) or []
            if len(found) != 1:
                (self.report.lost if not found else self.report.duplicates).append(
                    f"debtor {sid}: {len(found)} relations"
                )
                continue
            rel = found[0]
            expected = flow.relation_payload(sid, flow.mapper().to_model(row, flow.tables))
            expected.pop("discountPercentage", None)  # checked below with the prices flow's rule (0 included)
            self.compare(f"relation of debtor {sid}", expected, rel)
            raw = {"name": str(row[debtor["name"]]).strip()}
            if str(row.get(debtor["email"]) or "").strip():
                raw["email"] = str(row[debtor["email"]]).strip()
            if str(row.get(debtor["phone"]) or "").strip():
                raw["telephone"] = str(row[debtor["phone"]]).strip()
            self.compare(f"relation of debtor {sid} (raw)", raw, rel)
            # B2B pricing of the relation (prices flow): price group of the price list, whole-percent discount.
            code = str(row.get(debtor["price_list"]) or "").strip()
            if code:
                self.compare(f"relation of debtor {sid}", {"priceGroupNumber": int(groups[code])}, rel)
            discount = whole_percent(row.get(debtor["discount_pct"]))
            if (rel.get("discountPercentage") or 0) != discount:
                self.mismatch(f"relation of debtor {sid}", "discountPercentage", discount,
                              rel.get("discountPercentage"))  # fmt: skip
            bound = self.store.bindings.get("relation", sid)
            if bound is None or bound.target_id != str(rel["relationNumber"]):
                self.mismatch(f"debtor {sid}", "binding", rel["relationNumber"], bound)

    # --- stock -------------------------------------------------------------------------------------------------
    def check_stock(self) -> None:
        branches = self.store.mappings.get_table("warehouse_branch")
        st = self.n.stock
        sold = self.till_sales()
        mode = self.store.settings.all("stock").get("stock_figure") or "available"
        for row in self.rows("stock"):
            sku, wh = str(row[st["sku"]]).strip(), str(row[st["warehouse"]]).strip()
            self.report.records["stock"] += 1
            if not _numeric(sku):
                self.expected_open[("stock", f"{sku}@{wh}")] = "is not in MplusKASSA yet"
                continue
            on_hand, reserved = Decimal(str(row[st["on_hand"]])), Decimal(str(row[st["reserved"]]))
            figure = {"on_hand": on_hand, "economic": on_hand - reserved + Decimal(str(row[st["incoming"]] or 0))}.get(
                mode, on_hand - reserved)  # the setting stock_figure (default available)
            held = self.m.stock.get((int(branches[wh]), int(sku)))
            if held is None:
                self.report.lost.append(f"stock {sku}@{wh} never set in Mplus")
                continue
            actual = _quantity(held["amountFree"], held.get("decimalPlacesFree"))
            key = (int(branches[wh]), int(sku))
            if key in sold:
                # The till sold it: never above the books' figure minus its sales not booked yet. (A row the books
                # did not change after the last sale keeps the till's lower figure.) This holds in a configuration
                # that must drift too (sales booked without article lines: the doctor's stock_drift): AccountView
                # never shows those sales, but the stock flow subtracts every sale not booked, so the till's figure
                # is never above; only a return booked there (the till took the units back, AccountView never will)
                # raises the bound, as till_sales counts it.
                if actual > figure - sold[key]:
                    self.mismatch(f"stock {sku}@{wh}", "amountFree (at most)", figure - sold[key], actual)
            elif actual != figure:
                self.mismatch(f"stock {sku}@{wh}", "amountFree", figure, actual)

    def till_sales(self) -> dict[tuple[int, int], Decimal]:
        """(branch, article) -> units of the till's receipts and invoices, and what its orders delivered, not booked
        (0 for an article that was sold and all of it booked): the rows whose till figure the till moved itself. Every
        source counts: one the orders flow does not book never reaches AccountView (returns there raise the bound)."""
        sold: dict[tuple[int, int], Decimal] = {}
        sources = booked_sources(self.store.settings.all("orders"))  # a source never booked drifts: the doctor's
        drifts = bool(drift_reasons(self.store.settings.all("orders"), self.store.settings.all("stock")))
        for kind, sales in (("receipt", self.m.receipts), ("invoice", self.m.invoices), ("order", self.m.orders)):
            never = kind not in sources  # never booked: AccountView never shows these sales (they drift)
            for sale in sales.values():
                if kind != "order" and (sale.get("orderIds") or {}).get("id"):
                    continue  # its stock moves with the order
                binding = self.store.bindings.get(kind, sale_ref(kind, sale,
                                                                 self.profile.mplus.order_reference == "extOrderId"))
                booked = binding is not None and binding.state == "synced"
                branch = int(sale.get("financialBranchNumber") or 0)
                for line in sale["lineList"]["line"]:
                    number, data = int(line.get("articleNumber") or 0), line["data"]
                    if not number or str(data.get("priceType") or "").startswith("PRICE-TYPE-EXCHANGE"):
                        continue
                    qty = (_quantity(data.get("deliveredQuantity") or 0, data.get("deliveredDecimalPlaces"))
                           if kind == "order" else _quantity(data["quantity"], data.get("decimalPlaces")))
                    if not qty:
                        continue
                    # A return booked without article lines, or of a source never booked: the till took the units
                    # back, AccountView never will (the doctor's stock_drift), so the till may stay that much above:
                    # counted as not booked. A sale there only lowers the till: within the bound, not counted.
                    if never and qty > 0:
                        sold.setdefault((branch, number), Decimal(0))  # held to "at most", not to equality
                        continue
                    counted = not booked or (qty < 0 and (drifts or never))
                    sold[(branch, number)] = sold.get((branch, number), Decimal(0)) + (qty if counted else 0)
        return sold

    # --- prices ------------------------------------------------------------------------------------------------
    def check_prices(self) -> None:
        groups = {k: int(v) for k, v in self.store.mappings.get_table("customer_group_price_group").items()}
        discounts: dict[str, dict[int, int]] = defaultdict(dict)
        dg, pi = self.n.group_discount, self.n.price_list_item
        if dg.available:
            for row in self.rows("group_discount"):
                discounts[str(row[dg["article_group"]]).strip()][groups[str(row[dg["customer_group"]]).strip()]] = (
                    whole_percent(row[dg["pct"]])
                )
        prices: dict[str, list[dict]] = defaultdict(list)
        for row in self.rows("price_list_item") if pi.available else ():
            prices[str(row[pi["sku"]]).strip()].append(row)
        for sku, article in self.articles.items():
            self.report.records["price"] += 1
            group_discounts = discounts.get(str(article.get(self.n.article["group"]) or "").strip(), {})
            entries: dict[tuple[int, int], dict] = {}
            for row in prices.get(sku, []):
                group, step = groups[str(row[pi["price_list"]]).strip()], int(Decimal(str(row.get(pi["min_qty"]) or 1)))
                entry = {"priceGroupNumber": group, "priceExcl": to_cents(Decimal(str(row[pi["price"]])))}
                if step > 1:
                    entry["minimumAmount"] = step
                if group_discounts.get(group):
                    entry["discountPercentage"] = group_discounts[group]
                entries[(group, step if step > 1 else 0)] = entry
            for group, pct in group_discounts.items():
                if pct and not any(g == group for g, _ in entries):
                    entries[(group, 0)] = {"priceGroupNumber": group, "discountPercentage": pct}
            wanted = [entries[k] for k in sorted(entries)]
            if not _numeric(sku):
                if wanted:
                    self.expected_open[("prices", sku)] = "is not in MplusKASSA yet"
                continue
            held = self.m.article(int(sku))
            if held is None:
                continue  # reported by check_products
            have = (held.get("priceGroupList") or {}).get("priceGroup") or []
            if not same_entries(have, wanted):
                self.mismatch(f"prices of {sku}", "priceGroupList", wanted, have)

    # --- the log -----------------------------------------------------------------------------------------------
    def check_open_failures(self, flows: tuple[str, ...] | None = None) -> None:
        open_lines = {(ln.flow, ln.source_id): ln for ln in self.store.log.list_lines(failed_only=True, limit=100_000)
                      if flows is None or ln.flow in flows}  # fmt: skip
        for key, ln in open_lines.items():
            reason = self.expected_open.get(key, self.allowed_open.get(key))
            if reason is None:
                self.report.unexplained_failures.append(f"{key}: {ln.error}")
            elif reason not in (ln.error or ""):
                self.report.unexplained_failures.append(f"{key}: expected '{reason}', got {ln.error}")
        for key, reason in self.expected_open.items():
            if key not in open_lines:
                self.report.missing_failures.append(f"{key}: no open failed line ({reason})")


def reconcile(sb, store, av, mplus_client, seeded_in_mplus: set[int], profile: ApiProfile | None = None, *,
              sales_only: bool = False) -> Report:  # fmt: skip
    """``seeded_in_mplus``: the article numbers Mplus held before the first sync (``set(store.article_product)``);
    ``profile``: the API profile of the sync (a variant tenant's names); ``sales_only``: the sales and the orders
    flow's open failures only (after only the orders flow ran)."""
    return Reconciler(sb, store, av, mplus_client, seeded_in_mplus=seeded_in_mplus, profile=profile).run(
        sales_only=sales_only
    )
