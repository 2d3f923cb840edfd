"""Orders: MplusKASSA orders → AccountView sales orders or journal bookings (SPEC §1.1).

The setting ``order_type`` names the document (``sales_order`` or ``booking``); its codes, tables and fields are the
API profile's objects of that name.

Per batch of ``batch_size`` orders read from the orders syncMarker:

1. status filter (mapping table ``order_status``, else: completed and not cancelled orders only);
2. already sent? the binding of an earlier run, else the AccountView document whose reference field holds the
   order's reference (profile ``mplus.order_reference``: the extOrderId, or the orderId when it has none; or always
   the orderId) — one lookup per batch. Found → skipped
   ("already exists") and bound;
3. map (datamapper) and enrich (employee number, ``order_defaults``), price every line and check that the lines
   add up to the order total to the cent;
4. every SKU must be an AccountView article (one lookup per batch); missing ones fail the order with their
   SKUs named and an automatic retry, so it goes through once the articles exist;
5. the debtor: default debtor, or found by e-mail (updated) or created (:mod:`.order_debtors`);
6. the document is posted.

Exactly-once effect over an at-least-once channel: the binding is marked pending (committed) before the POST and
made synced as soon as AccountView answers. A POST whose reply is lost fails the order with a retry; the next
attempt finds the document by its reference field and binds it ("recovered") instead of posting a second one. The
watermark moves with each batch together with the log lines of all its orders (base.Flow._commit), and failed
orders are re-read by id (``findOrder``/``getOrder``) on later runs until they succeed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..clients.accountview import Filter
from ..clients.mplus_reader import UNREADABLE
from ..datamapper import MappingError
from ..errors import AuthError, ConfigError, SyncError, TransientError
from ..models import ContactPerson, Order, OrderLine
from ..profile.defaults import ORDER_TYPE_ALIASES
from ..settings import consistency_errors
from .base import Batch, Flow, Outcome, record_error, synced
from .order_amounts import ZERO, PricedLine, line_total, reconcile
from .order_debtors import Debtors
from .order_documents import ORDER_TYPES, DocumentBuilder, document, document_total

ENTITY = "order"
STREAM = "order"
ORDER_STATUS = "order_status"  # Mplus state (any of cancelState/completeState/deliveryState) -> send | skip
ORDER_DEFAULTS = "order_defaults"  # payment_method / shipping_method / country -> value when the order has none
SHIPPING_ARTICLES = "shipping_articles"  # Mplus article number of a shipping line -> AccountView article ("" = setting)
DEFAULT_SHIPPING_ARTICLES = {"999000": ""}  # the seeded "Verzendkosten" article, when the table is empty
GENERATED_NUMBERS = "generated_article_numbers"  # products flow: non-numeric SKU -> generated Mplus number
COMPLETE = "ORDER-COMPLETE-STATE-COMPLETE"
NOT_CANCELLED = ("", "ORDER-CANCEL-STATE-NOTHING")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Prepared:
    """An order mapped, enriched and priced, ready for the batch lookups."""

    order: Order
    lines: list[PricedLine]
    total: Decimal
    steps: list[str] = field(default_factory=list)


class OrdersFlow(Flow):
    name = "orders"
    direction = "mplus_to_av"
    entity = ENTITY

    # --- setup ----------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        kind = self.settings.get("source_document_type", "order")
        if kind != "order":
            raise ConfigError(
                f"source_document_type '{kind}' is not supported by the MplusKASSA client and sandbox (they read "
                "orders only: getReceipts/getInvoices are not implemented); set it to 'order'"
            )
        problems = consistency_errors(self.settings)
        if problems:
            raise ConfigError("; ".join(problems))
        bad = {k: v for k, v in self.tables.get(ORDER_STATUS, {}).items() if v.strip().lower() not in ("send", "skip")}
        if bad:
            raise ConfigError(f"mapping table {ORDER_STATUS} may only hold 'send' or 'skip', not {bad}")
        order_type = str(self.settings.get("order_type", "sales_order"))
        self.order_type = ORDER_TYPE_ALIASES.get(order_type, order_type)
        if self.order_type not in ORDER_TYPES:
            raise ConfigError(f"order_type {order_type!r} is not one of {', '.join(ORDER_TYPES)}")
        self.doc = document(self.profile, self.order_type)
        self.post_object, self.read_object = self.doc.code, self.doc.reader
        self.header, self.detail, self.key = self.doc.table.upper(), self.doc.detail_table.upper(), self.doc.key_field
        self.reference_field = self.doc["reference"]
        self.debtors = Debtors(self)
        self._relations: dict[int, dict | None] = {}
        self._builder: DocumentBuilder | None = None
        if self.settings.get("default_debtor_mode", "never") != "never":
            number = str(self.settings.get("default_debtor_number") or "").strip()
            debtor = self.names.debtor
            found = self.av.get_one(debtor.code, debtor.table, [Filter.equal(debtor.key_field, number)],
                                    fields=[debtor.key_field])  # fmt: skip
            if found is None:
                raise ConfigError(f"default_debtor_number {number} is not a debtor in AccountView ({debtor.code})")

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
        mark = self.store.watermarks.get(self.name, STREAM)
        since = 0 if self.from_start or not mark.value else int(mark.value) + 1
        size = int(self.settings.get("batch_size") or 100)
        batch: list[dict] = []
        for order in self.mplus.iter_orders(since, page_size=size, branch_numbers=self.profile.mplus.branches):
            batch.append(order)
            if len(batch) >= size:
                yield self._batch(batch)
                batch = []
        if batch:
            yield self._batch(batch)

    @staticmethod
    def _batch(orders: list[dict]) -> Batch:
        # The watermark is the last syncMarker of the batch, committed with the log lines of all its orders.
        return Batch(orders, stream=STREAM, watermark=str(max(int(o["syncMarker"]) for o in orders)))

    def fetch_by_ids(self, source_ids, entity):
        found = []
        by_ext = self.profile.mplus.order_reference == "extOrderId"
        for sid in source_ids:
            order = self.mplus.find_order(sid) if by_ext else None
            if order is None and _UUID.match(sid):
                order = self.mplus.get_order(sid)  # an order without extOrderId is known by its orderId
            if order is not None:
                found.append(order)
        return found

    def source_id(self, record: dict) -> str:
        if self.profile.mplus.order_reference == "orderId":
            return str(record.get("orderId") or "").strip()
        return str(record.get("extOrderId") or record.get("orderId") or "").strip()

    # --- one batch ------------------------------------------------------------------------------------------
    def process_batch(self, batch: Batch) -> list[Outcome]:
        records = batch.records
        refs = [self.source_id(r) for r in records]
        bindings = self.store.bindings.get_many(ENTITY, [r for r in refs if r])
        outcomes: dict[int, Outcome] = {}
        todo: list[int] = []
        for i, (record, ref) in enumerate(zip(records, refs, strict=True)):
            base = {"entity": ENTITY, "source_id": ref or "?", "source_payload": record}
            if UNREADABLE in record:
                # Retried: the next runs read it again by its id, until MplusKASSA sends it readable (or a person
                # ignores it). The other orders of the page go on.
                why = f"MplusKASSA sent order {ref or '?'} in a form that cannot be read ({record[UNREADABLE]})"
                outcomes[i] = Outcome(action="failed", error=why, retry=bool(ref), **base)
                continue
            if not ref:
                outcomes[i] = Outcome(action="failed", error="order has neither extOrderId nor orderId", **base)
                continue
            send, why = self.status_decision(record)
            if not send:
                outcomes[i] = Outcome(action="skipped", message=why, **base)
                continue
            bound = bindings.get(ref)
            if bound and bound.state == "synced" and bound.target_id and not self.options.full:
                note = f"already sent: {self.post_object} {bound.target_id} (binding of an earlier run)"
                outcomes[i] = Outcome(action="skipped", target_id=bound.target_id, message=note, **base)
                continue
            todo.append(i)
        existing = self.existing_documents([refs[i] for i in todo])
        prepared: dict[int, Prepared] = {}
        for i in todo:
            if refs[i] in existing:
                outcomes[i] = self.already_there(records[i], refs[i], existing[refs[i]], bindings.get(refs[i]))
                continue
            result = self._guard(records[i], lambda rec, ref=refs[i]: self.prepare_order(rec, ref))
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
        except AuthError:
            raise
        except Exception as exc:  # noqa: BLE001 - one order fails, the batch goes on
            return self.failure(record, exc)

    def status_decision(self, record: dict) -> tuple[bool, str]:
        """Send or skip by the Mplus states; the first of cancel/complete/delivery state in ``order_status`` wins."""
        table = self.tables.get(ORDER_STATUS, {})
        states = [str(record.get(f) or "") for f in ("cancelState", "completeState", "deliveryState")]
        for state in states:
            if state and state in table:
                verdict = table[state].strip().lower()
                return verdict == "send", f"status {state}: {verdict} (mapping table {ORDER_STATUS})"
        cancel, complete, _ = states
        if cancel not in NOT_CANCELLED:
            return False, f"status {cancel}: cancelled orders are not sent (default rule)"
        if complete != COMPLETE:
            return False, f"status {complete or 'unknown'}: only completed orders are sent (default rule)"
        return True, f"status {complete}: send (default rule)"

    # --- batch lookups --------------------------------------------------------------------------------------
    def existing_documents(self, refs: list[str]) -> dict[str, dict]:
        """AccountView documents of the order type whose reference field is one of ``refs`` (lowest key first)."""
        found: dict[str, dict] = {}
        ref_field = self.reference_field
        fields = [f"{self.header}.{self.key}", f"{self.header}.{ref_field}"]
        for flt in _in_filters(ref_field, refs):
            for row in self.av.iter_rows(self.read_object, self.header, filters=[flt], fields=fields, page_size=500):
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

    # --- one order ------------------------------------------------------------------------------------------
    def already_there(self, record: dict, ref: str, row: dict, binding) -> Outcome:
        target = str(row.get(self.key) or "").strip()
        base = {"entity": ENTITY, "source_id": ref, "source_payload": record, "target_id": target,
                "bindings": [synced(ENTITY, ref, target, "")]}  # fmt: skip
        if binding is not None and binding.state == "pending":
            note = (f"recovered: {self.post_object} {target} was written by an earlier attempt whose reply was lost; "
                    f"found by {self.reference_field} and bound, not created again")  # fmt: skip
            return Outcome(action="created", message=note, **base)
        return Outcome(action="skipped", message=f"already exists in AccountView: {self.read_object} {target} "
                                                 f"with {self.reference_field} = {ref}", **base)  # fmt: skip

    def prepare_order(self, record: dict, ref: str) -> Prepared:
        relation = self.relation(record)
        source = {**record, "relation": relation} if relation else record
        try:
            order: Order = self.mapper().to_model(source, self.tables)
        except MappingError as exc:
            raise record_error(f"order {ref} cannot be mapped: {exc}", source_id=ref) from None
        steps = [self.status_decision(record)[1]]
        self.enrich(order, relation, steps)
        lines = self.price_lines(order, ref)
        total = reconcile(order, lines, ref)
        steps.append(f"amounts: {len(lines)} lines add up to the order total {total}")
        return Prepared(order, lines, total, steps)

    def enrich(self, order: Order, relation: dict | None, steps: list[str]) -> None:
        defaults = self.tables.get(ORDER_DEFAULTS, {})
        if not order.employee or order.employee == "0":
            order.employee = str(self.settings.get("employee_number", 999999))
            steps.append(f"employee: none on the order, {order.employee} (setting employee_number)")
        if not order.payment_method:
            order.payment_method = next((p.method for p in order.payments if p.method), None) or defaults.get(
                "payment_method"
            )
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

    def price_lines(self, order: Order, ref: str) -> list[PricedLine]:
        shipping = self.tables.get(SHIPPING_ARTICLES) or DEFAULT_SHIPPING_ARTICLES
        generated = {v: k for k, v in self.tables.get(GENERATED_NUMBERS, {}).items()}
        lines = list(order.lines)
        if order.shipping_cost:
            # A mapping that gives shipping as an amount instead of a line: one extra line at the main VAT rate.
            rate = max((ln.vat_pct for ln in lines if ln.vat_pct is not None), default=None)
            lines.append(OrderLine(description="Verzendkosten", quantity=Decimal(1), unit_price_incl=order.shipping_cost,
                                   unit_price_excl=order.shipping_cost, vat_pct=rate, is_shipping=True))  # fmt: skip
        priced = []
        for line in lines:
            number = (line.sku or "").strip()
            is_shipping = line.is_shipping or number in shipping
            if is_shipping:
                sku = (shipping.get(number) or self.settings.get("shipping_article") or "").strip()
                if not sku and self.order_type == "sales_order":
                    raise record_error(
                        f"order {ref}: shipping line (Mplus article {number or '-'}) needs an AccountView article: "
                        f"set the setting shipping_article or the mapping table {SHIPPING_ARTICLES}",
                        source_id=ref,
                    )
            else:
                sku = self.sku_of(line, number, generated, ref)
            priced.append(PricedLine(line, sku, line_total(line, order.prices_include_vat, ref), line.vat_pct,
                                     is_shipping))  # fmt: skip
        if not priced:
            raise record_error(f"order {ref} has no lines", source_id=ref)
        return priced

    def sku_of(self, line: OrderLine, number: str, generated: dict[str, str], ref: str) -> str:
        """The AccountView SKU of a sale line: the till's article number (or the SKU a generated number stands for);
        with ``mplus.sku_field = pluNumber`` the line's PLU, else the SKU bound to the article by the products flow."""
        if self.profile.mplus.sku_field != "pluNumber":
            return generated.get(number, number)
        if (line.plu or "").strip():
            return line.plu.strip()
        bound = self.store.bindings.get_by_target("article", number) if number else None
        if bound is not None:
            return bound.source_id
        raise record_error(
            f"order {ref}: line with MplusKASSA article {number or '-'} has no PLU and no AccountView article is bound "
            "to it (API profile mplus.sku_field = pluNumber); retried automatically after the products flow ran",
            retry=True,
            source_id=ref,
        )

    def send(self, record: dict, ref: str, p: Prepared, articles: set[str]) -> Outcome:
        retries_before = _retries(self.av) + _retries(self.mplus)
        steps = list(p.steps)
        missing = sorted({pl.sku for pl in p.lines if pl.sku and pl.sku not in articles})
        if missing:
            raise record_error(
                f"order {ref}: article(s) not in AccountView ({self.names.article.code}): {', '.join(missing)} — "
                "retried automatically until they exist",
                retry=True,
                source_id=ref,
            )
        steps.append(f"articles: all {len({pl.sku for pl in p.lines if pl.sku})} exist in AccountView")
        if self.order_type == "sales_order":
            header, rows = self.builder.sales_order(p.order, ref, p.lines, steps)
        else:
            header, rows = self.builder.booking(p.order, ref, p.lines, p.total, steps)
        planned_total = document_total(self.doc, self.order_type, rows)
        if planned_total != p.total:  # the encoding must never change the total
            raise record_error(
                f"order {ref}: the {self.post_object} document would total {planned_total} instead of {p.total}; "
                "not sent",
                source_id=ref,
            )
        debtor = self.debtors.resolve(p.order.customer, ref, steps)
        if self.order_type == "sales_order":
            header.update({self.doc["invoice_debtor"]: debtor or "(new)", self.doc["delivery_debtor"]: debtor or "(new)"})
        else:
            header[self.doc["debtor"]] = debtor or "(new)"
        payload = {"business_object": self.post_object, self.header: [header], self.detail: rows}
        base = {"entity": ENTITY, "source_id": ref, "source_payload": record, "target_payload": payload}
        if self.dry_run:
            steps.append(f"would create {self.post_object} for {p.total}")
            return Outcome(action="dry_run", message=f"would create {self.post_object}, total {p.total}",
                           reply={"steps": steps}, **base)  # fmt: skip
        digest = self.hash(payload)
        # Committed before the POST: a crash or a lost reply leaves "pending", and the next attempt looks first.
        self.store.bindings.mark_pending(ENTITY, ref, payload_hash=digest)
        try:
            reply = self.av.create(self.post_object, self.header, header, detail_table=self.detail, detail_rows=rows)
        except TransientError as exc:
            raise record_error(
                f"order {ref}: POST {self.post_object} failed ({exc}); it may have reached AccountView, so the next "
                f"attempt looks the order up by {self.reference_field} before creating it",
                retry=True,
                source_id=ref,
            ) from None
        except SyncError as exc:
            self.store.bindings.mark_failed(ENTITY, ref, str(exc))
            raise
        stored = (reply.get(self.header) or [{}])[0]
        target = str(stored.get(self.key) or "").strip()
        self.store.bindings.upsert(ENTITY, ref, target_id=target, payload_hash=digest)  # at once: AV confirmed
        stored_total = document_total(self.doc, self.order_type, reply.get(self.detail) or rows)
        number_field = self.doc["order_number" if self.order_type == "sales_order" else "invoice_number"]
        number = stored.get(number_field) or target
        note = f"{self.post_object} {number} created, total {stored_total}"
        if stored_total != p.total:
            note += f" — WARNING: AccountView stored {stored_total}, the order total is {p.total}"
        retries = _retries(self.av) + _retries(self.mplus) - retries_before
        steps.append(f"created {self.post_object} {number} ({self.key} {target})")
        if retries:
            steps.append(f"HTTP requests retried by the clients for this order: {retries}")
        return Outcome(action="created", target_id=target, message=note, reply={"steps": steps, "stored": stored},
                       **base)  # fmt: skip


def _in_filters(field_name: str, values: list[str]):
    """IN filters of at most 50 values; a value holding a comma cannot go in a list, so it gets its own filter."""
    plain = [v for v in values if v and "," not in v]
    for start in range(0, len(plain), 50):
        yield Filter.in_(field_name, plain[start : start + 50])
    for v in values:
        if v and "," in v:
            yield Filter.equal(field_name, v)


def _retries(client) -> int:
    counter = getattr(client, "retries", None)
    return sum(counter.values()) if counter else 0


__all__ = ["ZERO", "OrdersFlow"]
