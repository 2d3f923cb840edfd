"""Receipts, invoices and till closings: getReceipts, getReceipt, getReceiptsByCashCount, getCashCountList,
getInvoices, getInvoice, findInvoice, and payOrder (which completes an order and invoices it)."""

from __future__ import annotations

import copy
import uuid

from ..values import date_of
from .orders import CANCELLED_STATES, DELIVERED, deliver, store_order
from .registry import limited, operation


def _in_dates(item: dict, req: dict) -> bool:
    first = date_of(req["fromFinancialDate"]) if req.get("fromFinancialDate") else None
    last = date_of(req["throughFinancialDate"]) if req.get("throughFinancialDate") else None
    day = date_of(item["financialDate"])
    return not ((first and day < first) or (last and day > last))


def _sales(store, entity: str, items: dict, req: dict, with_lines: bool = True):
    branches = set(req.get("branchNumbers") or ())
    relations = set(req.get("relationNumbers") or ())
    for key in store.index[entity].since(req.get("syncMarker") or 0):
        item = items[key]
        if branches and not branches & {item.get("entryBranchNumber"), item.get("financialBranchNumber")}:
            continue
        if relations and item.get("relationNumber") not in relations:
            continue
        if not _in_dates(item, req):
            continue
        yield item if with_lines else {k: v for k, v in item.items() if k != "lineList"}


@operation("getReceipts")
def get_receipts(sb, params: dict) -> dict:
    req = params["request"]
    found = _sales(sb.store, "receipt", sb.store.receipts, req)
    return {"receiptList": {"receipt": list(limited(found, req.get("syncMarkerLimit")))}}


@operation("getReceipt")
def get_receipt(sb, params: dict) -> dict:
    receipt = sb.store.receipts.get(params["receiptId"])
    return {"result": "GET-RECEIPT-RESULT-OK", "receipt": receipt} if receipt else {"result": "GET-RECEIPT-RESULT-NOT-FOUND"}


@operation("getReceiptsByCashCount")
def get_receipts_by_cash_count(sb, params: dict) -> dict:
    cash_count = params["request"]["cashCountId"]
    store = sb.store
    if cash_count not in store.cash_counts:
        return {"result": "GET-RECEIPTS-BY-CASH-COUNT-RESULT-NOT-FOUND", "receiptList": {}}
    receipts = [r for rid, r in store.receipts.items() if store.counted.get(rid) == cash_count]
    return {"result": "GET-RECEIPTS-BY-CASH-COUNT-RESULT-OK",
            "receiptList": {"receipt": sorted(receipts, key=lambda r: r["syncMarker"])}}  # fmt: skip


@operation("getCashCountList")
def get_cash_count_list(sb, params: dict) -> dict:
    """ASSUMPTION: the financial-date bounds are inclusive; ``sinceCashCount`` keeps the closings of that branch and
    workplace numbered after it (a later year counts as after)."""
    req = params.get("request") or {}
    since = req.get("sinceCashCount")
    found = []
    for cash_count in sb.store.cash_counts.values():
        if not _in_dates(cash_count, req):
            continue
        if since:
            if (cash_count["branchNumber"], cash_count["workplaceNumber"]) != (since["branchNumber"],
                                                                               since["workplaceNumber"]):  # fmt: skip
                continue
            n = cash_count["cashCountNumber"]
            if (n["year"], n["number"]) <= (since["year"], since["number"]):
                continue
        found.append(cash_count)
    found.sort(key=lambda c: (date_of(c["financialDate"]), c["branchNumber"], c["workplaceNumber"],
                              c["cashCountNumber"]["number"]))  # fmt: skip
    return {"cashCountList": {"cashCount": found}}


@operation("getInvoices")
def get_invoices(sb, params: dict) -> dict:
    req = params["request"]
    wanted = set(req.get("invoiceIds") or ())
    found = (i for i in _sales(sb.store, "invoice", sb.store.invoices, req, req.get("includeLineList", True))
             if not wanted or i["invoiceId"] in wanted)  # fmt: skip
    return {"invoiceList": {"invoice": list(limited(found, req.get("syncMarkerLimit")))}}


@operation("getInvoice")
def get_invoice(sb, params: dict) -> dict:
    invoice = sb.store.invoices.get(params["invoiceId"])
    return {"result": "GET-INVOICE-RESULT-OK", "invoice": invoice} if invoice else {"result": "GET-INVOICE-RESULT-NOT-FOUND"}


