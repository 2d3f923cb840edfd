"""Orders: getOrders, getOrder, findOrder, createOrder, createOrderV3 (idempotent)."""

from __future__ import annotations

import copy
import uuid

from ..till import price_line
from ..values import date_of, mplus_date, mplus_datetime
from .registry import Rejected, limited, operation

SALES_TYPES = {"ORDER-TYPE-SALES-ORDER", "ORDER-TYPE-REPEAT-SALES-ORDER", "ORDER-TYPE-EXTERNAL-SALES-ORDER"}
# Fields the server sets on create, whatever the client sent.
SERVER_FIELDS = (
    "orderId", "syncMarker", "orderNumber", "totalInclAmount", "totalExclAmount", "prepaidAmount", "fullyPaid",
    "deliveryState", "cancelState", "completeState", "changeCounter", "versionNumber", "invoiceIds",
)  # fmt: skip


@operation("getOrders")
def get_orders(sb, params: dict) -> dict:
    req = params["request"]
    store = sb.store
    branches = set(req.get("branchNumbers") or ())
    employees = set(req.get("employeeNumbers") or ())
    relations = set(req.get("relationNumbers") or ())
    articles = set(req.get("articleNumbers") or ())
    order_ids = set(req.get("orderIds") or ())
    numbers = {(n["year"], n["number"]) for n in req.get("orderNumbers") or ()}
    types = set((req.get("orderTypeList") or {}).get("orderType") or ()) or SALES_TYPES
    first = date_of(req["fromFinancialDate"]) if req.get("fromFinancialDate") else None
    last = date_of(req["throughFinancialDate"]) if req.get("throughFinancialDate") else None
    with_lines = req.get("includeLineList", True)

    def selected():
        for key in store.index["order"].since(req.get("syncMarker") or 0):
            order = store.orders[key]
            if order.get("orderType", "ORDER-TYPE-SALES-ORDER") not in types:
                continue
            if branches and not branches & {order.get("entryBranchNumber"), order.get("financialBranchNumber")}:
                continue
            if employees and order.get("employeeNumber") not in employees:
                continue
            if relations and order.get("relationNumber") not in relations:
                continue
            if order_ids and key not in order_ids:
                continue
            if numbers and (order["orderNumber"]["year"], order["orderNumber"]["number"]) not in numbers:
                continue
            if first or last:
                day = date_of(order["financialDate"])
                if (first and day < first) or (last and day > last):
                    continue
            if articles and not articles & {ln["articleNumber"] for ln in order["lineList"]["line"]}:
                continue
            yield order if with_lines else {k: v for k, v in order.items() if k != "lineList"}

    return {"orderList": {"order": list(limited(selected(), req.get("syncMarkerLimit")))}}


@operation("getOrder")
def get_order(sb, params: dict) -> dict:
    order = sb.store.orders.get(params["orderId"])
    return {"result": "GET-ORDER-RESULT-OK", "order": order} if order else {"result": "GET-ORDER-RESULT-NOT-FOUND"}


@operation("findOrder")
def find_order(sb, params: dict) -> dict:
    order_id = sb.store.order_by_ext.get(params["extOrderId"])
    if order_id is None:
        return {"result": "GET-ORDER-RESULT-NOT-FOUND"}
    return {"result": "GET-ORDER-RESULT-OK", "order": sb.store.orders[order_id]}


def _lines(sb, lines_in: list[dict], vat_method: str) -> list[dict]:
    """Lines completed the way the till prices them (``till.price_line``)."""
    return [price_line(sb.store, line, vat_method) for line in lines_in]


