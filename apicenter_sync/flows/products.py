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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..clients.accountview import Filter
from ..errors import TransientError
from ..models import Article, Category
from ..units import to_cents
from .av_source import changed_batches, rows_by_keys
from .base import Batch, Flow, Outcome, record_error, synced
from .filters import ArticleFilter

VAT_CODE_AV_MPLUS = "vat_code_av_mplus"  # AccountView VAT code -> Mplus vatCode
GENERATED_NUMBERS = "generated_article_numbers"  # non-numeric SKU -> generated Mplus article number
MAX_ARTICLE_NUMBER = 2**63 - 1

# Which Mplus article fields each "update_fields" group covers (the product's own fields in PRODUCT_GROUPS).
ARTICLE_GROUPS = {
    "name": ("description", "receiptText", "invoiceText"),
    "description": ("extraText",),
    "price": ("priceIncl", "priceExcl", "purchasePrice"),
    "barcode": ("barcode",),
    "vat": ("vatCode",),
    "attributes": ("colour", "size"),
    "extra_fields": ("customFieldList",),
}
PRODUCT_GROUPS = {"name": ("description",), "group": ("groupNumbers",)}
ALWAYS = ("articleNumber", "extArticleId", "pluNumber")


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
        self._mplus_groups: dict[str, int] | None = None
        self._mplus_group_content: dict[int, dict] = {}  # groupNumber -> {"name", "text"} as Mplus has them
        self._planned_groups: dict[str, int] = {}  # dry run: group code -> the Mplus group it would be (0: new)
        self.variant_field = self.mapper().source_of("variant_group") or ""
        self.by_plu = self.profile.mplus.sku_field == "pluNumber"
        self._found_by_plu: dict[str, int] = {}  # SKU -> number of the till article that already carries it as PLU

    # --- reading -------------------------------------------------------------------------------------------
    def read_batches(self):
        yield from changed_batches(self, self.names.article_group, stream="group")
        yield from changed_batches(self, self.names.article, stream="article")

    def fetch_by_ids(self, source_ids, entity):
        return rows_by_keys(self, self.names.article_group if entity == "group" else self.names.article, source_ids)

    def source_id(self, record: dict) -> str:
        article_key, group_key = self.names.article.key_field, self.names.article_group.key_field
        key = group_key if group_key in record and article_key not in record else article_key
        return str(record.get(key, "")).strip()

    def process_batch(self, batch: Batch):
        if batch.stream == "group":
            return [self.guarded_group(r) for r in batch.records]
        return self.sync_articles(batch.records)

    def guarded_group(self, record: dict) -> Outcome:
        outcome = self.guarded(record, self.sync_group)
        outcome.entity = "group"
        return outcome

    # --- article groups ------------------------------------------------------------------------------------
    def sync_group(self, record: dict) -> Outcome:
        code = str(record.get(self.names.article_group.key_field, "")).strip()
        category: Category = self.mapper("categories").to_model(record, self.tables)
        base = {"entity": "group", "source_id": code, "source_payload": record}
        if self.article_filter.groups and code.upper() not in self.article_filter.groups:
            return Outcome(action="skipped", message="group excluded by filter_groups", **base)
        payload = {"name": (category.name or code)[:50], "text": category.name or code}
        digest = self.hash(payload)
        binding = self.store.bindings.get("group", code)
        base["target_payload"] = payload
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=binding.target_id, **base)
        if binding and binding.target_id:
            target = int(binding.target_id)
        else:
            target = self.mplus_groups().get(_norm(payload["name"]))
        if target and not (binding and binding.target_id) and self._mplus_group_content.get(target) == payload:
            # Matched by name and already as AccountView has it: bind it, nothing to write.
            self._planned_groups[code] = target
            return Outcome(action="unchanged", target_id=str(target), bindings=[synced("group", code, target, digest)],
                           message="matched by name", **base)  # fmt: skip
        if self.dry_run:
            self._planned_groups[code] = target or 0
            message = "update" if target else "create"
            return Outcome(action="dry_run", target_id=str(target or ""), message=message, **base)
        if target:
            self.mplus.update_article_group(target, **payload)
            action = "updated"
        else:
            self.store.bindings.mark_pending("group", code, payload_hash=digest)
            try:
                target = self.mplus.create_article_group(payload["name"], text=payload["text"])
            except TransientError:
                self._mplus_groups = None  # maybe created: the next attempt matches it by name
                raise
            self.mplus_groups()[_norm(payload["name"])] = target
            action = "created"
        return Outcome(action=action, target_id=str(target), bindings=[synced("group", code, target, digest)], **base)

    def mplus_groups(self) -> dict[str, int]:
        """Existing Mplus article groups by name, read once per run."""
        if self._mplus_groups is None:
            found: dict[str, int] = {}

            def walk(groups):
                for g in groups:
                    found.setdefault(_norm(g.get("name")), int(g["groupNumber"]))
                    content = {"name": g.get("name") or "", "text": g.get("text") or ""}
                    self._mplus_group_content[int(g["groupNumber"])] = content
                    walk((g.get("subGroupList") or {}).get("articleGroups") or [])

            walk(self.mplus.article_groups())
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
                                        message="excluded by the article filter"))  # fmt: skip
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
            rows = self.av.iter_rows(art.code, art.table, filters=[Filter.in_(self.variant_field, chunk)])
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
            raise record_error(
                f"SKU '{sku}' is not numeric: MplusKASSA article numbers are 64-bit integers "
                "(set non_numeric_sku = generate to give it a generated number)",
                source_id=sku,
            )
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
            note = "update" if target else "create"
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
            message=message or (f"product {product_number}" if product_number else None),
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
        p["active"] = a.active
        include_vat, price = self.sales_price(a)
        if price is not None:
            p["priceIncl" if include_vat else "priceExcl"] = to_cents(price)
        if a.cost_price is not None:
            p["purchasePrice"] = to_cents(a.cost_price)
        if a.vat_code:
            vat = self.tables.get(VAT_CODE_AV_MPLUS, {}).get(a.vat_code)
            if vat is None:
                raise record_error(
                    f"AccountView VAT code '{a.vat_code}' of article {a.sku} has no MplusKASSA VAT code "
                    f"(mapping table {VAT_CODE_AV_MPLUS})",
                    retry=True,  # retried automatically: it succeeds once the mapping is added
                    source_id=a.sku,
                )
            p["vatCode"] = int(vat)
        if a.attributes.get("colour"):
            p["colour"] = a.attributes["colour"]
        if a.attributes.get("size"):
            p["size"] = a.attributes["size"]
        features = {k: v for k, v in a.features.items() if v not in (None, "")}
        if features:
            p["customFieldList"] = {
                "customField": [{"fieldName": k, "strValue": str(v)} for k, v in sorted(features.items())]
            }
        p.update(a.extra)
        return p

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
            bound = self.store.bindings.get("group", code)
            if self.dry_run and (not bound or not bound.target_id) and code in self._planned_groups:
                groups.append(self._planned_groups[code])  # what the group would be (0: created by this run)
                continue
            if not bound or not bound.target_id:
                raise record_error(
                    f"article group '{code}' is not in MplusKASSA yet (it failed or was filtered out)",
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
        article_fields = set(ALWAYS).union(*(ARTICLE_GROUPS[g] for g in ticked if g in ARTICLE_GROUPS))
        articles = []
        for p in product["articleList"]["article"]:
            if p["articleNumber"] in in_mplus:
                articles.append({k: v for k, v in p.items() if k in article_fields})
            else:
                articles.append(p)  # a new variant: all content, as on create
        out["articleList"] = {"article": articles}
        return out


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
