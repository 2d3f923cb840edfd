"""How the till prices a sale line: what a sale read back from MplusKASSA carries.

ASSUMPTIONS (docs/assumptions.md, "Sales as the till stores them"): the WSDL names the fields but not the rules.

- ``price`` follows the sale's ``vatMethod``: incl. VAT on an inclusive sale (the default), excl. VAT on an
  exclusive one; a line without a price takes the article's. ``priceExcl`` (or ``price`` incl. VAT on an exclusive
  sale) is derived, half up to the cent.
- The discount: ``discountAmount`` (incl. VAT) as given; without it, ``discountPercentage`` of
  ``round(quantity × price)``, half up to the cent, is filled in as ``discountAmount``. ``discountAmountExcl`` is
  derived from it. On an exclusive sale the given amount is excl. VAT (``discountAmountExcl``) and the incl. one is
  derived.
- ``totalInclAmount`` = ``round(quantity × price) − discountAmount`` (inclusive sale); on an exclusive sale
  ``totalExclAmount`` = ``round(quantity × price) − discountAmountExcl`` and ``totalInclAmount`` adds the VAT.
- VAT code and percentage, and the turnover group, come from the article unless the line gives them; a line
  without an article (article number 0: a text or deposit line) needs its own VAT code.
"""

from __future__ import annotations

from decimal import Decimal

from .operations.registry import Rejected
from .schema import load_model
from .values import from_quantity, price_other, whole

INCLUSIVE, EXCLUSIVE = "VAT-METHOD-INCLUSIVE", "VAT-METHOD-EXCLUSIVE"


def price_line(store, line: dict, vat_method: str = INCLUSIVE) -> dict:
    """``line`` completed the way the till prices it; Rejected when its article is unknown."""
    number = int(line.get("articleNumber") or 0)
    article = store.article(number) if number else None
    if number and article is None:
        raise Rejected("FAILED", f"article {number} not found")
    data = {"quantity": 1, **(line.get("data") or {})}
    data.setdefault("decimalPlaces", 0)
    if article is not None:
        data.setdefault("vatCode", article.get("vatCode"))
        data.setdefault("turnoverGroup", article.get("turnoverGroup"))
    if data.get("vatCode") is None:
        raise Rejected("FAILED", "a line without an article needs a vatCode")
    pct = data.get("vatPercentage")
    if pct is None:
        pct = store.vat_pct.get(int(data["vatCode"]), article.get("vatPercentage", 0) if article else 0)
    data["vatPercentage"] = pct
    exclusive = vat_method == EXCLUSIVE
    if "price" not in data:
        source = (article or {}).get("priceExcl" if exclusive else "priceIncl", 0)
        data["price"] = source or 0
    if exclusive:
        data.setdefault("priceExcl", data["price"])
    else:
        data.setdefault("priceExcl", price_other(data["price"], pct, from_incl=True))
    gross = whole(Decimal(data["price"]) * from_quantity(data["quantity"], data["decimalPlaces"]))
    if exclusive:
        discount = data.get("discountAmountExcl", data.get("discountAmount"))
        if discount is None:
            discount = whole(Decimal(gross) * data["discountPercentage"] / 100) if data.get("discountPercentage") else 0
        data["discountAmountExcl"] = discount
        data["discountAmount"] = price_other(discount, pct, from_incl=False)
        total_excl = gross - discount
        data.update(totalExclAmount=total_excl, totalInclAmount=price_other(total_excl, pct, from_incl=False))
    else:
        discount = data.get("discountAmount")
        if discount is None:
            discount = whole(Decimal(gross) * data["discountPercentage"] / 100) if data.get("discountPercentage") else 0
        data["discountAmount"] = discount
        data["discountAmountExcl"] = price_other(discount, pct, from_incl=True)
        total = gross - discount
        data.update(totalInclAmount=total, totalExclAmount=price_other(total, pct, from_incl=True))
    if data.get("discountType") and data["discountType"] not in load_model().enums["DiscountType"]:
        raise Rejected("FAILED", f"discountType {data['discountType']} is not a DiscountType of the WSDL")
    if data["discountAmount"] and not data.get("discountType"):
        data["discountType"] = "DISCOUNT-TYPE-EXTERNAL-DISCOUNT"
    text = line.get("text") or (article or {}).get("description") or ""
    return {**line, "articleNumber": number, "text": text, "data": data}


