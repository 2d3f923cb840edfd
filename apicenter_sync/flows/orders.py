"""Orders: MplusKASSA sales → AccountView sales orders or journal bookings (SPEC §1.1).

The sales read (setting ``source_document_type``; :mod:`.order_sources`): orders (getOrders), till receipts
(getReceipts) and invoices (getInvoices), each from its own sync marker. Receipts can instead be booked per till
closing (``receipt_booking = per_closing``, :mod:`.order_closings`). The setting ``order_type`` names the document
a sale becomes (``sales_order`` or ``booking``); its codes, tables and fields are the API profile's objects of that
name.

Per batch of ``batch_size`` sales of one source:

1. status filter (mapping table ``order_status``, else the default rule of the source, see :mod:`.order_sources`);
2. already sent? the binding of an earlier run, else the AccountView document whose reference field holds the
   sale's reference (an order: profile ``mplus.order_reference``, the extOrderId, or the orderId when it has none;
   or always the orderId; a receipt: its receiptId; an invoice: its invoiceId) — one lookup per batch. Found →
   skipped ("already exists") and bound;
3. map (the source's datamapper) and enrich (employee number, ``order_defaults``), value every line
   (:mod:`.order_amounts`: the till's own line totals first) and check that the lines add up to the sale's total
   to the cent; a cash rounding gets a line of its own;
4. every SKU must be an AccountView article (one lookup per batch); missing ones make the sale wait, naming the
   SKUs, and it is retried with backoff for ``wait_days`` until the articles exist;
5. the debtor: default debtor, or found by e-mail (updated) or created (:mod:`.order_debtors`); an order's delivery
   address becomes a delivery address of that debtor (:mod:`.order_delivery`);
6. the document is posted.

Exactly-once effect over an at-least-once channel: the binding is marked pending (committed) before the POST and
made synced as soon as AccountView answers. A POST whose reply is lost fails the sale with a retry; the next
attempt finds the document by its reference field and binds it ("recovered") instead of posting a second one. A
POST that got no reply in time may still be under way at AccountView: its sale is looked up again only after ten
timeouts (``Flow.unsettled``), as a lookup sooner could miss it and post it twice. The
watermark moves with each batch together with the log lines of all its sales (base.Flow._commit), and failed
sales are re-read by id (``findOrder``/``getOrder``, ``getReceipt``, ``getInvoice``) on later runs until they
succeed, wait too long (refused) or a person ignores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from .. import record_filters
from ..clients.accountview import Filter
from ..clients.accountview_filters import key_filters
from ..clients.mplus_reader import UNREADABLE
from ..datamapper import MappingError
from ..errors import AuthError, ConfigError, SyncError, TransientError
from ..i18n import Text, msg, profile_ref, setting_ref, table_ref
from ..models import Address, ContactPerson, Order, OrderLine
from ..profile import ObjectSpec
from ..profile.defaults import ORDER_TYPE_ALIASES
from ..settings import consistency_errors
from .base import Batch, Flow, Outcome, record_error, synced
from .order_amounts import ZERO, PricedLine, line_value, reconcile
from .order_closings import Closings
from .order_debtors import REVENUE_CATEGORY_BY_COUNTRY, VAT_BY_COUNTRY, Debtors
from .order_delivery import DeliveryAddresses
from .order_documents import ORDER_TYPES, REVENUE_BY_COUNTRY, DocumentBuilder, document, document_total
from .order_sources import CLOSING, ORDER_STATUS, SOURCES, NothingSold, cancel_state, ids_of, kind_of, status_decision
from .stock_sales import note_orders_start

ENTITY = "order"
ORDER_DEFAULTS = "order_defaults"  # payment_method / shipping_method / country -> value when the order has none
SHIPPING_ARTICLES = "shipping_articles"  # Mplus article number of a shipping line -> AccountView article ("" = setting)
LINE_ARTICLES = "line_articles"  # Mplus article number (a service, deposit or gift-card article) -> AccountView article
BPE_ARTICLES = "bpe_articles"  # a line's BPE id (deposit, breakage, own use) -> AccountView article
EXCHANGE_PRICE_TYPES = ("PRICE-TYPE-EXCHANGE-RATE-BUY", "PRICE-TYPE-EXCHANGE-RATE-SELL")
INFORMATIVE_LINE_KINDS = ("LINE-KIND-SUBTOTAL", "LINE-KIND-HEADER", "LINE-KIND-SECONDARY-HEADER")
CASH_ROUNDING_MAX = Decimal("0.02")  # rounding a cash total to 5 cents moves it at most 2 cents (ASSUMPTION)
# The tables a customer's country is looked up in: a sale of a customer whose country nobody knows waits while any has
# rows (no country is assumed).
COUNTRY_TABLES = (VAT_BY_COUNTRY, REVENUE_BY_COUNTRY, REVENUE_CATEGORY_BY_COUNTRY)
GENERATED_NUMBERS = "generated_article_numbers"  # products flow: non-numeric SKU -> generated Mplus number
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Prepared:
    """A sale mapped, enriched and priced, ready for the batch lookups."""

    order: Order
    lines: list[PricedLine]
    total: Decimal
    label: str  # "order POS-1", "receipt <id>": how messages name the sale
    steps: list[str] = field(default_factory=list)


class OrdersFlow(Flow):
    name = "orders"
    direction = "mplus_to_av"
    entity = ENTITY

    # --- setup ----------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        problems = consistency_errors(self.settings)
        if problems:
            raise ConfigError(msg("orders.settings_inconsistent", problems=problems))
        chosen = self.settings.get("source_document_type") or ["order"]
        self.kinds = [kind for kind in SOURCES if kind in chosen]
        try:
            self.conditions = record_filters.conditions(self.tables, "orders")  # the till's sales to book
        except ValueError as exc:
            raise ConfigError(exc.args[0]) from None
        bad = {k: v for k, v in self.tables.get(ORDER_STATUS, {}).items() if v.strip().lower() not in ("send", "skip")}
        if bad:
            raise ConfigError(msg("orders.status_values", table=table_ref(ORDER_STATUS), bad=str(bad)))
        order_type = str(self.settings.get("order_type", "sales_order"))
        self.order_type = ORDER_TYPE_ALIASES.get(order_type, order_type)
        if self.order_type not in ORDER_TYPES:
            raise ConfigError(msg("orders.order_type_unknown", setting=setting_ref("order_type"), value=order_type,
                                  allowed=list(ORDER_TYPES)))  # fmt: skip
        self.doc = document(self.profile, self.order_type)
        self.post_object, self.read_object = self.doc.code, self.doc.reader
        self.header, self.detail, self.key = self.doc.table.upper(), self.doc.detail_table.upper(), self.doc.key_field
        self.reference_field = self.doc["reference"]
        self.debtors = Debtors(self)
        self.delivery = DeliveryAddresses(self)
        self.closings = Closings(self)
        self.per_closing = "receipt" in self.kinds and self.settings.get("receipt_booking", "each") == "per_closing"
        self._relations: dict[int, dict | None] = {}
        self._builder: DocumentBuilder | None = None
        if self.settings.get("default_debtor_mode", "never") != "never":
            number = str(self.settings.get("default_debtor_number") or "").strip()
            debtor = self.names.debtor
            found = self.av.get_one(debtor.code, debtor.table, [Filter.equal(debtor.key_field, number)],
                                    fields=[debtor.key_field])  # fmt: skip
            if found is None:
                raise ConfigError(msg("orders.default_debtor_missing", setting=setting_ref("default_debtor_number"),
                                      number=number, object=debtor.code))  # fmt: skip

    @property
    def builder(self) -> DocumentBuilder:
        if self._builder is None:
            vat = self.names.vat
            code, pct, reverse = vat["code"], vat["pct"], vat["reverse_charge"]
            vat_by_pct: dict[Decimal, str] = {}
            for row in sorted(self.av.iter_rows(vat.code, vat.table), key=lambda r: str(r.get(code))):
                if not row.get(reverse):
                    vat_by_pct.setdefault(Decimal(str(row.get(pct) or 0)).normalize(), str(row[code]))
            self._builder = DocumentBuilder(self, vat_by_pct)
        return self._builder

    # --- reading --------------------------------------------------------------------------------------------
    def read_batches(self):
        for kind in self.kinds:
            if kind == "receipt" and self.per_closing:
                yield from self.closings.read_batches()
            else:
                yield from self._sale_batches(kind)

    def _batches(self):
        # Closings whose page may be in AccountView are settled before any receipt is read or retried.
        yield from self.closings.unfinished()
        yield from super()._batches()

    def _sale_batches(self, kind: str):
        """The sales of one source changed since its sync marker (its own watermark stream)."""
        mark = self.store.watermarks.get(self.name, kind)
        since = 0 if self.from_start or not mark.value else int(mark.value) + 1
        note_orders_start(self, kind, since)  # the stock flow counts what this flow reads and does not book
        size = int(self.settings.get("batch_size") or 100)
        read = {"order": self.mplus.iter_orders, "receipt": self.mplus.iter_receipts,
                "invoice": self.mplus.iter_invoices}[kind]  # fmt: skip
        batch: list[dict] = []
        for sale in read(since, page_size=size, branch_numbers=self.profile.mplus.branches):
            batch.append(sale)
            if len(batch) >= size:
                yield self._batch(kind, batch)
                batch = []
        if batch:
            yield self._batch(kind, batch)

    @staticmethod
    def _batch(kind: str, sales: list[dict]) -> Batch:
        # The watermark is the last syncMarker of the batch, committed with the log lines of all its sales.
        return Batch(sales, stream=kind, watermark=str(max(int(s["syncMarker"]) for s in sales)))

    def fetch_by_ids(self, source_ids, entity):
        if entity == CLOSING:
            return self.closings.fetch(source_ids)
        found = []
        by_ext = self.profile.mplus.order_reference == "extOrderId"
        for sid in source_ids:
            if entity == "receipt":
                sale = self.mplus.get_receipt(sid)
            elif entity == "invoice":
                sale = self.mplus.get_invoice(sid)
            else:
                sale = self.mplus.find_order(sid) if by_ext else None
                if sale is None and _UUID.match(sid):
                    sale = self.mplus.get_order(sid)  # an order without extOrderId is known by its orderId
            if sale is not None:
                found.append(sale)
        return found

    def source_id(self, record: dict) -> str:
        kind = kind_of(record)
        if kind == "order":
            if self.profile.mplus.order_reference == "orderId":
                return str(record.get("orderId") or "").strip()
            return str(record.get("extOrderId") or record.get("orderId") or "").strip()
        return str(record.get(SOURCES[kind].id_field if kind in SOURCES else "cashCountId") or "").strip()

    def failure(self, record: dict, exc: BaseException, entity: str | None = None) -> Outcome:
        return super().failure(record, exc, entity or kind_of(record))

    # --- one batch ------------------------------------------------------------------------------------------
    def process_batch(self, batch: Batch) -> list[Outcome]:
        records = batch.records
        if records and kind_of(records[0]) == CLOSING:
            return self.closings.process_batch(records)
        refs = [self.source_id(r) for r in records]
        kinds = [kind_of(r) for r in records]
        bindings = {kind: self.store.bindings.get_many(kind, [ref for ref, k in zip(refs, kinds, strict=True)
                                                                if ref and k == kind])
                    for kind in set(kinds)}  # fmt: skip
        outcomes: dict[int, Outcome] = {}
        todo: list[int] = []
        for i, (record, ref, kind) in enumerate(zip(records, refs, kinds, strict=True)):
            label = sale_label(kind, ref or "?")
            base = {"entity": kind, "source_id": ref or "?", "source_payload": record}
            if UNREADABLE in record:
                # Retried: the next runs read it again by its id, until MplusKASSA sends it readable (or a person
                # ignores it). The other sales of the page go on.
                why = msg("orders.unreadable", label=label, error=record[UNREADABLE])
                outcomes[i] = Outcome(action="failed", error=why, retry=bool(ref), **base)
                continue
            if not ref:
                fields = "extOrderId, orderId" if kind == "order" else SOURCES[kind].id_field
                outcomes[i] = Outcome(action="failed", error=msg("orders.no_id", label=label, fields=fields), **base)
                continue
            failing = record_filters.first_failing(self.conditions, record_filters.sale_value(record))
            if failing is not None:
                why = msg("filters.left_out", name=failing.name, condition=failing.text())
                outcomes[i] = Outcome(action="skipped", message=why, **base)
                continue
            send, why = self.status_decision(record)
            if send:
                send, why = self.booked_elsewhere(record, kind, why)
            bound = bindings[kind].get(ref)
            cancelled = cancel_state(record) if kind == "order" else ""
            if not send and cancelled and bound and bound.state == "synced" and bound.target_id:
                # Booked before it was called off at the till: the document stays in AccountView until a person
                # reverses it; a skip would hide that. Not retried: nothing changes by itself.
                why = msg("orders.cancelled_after_booking", label=label, state=cancelled, target=bound.target_id)
                outcomes[i] = Outcome(action="failed", error=why, target_id=bound.target_id, **base)
                continue
            if not send:
                outcomes[i] = Outcome(action="skipped", message=why, **base)
                continue
            if bound and bound.state == "synced" and bound.target_id and not self.options.full:
                note = msg("orders.already_booked", target=bound.target_id)
                outcomes[i] = Outcome(action="skipped", target_id=bound.target_id, message=note, **base)
                continue
            if self.unsettled(bound, kind):
                why = msg("orders.post_unsettled", label=label, object=self.doc.code, seconds=round(self.av.settle_seconds))
                outcomes[i] = Outcome(action="failed", error=why, retry=True, **base)
                continue
            todo.append(i)
        existing = self.existing_documents([refs[i] for i in todo])
        prepared: dict[int, Prepared] = {}
        for i in todo:
            if refs[i] in existing:
                outcomes[i] = self.already_there(records[i], refs[i], existing[refs[i]], bindings[kinds[i]].get(refs[i]))
                continue
            result = self._guard(records[i], lambda rec, ref=refs[i]: self.prepare_sale(rec, ref))
            if isinstance(result, Outcome):
                outcomes[i] = result
            else:
                prepared[i] = result
        articles = self.known_articles({pl.sku for p in prepared.values() for pl in p.lines if pl.sku})
        self.debtors.prefetch([p.order.customer.email for p in prepared.values() if p.order.customer and
                               p.order.customer.email])  # fmt: skip
        for i, p in prepared.items():
            outcomes[i] = self.guarded(records[i], lambda rec, p=p, ref=refs[i]: self.send(rec, ref, p, articles))
        return [outcomes[i] for i in range(len(records))]

    def _guard(self, record: dict, fn):
        try:
            return fn(record)
        except NothingSold as exc:
            why = exc.args[0] if exc.args else str(exc)
            return Outcome(kind_of(record), self.source_id(record), "skipped", source_payload=record, message=why)
        except AuthError:
            raise
        except Exception as exc:  # noqa: BLE001 - one sale fails, the batch goes on
            return self.failure(record, exc)

    def status_decision(self, record: dict) -> tuple[bool, Text]:
        """Send or skip by the sale's states (:func:`.order_sources.status_decision`)."""
        return status_decision(kind_of(record), record, self.tables.get(ORDER_STATUS, {}))

    def booked_elsewhere(self, record: dict, kind: str, why: Text) -> tuple[bool, Text]:
        """A receipt or invoice made from an order is not booked when orders are read too: the order is the sale."""
        orders = ids_of(record, "extOrderIds") or ids_of(record, "orderIds")
        if kind != "order" and orders and "order" in self.kinds:
            return False, msg("orders.made_from_order", orders=orders, setting=setting_ref("source_document_type"))
        return True, why

    # --- batch lookups --------------------------------------------------------------------------------------
    def existing_documents(self, refs: list[str], doc: ObjectSpec | None = None) -> dict[str, dict]:
        """AccountView documents (of the order type, or ``doc``) whose reference field is one of ``refs``."""
        doc = doc or self.doc
        header, key, ref_field = doc.table.upper(), doc.key_field, doc["reference"]
        found: dict[str, dict] = {}
        fields = [f"{header}.{key}", f"{header}.{ref_field}"]
        for flt in _in_filters(ref_field, refs):
            for row in self.av.iter_rows(doc.reader, header, filters=[flt], fields=fields, page_size=500):
                ref = str(row.get(ref_field) or "").strip()
                if ref in refs:
                    found.setdefault(ref, row)
        return found

    def known_articles(self, skus: set[str]) -> set[str]:
        art = self.names.article
        known: set[str] = set()
        for flt in _in_filters(art.key_field, sorted(skus)):
            rows = self.av.iter_rows(art.code, art.table, filters=[flt], fields=[art.key_field], page_size=500)
            known.update(str(r.get(art.key_field) or "").strip() for r in rows)
        return known

    def relation(self, record: dict) -> dict | None:
        number = record.get("relationNumber")
        if not number:
            return None
        number = int(number)
        if number not in self._relations:
            self._relations[number] = self.mplus.get_relation(number)
        return self._relations[number]

    # --- one sale -------------------------------------------------------------------------------------------
    def already_there(self, record: dict, ref: str, row: dict, binding, doc: ObjectSpec | None = None) -> Outcome:
        doc = doc or self.doc
        kind = kind_of(record)
        target = str(row.get(doc.key_field) or "").strip()
        base = {"entity": kind, "source_id": ref, "source_payload": record, "target_id": target,
                "bindings": [synced(kind, ref, target, "")]}  # fmt: skip
        if binding is not None and binding.state == "pending":
            note = msg("orders.recovered", object=doc.code, target=target, field=doc["reference"])
            return Outcome(action="created", message=note, **base)
        return Outcome(action="skipped", message=msg("orders.already_exists", object=doc.reader, target=target,
                                                     field=doc["reference"], ref=ref), **base)  # fmt: skip

    def prepare_sale(self, record: dict, ref: str, document_type: str | None = None) -> Prepared:
        """The sale mapped by its source's datamapper, enriched, every line valued, reconciled to its total;
        ``document_type`` (default: the setting order_type) decides whether each line needs an article."""
        needs_articles = (document_type or self.order_type) == "sales_order"
        kind = kind_of(record)
        label = sale_label(kind, ref)
        relation = self.relation(record)
        source = {**record, "relation": relation} if relation else record
        try:
            order: Order = self.mapper(SOURCES[kind].mapping).to_model(source, self.tables)
        except MappingError as exc:
            raise record_error(msg("orders.cannot_map", label=label, detail=exc.text()), source_id=ref) from None
        steps = [self.status_decision(record)[1]]
        shop_currency = str(self.settings.get("currency") or "EUR").upper()
        if order.currency and order.currency.strip().upper() != shop_currency:
            raise record_error(msg("orders.other_currency", label=label, currency=order.currency,
                                   shop_currency=shop_currency, setting=setting_ref("currency")),
                               source_id=ref)  # fmt: skip
        self.enrich(order, relation, steps)
        self.customer_country(order, label, ref, steps)
        lines = self.price_lines(order, label, steps, needs_articles)
        total = reconcile(order, lines, label)
        steps.append(msg("orders.step.amounts", lines=len(lines), kind=msg(f"orders.kind.{kind}"), total=total))
        rounding = self.cash_rounding(order, total, label, steps, needs_articles)
        if rounding is not None:
            lines.append(rounding)
            total += rounding.total
        return Prepared(order, lines, total, label, steps)

    def cash_rounding(self, order: Order, total: Decimal, label: str, steps: list[str],
                      needs_articles: bool = True) -> PricedLine | None:
        """The line that books the difference between what was paid and the total, when it is a cash rounding
        (0 < |paid − total| ≤ 2 cents); None when there is none."""
        paid = sum((p.amount for p in order.payments), ZERO)
        difference = paid - total
        if not order.payments or not difference or abs(difference) > CASH_ROUNDING_MAX:
            return None
        sku = str(self.settings.get("cash_rounding_article") or "").strip()
        if needs_articles and not sku:
            raise record_error(msg("orders.rounding_article", label=label, total=total, paid=paid,
                                   difference=difference, setting=setting_ref("cash_rounding_article")),
                               source_id=label, wait="mapping")  # fmt: skip
        # No description of its own: AccountView shows the rounding article's (the engine has no words for the books).
        line = OrderLine(description="", quantity=Decimal(1), unit_price_incl=difference,
                         unit_price_excl=difference, vat_pct=ZERO, total_incl=difference)  # fmt: skip
        steps.append(msg("orders.step.cash_rounding", paid=paid, total=total, difference=difference))
        return PricedLine(line, sku, difference, ZERO, rule="cash rounding", is_rounding=True)

    def enrich(self, order: Order, relation: dict | None, steps: list[str]) -> None:
        defaults = self.tables.get(ORDER_DEFAULTS, {})
        if not order.employee or order.employee == "0":
            order.employee = str(self.settings.get("employee_number", 999999))
            steps.append(msg("orders.step.employee", employee=order.employee, setting=setting_ref("employee_number")))
        if not order.payment_method:
            # Several payments (cash and a gift card, …): the largest decides the payment condition / journal.
            paid = sorted((p for p in order.payments if p.method), key=lambda p: -abs(p.amount))
            order.payment_method = (paid[0].method if paid else None) or defaults.get("payment_method")
            if len(paid) > 1:
                steps.append(msg("orders.step.payments", payments=[f"{p.method} {p.amount}" for p in paid],
                                 largest=order.payment_method))  # fmt: skip
        if not order.shipping_method:
            order.shipping_method = defaults.get("shipping_method")
        if order.billing_address and not order.billing_address.country and defaults.get("country"):
            order.billing_address.country = defaults["country"]
        customer = order.customer
        if customer is not None and relation:
            # The order carries name and addresses; the relation adds what only it knows (the datamapper maps
            # relation.email/telephone/contact; the company name falls back to the relation's).
            if not customer.company_name and relation.get("companyName"):
                customer.company_name = str(relation["companyName"]).strip()
            customer.kind = "company" if customer.company_name else "person"
            if customer.kind == "company" and not (customer.contact and customer.contact.name):
                if relation.get("contact"):
                    customer.contact = ContactPerson(name=str(relation["contact"]).strip())
            if customer.billing_address is None:
                customer.billing_address = order.billing_address

    def customer_country(self, order: Order, label: str, ref: str, steps: list[str]) -> None:
        """The country of a sale's customer drives the VAT code and revenue look-ups (``COUNTRY_TABLES``): the
        sale's or the relation's; else the ``order_defaults`` country; else, while a look-up table has rows, the
        sale waits. An anonymous sale has no customer and no country: its lines go by their VAT rate."""
        customer = order.customer
        known = (order.billing_address, customer and customer.billing_address, order.delivery_address)
        if customer is None or any(address and address.country for address in known):
            return
        country = str(self.tables.get(ORDER_DEFAULTS, {}).get("country") or "").strip().upper()
        if country:
            address = customer.billing_address or Address()
            address.country = country
            customer.billing_address = address
            steps.append(msg("orders.country_from_defaults", country=country, table=table_ref(ORDER_DEFAULTS)))
            return
        used = [name for name in COUNTRY_TABLES if self.tables.get(name)]
        if used:
            raise record_error(msg("orders.country_unknown", sale=label, tables=[table_ref(t) for t in used],
                                   defaults=table_ref(ORDER_DEFAULTS)),
                               source_id=ref, wait="mapping")  # fmt: skip

    def price_lines(self, order: Order, label: str, steps: list[str] | None = None,
                    needs_articles: bool = True) -> list[PricedLine]:
        """Every line that sells something, with its value and the AccountView article it is booked on."""
        steps = steps if steps is not None else []
        shipping = self.tables.get(SHIPPING_ARTICLES) or {}  # empty (the default): no till article is shipping
        others = self.tables.get(LINE_ARTICLES, {})
        generated = {v: k for k, v in self.tables.get(GENERATED_NUMBERS, {}).items()}
        lines = list(order.lines)
        if order.shipping_cost:
            # A mapping that gives shipping as an amount instead of a line: one extra line at the main VAT rate.
            rate = max((ln.vat_pct for ln in lines if ln.vat_pct is not None), default=None)
            # No description: AccountView shows the shipping article's own (the engine has no words of its own).
            lines.append(OrderLine(description="", quantity=Decimal(1), unit_price_incl=order.shipping_cost,
                                   unit_price_excl=order.shipping_cost, vat_pct=rate, is_shipping=True))  # fmt: skip
        priced = []
        for n, line in enumerate(lines, start=1):
            number = (line.sku or "").strip()
            what = (msg("orders.line", n=n, description=line.description) if line.description
                    else msg("orders.line_article", n=n, number=number or "-"))  # fmt: skip
            if line.price_type in EXCHANGE_PRICE_TYPES:
                raise record_error(msg("orders.line_exchange", label=label, line=what, price_type=line.price_type),
                                   source_id=label)  # fmt: skip
            if line.line_kind in INFORMATIVE_LINE_KINDS:
                steps.append(msg("orders.step.line_informative", line=what, kind=line.line_kind))
                continue
            value, rule = line_value(line, order.prices_include_vat, label)
            is_shipping = line.is_shipping or number in shipping
            if is_shipping:
                sku = (shipping.get(number) or self.settings.get("shipping_article") or "").strip()
                if not sku and needs_articles:
                    raise record_error(
                        msg("orders.shipping_article", label=label, number=number or "-",
                            setting=setting_ref("shipping_article"), table=table_ref(SHIPPING_ARTICLES)),
                        source_id=label, wait="mapping",
                    )  # fmt: skip
            elif line.bpe_id or not number or number == "0" or number in others:
                if not value and not line.bpe_id and number in ("", "0"):
                    steps.append(msg("orders.step.line_text", line=what))
                    continue
                sku = self.other_line_article(line, number, what, label, needs_articles)
                if sku:
                    steps.append(msg("orders.step.line_article", line=what, article=sku))
            else:
                sku = self.sku_of(line, number, generated, label)
            priced.append(PricedLine(line, sku, value, line.vat_pct, is_shipping, rule))
        if not lines:
            raise record_error(msg("orders.no_lines", label=label), source_id=label)
        if not priced:
            if not order.total_incl:
                raise NothingSold(msg("orders.nothing_sold", label=label))
            raise record_error(msg("orders.nothing_sold_but_total", label=label, total=order.total_incl),
                               source_id=label)  # fmt: skip
        return priced

    def other_line_article(self, line: OrderLine, number: str, what: Text, label: Text, required: bool = True) -> str:
        """The AccountView article of a line without an article of its own: a deposit/BPE line, a text line with an
        amount, or a till article the books know under another code (a service, a gift card)."""
        if line.bpe_id:
            sku = self.tables.get(BPE_ARTICLES, {}).get(line.bpe_id.strip())
            source = msg("orders.row_of", table=table_ref(BPE_ARTICLES), key=f"BPE {line.bpe_id}")
        else:
            sku = self.tables.get(LINE_ARTICLES, {}).get(number)
            source = msg("orders.row_of", table=table_ref(LINE_ARTICLES), key=number) if number not in ("", "0") else ""
        sku = (sku or self.settings.get("other_line_article") or "").strip()
        if not sku and required:
            setting = msg("orders.the_setting", setting=setting_ref("other_line_article"))
            where = msg("orders.either", first=source, second=setting) if source else setting
            raise record_error(msg("orders.line_without_article", label=label, line=what, where=where),
                               source_id=label, wait="mapping")  # fmt: skip
        return sku

    def sku_of(self, line: OrderLine, number: str, generated: dict[str, str], label: str) -> str:
        """The AccountView SKU of a sale line: the till's article number (or the SKU a generated number stands for);
        with ``mplus.sku_field = pluNumber`` the line's PLU, else the SKU bound to the article by the products flow."""
        if self.profile.mplus.sku_field != "pluNumber":
            return generated.get(number, number)
        if (line.plu or "").strip():
            return line.plu.strip()
        bound = self.store.bindings.get_by_target("article", number) if number else None
        if bound is not None:
            return bound.source_id
        raise record_error(msg("orders.no_plu", label=label, number=number or "-", profile=profile_ref("mplus.sku_field")),
                           source_id=label, wait="articles")  # fmt: skip

    def send(self, record: dict, ref: str, p: Prepared, articles: set[str]) -> Outcome:
        retries_before = _retries(self.av) + _retries(self.mplus)
        kind, label = kind_of(record), p.label
        steps = list(p.steps)
        missing = sorted({pl.sku for pl in p.lines if pl.sku and pl.sku not in articles})
        if missing:
            raise record_error(msg("orders.articles_missing", label=label, object=self.names.article.code, skus=missing),
                               source_id=ref, wait="articles")  # fmt: skip
        steps.append(msg("orders.step.articles", count=len({pl.sku for pl in p.lines if pl.sku})))
        if self.order_type == "sales_order":
            header, rows = self.builder.sales_order(p.order, ref, label, p.lines, steps)
        else:
            header, rows = self.builder.booking(p.order, ref, label, p.lines, p.total, steps)
        planned_total = document_total(self.doc, self.order_type, rows)
        if planned_total != p.total:  # the encoding must never change the total
            raise record_error(msg("orders.total_changed", label=label, object=self.post_object, planned=planned_total,
                                   total=p.total), source_id=ref)  # fmt: skip
        debtor = self.debtors.resolve(p.order.customer, label, steps)
        if self.order_type == "sales_order":
            header.update({self.doc["invoice_debtor"]: debtor or "(new)", self.doc["delivery_debtor"]: debtor or "(new)"})
            delivery = self.delivery.resolve(debtor, p.order, label, steps)
            if delivery:
                header[self.doc["delivery_address"]] = delivery
        else:
            header[self.doc["debtor"]] = debtor or "(new)"
        payload = {"business_object": self.post_object, self.header: [header], self.detail: rows}
        base = {"entity": kind, "source_id": ref, "source_payload": record, "target_payload": payload}
        if self.dry_run:
            steps.append(msg("orders.step.would_create", object=self.post_object, total=p.total))
            return Outcome(action="dry_run", message=msg("orders.would_create", object=self.post_object, total=p.total),
                           reply={"steps": steps}, **base)  # fmt: skip
        digest = self.hash(payload)
        # Committed before the POST: a crash or a lost reply leaves "pending", and the next attempt looks first.
        self.store.bindings.mark_pending(kind, ref, payload_hash=digest)
        try:
            reply = self.av.create(self.post_object, self.header, header, detail_table=self.detail, detail_rows=rows)
        except TransientError as exc:
            raise record_error(
                msg("orders.post_failed", label=label, object=self.post_object, error=exc.text(),
                    field=self.reference_field),
                retry=True,
                source_id=ref,
            ) from None
        except SyncError as exc:
            self.store.bindings.mark_failed(kind, ref, str(exc))
            raise
        stored = (reply.get(self.header) or [{}])[0]
        target = str(stored.get(self.key) or "").strip()
        self.store.bindings.upsert(kind, ref, target_id=target, payload_hash=digest)  # at once: AV confirmed
        stored_total = document_total(self.doc, self.order_type, reply.get(self.detail) or rows)
        number_field = self.doc["order_number" if self.order_type == "sales_order" else "invoice_number"]
        number = stored.get(number_field) or target
        note = msg("orders.created", object=self.post_object, number=number, total=stored_total)
        if stored_total != p.total:
            note = msg("orders.created_other_total", object=self.post_object, number=number, total=stored_total,
                       label=label, sale_total=p.total)  # fmt: skip
        retries = _retries(self.av) + _retries(self.mplus) - retries_before
        steps.append(msg("orders.step.created", object=self.post_object, number=number, field=self.key, id=target))
        if retries:
            steps.append(msg("orders.step.retries", kind=msg(f"orders.kind.{kind}"), count=retries))
        return Outcome(action="created", target_id=target, message=note, reply={"steps": steps, "stored": stored},
                       **base)  # fmt: skip


def sale_label(kind: str, ref: str) -> Text:
    """A sale as a person names it: "order POS-1", "receipt 42", "invoice F-7" (in the reader's language)."""
    return msg(f"orders.label.{kind}", ref=ref) if kind in SOURCES else f"{kind} {ref}"


def _in_filters(field_name: str, values: list[str]):
    """IN filters of at most 50 values; a value that cannot go in a list (a comma, a quote) gets its own filter."""
    return key_filters(field_name, values)


def _retries(client) -> int:
    counter = getattr(client, "retries", None)
    return sum(counter.values()) if counter else 0


__all__ = ["ZERO", "OrdersFlow"]
