"""The strict reconciliation of the sales: every order, receipt, invoice or till closing the MplusKASSA sandbox
holds is in AccountView exactly once, worth what the till says to the cent, or has an open failure saying why.

The expectations come from the sandbox's own storage and the documented rules (docs/flows.md, "Orders"), not
from the flow code: which sales are booked (completed orders, paid sale receipts, finalized invoices; a receipt
or invoice made from an order is not booked when orders are read too), what a document is worth (the sale's
total; what was paid when a cash payment rounded it by at most 2 cents), which AccountView article each line
lands on, which debtor a sales order is for, and — per till closing — that the page balances and books each
payment method's takings. Every document written by the API must belong to a sale: anything else is reported as
a duplicate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from apicenter_sync.profile.defaults import ORDER_TYPE_ALIASES

CENT = Decimal("0.01")
COMPLETE, NOT_CANCELLED = "ORDER-COMPLETE-STATE-COMPLETE", ("", "ORDER-CANCEL-STATE-NOTHING")
SALE_RECEIPTS = ("RECEIPT-TYPE-RECEIPT", "RECEIPT-TYPE-CREDIT-RECEIPT")
PAID = ("RECEIPT-STATE-PAID", "RECEIPT-STATE-HANDLED")
ROUNDING_MAX = Decimal("0.02")
EXCHANGE = ("PRICE-TYPE-EXCHANGE-RATE-BUY", "PRICE-TYPE-EXCHANGE-RATE-SELL")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _quantity(mantissa, places) -> Decimal:
    return Decimal(int(mantissa or 0)).scaleb(-int(places or 0))


def _ids(value) -> list[str]:
    ids = (value or {}).get("id") if isinstance(value, dict) else value
    return [str(i) for i in ids or () if str(i).strip()]


class SalesCheck:
    def __init__(self, rec):
        self.rec = rec  # the Reconciler: report, expected_open, settings, names, AccountView rows, Mplus storage
        self.n, self.m, self.report = rec.n, rec.m, rec.report
        get = rec.settings.get
        self.kinds = list(get("source_document_type", "orders") or ["order"])
        self.per_closing = "receipt" in self.kinds and get("receipt_booking", "orders") == "per_closing"
        order_type = str(get("order_type", "orders") or "sales_order")
        self.order_type = ORDER_TYPE_ALIASES.get(order_type, order_type)
        self.doc = self.n.objects[self.order_type]
        self.booking = self.n.booking
        self.default_debtor = str(get("default_debtor_number", "orders") or "").strip()
        self.shipping = str(get("shipping_article", "orders") or "").strip()
        self.other = str(get("other_line_article", "orders") or "").strip()
        self.rounding = str(get("cash_rounding_article", "orders") or "").strip()
        tables = rec.store.mappings
        self.bpe = tables.get_table("bpe_articles") if "bpe_articles" in tables.list_tables() else {}
        # Till articles that are shipping lines: only what the configuration says (the engine assumes none).
        self.shipping_articles = tables.get_table("shipping_articles") if "shipping_articles" in tables.list_tables() else {}
        self.closing_journal = str(get("closing_journal", "orders") or "MEM")
        mail = self.n.debtor["email"]
        self.debtor_by_mail: dict[str, str] = {}  # the lowest debtor number per e-mail address
        for sid, row in sorted(rec.contacts.items(), key=lambda kv: (len(kv[0]), kv[0])):
            self.debtor_by_mail.setdefault(str(row.get(mail) or "").strip().lower(), sid)

    # --- AccountView documents -----------------------------------------------------------------------------------
    def documents(self, doc) -> dict[str, list[tuple[dict, list[dict]]]]:
        """Reference -> the documents (header, lines) with it; one document per page, so no link field is needed."""
        found: dict[str, list[tuple[dict, list[dict]]]] = defaultdict(list)
        for page in self.rec.av.iter_pages(doc.reader, doc.table, page_size=1):
            for header in page[doc.table.upper()]:
                found[str(header.get(doc["reference"]) or "").strip()].append(
                    (header, page.get(doc.detail_table.upper(), []))
                )
        return found

    def worth(self, lines: list[dict], doc) -> Decimal:
        if doc is self.n.sales_order:
            qty, px = doc.line("quantity"), doc.line("price")
            return sum((money(Decimal(str(ln[qty])) * Decimal(str(ln[px]))) for ln in lines), Decimal(0))
        return sum((money(ln[doc.line("amount")]) for ln in lines), Decimal(0))

    # --- which sales are booked -------------------------------------------------------------------------------------
    def not_booked(self, kind: str, sale: dict) -> str | None:
        if kind == "order":
            if sale.get("completeState") != COMPLETE or (sale.get("cancelState") or "") not in NOT_CANCELLED:
                return "not completed"
        elif kind == "receipt":
            if sale.get("receiptType") not in SALE_RECEIPTS or sale.get("state") not in PAID:
                return "not a paid sale"
        elif not sale.get("finalized"):
            return "not finalized"
        if kind != "order" and "order" in self.kinds and (_ids(sale.get("orderIds")) or _ids(sale.get("extOrderIds"))):
            return "made from an order"
        return None

    @staticmethod
    def counted_lines(sale: dict) -> list[dict]:
        return [ln for ln in (sale.get("lineList") or {}).get("line") or []
                if ln.get("lineKind", "LINE-KIND-DEFAULT") == "LINE-KIND-DEFAULT"]  # fmt: skip

    def paid_and_total(self, sale: dict) -> tuple[Decimal, Decimal]:
        payments = (sale.get("paymentList") or {}).get("payment") or []
        return Decimal(sum(int(p["amount"]) for p in payments)) / 100, Decimal(int(sale["totalInclAmount"])) / 100

    def expected_worth(self, sale: dict) -> Decimal:
        paid, total = self.paid_and_total(sale)
        payments = (sale.get("paymentList") or {}).get("payment") or []
        return paid if payments and 0 < abs(paid - total) <= ROUNDING_MAX else total

    def sells(self, sale: dict) -> bool:
        """At least one line with an amount or an article (a receipt of text lines only is not a sale; a sale
        without any line is refused, not skipped)."""
        lines = self.counted_lines(sale)
        return not lines or any(self.article_of(ln) is not None for ln in lines)

    def article_of(self, line: dict) -> str | None:
        """The AccountView article a line is booked on (None: left out, a text line without amount)."""
        number = str(line.get("articleNumber") or 0)
        data = line["data"]
        if data.get("bpeId"):
            return self.bpe.get(str(data["bpeId"]).strip()) or self.other
        if number == "0":
            return self.other if int(data.get("totalInclAmount") or 0) else None
        if number in self.shipping_articles:
            return (self.shipping_articles[number] or "").strip() or self.shipping
        return number

    # --- the check ---------------------------------------------------------------------------------------------------
    def run(self) -> None:
        docs = self.documents(self.doc)
        self.docs = docs
        known: set[str] = set()
        seeded = {ref for ref, found in docs.items() if found and all(h.get("INP_USR") != "API" for h, _ in found)}
        self.pages = self.documents(self.booking) if "receipt" in self.kinds else {}
        closing_of = dict(self.m.counted)  # receiptId -> the closing that counted it
        for kind, sales in (("order", self.m.orders), ("receipt", self.m.receipts), ("invoice", self.m.invoices)):
            for sale in sales.values():
                ref = self.ref(kind, sale)
                known.add(ref)
                if kind not in self.kinds:
                    continue
                if kind == "receipt" and not docs.get(ref) and self.on_a_closing(sale, closing_of.get(ref)):
                    continue  # on its closing's page, or waiting with its closing: check_closings
                self.report.records[kind] += 1
                self.check_sale(kind, ref, sale, docs.get(ref, []), ref in seeded)
        for ref, found in docs.items():
            written = [h for h, _ in found if h.get("INP_USR") == "API"]
            if written and ref not in known:
                self.report.duplicates.append(f"{self.doc.code} with reference {ref!r} belongs to no sale")
        if "receipt" in self.kinds:
            self.check_closings()

    def on_a_closing(self, receipt: dict, closing: str | None) -> bool:
        """A receipt without a document of its own is booked with its closing when that closing has a page, and
        waits with it while receipts are booked per closing (a shift not closed yet, a closing refused). Either
        way it may have been tried on its own before the setting changed: its open line is allowed, not needed."""
        if self.not_booked("receipt", receipt):
            return False
        if closing is not None and closing in self.pages:
            return True
        if self.per_closing:
            self.rec.allowed_open[("orders", str(receipt["receiptId"]))] = ""
            return True
        return False

    def ref(self, kind: str, sale: dict) -> str:
        if kind == "order":
            return str(sale.get("extOrderId") or sale.get("orderId")).strip()
        return str(sale["receiptId" if kind == "receipt" else "invoiceId"]).strip()

    def check_sale(self, kind: str, ref: str, sale: dict, found: list, seeded: bool) -> None:
        what = f"{kind} {ref}"
        if self.not_booked(kind, sale):
            if found and not seeded:
                self.report.duplicates.append(f"{what} is not booked by the rules but is in AccountView")
            return
        lines = self.counted_lines(sale)
        if not lines:
            self.rec.expected_open[("orders", ref)] = "has no lines"
            if found:
                self.report.duplicates.append(f"{what} without lines was booked")
            return
        if any(ln["data"].get("priceType") in EXCHANGE for ln in lines):
            self.rec.expected_open[("orders", ref)] = "foreign currency"
            if found:
                self.report.duplicates.append(f"{what} in a foreign currency was booked")
            return
        if not self.sells(sale):
            if found:
                self.report.duplicates.append(f"{what} sells nothing but is in AccountView")
            return
        missing = sorted({str(ln["articleNumber"]) for ln in lines if not ln["data"].get("bpeId")
                          and str(ln.get("articleNumber") or 0) not in ("0", *self.shipping_articles)
                          and str(ln["articleNumber"]) not in self.rec.articles})  # fmt: skip
        if missing:
            self.rec.expected_open[("orders", ref)] = f"not in AccountView ({self.n.article.code})"
            if found:
                self.report.duplicates.append(f"{what} with missing articles was booked")
            return
        if len(found) != 1:
            (self.report.lost if not found else self.report.duplicates).append(f"{what}: {len(found)} {self.doc.code}")
            return
        if seeded:
            return  # booked before the sync began: the flow must skip it, and did not book it twice
        header, doc_lines = found[0]
        want = self.expected_worth(sale)
        if self.worth(doc_lines, self.doc) != want:
            self.rec.mismatch(what, "total", want, self.worth(doc_lines, self.doc))
        if self.doc is self.n.sales_order:
            self.check_sales_order(what, sale, lines, header, doc_lines, want)
        bound = self.rec.store.bindings.get(kind, ref)
        if bound is None or bound.state != "synced":
            self.rec.mismatch(what, "binding", "synced", bound)

    def check_sales_order(self, what, sale, lines, header, doc_lines, worth) -> None:
        so = self.doc
        want_qty: Counter = Counter()
        for ln in lines:
            article = self.article_of(ln)
            if article is not None:
                want_qty[article] += _quantity(ln["data"]["quantity"], ln["data"].get("decimalPlaces"))
        paid, total = self.paid_and_total(sale)
        if worth != total:
            want_qty[self.rounding] += 1
        got_qty: Counter = Counter()
        for ln in doc_lines:
            got_qty[str(ln[so.line("sku")]).strip()] += Decimal(str(ln[so.line("quantity")]))
        if +want_qty != +got_qty:
            self.rec.mismatch(what, "lines", dict(want_qty), dict(got_qty))
        relation = self.m.relations.get(int(sale.get("relationNumber") or 0))
        mail = str(relation.get("email") or "").strip().lower() if relation else ""
        want_debtor = self.debtor_by_mail.get(mail) if mail else self.default_debtor
        if str(header.get(so["invoice_debtor"]) or "").strip() != want_debtor:
            self.rec.mismatch(what, so["invoice_debtor"], want_debtor, header.get(so["invoice_debtor"]))

    # --- per till closing --------------------------------------------------------------------------------------------
    def check_closings(self) -> None:
        """Every closing: its page (when it has receipts to book that were not booked on their own) balances, moves
        what those receipts were paid per payment account, totals the shift's takings, and exists once; a closing
        that cannot be booked (a foreign-currency sale) is open with that reason, and stays so."""
        pages, bk = self.pages, self.booking
        accounts = self.rec.store.mappings.get_table("payment_method_account")
        for cash_count_id, closing in self.m.cash_counts.items():
            what = f"closing {closing.get('cashCountString') or cash_count_id}"
            self.report.records["closing"] += 1
            receipts = [r for rid, r in self.m.receipts.items() if self.m.counted.get(rid) == cash_count_id]
            booked = [r for r in receipts if not self.not_booked("receipt", r) and self.sells(r)
                      and not self.docs.get(str(r["receiptId"]))]  # fmt: skip
            found = [(h, lines) for h, lines in pages.get(cash_count_id, []) if h.get("INP_USR") == "API"]
            foreign = any(ln["data"].get("priceType") in EXCHANGE for r in booked for ln in self.counted_lines(r))
            if foreign:
                key = ("orders", cash_count_id)
                (self.rec.expected_open if self.per_closing else self.rec.allowed_open)[key] = "foreign currency"
            if not booked or foreign:
                if found:
                    self.report.duplicates.append(f"{what} has no sales to book but is in AccountView")
                continue
            if len(found) != 1:
                if found or self.per_closing:
                    (self.report.lost if not found else self.report.duplicates).append(
                        f"{what}: {len(found)} {bk.code}")
                continue
            header, lines = found[0]
            if str(header.get(bk["journal"]) or "").strip() != self.closing_journal:
                self.rec.mismatch(what, bk["journal"], self.closing_journal, header.get(bk["journal"]))
            if self.worth(lines, bk) != 0:
                self.rec.mismatch(what, "balance", Decimal(0), self.worth(lines, bk))
            want: Counter = Counter()
            for receipt in booked:
                for p in (receipt.get("paymentList") or {}).get("payment") or []:
                    want[accounts.get(p["method"], "?")] += Decimal(int(p["amount"])) / 100
            got: Counter = Counter()
            for ln in lines:
                account = str(ln.get(bk.line("account")) or "").strip()
                if account in set(accounts.values()):
                    got[account] += money(ln[bk.line("amount")])
            if +want != +got or -want != -got:
                self.rec.mismatch(what, "payments", dict(want), dict(got))
            takings = sum(want.values(), Decimal(0))
            if money(header.get(bk["total"]) or 0) != takings:
                self.rec.mismatch(what, bk["total"], takings, header.get(bk["total"]))
            revenue = sum((money(ln[bk.line("amount")]) for ln in lines
                           if str(ln.get(bk.line("account")) or "").strip() not in set(accounts.values())),
                          Decimal(0))  # fmt: skip
            if -revenue != takings:
                self.rec.mismatch(what, "revenue", takings, -revenue)
            for receipt in booked:
                bound = self.rec.store.bindings.get("receipt", receipt["receiptId"])
                if bound is None or bound.state != "synced":
                    self.rec.mismatch(f"receipt {receipt['receiptId']} of {what}", "binding", "synced", bound)