def vat_groups(lines: list[dict], branch: int) -> list[dict]:
    """The sale's VAT groups (per VAT code: excl. amount and VAT), as the till reports them."""
    groups: dict[int, dict] = {}
    for line in lines:
        data = line["data"]
        group = groups.setdefault(int(data["vatCode"]), {"branchNumber": branch, "vatCode": int(data["vatCode"]),
                                                         "vatPercentage": data["vatPercentage"], "exclAmount": 0,
                                                         "vatAmount": 0})  # fmt: skip
        group["exclAmount"] += data["totalExclAmount"]
        group["vatAmount"] += data["totalInclAmount"] - data["totalExclAmount"]
    return [groups[code] for code in sorted(groups)]


# --- ringing up and closing: what the till itself does (the sandbox's control endpoints /_sandbox/till/…) ------
ROUNDED_METHODS = ("CASH",)  # ASSUMPTION: cash payments round the total to 5 cents (Dutch practice)
KINDS = {"receipt": "RECEIPT-TYPE-RECEIPT", "credit_receipt": "RECEIPT-TYPE-CREDIT-RECEIPT", "invoice": None,
         "cash_in": "RECEIPT-TYPE-CASH-INFLOW", "cash_out": "RECEIPT-TYPE-CASH-OUTFLOW"}
MONEY_ONLY = ("cash_in", "cash_out")  # money into or out of the drawer: payments, no lines
EXCHANGE_PRICE_TYPES = ("PRICE-TYPE-EXCHANGE-RATE-BUY", "PRICE-TYPE-EXCHANGE-RATE-SELL")  # money, not goods
RECEIPT_STATES = ("RECEIPT-STATE-OUTSTANDING", "RECEIPT-STATE-PARTLY-PAID", "RECEIPT-STATE-PAID")


def round_to_five(cents: int) -> int:
    return whole(Decimal(cents) / 5) * 5


def _next_number(store, kind: str, branch: int, workplace: int, year: int) -> int:
    key = (kind, branch, workplace, year)
    store.numbers[key] = store.numbers.get(key, 0) + 1
    return store.numbers[key]


