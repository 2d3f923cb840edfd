"""Products: AccountView article groups and articles → MplusKASSA article groups and products (SPEC §1.3).

Two streams per run: first the article groups (the profile's ``article_group``
→ article groups, matched by binding, then by name), then the articles (``article``).
Articles sharing a variant group (the source field mapped to
``variant_group``) become one Mplus product with several articles; a changed
variant re-reads its siblings so the product is always sent whole.

Created or updated by SKU (profile ``mplus.sku_field``): with ``articleNumber``
a numeric SKU is the Mplus article number and a non-numeric one is rejected or
given a generated number (setting ``non_numeric_sku``), the SKU kept in
``extArticleId`` and ``pluNumber``; with ``pluNumber`` every SKU is the PLU of
its article, an existing till article is found by PLU and a new one gets a
generated number. On
create all content is sent; on update only the ticked ``update_fields``
groups, so what was enriched in Mplus is kept. A product whose mapped payload
is unchanged is not written.

Life cycle (setting ``inactive_articles``): a blocked or inactive article is deactivated in the till (the
article's ``active`` flag, sent on every update) and activated again when it comes back; an article deleted in
AccountView is found by a sweep of the article keys (every ``removed_check_hours``) and deactivated too. Stock
keeping (``stockArticle``) follows the setting ``manage_stock`` and the per-article field mapped to
``stock_article``.

Attributes go into the till article's own field the profile names (``mplus.attribute_fields``: colour, size,
brandName), every other attribute and every feature into a custom field of its own name, typed as the till
defines it (getCustomFieldLists): one the till does not define is an error on that article, never dropped.
The article discount group (a B2B item attribute) becomes ``articleDiscountGroupNumber``.

Article groups form a tree (the group's parent field): a parent is created before its children, a group whose
parent changed is moved, and a group is matched by name under its parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..clients.accountview_filters import rows_in
from ..errors import TransientError
from ..i18n import msg, profile_ref, setting_ref, table_ref
from ..models import Article, Category
from ..store.interfaces import Binding
from ..units import to_cents
from .av_source import changed_batches, rows_by_keys
from .base import Batch, Flow, Outcome, record_error, synced
from .filters import ArticleFilter

VAT_CODE_AV_MPLUS = "vat_code_av_mplus"  # AccountView VAT code -> Mplus vatCode
ARTICLE_DISCOUNT_GROUP = "article_discount_group"  # AccountView article discount group -> Mplus articleDiscountGroupNumber
GENERATED_NUMBERS = "generated_article_numbers"  # non-numeric SKU -> generated Mplus article number
MAX_ARTICLE_NUMBER = 2**63 - 1

# Which Mplus article fields each "update_fields" group covers (the product's own fields in PRODUCT_GROUPS).
ARTICLE_GROUPS = {
    "name": ("description", "receiptText", "invoiceText"),
    "description": ("extraText",),
    "price": ("priceIncl", "priceExcl", "purchasePrice"),
    "barcode": ("barcode",),
    "vat": ("vatCode",),
    "attributes": ("colour", "size", "brandName", "articleDiscountGroupNumber"),
    "extra_fields": ("customFieldList",),
}
PRODUCT_GROUPS = {"name": ("description",), "group": ("groupNumbers",)}
ALWAYS = ("articleNumber", "extArticleId", "pluNumber", "stockArticle")
STATUS = ("active",)  # sent on every update unless inactive_articles = leave
REMOVED = "removed_article"  # entity and stream of articles deleted in AccountView (the sweep)
# The sweep refuses to deactivate more than this share of the synced articles at once (a misconfigured read, not
# a shop that deleted most of its catalogue): it names the count and waits for a person.
REMOVED_MAX_SHARE = 0.5
# The value element of a custom field per data type of the till's definition (WSDL CustomField).
CUSTOM_VALUE = {"DATA-TYPE-STRING": "strValue", "DATA-TYPE-TEXT-ARRAY": "strValue", "DATA-TYPE-INT": "intValue",
                "DATA-TYPE-DECIMAL": "intValue", "DATA-TYPE-BOOL": "boolValue"}  # fmt: skip
DECIMAL_PLACES = 2  # a DATA-TYPE-DECIMAL custom field: intValue in hundredths


@dataclass
class _Write:
    """A product to create (``update`` None) or update, with what its log lines need."""

    key: str
    product: dict
    digest: str
    target: int | None
    update: dict | None
    articles: list
    mine: list
    failed: list


class ProductsFlow(Flow):
    name = "products"
    entity = "article"

    def prepare(self) -> None:
        self.article_filter = ArticleFilter.from_settings(self)
        self._mplus_groups: dict[str, list[tuple[int, int]]] | None = None
        self._mplus_group_content: dict[int, dict] = {}  # groupNumber -> {"name", "text"} as Mplus has them
        self._planned_groups: dict[str, int] = {}  # dry run: group code -> the Mplus group it would be (0: new)
        self._group_bindings: dict[str, Binding] = {}  # group bindings of the batch's articles (sync_articles)
        self.variant_field = self.mapper().source_of("variant_group") or ""
        self.by_plu = self.profile.mplus.sku_field == "pluNumber"
        self._found_by_plu: dict[str, int] = {}  # SKU -> number of the till article that already carries it as PLU
        self.deactivate = self.settings.get("inactive_articles", "deactivate") == "deactivate"
        self.manage_stock = bool(self.settings.get("manage_stock", True))
        self.currency = str(self.settings.get("currency") or "EUR").strip().upper()
        self.attribute_targets = self.profile.mplus.attribute_targets()
        self._custom_fields: dict[str, str] | None = None  # the till's article custom fields, read when first needed
        self._group_parent: dict[int, int] = {}  # Mplus groupNumber -> parent groupNumber (0: top level)
        self._group_targets: dict[str, int] = {}  # group code -> Mplus group, synced by this run (not committed yet)

    # --- reading -------------------------------------------------------------------------------------------
    def read_batches(self):
        yield from self.parents_first(changed_batches(self, self.names.article_group, stream="group"))
        yield from changed_batches(self, self.names.article, stream="article")
        if self.deactivate:
            yield from self.removed_batches()

    def fetch_by_ids(self, source_ids, entity):
        if entity == REMOVED:  # still deleted? (one that came back is synced by the article stream)
            present = {self.source_id(r) for r in rows_by_keys(self, self.names.article, source_ids)}
            return [{self.names.article.key_field: sid, REMOVED: True} for sid in source_ids if sid not in present]
        return rows_by_keys(self, self.names.article_group if entity == "group" else self.names.article, source_ids)

    def parents_first(self, batches):
        """Group batches with every parent before its children (within the batch; a parent of an earlier batch or
        of Mplus is found by its binding, one of a later batch makes the child wait for a retry)."""
        key, parent = self.names.article_group.key_field, self.mapper("categories").source_of("parent_code")
        for batch in batches:
            if parent and len(batch.records) > 1:
                batch.records = _parents_first(batch.records, key, parent)
            yield batch

    def source_id(self, record: dict) -> str:
        article_key, group_key = self.names.article.key_field, self.names.article_group.key_field
        key = group_key if group_key in record and article_key not in record else article_key
        return str(record.get(key, "")).strip()

    def process_batch(self, batch: Batch):
        if batch.stream == "group":
            return [self.guarded_group(r) for r in batch.records]
        if batch.stream == REMOVED:
            return self.deactivate_removed([self.source_id(r) for r in batch.records])
        if batch.stream == REMOVED + ":refused":
            found = batch.records[0]
            return [Outcome(REMOVED, "*", "failed", error=msg(
                "products.removed_refused", count=found["count"], of=found["of"], share=f"{REMOVED_MAX_SHARE:.0%}"))]
        return self.sync_articles(batch.records)

    def guarded_group(self, record: dict) -> Outcome:
        outcome = self.guarded(record, self.sync_group)
        outcome.entity = "group"
        if outcome.target_id and outcome.action != "dry_run":
            self._group_targets[outcome.source_id.upper()] = int(outcome.target_id)  # a parent for its children
        return outcome

    # --- article groups ------------------------------------------------------------------------------------
    def sync_group(self, record: dict) -> Outcome:
        code = str(record.get(self.names.article_group.key_field, "")).strip()
        category: Category = self.mapper("categories").to_model(record, self.tables)
        base = {"entity": "group", "source_id": code, "source_payload": record}
        if self.article_filter.groups and code.upper() not in self.article_filter.groups:
            return Outcome(action="skipped", message=msg("products.group_filtered", setting=setting_ref("filter_groups")),
                           **base)  # fmt: skip
        payload = {"name": (category.name or code)[:50], "text": category.name or code}
        parent_code = (category.parent_code or "").strip()
        parent = self.parent_number(code, parent_code)
        if parent_code:
            payload["parentGroupNumber"] = parent
        digest = self.hash({**payload, "parent": parent_code})
        binding = self.store.bindings.get("group", code)
        base["target_payload"] = payload
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=binding.target_id, **base)
        if binding and binding.target_id:
            target = int(binding.target_id)
        else:
            target = self.match_group(code, parent, payload["name"])
        payload["parentGroupNumber"] = parent  # a group without a parent in AccountView is moved to the top
        if target and not (binding and binding.target_id) and self._mplus_group_content.get(target) == payload:
            # Matched by name and already as AccountView has it: bind it, nothing to write.
            self._planned_groups[code] = target
            return Outcome(action="unchanged", target_id=str(target), bindings=[synced("group", code, target, digest)],
                           message=msg("products.group_matched"), **base)  # fmt: skip
        if self.dry_run:
            self._planned_groups[code] = target or 0
            message = msg("flows.would_update") if target else msg("flows.would_create")
            return Outcome(action="dry_run", target_id=str(target or ""), message=message, **base)
        if target:
            self.mplus.update_article_group(target, **payload)
            action = "updated"
            if self._group_parent.get(target, parent) != parent:
                moved = msg("products.group_moved", group=parent) if parent else msg("products.group_moved_top")
                action, base["message"] = "updated", moved
            self._group_parent[target] = parent
        else:
            self.store.bindings.mark_pending("group", code, payload_hash=digest)
            try:
                target = self.mplus.create_article_group(payload["name"], text=payload["text"],
                                                         parent_group_number=parent)  # fmt: skip
            except TransientError:
                self._mplus_groups = None  # maybe created: the next attempt matches it by name under its parent
                raise
            self.mplus_groups().setdefault(_norm(payload["name"]), []).append((parent, target))
            self._group_parent[target] = parent
            action = "created"
        return Outcome(action=action, target_id=str(target), bindings=[synced("group", code, target, digest)], **base)

    def parent_number(self, code: str, parent_code: str) -> int:
        """The Mplus group number of a group's parent (0: a top-level group)."""
        if not parent_code:
            return 0
        if parent_code.upper() == code.upper():
            raise record_error(msg("products.group_own_parent", group=code), source_id=code)
        if parent_code.upper() in self._group_targets:
            return self._group_targets[parent_code.upper()]
        bound = self.store.bindings.get("group", parent_code)
        if bound and bound.target_id:
            return int(bound.target_id)
        if self.dry_run and parent_code in self._planned_groups:
            return self._planned_groups[parent_code]
        raise record_error(msg("products.parent_group_missing", parent=parent_code, group=code), retry=True,
                           source_id=code)  # fmt: skip

    def match_group(self, code: str, parent: int, name: str) -> int | None:
        """An existing Mplus group of this name no other AccountView group is bound to: the one under the same
        parent first, else one elsewhere in the tree (which is then moved)."""
        candidates = sorted(self.mplus_groups().get(_norm(name), []), key=lambda pn: (pn[0] != parent, pn[1]))
        taken = set(self._group_targets.values())
        for _, number in candidates:
            if number in taken:
                continue
            owner = self.store.bindings.get_by_target("group", str(number))
            if owner is None or owner.source_id.upper() == code.upper():
                return number
        return None

    def mplus_groups(self) -> dict[str, list[tuple[int, int]]]:
        """Existing Mplus article groups by name: (parent group number, group number), read once per run."""
        if self._mplus_groups is None:
            found: dict[str, list[tuple[int, int]]] = {}

            def walk(groups, parent: int):
                for g in groups:
                    number = int(g["groupNumber"])
                    found.setdefault(_norm(g.get("name")), []).append((parent, number))
                    content = {"name": g.get("name") or "", "text": g.get("text") or "", "parentGroupNumber": parent}
                    self._mplus_group_content[number] = content
                    self._group_parent[number] = parent
                    walk((g.get("subGroupList") or {}).get("articleGroups") or [], number)

            walk(self.mplus.article_groups(), 0)
            self._mplus_groups = found
        return self._mplus_groups

    # --- articles → products -------------------------------------------------------------------------------
    def sync_articles(self, rows: list[dict]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        mapped: dict[str, tuple[dict, Article]] = {}
        for row in rows:
            sku = self.source_id(row)
            try:
                article = self.mapper().to_model(row, self.tables)
            except Exception as exc:  # noqa: BLE001 - one bad row, the batch goes on
                outcomes.append(self.failure(row, exc))
                continue
            if self.article_filter.active and not self.article_filter.matches(row):
                outcomes.append(Outcome("article", sku, "skipped", source_payload=row,
                                        message=msg("flows.article_filtered")))  # fmt: skip
                continue
            mapped[sku] = (row, article)
        # Variants: a changed article brings its whole product, so read the siblings not in this batch.
        groups = {a.variant_group for _, a in mapped.values() if a.variant_group}
        siblings = self.read_siblings(groups, set(mapped)) if groups else {}
        products: dict[str, list[tuple[dict, Article, bool]]] = {}
        for sku, (row, article) in mapped.items():
            products.setdefault(article.variant_group or f"sku:{sku}", []).append((row, article, True))
        for row, article in siblings.values():
            products.setdefault(article.variant_group, []).append((row, article, False))
        bindings = self.store.bindings.get_many("product", list(products))
        skus = [a.sku for members in products.values() for _, a, _ in members]
        article_bindings = self.store.bindings.get_many("article", skus)
        codes = {c for members in products.values() for _, a, _ in members for c in a.category_codes}
        self._group_bindings = self.store.bindings.get_many("group", codes)  # one read, not one per product
        existing = self.lookup_existing(products, bindings, article_bindings)
        writes: list[_Write] = []
        for key, members in products.items():
            planned = self.plan_product(key, members, bindings.get(key), article_bindings, existing)
            if isinstance(planned, list):
                outcomes.extend(planned)
            else:
                writes.append(planned)
        creates = [w for w in writes if w.update is None]
        if creates:  # the intents of the whole batch in one commit, before any create is sent
            with self.store.transaction():
                for w in creates:
                    self.store.bindings.mark_pending("product", w.key, payload_hash=w.digest)
        for lines in self.concurrently(self.write_product, writes):
            outcomes.extend(lines)
        return outcomes

    def read_siblings(self, groups: set[str], have: set[str]) -> dict[str, tuple[dict, Article]]:
        if not self.variant_field:
            return {}
        out: dict[str, tuple[dict, Article]] = {}
        names = sorted(groups)
        art = self.names.article
        for start in range(0, len(names), 50):
            chunk = names[start : start + 50]
            rows = rows_in(self.av, art.code, art.table, self.variant_field, chunk)  # any key (commas too)
            for row in rows:
                sku = self.source_id(row)
                if sku in have or (self.article_filter.active and not self.article_filter.matches(row)):
                    continue
                try:
                    out[sku] = (row, self.mapper().to_model(row, self.tables))
                except Exception:  # noqa: BLE001, S112 - a broken sibling fails on its own row when it changes
                    continue
        return out

    def lookup_existing(self, products, bindings, article_bindings) -> dict[int, int]:
        """Mplus articleNumber -> productNumber for articles of products not bound yet (one call per 500). With
        ``sku_field = pluNumber`` the till's articles are found by PLU first (their numbers are remembered)."""
        numbers, plus = [], []
        for key, members in products.items():
            binding = bindings.get(key)
            if binding and binding.target_id and binding.state == "synced":
                continue
            for _, a, _ in members:
                number = self.known_number(a.sku, article_bindings)
                if number:
                    numbers.append(number)
                elif self.by_plu:
                    plus.append(a.sku)
        existing: dict[int, int] = {}
        if plus:
            for product in self.mplus.get_products(plu_numbers=plus):
                for article in (product.get("articleList") or {}).get("article") or []:
                    plu = str(article.get("pluNumber") or "").strip()
                    if plu in plus:
                        self._found_by_plu[plu] = int(article["articleNumber"])
                        existing[int(article["articleNumber"])] = int(product["productNumber"])
        if numbers:
            existing.update({n: int(a["productNumber"]) for n, a in self.mplus.get_articles(numbers).items()})
        return existing

    def known_number(self, sku: str, article_bindings) -> int | None:
        bound = article_bindings.get(sku)
        if bound and bound.target_id:
            return int(bound.target_id)
        if not self.by_plu and _numeric(sku):
            return int(sku)
        generated = self.tables.get(GENERATED_NUMBERS, {}).get(sku)
        return int(generated) if generated else self._found_by_plu.get(sku)

    def article_number(self, sku: str, article_bindings) -> int:
        number = self.known_number(sku, article_bindings)
        if number:
            return number
        if not self.by_plu and self.settings.get("non_numeric_sku", "reject") != "generate":
            raise record_error(msg("products.sku_not_numeric", sku=sku, setting=setting_ref("non_numeric_sku")),
                               source_id=sku)  # fmt: skip
        if self.dry_run:
            return 0
        # Stored before the write, so a retry after a lost reply reuses the same number.
        table = self.tables.setdefault(GENERATED_NUMBERS, {})
        base = int(self.settings.get("generated_number_base", 900_000_000_000))
        number = max([base - 1, *(int(v) for v in table.values())]) + 1
        self.store.mappings.set_value(GENERATED_NUMBERS, sku, str(number))
        table[sku] = str(number)
        return number

    def plan_product(self, key: str, members, binding, article_bindings,
                     existing: dict[int, int]) -> list[Outcome] | _Write:  # fmt: skip
        """Everything up to the remote write: the outcomes when there is nothing to write (unchanged, dry run, an
        article that cannot be mapped), else the write to make. Runs in the flow's thread: it reads the store."""
        failed: list[Outcome] = []
        articles: list[tuple[dict, Article, dict]] = []
        for row, article, changed in members:
            try:
                articles.append((row, article, self.article_payload(article, article_bindings)))
            except Exception as exc:  # noqa: BLE001 - this article fails, its siblings go on
                if changed:
                    failed.append(self.failure(row, exc))
        changed_rows = {id(row) for row, _, changed in members if changed}
        articles.sort(key=lambda item: item[2]["articleNumber"])
        mine = [(row, p) for row, _, p in articles if id(row) in changed_rows]  # lines of this batch's rows
        if not mine:
            return failed
        try:
            product = self.product_payload([a for _, a, _ in articles], [p for _, _, p in articles])
        except Exception as exc:  # noqa: BLE001 - the product cannot be built: its changed articles fail
            return failed + [self.failure(row, exc) for row, _ in mine]
        digest = self.hash(product)
        if binding and binding.target_id:
            target = int(binding.target_id)
        else:
            target = next(
                (existing[p["articleNumber"]] for _, _, p in articles if p["articleNumber"] in existing), None
            )
        if self.unchanged(binding, digest):
            return failed + [self._line(row, "unchanged", p, product, target) for row, p in mine]
        if self.dry_run:
            note = msg("flows.would_update") if target else msg("flows.would_create")
            return failed + [self._line(row, "dry_run", p, product, target, message=note) for row, p in mine]
        update = None
        if target:
            in_mplus = {a for a, prod in existing.items() if prod == target}
            in_mplus |= {int(b.target_id) for b in article_bindings.values() if b.target_id}
            update = self.update_payload(target, product, in_mplus)
        return _Write(key, product, digest, target, update, articles, mine, failed)

    def write_product(self, w: _Write) -> list[Outcome]:
        """The remote write of a planned product and its log lines. Touches no store (it may run in a worker
        thread): the bindings go on the first line and are stored when the batch commits."""
        try:
            if w.update is not None:
                reply = self.mplus.update_product(w.update)
                action, target = "updated", w.target
            else:
                reply = self.mplus.create_product(w.product)
                action, target = "created", int(reply["productNumber"])
        except Exception as exc:  # noqa: BLE001 - every changed article of the product shares the failure
            return w.failed + [self.failure(row, exc) for row, _ in w.mine]
        lines = [self._line(row, action, p, w.product, target, reply=reply) for row, p in w.mine]
        lines[0].bindings = [synced("product", w.key, target, w.digest)] + [
            synced("article", a.sku, p["articleNumber"], self.hash(p)) for _, a, p in w.articles
        ]
        return w.failed + lines

    def _line(self, row, action, article_payload, product, product_number, *, reply=None, message=None) -> Outcome:
        return Outcome(
            "article",
            self.source_id(row),
            action,
            target_id=str(article_payload["articleNumber"]),
            source_payload=row,
            target_payload=product,
            reply=reply,
            message=message or (msg("products.product", product=product_number) if product_number else None),
        )

    # --- canonical → Mplus -----------------------------------------------------------------------------------
    def article_payload(self, a: Article, article_bindings) -> dict[str, Any]:
        number = self.article_number(a.sku, article_bindings)
        p: dict[str, Any] = {"articleNumber": number, "extArticleId": a.sku}
        if self.by_plu or not _numeric(a.sku):
            p["pluNumber"] = a.sku
        name = a.name or a.sku
        p["description"] = name[:60]
        p["receiptText"] = (a.short_description or name)[:30]
        p["invoiceText"] = name[:60]
        if a.long_description:
            p["extraText"] = a.long_description
        if a.ean:
            p["barcode"] = a.ean
        p["active"] = a.active and not a.blocked if self.deactivate else True
        p["stockArticle"] = self.manage_stock and a.stock_article is not False
        if a.currency and a.currency.strip().upper() != self.currency:
            raise record_error(msg("products.other_currency", sku=a.sku, currency=a.currency.strip().upper(),
                                   shop_currency=self.currency, setting=setting_ref("currency")),
                               source_id=a.sku)  # fmt: skip
        include_vat, price = self.sales_price(a)
        if price is not None:
            p["priceIncl" if include_vat else "priceExcl"] = to_cents(price)
        if a.cost_price is not None:
            p["purchasePrice"] = to_cents(a.cost_price)
        if a.vat_code:
            vat = self.tables.get(VAT_CODE_AV_MPLUS, {}).get(a.vat_code)
            if vat is None:
                raise record_error(
                    msg("products.vat_code_unmapped", vat_code=a.vat_code, sku=a.sku, table=table_ref(VAT_CODE_AV_MPLUS)),
                    retry=True,  # retried automatically: it succeeds once the mapping is added
                    source_id=a.sku,
                )
            p["vatCode"] = int(vat)
        custom: dict[str, Any] = {}
        for name, value in sorted(a.attributes.items()):
            if value in (None, ""):
                continue
            if name in self.attribute_targets:
                p[self.attribute_targets[name]] = str(value)
            else:
                custom[name] = value
        custom.update({k: v for k, v in a.features.items() if v not in (None, "")})
        if custom:
            p["customFieldList"] = {"customField": [self.custom_field(a.sku, k, v) for k, v in sorted(custom.items())]}
        if a.discount_group:
            p["articleDiscountGroupNumber"] = self.discount_group_number(a.sku, a.discount_group)
        p.update(a.extra)
        return p

    def custom_fields(self) -> dict[str, str]:
        if self._custom_fields is None:
            self._custom_fields = self.mplus.article_custom_fields()
        return self._custom_fields

    def custom_field(self, sku: str, name: str, value: Any) -> dict[str, Any]:
        """One attribute or feature as a custom field of the till's article, typed as the till defines it."""
        kind = self.custom_fields().get(name)
        if kind is None:
            raise record_error(
                msg("products.custom_field_missing", sku=sku, name=name, value=repr(str(value)[:40]),
                    profile=profile_ref("mplus.attribute_fields")),
                wait="mapping",
                source_id=sku,
            )
        element = CUSTOM_VALUE.get(kind)
        try:
            if element == "strValue":
                converted: Any = str(value)
            elif element == "boolValue":
                converted = _to_bool(value)
            elif kind == "DATA-TYPE-DECIMAL":
                converted = int((Decimal(str(value)) * 10**DECIMAL_PLACES).to_integral_value())
            elif element == "intValue":
                number = Decimal(str(value))
                if number != number.to_integral_value():
                    raise ValueError
                converted = int(number)
            else:
                raise record_error(msg("products.custom_field_type", sku=sku, name=name, kind=kind), source_id=sku)
        except (ValueError, ArithmeticError):
            raise record_error(msg("products.custom_field_value", sku=sku, value=repr(str(value)[:40]), name=name,
                                   kind=kind), source_id=sku) from None  # fmt: skip
        field = {"fieldName": name, "dataType": kind, element: converted}
        if kind == "DATA-TYPE-DECIMAL":
            field["decimalPlaces"] = DECIMAL_PLACES
        return field

    def discount_group_number(self, sku: str, code: str) -> int:
        """The till's article discount group of an AccountView discount group: the mapping table, else the code
        itself when it is a number."""
        mapped = self.tables.get(ARTICLE_DISCOUNT_GROUP, {}).get(code)
        if mapped is None and code.isdigit():
            mapped = code
        if mapped is None or not str(mapped).strip().isdigit():
            raise record_error(msg("products.discount_group_unmapped", group=code, sku=sku,
                                   table=table_ref(ARTICLE_DISCOUNT_GROUP)), wait="mapping", source_id=sku)  # fmt: skip
        return int(mapped)

    def sales_price(self, a: Article) -> tuple[bool, Any]:
        """(price includes VAT?, the price). The mapped sales price (@article.price → price_excl by default) includes
        VAT when the setting ``prices_include_vat`` is on or the article says so itself (@article.price_incl_vat →
        prices_include_vat); a mapping that fills only ``price_incl`` means a price including VAT."""
        if a.price_incl is not None and a.price_excl is None:
            return True, a.price_incl
        include_vat = bool(self.settings.get("prices_include_vat")) or bool(a.prices_include_vat)
        if a.price_excl is not None and a.price_incl is None:
            return include_vat, a.price_excl
        return include_vat, a.price_incl if include_vat else a.price_excl

    def product_payload(self, articles: list[Article], payloads: list[dict]) -> dict[str, Any]:
        first = articles[0]
        name = first.name or first.sku
        if first.variant_group and len(articles) > 1:
            name = _common_prefix([a.name or "" for a in articles]) or first.variant_group
        product: dict[str, Any] = {"description": name[:60], "articleList": {"article": payloads}}
        groups = []
        for code in dict.fromkeys(c for a in articles for c in a.category_codes):
            bound = self._group_bindings.get(code)  # read for the whole batch in sync_articles
            if self.dry_run and (not bound or not bound.target_id) and code in self._planned_groups:
                groups.append(self._planned_groups[code])  # what the group would be (0: created by this run)
                continue
            if not bound or not bound.target_id:
                raise record_error(
                    msg("products.group_missing", group=code),
                    retry=True,
                    source_id=first.sku,
                )
            groups.append(int(bound.target_id))
        if groups:
            product["groupNumbers"] = groups
        return product

    def update_payload(self, product_number: int, product: dict, in_mplus: set[int]) -> dict[str, Any]:
        ticked = set(self.settings.get("update_fields") or ())
        out: dict[str, Any] = {"productNumber": product_number}
        for group, fields in PRODUCT_GROUPS.items():
            if group in ticked:
                out.update({f: product[f] for f in fields if f in product})
        always = ALWAYS + STATUS if self.deactivate else ALWAYS
        article_fields = set(always).union(*(ARTICLE_GROUPS[g] for g in ticked if g in ARTICLE_GROUPS))
        articles = []
        for p in product["articleList"]["article"]:
            if p["articleNumber"] in in_mplus:
                articles.append({k: v for k, v in p.items() if k in article_fields})
            else:
                articles.append(p)  # a new variant: all content, as on create
        out["articleList"] = {"article": articles}
        return out


    # --- articles deleted in AccountView ---------------------------------------------------------------------
    def removed_batches(self):
        """Every ``removed_check_hours`` (and on a full run): the synced articles AccountView no longer has, as
        one stream of batches; its watermark is the time of the last sweep."""
        mark = self.store.watermarks.get(self.name, REMOVED)
        hours = float(self.settings.get("removed_check_hours", 24))
        now = self.now()
        if not self.from_start and mark.value:
            try:
                last = datetime.fromisoformat(mark.value)
            except ValueError:
                last = None
            if last is not None and now - last < timedelta(hours=hours):
                return
        art = self.names.article
        present = {str(r.get(art.key_field, "")).strip() for r in self.av.iter_rows(art.reader, art.table,
                                                                                  fields=[art.key_field])}  # fmt: skip
        synced_skus = [b.source_id for b in self.store.bindings.iter("article", "synced")
                       if b.payload_hash != REMOVED and b.target_id]  # fmt: skip
        gone = sorted(sku for sku in synced_skus if sku not in present)
        if gone and len(gone) > 10 and len(gone) > REMOVED_MAX_SHARE * len(synced_skus):
            yield Batch([{art.key_field: "*", REMOVED: True, "count": len(gone), "of": len(synced_skus)}],
                        stream=REMOVED + ":refused")  # fmt: skip
            gone = []  # checked again after removed_check_hours
        size = int(self.settings.get("batch_size") or 100)
        for start in range(0, len(gone), size):
            yield Batch([{art.key_field: sku, REMOVED: True} for sku in gone[start : start + size]], stream=REMOVED)
        yield Batch([], stream=REMOVED, watermark=now.isoformat(timespec="seconds"))

    def deactivate_removed(self, skus: list[str]) -> list[Outcome]:
        """Deactivate the till articles of articles deleted in AccountView (one product update per product)."""
        bindings = self.store.bindings.get_many("article", skus)
        numbers = {sku: int(b.target_id) for sku, b in bindings.items() if b.target_id}
        outcomes = [Outcome(REMOVED, sku, "skipped", message=msg("products.removed_never_synced"))
                    for sku in skus if sku not in numbers]  # fmt: skip
        if not numbers:
            return outcomes
        in_mplus = self.mplus.get_articles(list(numbers.values())) if not self.dry_run else {}
        by_product: dict[int, list[str]] = {}
        for sku, number in numbers.items():
            article = in_mplus.get(number)
            if self.dry_run:
                outcomes.append(Outcome(REMOVED, sku, "dry_run", target_id=str(number),
                                        message=msg("products.would_deactivate")))  # fmt: skip
            elif article is None:
                outcomes.append(Outcome(REMOVED, sku, "skipped", target_id=str(number),
                                        message=msg("products.removed_gone_both"),
                                        bindings=[_removed(sku, number)]))  # fmt: skip
            else:
                by_product.setdefault(int(article["productNumber"]), []).append(sku)
        for product, members in sorted(by_product.items()):
            update = {"productNumber": product, "articleList": {"article": [
                {"articleNumber": numbers[sku], "active": False} for sku in members]}}  # fmt: skip
            try:
                reply = self.mplus.update_product(update)
            except Exception as exc:  # noqa: BLE001 - this product's articles fail together, the rest goes on
                outcomes.extend(self.failure({self.names.article.key_field: sku}, exc, entity=REMOVED)
                                for sku in members)  # fmt: skip
                continue
            product_binding = self.store.bindings.get_by_target("product", str(product))
            for sku in members:
                lines = [_removed(sku, numbers[sku])]
                if product_binding is not None:  # sent whole again when an article of it changes or comes back
                    lines.append(synced("product", product_binding.source_id, product, REMOVED))
                outcomes.append(Outcome(REMOVED, sku, "updated", target_id=str(numbers[sku]), target_payload=update,
                                        reply=reply, bindings=lines,
                                        message=msg("products.removed_deactivated", product=product)))
        return outcomes


def _removed(sku: str, number: int):
    return synced("article", sku, number, REMOVED)


def _parents_first(records: list[dict], key: str, parent_field: str) -> list[dict]:
    """The records with every parent before its children (others keep their order; a cycle keeps its order)."""
    by_code = {str(r.get(key, "")).strip().upper(): r for r in records}
    done: set[str] = set()
    out: list[dict] = []

    def visit(record: dict, path: set[str]) -> None:
        code = str(record.get(key, "")).strip().upper()
        if code in done or code in path:
            return
        parent = str(record.get(parent_field) or "").strip().upper()
        if parent in by_code:
            visit(by_code[parent], path | {code})
        done.add(code)
        out.append(record)

    for record in records:
        visit(record, set())
    return out


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "ja", "j"):
        return True
    if text in ("0", "false", "no", "n", "nee", ""):
        return False
    raise ValueError(value)


def _numeric(sku: str) -> bool:
    return sku.isdigit() and 0 < int(sku) <= MAX_ARTICLE_NUMBER


def _norm(name) -> str:
    return str(name or "").strip().lower()


def _common_prefix(names: list[str]) -> str:
    words = [n.split() for n in names if n]
    if not words:
        return ""
    common = []
    for column in zip(*words, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return " ".join(common)
