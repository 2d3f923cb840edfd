"""Stock: AccountView stock per article and warehouse → MplusKASSA ``setStock`` per branch (SPEC §1.4).

The figure sent is a setting (``stock_figure``): available = on hand − reserved
by sales orders (default), on hand, economic = on hand − reserved + incoming
(on open purchase orders), or the raw AccountView field named in ``stock_field``. The stock rows are the profile's
``stock`` object (an assumption: docs/assumptions.md); without it the flow is switched off. Warehouses map to branches through
the ``warehouse_branch`` table. ``setStock`` is absolute, so a repeat after a
lost reply is harmless; a figure equal to the last one sent is not sent again.

The figure sent is AccountView's minus what the till sold and the books do not show yet (``stock_sales``): the
till lowers its own stock on every sale, and an absolute figure must not put those units back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..clients.mplus_errors import NotFoundError
from ..errors import ConfigError
from ..i18n import msg, setting_ref, table_ref
from ..models import StockLevel
from .av_source import changed_batches, rows_by_keys
from .base import Flow, Outcome, record_error, synced
from .filters import ArticleFilter
from .products import _numeric
from .stock_sales import till_sales_not_booked

WAREHOUSE_BRANCH = "warehouse_branch"  # AccountView warehouse code -> Mplus branch number


class StockFlow(Flow):
    name = "stock"
    entity = "stock"

    def prepare(self) -> None:
        self.article_filter = ArticleFilter.from_settings(self)
        self._not_booked: dict[tuple[int, int], Decimal] | None = None  # read once per run, when first needed
        by_branch: dict[str, list[str]] = {}
        for warehouse, branch in self.tables.get(WAREHOUSE_BRANCH, {}).items():
            by_branch.setdefault(str(branch).strip(), []).append(warehouse)
        shared = {b: sorted(w) for b, w in by_branch.items() if len(w) > 1}
        if shared:
            # setStock is absolute per branch: two warehouses would overwrite each other's figure.
            raise ConfigError(msg("stock.branch_shared", table=table_ref(WAREHOUSE_BRANCH), shared=[
                msg("stock.branch_warehouses", warehouses=w, branch=b) for b, w in sorted(shared.items())]))

    def read_batches(self):
        if self.available("stock"):  # else switched off, said once at the start of the run (Flow.switched_off)
            yield from changed_batches(self, self.names.stock)

    def fetch_by_ids(self, source_ids, entity):
        if not self.available("stock"):
            return None
        # Failed lines carry "<sku>@<warehouse>"; re-read those articles' stock rows.
        skus = sorted({sid.split("@", 1)[0] for sid in source_ids})
        wanted = set(source_ids)
        rows = rows_by_keys(self, self.names.stock, skus, field=self.names.stock["sku"])
        return [r for r in rows if self.source_id(r) in wanted]

    def source_id(self, record: dict) -> str:
        stock = self.names.stock
        return f"{str(record.get(stock['sku'], '')).strip()}@{str(record.get(stock['warehouse'], '')).strip()}"

    def process_batch(self, batch):
        records = batch.records
        if not self.settings.get("manage_stock", True):
            return [
                Outcome(self.entity, self.source_id(r), "skipped", source_payload=r,
                        message=msg("stock.not_managed", setting=setting_ref("manage_stock")))
                for r in records
            ]
        levels = {}
        for r in records:
            try:
                levels[id(r)] = self.mapper().to_model(r, self.tables)
            except Exception as exc:  # noqa: BLE001 - reported per record below
                levels[id(r)] = exc
        skus = [lv.sku for lv in levels.values() if isinstance(lv, StockLevel)]
        keep = self.article_filter.allowed(skus)
        articles = self.store.bindings.get_many("article", skus)
        stock = self.store.bindings.get_many(self.entity, [self.source_id(r) for r in records])
        outcomes = []
        for r in records:
            level = levels[id(r)]
            if isinstance(level, Exception):
                outcomes.append(self.failure(r, level))
                continue
            if level.sku not in keep:
                outcomes.append(Outcome(self.entity, self.source_id(r), "skipped", source_payload=r,
                                        message=msg("flows.article_filtered")))  # fmt: skip
                continue
            outcomes.append(self.guarded(r, lambda rec, lv=level: self.sync_one(rec, lv, articles, stock)))
        return outcomes

    def sync_one(self, record: dict, level: StockLevel, articles, stock) -> Outcome:
        sid = self.source_id(record)
        branch = self.tables.get(WAREHOUSE_BRANCH, {}).get(level.warehouse or "")
        if branch is None:
            raise record_error(
                msg("stock.warehouse_unmapped", warehouse=level.warehouse, table=table_ref(WAREHOUSE_BRANCH)),
                retry=True,  # retried automatically: it succeeds once the mapping is added
                source_id=sid,
            )
        article = articles.get(level.sku)
        if article and article.target_id:
            number = int(article.target_id)
        elif _numeric(level.sku) and self.profile.mplus.sku_field == "articleNumber":
            number = int(level.sku)  # numeric SKUs are the Mplus article number (SPEC §1.3)
        else:
            raise record_error(
                msg("flows.article_not_in_mplus", sku=level.sku),
                retry=True,
                source_id=sid,
            )
        figure = self.figure(record, level)
        steps = []
        sold = self.not_booked().get((int(branch), number), Decimal(0))
        if sold:
            steps.append(msg("stock.till_sales_not_booked", figure=_plain(figure), sold=_plain(sold),
                             sent=_plain(figure - sold)))  # fmt: skip
            figure -= sold
        # The figure as a plain number (12.50 and 12.5 are the same figure: no second write for a new notation).
        payload = {"branchNumber": int(branch), "articleNumber": number, "amount": _plain(figure)}
        digest = self.hash(payload)
        base = {"entity": self.entity, "source_id": sid, "source_payload": record, "target_payload": payload}
        binding = stock.get(sid)
        if steps:
            base["reply"] = {"steps": steps}
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=binding.target_id, **base)
        target = f"{number}@{branch}"
        if self.dry_run:
            return Outcome(action="dry_run", target_id=target, **base)
        try:
            stock_id = self.mplus.set_stock(number, int(branch), figure)
        except NotFoundError as exc:
            # Usually the article: not synced yet (it failed, or the products flow has not run): retried later.
            raise record_error(
                msg("stock.article_or_branch_missing", number=number, sku=level.sku, branch=branch, error=str(exc)),
                retry=True,
                source_id=sid,
            ) from None
        base["reply"] = {**base.get("reply", {}), "stockId": stock_id}
        return Outcome(action="updated", target_id=target, bindings=[synced(self.entity, sid, target, digest)],
                       **base)  # fmt: skip

    def not_booked(self) -> dict[tuple[int, int], Decimal]:
        """(branch, till article) -> units sold at the till that AccountView's figure does not show yet."""
        if self._not_booked is None:
            self._not_booked = till_sales_not_booked(self)
        return self._not_booked

    def figure(self, record: dict, level: StockLevel) -> Decimal:
        mode = self.settings.get("stock_figure", "available")
        if mode == "on_hand":
            return level.on_hand
        if mode == "economic":
            return level.economic  # on hand - reserved + incoming
        if mode == "field":
            name = self.settings.get("stock_field") or ""
            try:
                return Decimal(str(record[name]).strip())
            except KeyError:
                raise record_error(msg("stock.field_unknown", setting=setting_ref("stock_field"), name=name,
                                       table=self.names.stock.table)) from None  # fmt: skip
            except InvalidOperation:
                raise record_error(msg("stock.field_not_number", setting=setting_ref("stock_field"), name=name,
                                       value=repr(record[name]))) from None  # fmt: skip
        return level.available  # on hand - reserved


def _plain(figure: Decimal) -> str:
    text = format(figure.normalize(), "f")
    return "0" if text in ("-0", "0") else text
