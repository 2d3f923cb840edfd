"""B2B prices: AccountView price lists, staffel prices and group discounts → MplusKASSA price groups (SPEC §1.5).

Four streams per run (five with discounts per debtor and article), each with its own change-date watermark (objects of the API profile, all but the debtors
assumed: docs/assumptions.md):

- ``price_list`` (``price_list``): checks that every price list maps to an
  existing Mplus price group (table ``customer_group_price_group``). The WSDL
  cannot create price groups, so an unmapped list is a clear per-record error.
- ``price`` (``price_list_item``) and ``discount`` (``group_discount``): the articles
  touched (by a price row, or by a discount on their article group) are
  re-read whole (all their price rows, the discounts of their group), because
  ``Article.priceGroupList`` replaces the stored list: one ``updateProduct``
  per changed article.
- ``debtor`` (``debtor``): the relation's price group and blanket discount
  (``updateRelation``), for debtors the customers flow already bound.
- ``debtor_discount`` (``debtor_article_discount``, absent by default: only some tenants keep a discount per
  debtor and article): the debtors touched are re-read whole and their rows sent as the relation's
  ``relationArticleDiscountList``, which the till replaces whole (an empty list removes every entry).

An object the profile marks absent (``available = false``) switches its stream off with a notice in the log;
without price lists and price rows only group discounts are sent, without group discounts only prices.

Every payload is hashed per article / per debtor: an unchanged one is not
written. Without a binding yet (first run, lost state store) the values held
by MplusKASSA are compared first, so what is already right is not rewritten.
AccountView has no deletion feed: a price row or discount deleted there reaches
MplusKASSA on the next change of that article or on a full resync.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..clients.accountview_filters import rows_in
from ..datamapper import MappingError
from ..errors import AuthError
from ..i18n import Text, msg, setting_ref, table_ref
from ..models import Customer, Discount, PriceListPrice
from .av_source import changed_batches, rows_by_keys
from .base import Batch, Flow, Outcome, record_error, synced
from .filters import ArticleFilter
from .price_rules import price_group_list, same_entries, whole_percent

PRICE_GROUP_BY_CUSTOMER_GROUP = "customer_group_price_group"  # AccountView price list -> Mplus price group number
GENERATED_NUMBERS = "generated_article_numbers"  # non-numeric SKU -> Mplus article number (products flow)
# Bindings of this flow: what was last sent per article / per debtor (the products and customers flows own
# "article", "product" and "relation").
ARTICLE_PRICES, RELATION_PRICING = "article_prices", "relation_pricing"
RELATION_DISCOUNTS = "relation_article_discounts"  # what was last sent per debtor as its relation's article discounts
# Entity and stream of a debtor whose article discounts are (re)sent whole: its retries, and on a full resync the
# debtors that had discounts and have no rows any more. The stream of changed discount rows is "debtor_discount".
DEBTOR_DISCOUNTS = "debtor_article_discount"
CHUNK = 50  # keys per IN filter
SMALL_LOOKUP = 25  # fewer relations than this are read one by one instead of paging all relations


class PricesFlow(Flow):
    name = "prices"
    entity = "article"

    def prepare(self) -> None:
        self.article_filter = ArticleFilter.from_settings(self)
        self.skip_lists = {c.strip().upper() for c in self.settings.get("skip_price_lists") or () if c.strip()}
        self.include_vat = bool(self.settings.get("prices_include_vat"))
        self._groups: set[int] | None = None
        self._discounts: dict[str, list[Discount]] = {}
        self._bad_discounts: dict[str, str] = {}  # article group -> why one of its discount rows cannot be mapped
        self._relations: dict[int, dict] | None = None
        self._done: set[str] = set()  # SKUs handled this run (full resync: bound articles not seen are cleared)
        names = self.names
        self.price_sku_field = self.mapper("prices").source_of("sku") or names.price_list_item["sku"]
        self.discount_group_field = (self.mapper("discounts").source_of("article_group")
                                     or names.group_discount["article_group"])  # fmt: skip
        self.has_prices = self.available("price_list_item")
        self.has_discounts = self.available("group_discount")
        self.has_debtor_discounts = self.available("debtor_article_discount")
        self._discounts_done: set[str] = set()  # debtors whose article discounts were handled this run

    # --- reading -------------------------------------------------------------------------------------------
    def read_batches(self) -> Iterator[Batch]:
        names = self.names
        # An object the profile switches off was said so at the start of the run (Flow.switched_off).
        if self.available("price_list"):
            yield from changed_batches(self, names.price_list, stream="price_list")
        if self.has_prices:
            yield from changed_batches(self, names.price_list_item, stream="price")
        if self.has_discounts:
            yield from changed_batches(self, names.group_discount, stream="discount")
        if self.settings.get("sync_relation_pricing", True):
            yield from changed_batches(self, names.debtor, stream="debtor")
        if self.has_debtor_discounts:
            yield from changed_batches(self, names.debtor_article_discount, stream="debtor_discount")
        if self.options.full:
            yield from self.orphan_batches()
            if self.has_debtor_discounts:
                yield from self.orphan_discount_batches()

    def orphan_batches(self) -> Iterator[Batch]:
        """Full resync: articles that had B2B prices but no price row or discount reaches any more (deleted)."""
        empty = self.hash([])
        left = [
            b.source_id
            for b in self.store.bindings.iter(ARTICLE_PRICES)
            if b.source_id not in self._done and b.payload_hash != empty
        ]
        size = int(self.settings.get("batch_size") or 100)
        for start in range(0, len(left), size):
            rows = rows_by_keys(self, self.names.article, left[start : start + size])
            if rows:
                yield Batch(rows, stream="article")

    def orphan_discount_batches(self) -> Iterator[Batch]:
        """Full resync: debtors whose relation got article discounts that no row of theirs holds any more (deleted
        in AccountView): their relation's list is sent again, empty."""
        empty = self.hash([])
        left = [b.source_id for b in self.store.bindings.iter(RELATION_DISCOUNTS)
                if b.source_id not in self._discounts_done and b.payload_hash != empty]  # fmt: skip
        size = int(self.settings.get("batch_size") or 100)
        for start in range(0, len(left), size):
            chunk = left[start : start + size]
            yield Batch([{self.names.debtor.key_field: sid} for sid in chunk], stream=DEBTOR_DISCOUNTS)

    def fetch_by_ids(self, source_ids, entity):
        if entity == DEBTOR_DISCOUNTS:  # the debtor's rows are read again whole (sync_article_discounts)
            if not self.has_debtor_discounts:
                return None
            return [{self.names.debtor.key_field: r[self.names.debtor.key_field]}
                    for r in rows_by_keys(self, self.names.debtor, source_ids)]  # fmt: skip
        if entity == "debtor":
            return rows_by_keys(self, self.names.debtor, source_ids)
        if entity == "price_list":
            return rows_by_keys(self, self.names.price_list, source_ids) if self.available("price_list") else None
        # Articles are retried from their article row: it exists even when all its price rows are gone.
        return rows_by_keys(self, self.names.article, source_ids)

    def source_id(self, record: dict) -> str:
        # Article and price rows name the article; debtor rows the debtor; price-list rows the price list.
        n = self.names
        keys = (n.article.key_field, self.price_sku_field, n.debtor.key_field, n.price_list.key_field,
                n.group_discount["customer_group"], n.price_list_item.key_field)  # fmt: skip
        for key in keys:
            if key in record:
                return str(record.get(key) or "").strip()
        return ""

    def process_batch(self, batch: Batch) -> list[Outcome]:
        if batch.stream == "price_list":
            return [self.isolated(r, self.check_price_list, "price_list") for r in batch.records]
        if batch.stream == "debtor":
            return self.sync_debtors(batch.records)
        if batch.stream == "debtor_discount":
            field = self.names.debtor_article_discount["debtor"]
            return self.sync_article_discounts([str(r.get(field) or "").strip() for r in batch.records])
        if batch.stream == DEBTOR_DISCOUNTS:
            return self.sync_article_discounts([self.source_id(r) for r in batch.records])
        if batch.stream == "price":
            return self.sync_articles(self.article_rows(sorted({self.price_sku(r) for r in batch.records})))
        if batch.stream == "discount":
            return self.sync_articles(self.articles_of_groups(batch.records))
        return self.sync_articles({self.source_id(r): r for r in batch.records})

    # --- price lists -----------------------------------------------------------------------------------------
    def check_price_list(self, record: dict) -> Outcome:
        code = self.source_id(record)
        base = {"entity": "price_list", "source_id": code, "source_payload": record}
        if code.upper() in self.skip_lists:
            return Outcome(action="skipped", message=msg("prices.list_skipped", setting=setting_ref("skip_price_lists")),
                           **base)  # fmt: skip
        group = self.price_group(code, msg("prices.price_list", code=code))
        return Outcome(action="unchanged", target_id=str(group), message=msg("prices.price_group", group=group), **base)

    def price_group(self, code: str, what: Text, sid: str = "") -> int:
        """The existing Mplus price group of a price list / discount group code, or a clear record error."""
        group = self.tables.get(PRICE_GROUP_BY_CUSTOMER_GROUP, {}).get(code)
        if group is None:
            raise record_error(
                msg("prices.group_unmapped", what=what, code=code, table=table_ref(PRICE_GROUP_BY_CUSTOMER_GROUP),
                    setting=setting_ref("skip_price_lists")),
                source_id=sid or code,
            )
        number = int(group)
        if number not in self.mplus_groups():
            raise record_error(
                msg("prices.group_not_in_mplus", what=what, group=number, table=table_ref(PRICE_GROUP_BY_CUSTOMER_GROUP)),
                source_id=sid or code,
            )
        return number

    def mplus_groups(self) -> set[int]:
        if self._groups is None:
            self._groups = {int(g["priceGroupNumber"]) for g in self.mplus.price_groups()}
        return self._groups

    # --- articles: which ones a batch touches ----------------------------------------------------------------
    def price_sku(self, row: dict) -> str:
        return str(row.get(self.price_sku_field) or "").strip()

    def article_rows(self, skus: list[str]) -> dict[str, dict | None]:
        """SKU -> its article row (None: the article is not in AccountView), one request per 50 SKUs."""
        found: dict[str, dict | None] = dict.fromkeys(s for s in skus if s)
        for row in rows_by_keys(self, self.names.article, list(found)):
            found[self.source_id(row)] = row
        return found

    def articles_of_groups(self, discount_rows: list[dict]) -> dict[str, dict | None]:
        """A changed group discount touches every article of its article group."""
        groups = sorted({str(r.get(self.discount_group_field) or "").strip() for r in discount_rows} - {""})
        for group in groups:
            self._discounts.pop(group, None)  # read again: this batch holds news about it
            self._bad_discounts.pop(group, None)
        found: dict[str, dict | None] = {}
        for row in rows_by_keys(self, self.names.article, groups, field=self.names.article["group"]):
            found[self.source_id(row)] = row
        return found

    def prices_of(self, skus: list[str]) -> dict[str, list[dict]]:
        """All price-list rows of these articles (the whole list is sent, so every row is needed)."""
        rows: dict[str, list[dict]] = {s: [] for s in skus}
        if not self.has_prices:
            return rows
        items = self.names.price_list_item
        for row in rows_in(self.av, items.code, items.table, self.price_sku_field, skus, chunk=CHUNK, page_size=1000):
            rows.setdefault(self.price_sku(row), []).append(row)
        return rows

    def discounts_of(self, groups: set[str]) -> dict[str, list[Discount]]:
        """Group discounts per article group, read once per run per group."""
        missing = sorted(g for g in groups if g and g not in self._discounts)
        for g in missing:
            self._discounts[g] = []
        if not self.has_discounts:
            return {g: [] for g in groups}
        discounts = self.names.group_discount
        for row in rows_in(self.av, discounts.code, discounts.table, self.discount_group_field, missing, chunk=CHUNK):
            try:
                discount: Discount = self.mapper("discounts").to_model(row, self.tables)
            except ValueError as exc:  # a bad row fails the articles of its group only (plan_article)
                self._bad_discounts[str(row.get(self.discount_group_field) or "").strip()] = (
                    exc.text() if isinstance(exc, MappingError) else str(exc))
                continue
            self._discounts.setdefault(discount.article_group or "", []).append(discount)
        return {g: self._discounts.get(g, []) for g in groups}

    # --- articles: build, compare, write ---------------------------------------------------------------------
    def sync_articles(self, articles: dict[str, dict | None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        wanted: dict[str, dict] = {}  # SKU -> what plan_article decided to write
        keep = {s: r for s, r in articles.items() if s and s not in self._done}
        self._done.update(keep)
        price_rows = self.prices_of(sorted(keep))
        group_field = self.names.article["group"]
        discounts = self.discounts_of({str(r.get(group_field) or "").strip() for r in keep.values() if r})
        numbers = self.store.bindings.get_many("article", list(keep))
        bindings = self.store.bindings.get_many(ARTICLE_PRICES, list(keep))
        for sku, row in keep.items():
            rows = price_rows.get(sku, [])
            out = self.isolated(
                {self.names.article.key_field: sku},
                lambda _, s=sku, r=row, pr=rows: self.plan_article(s, r, pr, discounts, numbers, bindings.get(s)),
            )
            if isinstance(out, dict):
                wanted[sku] = out
                continue
            if out.action == "failed":
                out.source_payload = {"article": row, "prices": rows}
            outcomes.append(out)
        if wanted:
            outcomes.extend(self.write_articles(wanted))
        return outcomes

    def plan_article(self, sku, row, rows, discounts, numbers, binding) -> Outcome | dict:
        """An outcome when nothing is to be written, else what to write."""
        source = {"article": row, "prices": rows}
        if row is None:
            return self._out(sku, "skipped", source=source, message=msg("prices.article_not_in_av"))
        if self.article_filter.active and not self.article_filter.matches(row):
            return self._out(sku, "skipped", source=source, message=msg("flows.article_filtered"))
        group = str(row.get(self.names.article["group"]) or "").strip()
        if group in self._bad_discounts:
            raise record_error(msg("prices.discount_row_invalid", group=group, error=self._bad_discounts[group]))
        prices = []
        for price_row in rows:
            price: PriceListPrice = self.mapper().to_model(price_row, self.tables)
            if price.price_list.upper() not in self.skip_lists:
                prices.append((self.price_group(price.price_list, msg("prices.price_list", code=price.price_list), sku),
                               price))  # fmt: skip
        group_discounts = [
            (self.price_group(d.customer_group or "", msg("prices.discount_group", code=d.customer_group), sku), d)
            for d in discounts.get(group, [])
            if (d.customer_group or "").upper() not in self.skip_lists
        ]
        entries = price_group_list(sku, prices, group_discounts, self.include_vat)
        number = self.article_number(sku, numbers)
        payload = {"articleNumber": number, "priceGroupList": {"priceGroup": entries}}
        digest = self.hash(entries)
        if self.unchanged(binding, digest):
            return self._out(sku, "unchanged", number, source, payload)
        if not entries and binding is None:
            return self._out(sku, "skipped", number, source, payload, message=msg("prices.no_prices"))
        return {"number": number, "payload": payload, "digest": digest, "source": source}

    def article_number(self, sku: str, numbers) -> int:
        bound = numbers.get(sku)
        if bound and bound.target_id:
            return int(bound.target_id)
        if self.profile.mplus.sku_field == "articleNumber" and sku.isdigit() and 0 < int(sku) < 2**63:
            return int(sku)  # a numeric SKU is the Mplus article number (SPEC §1.3)
        generated = self.tables.get(GENERATED_NUMBERS, {}).get(sku)
        if generated:
            return int(generated)
        raise record_error(msg("flows.article_not_in_mplus", sku=sku), retry=True, source_id=sku)

    def write_articles(self, wanted: dict[str, dict]) -> list[Outcome]:
        # One getProducts for the batch: the product number each updateProduct needs, and what Mplus holds now.
        in_mplus = self.mplus.get_articles([w["number"] for w in wanted.values()])
        outcomes = []
        for sku, w in wanted.items():
            number, payload, source = w["number"], w["payload"], w["source"]
            entries = payload["priceGroupList"]["priceGroup"]
            current = in_mplus.get(number)
            bind = [synced(ARTICLE_PRICES, sku, number, w["digest"])]
            if current is None:
                outcomes.append(self._out(sku, "failed", number, source, payload, retry=True,
                                          error=msg("prices.article_not_in_mplus", sku=sku, number=number)))
                continue
            held = (current.get("priceGroupList") or {}).get("priceGroup") or []
            if not self.options.full and same_entries(held, entries):
                outcomes.append(self._out(sku, "unchanged", number, source, payload, bindings=bind,
                                          message=msg("prices.already_held")))  # fmt: skip
                continue
            if self.dry_run:
                outcomes.append(self._out(sku, "dry_run", number, source, payload))
                continue
            product = int(current["productNumber"])
            out = self.isolated(
                {self.names.article.key_field: sku},
                lambda _, p=product, n=number, e=entries: self.mplus.set_article_price_group_prices(p, n, e),
            )
            if isinstance(out, Outcome):  # the write failed: this article only, the batch goes on
                out.target_id, out.source_payload, out.target_payload = str(number), source, payload
                outcomes.append(out)
                continue
            outcomes.append(self._out(sku, "updated", number, source, payload, reply=out, bindings=bind))
        return outcomes

    def isolated(self, record: dict, fn, entity: str | None = None):
        """``fn(record)``, or a failed outcome for this record alone (an auth error still stops the run)."""
        try:
            return fn(record)
        except AuthError:
            raise
        except Exception as exc:  # noqa: BLE001 - per-record isolation is the point
            return self.failure(record, exc, entity=entity)

    def _out(self, sku, action, number=None, source=None, payload=None, **extra) -> Outcome:
        target = str(number) if number else None
        return Outcome("article", sku, action, target_id=target, source_payload=source, target_payload=payload, **extra)

    # --- debtors → relation price group and discount ---------------------------------------------------------
    def sync_debtors(self, rows: list[dict]) -> list[Outcome]:
        sids = [self.source_id(r) for r in rows]
        relations = self.store.bindings.get_many("relation", sids)
        bindings = self.store.bindings.get_many(RELATION_PRICING, sids)
        planned: list[tuple[dict, Outcome | dict]] = []
        for row in rows:
            sid = self.source_id(row)
            plan = self.isolated(row, lambda r, s=sid: self.plan_debtor(r, relations.get(s), bindings.get(s)), "debtor")
            planned.append((row, plan))
        todo = [p["relationNumber"] for _, p in planned if isinstance(p, dict)]
        current = self.current_relations(todo) if todo and not self.options.full else {}
        return [
            plan
            if isinstance(plan, Outcome)
            else self.isolated(row, lambda r, p=plan: self.write_debtor(r, p, current), "debtor")
            for row, plan in planned
        ]

    def plan_debtor(self, row: dict, relation, binding) -> Outcome | dict:
        sid = self.source_id(row)
        base = {"entity": "debtor", "source_id": sid, "source_payload": row}
        if relation is None or not relation.target_id:
            return Outcome(action="skipped", message=msg("prices.debtor_not_in_mplus"), **base)
        customer: Customer = self.mapper("customers").to_model(row, self.tables)
        number = int(relation.target_id)
        payload: dict = {"relationNumber": number}
        code = (customer.price_group or "").strip()
        if code and code.upper() not in self.skip_lists:
            payload["priceGroupNumber"] = self.price_group(code, msg("prices.debtor_price_list", code=code, debtor=sid),
                                                           sid)  # fmt: skip
        elif not code and int(self.settings.get("default_price_group") or 0):
            payload["priceGroupNumber"] = int(self.settings["default_price_group"])
        # Sent also when 0: a discount removed in AccountView must be removed from the relation.
        payload["discountPercentage"] = whole_percent(customer.discount_pct)
        if not 0 <= payload["discountPercentage"] <= 100:
            raise record_error(msg("prices.discount_out_of_range", debtor=sid, discount=customer.discount_pct))
        digest = self.hash(payload)
        note = None
        if customer.customer_group and code and customer.customer_group != code:
            # One price group per relation: the group discounts it gets are those of its price list.
            note = msg("prices.group_differs", group=customer.customer_group, code=code)
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=str(number), target_payload=payload, message=note, **base)
        return {"relationNumber": number, "payload": payload, "digest": digest, "note": note}

    def current_relations(self, numbers: list[int]) -> dict[int, dict]:
        """What MplusKASSA holds for these relations: one getRelation each when few, else all relations paged."""
        if self._relations is None and len(numbers) < SMALL_LOOKUP:
            found = {n: self.mplus.get_relation(n) for n in numbers}
            return {n: r for n, r in found.items() if r}
        if self._relations is None:
            self._relations = {int(r["relationNumber"]): r for r in self.mplus.iter_relations()}
        return self._relations

    def write_debtor(self, row: dict, plan: dict, current: dict[int, dict]) -> Outcome:
        sid, number, payload = self.source_id(row), plan["relationNumber"], plan["payload"]
        base = {"entity": "debtor", "source_id": sid, "source_payload": row, "target_payload": payload,
                "target_id": str(number)}  # fmt: skip
        bind = [synced(RELATION_PRICING, sid, number, plan["digest"])]
        held = current.get(number)
        if held is not None and all((held.get(k) or 0) == (v or 0) for k, v in payload.items()):
            return Outcome(action="unchanged", bindings=bind, message=plan["note"] or msg("prices.already_held"),
                           **base)  # fmt: skip
        if self.dry_run:
            return Outcome(action="dry_run", message=plan["note"], **base)
        reply = self.mplus.set_relation_pricing(
            number,
            price_group_number=payload.get("priceGroupNumber"),
            discount_percentage=payload["discountPercentage"],
        )
        if self._relations is not None:
            self._relations[number] = {**self._relations.get(number, {}), **payload}
        return Outcome(action="updated", reply=reply, bindings=bind, message=plan["note"], **base)

    # --- debtors → relation article discounts (an optional object, absent by default) ------------------------
    def sync_article_discounts(self, debtors: list[str]) -> list[Outcome]:
        """Each debtor's discount rows, read whole, as its relation's ``relationArticleDiscountList``."""
        sids = [d for d in dict.fromkeys(debtors) if d and d not in self._discounts_done]
        self._discounts_done.update(sids)
        if not sids:
            return []
        obj = self.names.debtor_article_discount
        debtor_field = obj["debtor"]
        rows: dict[str, list[dict]] = {s: [] for s in sids}
        for row in rows_in(self.av, obj.reader, obj.table, debtor_field, sids, chunk=CHUNK, page_size=1000):
            rows.setdefault(str(row.get(debtor_field) or "").strip(), []).append(row)
        relations = self.store.bindings.get_many("relation", sids)
        bindings = self.store.bindings.get_many(RELATION_DISCOUNTS, sids)
        skus = sorted({str(r.get(obj["sku"]) or "").strip() for rs in rows.values() for r in rs} - {""})
        numbers = self.store.bindings.get_many("article", skus)
        planned = []
        for sid in sids:
            record = {self.names.debtor.key_field: sid}
            plan = self.isolated(record, lambda _, s=sid: self.plan_article_discounts(
                s, rows[s], relations.get(s), bindings.get(s), numbers), DEBTOR_DISCOUNTS)  # fmt: skip
            planned.append((record, plan))
        todo = [p["relationNumber"] for _, p in planned if isinstance(p, dict)]
        current = self.current_relations(todo) if todo and not self.options.full else {}
        return [plan if isinstance(plan, Outcome)
                else self.isolated(record, lambda _, p=plan: self.write_article_discounts(p, current), DEBTOR_DISCOUNTS)
                for record, plan in planned]  # fmt: skip

    def plan_article_discounts(self, sid, rows, relation, binding, numbers) -> Outcome | dict:
        obj = self.names.debtor_article_discount
        base = {"entity": DEBTOR_DISCOUNTS, "source_id": sid, "source_payload": {"discounts": rows}}
        if relation is None or not relation.target_id:
            if not rows:
                return Outcome(action="skipped", message=msg("prices.debtor_not_in_mplus"), **base)
            # Its rows do not change when the customers flow creates the relation: retried until it does.
            raise record_error(msg("prices.debtor_discounts_no_relation", debtor=sid), retry=True, source_id=sid)
        number = int(relation.target_id)
        by_article: dict[int, int] = {}
        for row in rows:
            sku = str(row.get(obj["sku"]) or "").strip()
            if not sku:
                raise record_error(msg("prices.debtor_discount_no_article", debtor=sid,
                                       record=row.get(obj.key_field, "")), source_id=sid)  # fmt: skip
            pct = whole_percent(row.get(obj["pct"]))
            if not 0 <= pct <= 100:
                raise record_error(msg("prices.debtor_discount_out_of_range", debtor=sid, sku=sku,
                                       discount=row.get(obj["pct"])), source_id=sid)  # fmt: skip
            article = self.article_number(sku, numbers)
            if by_article.get(article, pct) != pct:
                raise record_error(msg("prices.debtor_discount_twice", debtor=sid, sku=sku), source_id=sid)
            by_article[article] = pct
        entries = [{"articleNumber": a, "discountPercentage": p} for a, p in sorted(by_article.items())]
        payload = {"relationNumber": number, "relationArticleDiscountList": {"relationArticleDiscount": entries}}
        digest = self.hash(entries)
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=str(number), target_payload=payload, **base)
        if not entries and binding is None:
            return Outcome(action="skipped", target_id=str(number), message=msg("prices.no_debtor_discounts"), **base)
        return {"sid": sid, "relationNumber": number, "entries": entries, "payload": payload, "digest": digest,
                "base": base}  # fmt: skip

    def write_article_discounts(self, plan: dict, current: dict[int, dict]) -> Outcome:
        number, entries = plan["relationNumber"], plan["entries"]
        base = {**plan["base"], "target_id": str(number), "target_payload": plan["payload"]}
        bind = [synced(RELATION_DISCOUNTS, plan["sid"], number, plan["digest"])]
        held = current.get(number)
        if held is not None:
            stored = (held.get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []
            if _discount_pairs(stored) == _discount_pairs(entries):
                return Outcome(action="unchanged", bindings=bind, message=msg("prices.already_held"), **base)
        if self.dry_run:
            return Outcome(action="dry_run", **base)
        reply = self.mplus.set_relation_article_discounts(number, entries)
        if self._relations is not None:
            self._relations[number] = {**self._relations.get(number, {}), **plan["payload"]}
        return Outcome(action="updated", reply=reply, bindings=bind, **base)


def _discount_pairs(entries: list[dict]) -> list[tuple]:
    """What a relation article discount says, without the till's own fields (its id, the relation's number)."""
    return sorted((int(e.get("articleNumber") or 0), int(e.get("articleDiscountGroupNumber") or 0),
                   int(e.get("minimumAmount") or 0), int(e.get("discountPercentage") or 0),
                   int(e.get("priceIncl") or 0), int(e.get("priceExcl") or 0)) for e in entries)  # fmt: skip