@operation("findInvoice")
def find_invoice(sb, params: dict) -> dict:
    invoice_id = sb.store.invoice_by_ext.get(params["extInvoiceId"])
    if invoice_id is None:
        return {"result": "GET-INVOICE-RESULT-NOT-FOUND"}
    return {"result": "GET-INVOICE-RESULT-OK", "invoice": sb.store.invoices[invoice_id]}


@operation("payOrder", write=True)
def pay_order(sb, params: dict) -> dict:
    """prepay = false: the order is delivered and paid; it is completed and invoiced (DEV-ORD): what was not
    delivered yet leaves the stock now (orders.deliver). prepay = true: the payments are a deposit on it.
    ASSUMPTION: the invoice copies the order's lines and all its payments."""
    req = params["request"]
    store = sb.store
    order = store.orders.get(req["orderId"])
    if order is None:
        return {"result": "PAY-ORDER-RESULT-FAILED", "errorMessage": f"order {req['orderId']} not found"}
    if order.get("invoiceIds"):
        return {"result": "PAY-ORDER-RESULT-ORDER-ALREADY-INVOICED", "errorMessage": "the order is already invoiced"}
    if order.get("cancelState") in CANCELLED_STATES:  # its reservation is released: its goods never leave
        return {"result": "PAY-ORDER-RESULT-FAILED", "errorMessage": f"order {req['orderId']} is cancelled"}
    payments = list((req.get("paymentList") or {}).get("payment") or [])
    known = {m["method"] for m in store.payment_methods}
    if any(p["method"] not in known for p in payments):
        return {"result": "PAY-ORDER-RESULT-FAILED", "errorMessage": "unknown payment method"}
    all_payments = (order.get("paymentList") or {}).get("payment", []) + payments
    paid = sum(p["amount"] for p in all_payments)
    changed = {**order, "paymentList": {"payment": all_payments}, "prepaidAmount": paid,
               "fullyPaid": paid >= order["totalInclAmount"] - 2}  # fmt: skip
    if req.get("prepay"):
        store_order(store, changed)
        return {"result": "PAY-ORDER-RESULT-OK", "errorMessage": ""}
    if paid < order["totalInclAmount"] - 2:
        return {"result": "PAY-ORDER-RESULT-PAYMENT-INSUFFICIENT", "errorMessage": f"paid {paid} of "
                                                                                  f"{order['totalInclAmount']}"}
    if order.get("deliveryState") != DELIVERED:
        changed = deliver(sb, changed)
    invoice_id = str(uuid.uuid4())
    year = order["orderNumber"]["year"]
    key = ("invoice", 0, 0, year)
    store.numbers[key] = number = store.numbers.get(key, 0) + 1
    invoice = {k: copy.deepcopy(order[k]) for k in (
        "entryTimestamp", "financialDate", "financialBranchNumber", "entryBranchNumber", "workplaceNumber",
        "employeeNumber", "totalInclAmount", "totalExclAmount", "vatMethod", "lineList", "relationNumber",
        "relationName", "invoiceAddress", "deliveryAddress") if k in order}  # fmt: skip
    invoice.update(
        invoiceId=invoice_id, syncMarker=store.touch("invoice", invoice_id, None),
        invoiceNumber={"year": year, "number": number}, transactionString=f"F{year}-{number}",
        invoiceType="INVOICE-TYPE-INVOICE", finalized=True, state="INVOICE-STATE-PAID", paidAmount=paid,
        paymentList={"payment": all_payments}, orderIds={"id": [order["orderId"]]},
        extOrderIds={"id": [order["extOrderId"]]} if order.get("extOrderId") else None,
    )  # fmt: skip
    invoice = {k: v for k, v in invoice.items() if v is not None}
    store.invoices[invoice_id] = invoice
    changed.update(deliveryState="ORDER-DELIVERY-STATE-COMPLETE", completeState="ORDER-COMPLETE-STATE-COMPLETE",
                   invoiceIds={"id": [invoice_id]})  # fmt: skip
    store_order(store, changed)
    sb.stats.write("invoice")
    return {"result": "PAY-ORDER-RESULT-OK", "invoiceId": invoice_id, "errorMessage": ""}