def _create(sb, order_in: dict, extra_payments: list[dict]) -> tuple[dict, dict | None]:
    """(reply fields, the stored order or None); raises Rejected on a business failure."""
    store = sb.store
    ext = order_in.get("extOrderId") or ""
    if not ext:
        raise Rejected("FAILED", "extOrderId is required")
    if ext in store.order_by_ext:
        existing = store.order_by_ext[ext]
        return {
            "result": "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS",
            "info": {"orderId": existing, "orderString": _order_string(store.orders[existing])},
            "errorMessage": f"extOrderId {ext} already exists",
        }, None
    relation = order_in.get("relationNumber")
    if not relation:
        raise Rejected("FAILED", "relationNumber is required: every order needs a relation")
    if relation not in store.relations:
        raise Rejected("FAILED", f"relation {relation} not found")
    branch = order_in.get("entryBranchNumber") or order_in.get("financialBranchNumber") or min(store.branches)
    if branch not in store.branches:
        raise Rejected("FAILED", f"branch {branch} not found")
    vat_method = order_in.get("vatMethod") or "VAT-METHOD-INCLUSIVE"
    lines = _lines(sb, (order_in.get("lineList") or {}).get("line") or [], vat_method)
    if not lines:
        raise Rejected("FAILED", "an order needs at least one line")
    payments = ((order_in.get("paymentList") or {}).get("payment") or []) + extra_payments
    known_methods = {m["method"] for m in store.payment_methods}
    for payment in payments:
        if payment["method"] not in known_methods:
            raise Rejected("PAYMENT-FAILED", f"unknown payment method {payment['method']}")
    moment = sb.now()
    year = moment.year
    store.order_numbers[year] = store.order_numbers.get(year, 0) + 1
    order_id = str(uuid.uuid4())
    marker = store.touch("order", order_id, None)
    total = sum(ln["data"]["totalInclAmount"] for ln in lines)
    paid = sum(p["amount"] for p in payments)
    order = {k: v for k, v in order_in.items() if k not in SERVER_FIELDS}
    order.update(
        orderId=order_id, syncMarker=marker, orderType=order.get("orderType") or "ORDER-TYPE-SALES-ORDER",
        entryBranchNumber=branch, financialBranchNumber=order.get("financialBranchNumber") or branch,
        entryTimestamp=order.get("entryTimestamp") or mplus_datetime(moment),
        financialDate=order.get("financialDate") or mplus_date(moment.date()),
        relationName=order.get("relationName") or store.relations[relation].get("name"),
        totalInclAmount=total, totalExclAmount=sum(ln["data"]["totalExclAmount"] for ln in lines),
        vatMethod=vat_method, prepaidAmount=paid,
        fullyPaid=bool(payments) and paid >= total, deliveryState="ORDER-DELIVERY-STATE-NOTHING",
        cancelState="ORDER-CANCEL-STATE-NOTHING", completeState="ORDER-COMPLETE-STATE-NOTHING",
        orderNumber={"year": year, "number": store.order_numbers[year]}, lineList={"line": lines},
        paymentList={"payment": payments},
    )  # fmt: skip
    store.orders[order_id] = order
    store.order_by_ext[ext] = order_id
    sb.stats.write("order")
    info = {"orderId": order_id, "orderString": _order_string(order)}
    return {"result": "CREATE-ORDER-RESULT-OK", "info": info, "errorMessage": ""}, order


def _order_string(order: dict) -> str:
    return f"{order['orderNumber']['year']}-{order['orderNumber']['number']}"


def _failed(exc: Rejected) -> dict:
    return {"result": f"CREATE-ORDER-RESULT-{exc.result}", "info": {"orderId": "", "orderString": ""},
            "errorMessage": exc.message}  # fmt: skip


@operation("createOrder", write=True)
def create_order(sb, params: dict) -> dict:
    try:
        reply, _ = _create(sb, params.get("order") or {"orderId": ""}, [])
    except Rejected as exc:
        return _failed(exc)
    return reply


@operation("createOrderV3", write=True)
def create_order_v3(sb, params: dict) -> dict:
    """Idempotent: a repeated idempotencyKey gets the first reply again, marked as a replay."""
    req = params["request"]
    key = ("createOrderV3", req["idempotencyKey"])
    first = sb.store.idempotent.get(key)
    if first is not None:
        return {**first, "idempotencyResult": "IDEMPOTENCY-RESULT-REPLAY-RESPONSE"}
    payments = (req.get("paymentList") or {}).get("payment") or []
    try:
        reply, order = _create(sb, req["order"], payments)
    except Rejected as exc:
        reply, order = _failed(exc), None
    if order is not None:
        reply["order"] = order
        if payments:
            reply["payResult"] = "PAY-ORDER-RESULT-OK"
    reply = {"idempotencyResult": "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE", **reply}
    sb.store.idempotent[key] = copy.deepcopy(reply)
    return reply
