"""Orders: getOrders, getOrder, findOrder, createOrder, createOrderV3 (idempotent), deliverOrder, deliverOrderV2,
cancelOrder, cancelOrderV2.

Orders and stock (ASSUMPTION, docs/sandbox-mplus.md "Orders and stock"): a created order reserves the quantities
of its lines (``amountReserved``); delivering it (``deliverOrder``, ``deliverOrderV2`` line by line, ``payOrder``
with ``prepay`` false, or a till sale that names it in ``orderIds``) lowers the free stock by what is delivered,
as a sale does (stock history type SALES), lets go of the reservation and records ``deliveredQuantity`` per line.
Stock moves once per unit: what a line has delivered is never delivered again. Cancelling an order that delivered
nothing releases its reservation; a cancelled order is never delivered (see "cancelling" below)."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal

from ..till import EXCHANGE_PRICE_TYPES, price_line
from ..values import date_of, from_quantity, mplus_date, mplus_datetime, quantity
from .registry import Rejected, limited, operation
from .stock import reserved, sold

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
    for line in lines:
        line["lineId"] = line.get("lineId") or str(uuid.uuid4())  # the till's id of a line (deliverOrderV2)
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
    for stock_branch, number, qty, _line in stock_lines(order):
        if qty > 0:
            reserved(sb, stock_branch, number, qty)
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


# --- delivery: the order's goods leave the shop ------------------------------------------------------------------
DELIVERED = "ORDER-DELIVERY-STATE-COMPLETE"
CANCELLED_STATES = ("ORDER-CANCEL-STATE-COMPLETE",)


def stock_lines(order: dict):
    """(branch, article number, quantity, line) of each order line that moves stock: an article, no exchange."""
    branch = int(order.get("financialBranchNumber") or order.get("entryBranchNumber") or 0)
    for line in (order.get("lineList") or {}).get("line") or []:
        number, data = int(line.get("articleNumber") or 0), line.get("data") or {}
        if not number or data.get("priceType") in EXCHANGE_PRICE_TYPES:
            continue
        yield branch, number, from_quantity(data.get("quantity") or 0, data.get("decimalPlaces")), line


def delivered_of(line: dict) -> Decimal:
    data = line.get("data") or {}
    return from_quantity(data.get("deliveredQuantity") or 0, data.get("deliveredDecimalPlaces"))


def deliver(sb, order: dict, wanted: dict[str, Decimal] | None = None) -> dict:
    """The order with (``wanted``: lineId -> quantity, None: everything) delivered: each unit once. Returns the new
    order (stored dicts are replaced, never mutated); the caller stores it. Raises Rejected on a bad request."""
    order = copy.deepcopy(order)
    moving = {id(line): (branch, number, qty) for branch, number, qty, line in stock_lines(order)}
    lines = (order.get("lineList") or {}).get("line") or []
    if wanted is not None:
        unknown = set(wanted) - {line.get("lineId") for line in lines}
        if unknown:
            raise Rejected("FAILED", f"no line {sorted(unknown)[0]} in order {order['orderId']}")
    for line in lines:
        data = line.setdefault("data", {})
        qty = from_quantity(data.get("quantity") or 0, data.get("decimalPlaces"))
        rest = qty - delivered_of(line)
        step = rest if wanted is None else wanted.get(line.get("lineId"), Decimal(0))
        if not step:
            continue
        if abs(step) > abs(rest) or (step > 0) != (rest > 0):
            raise Rejected("FAILED", f"line {line.get('lineId')}: {step} is more than the {rest} not delivered yet")
        if id(line) in moving:
            branch, number, _qty = moving[id(line)]
            sold(sb, branch, number, step)
            if qty > 0:
                reserved(sb, branch, number, -step)
        data["deliveredQuantity"], data["deliveredDecimalPlaces"] = quantity(delivered_of(line) + step)
    done = all(delivered_of(line) == from_quantity((line.get("data") or {}).get("quantity") or 0,
                                                   (line.get("data") or {}).get("decimalPlaces")) for line in lines)
    anything = any(delivered_of(line) for line in lines)
    order["deliveryState"] = DELIVERED if done else ("ORDER-DELIVERY-STATE-PARTIAL" if anything
                                                     else "ORDER-DELIVERY-STATE-NOTHING")  # fmt: skip
    if done and order.get("fullyPaid"):
        order["completeState"] = "ORDER-COMPLETE-STATE-COMPLETE"
    return order


def store_order(store, order: dict) -> None:
    """Stored dicts are replaced, never mutated (a reply may be written outside the lock); a change is a new marker."""
    order["syncMarker"] = store.touch("order", order["orderId"], order.get("syncMarker"))
    store.orders[order["orderId"]] = order


def _deliver_request(sb, order_id: str, wanted: dict[str, Decimal] | None, prefix: str) -> dict:
    store = sb.store
    order = store.orders.get(order_id)
    if order is None:
        return {"result": f"{prefix}-FAILED", "errorMessage": f"order {order_id} not found"}
    if order.get("cancelState") in CANCELLED_STATES:
        return {"result": f"{prefix}-FAILED", "errorMessage": f"order {order_id} is cancelled"}
    if order.get("deliveryState") == DELIVERED:
        return {"result": f"{prefix}-ALREADY-DELIVERED", "errorMessage": f"order {order_id} is delivered already"}
    try:
        changed = deliver(sb, order, wanted)
    except Rejected as exc:
        return {"result": f"{prefix}-FAILED", "errorMessage": exc.message}
    slip = str(uuid.uuid4())  # a packing slip that can be invoiced later (DEV-ORD); the sandbox keeps only its id
    changed["packingSlipIds"] = {"id": [*((order.get("packingSlipIds") or {}).get("id") or []), slip]}
    store_order(store, changed)
    sb.stats.write("order")
    return {"result": f"{prefix}-OK", "packingSlipId": slip, "errorMessage": ""}


@operation("deliverOrder", write=True)
def deliver_order(sb, params: dict) -> dict:
    """Every line not delivered yet leaves the shop (DEV-ORD: shipped, not paid; no invoice is made here)."""
    return _deliver_request(sb, (params.get("request") or {}).get("orderId") or "", None, "DELIVER-ORDER-RESULT")


@operation("deliverOrderV2", write=True)
def deliver_order_v2(sb, params: dict) -> dict:
    """A partial delivery: the quantities per lineId (REL10)."""
    delivery = (params.get("request") or {}).get("orderDelivery") or {}
    wanted = {str(ln["lineId"]): from_quantity(ln["quantity"], ln.get("decimalPlaces"))
              for ln in (delivery.get("lineList") or {}).get("line") or []}  # fmt: skip
    return _deliver_request(sb, delivery.get("orderId") or "", wanted, "DELIVER-ORDER-V2-RESULT")


# --- cancelling: the order is called off before its goods leave ------------------------------------------------
# ASSUMPTIONS (docs/sandbox-mplus.md "Orders and stock"; the WSDL gives the operations and the result enum, not the
# rules): an order that delivered anything (its goods left, in part or in whole), or that is invoiced, cannot be
# cancelled (FAILED); a cancelled order releases what it reserved, records the cancelled quantity per line
# (``cancelledQuantity``) and is never delivered afterwards (deliverOrder, deliverOrderV2, payOrder and a till sale
# naming it are refused), so it never lowers the stock.


def _cancellable(order: dict | None, order_id: str) -> dict | None:
    """The failure reply when ``order`` cannot be cancelled, else None."""
    if order is None:
        return {"result": "CANCEL-ORDER-RESULT-NOT-FOUND", "message": f"order {order_id} not found"}
    if order.get("invoiceIds") or any(delivered_of(line) for line in (order.get("lineList") or {}).get("line") or []):
        return {"result": "CANCEL-ORDER-RESULT-FAILED",
                "message": f"order {order_id} is delivered or invoiced: its goods left, it cannot be cancelled"}  # fmt: skip
    return None


def _set_cancelled(sb, order: dict, cancelled: bool) -> None:
    """Cancel (or undo the cancel of) ``order``: its reservation is released (or held again), each line records
    the quantity cancelled; a new sync marker, so getOrders reports the change."""
    order = copy.deepcopy(order)
    sign = -1 if cancelled else 1
    moving = {id(line): (branch, number, qty) for branch, number, qty, line in stock_lines(order)}
    for line in (order.get("lineList") or {}).get("line") or []:
        data = line.setdefault("data", {})
        qty = from_quantity(data.get("quantity") or 0, data.get("decimalPlaces"))
        if id(line) in moving and qty > 0:
            branch, number, _qty = moving[id(line)]
            reserved(sb, branch, number, sign * qty)
        if cancelled:
            data["cancelledQuantity"], data["cancelledDecimalPlaces"] = quantity(qty)
        else:
            data.pop("cancelledQuantity", None)
            data.pop("cancelledDecimalPlaces", None)
    order["cancelState"] = CANCELLED_STATES[0] if cancelled else "ORDER-CANCEL-STATE-NOTHING"
    store_order(sb.store, order)
    sb.stats.write("order")


@operation("cancelOrder", write=True)
def cancel_order(sb, params: dict) -> dict:
    """Cancels the order; a second cancel changes nothing and answers ALREADY-CANCELLED (idempotent). The request's
    ``branchNumber`` (a branch order's branch) is not used: the sandbox has no branch orders."""
    order_id = params.get("orderId") or ""
    order = sb.store.orders.get(order_id)
    if order is not None and order.get("cancelState") in CANCELLED_STATES:
        return {"result": "CANCEL-ORDER-RESULT-ALREADY-CANCELLED", "message": f"order {order_id} is cancelled already"}
    refused = _cancellable(order, order_id)
    if refused:
        return refused
    _set_cancelled(sb, order, True)
    return {"result": "CANCEL-ORDER-RESULT-OK", "message": ""}


@operation("cancelOrderV2", write=True)
def cancel_order_v2(sb, params: dict) -> dict:
    """As cancelOrder, but a cancelled order's cancel is undone (the WSDL's documentation of cancelOrderV2): it
    reserves its quantities again and can be delivered (UNDO-CANCEL-OK). The workplace's branch must exist; the
    employee is not checked (as createOrder)."""
    req = params["request"]
    order_id = req.get("orderId") or ""
    branch = int((req.get("workplace") or {}).get("branchNumber") or 0)
    if branch not in sb.store.branches:
        return {"result": "CANCEL-ORDER-RESULT-FAILED", "message": f"branch {branch} not found"}
    order = sb.store.orders.get(order_id)
    if order is not None and order.get("cancelState") in CANCELLED_STATES:
        _set_cancelled(sb, order, False)
        return {"result": "CANCEL-ORDER-RESULT-UNDO-CANCEL-OK", "message": ""}
    refused = _cancellable(order, order_id)
    if refused:
        return refused
    _set_cancelled(sb, order, True)
    return {"result": "CANCEL-ORDER-RESULT-OK", "message": ""}