def ring_up(sb, sale: dict) -> dict:
    """A till sale as the till stores it: ``sale`` = {kind: receipt | credit_receipt | invoice | cash_in | cash_out,
    branch, workplace,
    employee, relationNumber?, vatMethod?, lines: [{articleNumber, quantity (text), price?, discountPercentage?,
    discountAmount?, discountType?, text?, pluNumber?, bpeId?, vatCode?, priceType?, lineKind?}],
    payments: [{method, amount?}]}.
    A payment without an amount pays the rest; a cash one rounds it to 5 cents. Rejected on a bad sale."""
    import uuid

    from .values import mplus_date, mplus_datetime, quantity

    store = sb.store
    kind = sale.get("kind", "receipt")
    if kind not in KINDS:
        raise Rejected("FAILED", f"kind must be one of {', '.join(KINDS)}")
    branch, workplace = int(sale.get("branch") or min(store.branches)), int(sale.get("workplace") or 1)
    if branch not in store.branches:
        raise Rejected("FAILED", f"branch {branch} not found")
    employee = int(sale.get("employee") or 1)
    vat_method = sale.get("vatMethod") or INCLUSIVE
    lines = []
    for given in sale.get("lines") or []:
        mantissa, places = quantity(Decimal(str(given.get("quantity", "1"))))
        data = {"quantity": mantissa, "decimalPlaces": places}
        for key in ("price", "discountPercentage", "discountAmount", "discountType", "vatCode", "bpeId", "priceType"):
            if given.get(key) is not None:
                data[key] = given[key]
        line = {"articleNumber": int(given.get("articleNumber") or 0), "text": given.get("text") or "", "data": data}
        for key in ("pluNumber", "lineKind"):
            if given.get(key):
                line[key] = given[key]
        lines.append(price_line(store, line, vat_method))
    if not lines and kind not in MONEY_ONLY:
        raise Rejected("FAILED", "a sale needs at least one line")
    counted = [ln for ln in lines if ln.get("lineKind", "LINE-KIND-DEFAULT") == "LINE-KIND-DEFAULT"]
    total = sum(ln["data"]["totalInclAmount"] for ln in counted)
    total_excl = sum(ln["data"]["totalExclAmount"] for ln in counted)
    methods = {m["method"] for m in store.payment_methods}
    payments, rest = [], total
    moment = sb.now()
    for given in sale.get("payments") or []:
        if given["method"] not in methods:
            raise Rejected("PAYMENT-FAILED", f"unknown payment method {given['method']}")
        amount = given.get("amount")
        if amount is None:
            amount = round_to_five(rest) if given["method"] in ROUNDED_METHODS else rest
        payments.append({"method": given["method"], "amount": int(amount), "branchNumber": branch,
                         "workplaceNumber": workplace, "employeeNumber": employee,
                         "financialDate": mplus_date(moment.date()), "entryTimestamp": mplus_datetime(moment)})  # fmt: skip
        rest -= int(amount)
    paid = sum(p["amount"] for p in payments)
    relation = int(sale.get("relationNumber") or 0)
    if relation and relation not in store.relations:
        raise Rejected("FAILED", f"relation {relation} not found")
    _check_orders(store, sale.get("orderIds") or ())
    year = moment.year
    common = {
        "entryTimestamp": mplus_datetime(moment), "financialDate": mplus_date(moment.date()),
        "financialBranchNumber": branch, "entryBranchNumber": branch, "workplaceNumber": workplace,
        "employeeNumber": employee, "employeeName": (store.employees.get(employee) or {}).get("name") or "",
        "totalInclAmount": total, "totalExclAmount": total_excl, "vatMethod": vat_method, "paidAmount": paid,
        "vatGroupList": {"vatGroup": vat_groups(counted, branch)}, "lineList": {"line": lines},
        "paymentList": {"payment": payments},
    }  # fmt: skip
    if relation:
        common.update(relationNumber=relation, relationName=store.relations[relation].get("name"))
    if sale.get("reference"):
        common["reference"] = sale["reference"]
    settled = paid - total if paid - total else 0
    if kind == "invoice":
        invoice_id = str(uuid.uuid4())
        number = _next_number(store, "invoice", 0, 0, year)
        invoice = {
            "invoiceId": invoice_id, "syncMarker": store.touch("invoice", invoice_id, None),
            "invoiceNumber": {"year": year, "number": number}, "transactionString": f"F{year}-{number}",
            "invoiceType": "INVOICE-TYPE-CREDIT-INVOICE" if total < 0 else "INVOICE-TYPE-INVOICE",
            "finalized": True, "state": "INVOICE-STATE-PAID" if paid and abs(settled) <= 2 else "INVOICE-STATE-OUTSTANDING",
            **common,
        }  # fmt: skip
        if sale.get("extId"):
            invoice["extInvoiceId"] = sale["extId"]
            store.invoice_by_ext[sale["extId"]] = invoice_id
        store.invoices[invoice_id] = invoice
        _lower_stock(sb, branch, counted)
        sb.stats.write("invoice")
        return invoice
    receipt_id = str(uuid.uuid4())
    number = _next_number(store, "receipt", branch, workplace, year)
    state = sale.get("state") or (RECEIPT_STATES[2] if kind in MONEY_ONLY or (abs(settled) <= 2 and (paid or not total))
                                  else RECEIPT_STATES[1] if paid else RECEIPT_STATES[0])  # fmt: skip
    receipt = {
        "receiptId": receipt_id, "syncMarker": store.touch("receipt", receipt_id, None),
        "receiptNumber": {"branchNumber": branch, "workplaceNumber": workplace, "year": year, "number": number},
        "transactionString": f"{branch}-{workplace}-{year}-{number}", "receiptType": KINDS[kind], "state": state,
        **common,
    }  # fmt: skip
    if sale.get("extId"):
        receipt["extReceiptId"] = sale["extId"]
    if sale.get("orderIds"):
        receipt["orderIds"] = {"id": list(sale["orderIds"])}
    store.receipts[receipt_id] = receipt
    if sale.get("orderIds"):
        _deliver_orders(sb, sale["orderIds"])  # the goods leave with the orders, once (not again by the receipt)
    elif kind in ("receipt", "credit_receipt"):
        _lower_stock(sb, branch, counted)
    sb.stats.write("receipt")
    return receipt


def _check_orders(store, order_ids) -> None:
    """A till does not hand over the goods of a cancelled order (ASSUMPTION, docs/sandbox-mplus.md "Orders and
    stock"): the sale is refused before anything is stored."""
    from .operations.orders import CANCELLED_STATES

    for order_id in order_ids:
        order = store.orders.get(str(order_id))
        if order is not None and order.get("cancelState") in CANCELLED_STATES:
            raise Rejected("FAILED", f"order {order_id} is cancelled")


