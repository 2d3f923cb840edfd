"""A generated corpus of till sales, made the way a till makes them: through the MplusKASSA sandbox's own write
paths (``createOrderV3`` and ``payOrder`` over SOAP; the till's ``/_sandbox/till/sale`` and ``/_sandbox/till/close``
for receipts, invoices, cash in/out and shift closings), so every sale carries what the till computes (line
totals, discount amounts, VAT groups, cash rounding to 5 cents).

Seeded and reproducible (``random.Random(seed)``); each sale is a random mix of the shapes a shop sells:
anonymous or with a relation; 1–6 lines at 21 %, 9 % and 0 % VAT; whole and decimal quantities; returns and mixed
sale/return; percentage and amount discounts, free articles, zero prices; text lines with and without an amount,
deposit (BPE) lines; several payments (cash rounded to 5 cents, card, gift card, iDEAL, on account); orders that
are paid (completed and invoiced) or left open; VAT-exclusive orders; partly paid receipts; cash in and out;
an article the books do not have yet (the sale must wait); a foreign-currency line (the sale must be refused).

What each sale must become is not predicted here: the strict reconciliation (``reconcile_sales``) derives it from
the sandbox's storage and the documented rules.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

FREE = "DISCOUNT-TYPE-SALE-PROMOTION-FREE-ARTICLE"
FOREIGN = "PRICE-TYPE-EXCHANGE-RATE-SELL"


@dataclass
class Corpus:
    refs: dict[str, list[str]] = field(default_factory=dict)  # kind -> the flow's references of the sales made
    shapes: Counter = field(default_factory=Counter)  # shape -> sales that have it
    closings: list[str] = field(default_factory=list)  # cashCountIds

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.refs.values())

    def add(self, kind: str, ref: str, shapes: set[str]) -> None:
        self.refs.setdefault(kind, []).append(ref)
        self.shapes.update(shapes)


class SalesMaker:
    def __init__(self, sb, mplus, seed: int = 7, *, missing_article: bool = True, foreign: bool = True):
        self.sb, self.mplus, self.rng = sb, mplus, random.Random(seed)
        world = sb.world
        rates = {v.code: v.pct for v in world.vat_codes}
        service = {world.edge[k] for k in ("shipping_article", "other_line_article", "cash_rounding_article")}
        sellable = [a for a in world.articles if a.in_mplus and a.in_accountview and a.sku.isdigit()
                    and a.sku not in service]  # fmt: skip
        self.rate_of = {int(a.sku): rates[a.vat_code] for a in sellable}
        self.by_rate = {pct: [n for n, r in self.rate_of.items() if r == pct] for pct in (21, 9, 0)}
        self.by_rate = {pct: numbers for pct, numbers in self.by_rate.items() if numbers}
        store = sb.mplus.app.store
        self.relations = sorted(n for n, r in store.relations.items() if r.get("email"))
        self.missing = int(world.edge["missing_sku"]) if missing_article else None
        self.foreign = foreign
        self.corpus = Corpus()
        self.made = 0  # sales made by earlier make() calls: a second call goes on numbering

    # --- lines ----------------------------------------------------------------------------------------------------
    def article(self) -> int:
        rate = self.rng.choices(list(self.by_rate), weights=[6, 3, 1][: len(self.by_rate)])[0]
        return self.rng.choice(self.by_rate[rate])

    def line(self, sign: int, shapes: set[str]) -> dict:
        rng = self.rng
        qty = Decimal(rng.randint(1, 4))
        if rng.random() < 0.15:
            qty = Decimal(rng.randint(1, 2500)) / 1000
            shapes.add("decimal quantity")
        line: dict = {"articleNumber": self.article(), "quantity": str(sign * qty)}
        roll = rng.random()
        if roll < 0.14:
            line["discountPercentage"] = rng.randint(5, 50)
            shapes.add("percentage discount")
        elif roll < 0.24:
            line["discountAmount"] = sign * rng.randint(5, 250)
            shapes.add("amount discount")
        elif roll < 0.28:
            line.update(discountPercentage=100, discountType=FREE)
            shapes.add("free article")
        elif roll < 0.31:
            line["price"] = 0
            shapes.add("zero price")
        elif roll < 0.36:
            line = {"articleNumber": 0, "text": "Reparatie / dienst", "price": rng.randint(100, 5000),
                    "vatCode": 2, "quantity": str(sign)}  # fmt: skip
            shapes.add("text line with amount")
        elif roll < 0.40:
            line = {"articleNumber": 0, "text": "Statiegeld", "price": rng.choice([10, 15, 25, 390]), "vatCode": 0,
                    "bpeId": "DEP-1", "quantity": str(sign * rng.randint(1, 6))}  # fmt: skip
            shapes.add("deposit line")
        elif roll < 0.42:
            line = {"articleNumber": 0, "text": "Bedankt en tot ziens", "price": 0, "vatCode": 0, "quantity": "1"}
            shapes.add("text line without amount")
        return line

    def lines(self, sign: int, shapes: set[str], *, mixed: bool) -> list[dict]:
        lines = [self.line(sign, shapes) for _ in range(self.rng.randint(1, 6))]
        rates = {self.rate_of.get(ln["articleNumber"], ln.get("vatCode")) for ln in lines}
        if len(rates) > 1:
            shapes.add("several VAT rates")
        if mixed and self.rng.random() < 0.12:
            lines.append({"articleNumber": self.article(), "quantity": "-1"})
            shapes.add("sale and return")
        return lines

    # --- payments -------------------------------------------------------------------------------------------------
    def payments(self, relation: int | None, shapes: set[str]) -> list[dict]:
        roll = self.rng.random()
        if relation and roll < 0.12:
            shapes.add("on account")
            return [{"method": "ACCOUNT"}]
        if roll < 0.45:
            shapes.add("cash")
            return [{"method": "CASH"}]
        if roll < 0.75:
            return [{"method": "PIN"}]
        if roll < 0.87:
            shapes.update({"gift card", "several payments"})
            return [{"method": "GIFTCARD", "amount": self.rng.choice([500, 1000, 2500])}, {"method": "PIN"}]
        if roll < 0.95:
            shapes.update({"several payments", "cash"})
            return [{"method": "CASH", "amount": self.rng.choice([500, 1000])}, {"method": "PIN"}]
        return [{"method": "IDEAL"}]

    # --- sales ----------------------------------------------------------------------------------------------------
    def till(self, path: str, body: dict) -> dict | None:
        reply = httpx.post(self.sb.mplus_url + path, json=body, timeout=30)
        if reply.status_code == 400:
            return None  # the till refused it (a paid amount larger than a negative total…): not a sale
        reply.raise_for_status()
        return reply.json()

    def receipt(self, workplace: int, force: str = "") -> None:
        rng, shapes = self.rng, set()
        credit = rng.random() < 0.12
        relation = rng.choice(self.relations) if self.relations and rng.random() < 0.3 else None
        shapes.add("relation" if relation else "anonymous")
        lines = self.lines(-1 if credit else 1, shapes, mixed=not credit)
        if credit:
            shapes.add("return")
        sale = {"kind": "credit_receipt" if credit else "receipt", "workplace": workplace, "lines": lines}
        if relation:
            sale["relationNumber"] = relation
        sale["payments"] = [{"method": rng.choice(["CASH", "PIN"])}] if credit else self.payments(relation, shapes)
        if not credit and rng.random() < 0.04:
            sale["payments"] = [{"method": "PIN", "amount": 100}]
            shapes.add("partly paid")
        if self.missing and (rng.random() < 0.03 or force == "missing"):
            lines.append({"articleNumber": self.missing, "quantity": "1"})
            shapes.add("article missing in the books")
        if self.foreign and (rng.random() < 0.015 or force == "foreign"):
            lines.append({"articleNumber": self.article(), "quantity": "1", "priceType": FOREIGN})
            shapes.add("foreign currency")
        stored = self.till("/_sandbox/till/sale", sale)
        if stored is not None:
            self.corpus.add("receipt", stored["receiptId"], shapes)

    def money_move(self, workplace: int) -> None:
        kind = self.rng.choice(["cash_in", "cash_out"])
        amount = self.rng.choice([2000, 5000, 10000]) * (1 if kind == "cash_in" else -1)
        stored = self.till("/_sandbox/till/sale", {"kind": kind, "workplace": workplace, "lines": [],
                                                    "payments": [{"method": "CASH", "amount": amount}]})  # fmt: skip
        if stored is not None:
            self.corpus.add("receipt", stored["receiptId"], {"cash in/out"})

    def invoice(self) -> None:
        shapes = {"invoice"}
        relation = self.rng.choice(self.relations) if self.relations else None
        sale = {"kind": "invoice", "lines": self.lines(1, shapes, mixed=True),
                "payments": self.payments(relation, shapes)}  # fmt: skip
        if relation:
            sale["relationNumber"] = relation
        if self.rng.random() < 0.2:
            sale["vatMethod"] = "VAT-METHOD-EXCLUSIVE"
            shapes.add("prices excl. VAT")
        stored = self.till("/_sandbox/till/sale", sale)
        if stored is not None:
            self.corpus.add("invoice", stored["invoiceId"], shapes)

    def order(self, n: int) -> None:
        rng, shapes = self.rng, {"order"}
        if not self.relations:
            return
        relation = rng.choice(self.relations)
        lines = []
        for ln in self.lines(1, shapes, mixed=True):
            data = {k: ln[k] for k in ("price", "discountPercentage", "discountAmount", "discountType", "vatCode",
                                       "bpeId", "priceType") if k in ln}  # fmt: skip
            data["quantity"] = Decimal(ln["quantity"])
            lines.append({"articleNumber": ln["articleNumber"], "text": ln.get("text") or "", "data": data})
        ext = f"CORPUS-{n:05d}"
        order = {"extOrderId": ext, "relationNumber": relation, "lineList": {"line": lines}}
        if rng.random() < 0.2:
            order["vatMethod"] = "VAT-METHOD-EXCLUSIVE"
            shapes.add("prices excl. VAT")
        created = self.mplus.create_order(order, str(uuid.uuid4()))
        total = int(created["order"]["totalInclAmount"])
        if rng.random() < 0.8:
            method = rng.choice(["PIN", "IDEAL", "ACCOUNT"])
            payments = [{"method": method, "amount": total}] if total > 0 else []
            reply = self.mplus.call("payOrder", idempotent=False,
                                    request={"orderId": created["orderId"], "prepay": False,
                                             "paymentList": {"payment": payments}})  # fmt: skip
            if reply.get("invoiceId"):
                self.corpus.add("invoice", reply["invoiceId"], {"invoice of an order"})
            shapes.add("paid order")
        else:
            shapes.add("open order")
        self.corpus.add("order", ext, shapes)

    def make(self, n: int, *, workplaces: int = 3, close_every: int = 0) -> Corpus:
        """``n`` sales; with ``close_every``, each workplace's shift is closed after that many of its receipts."""
        rings = Counter()
        for i in range(n):
            roll = self.rng.random()
            workplace = 1 + i % workplaces
            if roll < 0.62:
                self.receipt(workplace)
                rings[workplace] += 1
            elif roll < 0.67:
                self.money_move(workplace)
                rings[workplace] += 1
            elif roll < 0.80:
                self.invoice()
            else:
                self.order(self.made + i)
            if close_every and rings[workplace] >= close_every:
                self.close(workplace)
                rings[workplace] = 0
        # The rare shapes at least once, whatever the draws.
        if self.missing and "article missing in the books" not in self.corpus.shapes:
            self.receipt(1, force="missing")
        if self.foreign and "foreign currency" not in self.corpus.shapes:
            self.receipt(1, force="foreign")
        if close_every:
            for workplace, count in rings.items():
                if count:
                    self.close(workplace)
        self.made += n
        return self.corpus

    def close(self, workplace: int) -> None:
        closing = self.till("/_sandbox/till/close", {"workplace": workplace})
        if closing is not None:
            self.corpus.closings.append(closing["cashCountId"])

    def refund(self, workplace: int, method: str = "PIN") -> None:
        shapes = {"return"}
        lines = [{"articleNumber": self.article(), "quantity": "-1"} for _ in range(self.rng.randint(1, 3))]
        stored = self.till("/_sandbox/till/sale", {"kind": "credit_receipt", "workplace": workplace, "lines": lines,
                                                    "payments": [{"method": method}]})  # fmt: skip
        if stored is not None:
            self.corpus.add("receipt", stored["receiptId"], shapes)

    def special_shifts(self, first_workplace: int = 11) -> None:
        """The closings a shop also has, each on a workplace of its own from ``first_workplace`` on: two till floats
        only (two closings with nothing to book, in one batch), a shift of refunds only, one mixing a refund paid
        back in cash with card sales, and a shift with a foreign-currency sale (the closing must be refused)."""
        wp = first_workplace
        for n in (0, 1):
            self.money_move(wp + n)
            self.close(wp + n)
            self.corpus.shapes["closing with nothing to book"] += 1
        for _ in range(2):
            self.refund(wp + 2)
        self.close(wp + 2)
        self.corpus.shapes["refund-only shift"] += 1
        self.receipt(wp + 3)
        self.refund(wp + 3, "CASH")
        self.close(wp + 3)
        self.corpus.shapes["mixed shift"] += 1
        if self.foreign:
            self.receipt(wp + 4)
            self.receipt(wp + 4, force="foreign")
            self.close(wp + 4)
            self.corpus.shapes["foreign-currency closing"] += 1

    def close_all(self, workplaces) -> None:
        """Close every shift of ``workplaces`` that has receipts not counted yet."""
        for workplace in workplaces:
            self.close(workplace)