def _deliver_orders(sb, order_ids) -> None:
    """A receipt paying orders at the till hands their goods over: what they did not deliver yet leaves the stock."""
    from .operations.orders import DELIVERED, deliver, store_order

    for order_id in order_ids:
        order = sb.store.orders.get(str(order_id))
        if order is not None and order.get("deliveryState") != DELIVERED:
            store_order(sb.store, deliver(sb, order))


def _lower_stock(sb, branch: int, lines: list[dict]) -> None:
    """Every sale and return at the till moves the till's own stock of its articles at once (a return, with its
    negative quantity, puts it back). ASSUMPTION (docs/sandbox-mplus.md): the branch of the sale keeps the stock;
    lines without an article (0) and non-stock articles move nothing; foreign-currency lines exchange money."""
    from .operations.stock import sold  # here: the operations import this module's pricing

    for line in lines:
        number, data = int(line.get("articleNumber") or 0), line["data"]
        if number and data.get("priceType") not in EXCHANGE_PRICE_TYPES:
            sold(sb, branch, number, from_quantity(data["quantity"], data.get("decimalPlaces")))


def close_shift(sb, request: dict) -> dict:
    """A till closing (cash count) of one workplace: every paid receipt since the last closing, counted per payment
    method. ``request`` = {branch, workplace, employee, difference: {method: cents}}."""
    import uuid

    from .values import mplus_date, mplus_datetime

    store = sb.store
    branch, workplace = int(request.get("branch") or min(store.branches)), int(request.get("workplace") or 1)
    employee = int(request.get("employee") or 1)
    receipts = [r for r in store.receipts.values() if r["financialBranchNumber"] == branch
                and r["workplaceNumber"] == workplace and r["receiptId"] not in store.counted]  # fmt: skip
    if not receipts:
        raise Rejected("FAILED", f"nothing to count on branch {branch}, workplace {workplace}")
    moment = sb.now()
    year = moment.year
    number = _next_number(store, "cashcount", branch, workplace, year)
    cash_count_id = str(uuid.uuid4())
    added: dict[str, int] = {}
    for receipt in receipts:
        for payment in receipt["paymentList"]["payment"]:
            added[payment["method"]] = added.get(payment["method"], 0) + payment["amount"]
    difference = request.get("difference") or {}
    lines = []
    for method in sorted(added):
        counted = added[method] + int(difference.get(method, 0))
        lines.append({"paymentMethod": method, "startAmount": 0, "addedAmount": added[method], "countedAmount": counted,
                      "depositedAmount": 0, "differenceAmount": counted - added[method], "endAmount": counted})  # fmt: skip

    def transaction(receipt: dict) -> dict:
        n = receipt["receiptNumber"]
        return {"transactionId": receipt["receiptId"], "transactionString": receipt["transactionString"],
                "financialDate": receipt["financialDate"], "branchNumber": branch, "workplaceNumber": workplace,
                "transactionNumber": {"year": n["year"], "number": n["number"]}, "employeeNumber": receipt["employeeNumber"],
                "entryTimestamp": receipt["entryTimestamp"]}  # fmt: skip

    ordered = sorted(receipts, key=lambda r: r["syncMarker"])
    cash_count = {
        "cashCountId": cash_count_id, "cashCountString": f"{branch}-{workplace}-{year}-{number}",
        "financialDate": mplus_date(moment.date()), "entryTimestamp": mplus_datetime(moment), "branchNumber": branch,
        "workplaceNumber": workplace, "cashCountNumber": {"year": year, "number": number}, "versionNumber": 1,
        "employeeNumber": employee, "countingEmployeeNumber": employee, "isFinalized": True,
        "shiftFirstReceiptId": ordered[0]["receiptId"], "shiftFirstTransaction": transaction(ordered[0]),
        "shiftLastReceiptId": ordered[-1]["receiptId"], "shiftLastTransaction": transaction(ordered[-1]),
        "cashCountLineList": {"cashCountLine": lines},
    }  # fmt: skip
    store.cash_counts[cash_count_id] = cash_count
    for receipt in receipts:
        store.counted[receipt["receiptId"]] = cash_count_id
    sb.stats.write("cashCount")
    return cash_count
