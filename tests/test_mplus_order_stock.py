"""Orders move the sandbox till's stock the way a till does (issue 27): an order created over SOAP reserves its
quantities; delivering it (``deliverOrder``, ``deliverOrderV2`` line by line, ``payOrder`` without prepay, a till
receipt that names it) lowers the free stock by what is delivered, once per unit. Over real sockets through the
engine's MplusKASSA client (docs/sandbox-mplus.md, "Orders and stock")."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from apicenter_sandbox import world as world_mod
from apicenter_sandbox.http import SandboxServer
from apicenter_sandbox.mplus import MplusSandbox
from apicenter_sandbox.mplus.values import from_quantity
from apicenter_sync.clients import MplusClient

IDENT, SECRET = "order-stock", "order-stock-secret"


@pytest.fixture(scope="module")
def server():
    with SandboxServer(MplusSandbox(world_mod.generate(60), ident=IDENT, secret=SECRET)) as srv:
        yield srv


@pytest.fixture
def client(server):
    httpx.post(f"{server.url}/_sandbox/reset").raise_for_status()
    with MplusClient(server.url, IDENT, SECRET, timeout=(5, 5)) as c:
        yield c


@pytest.fixture
def article(server) -> int:
    store = server.app.store
    return next(n for (branch, n), row in sorted(store.stock.items()) if branch == 1 and store.article(n)
                and from_quantity(row["amountFree"], row.get("decimalPlacesFree")) > 5
                and store.article(n).get("stockArticle", True))  # fmt: skip


def stock(client: MplusClient, article: int) -> tuple[Decimal, Decimal]:
    """(free, reserved) as getStock answers them."""
    [row] = client.get_stock([article], branch=1)
    return (from_quantity(row["amountFree"], row.get("decimalPlacesFree")),
            from_quantity(row["amountReserved"], row.get("decimalPlacesReserved")))  # fmt: skip


def order(client: MplusClient, article: int, qty: str, ext: str | None = None) -> dict:
    created = client.create_order({"extOrderId": ext or f"ST-{uuid.uuid4().hex[:8]}", "relationNumber": 1,
                                   "entryBranchNumber": 1, "employeeNumber": 1,
                                   "lineList": {"line": [{"articleNumber": article,
                                                          "data": {"quantity": Decimal(qty)}}]}},
                                  str(uuid.uuid4()))  # fmt: skip
    return created["order"]


def test_an_order_reserves_and_its_delivery_lowers_the_stock_once(client, article):
    free, held = stock(client, article)
    made = order(client, article, "3")
    assert stock(client, article) == (free, held + 3)  # reserved, still in the shop
    line = made["lineList"]["line"][0]
    assert line["lineId"]
    partial = client.call("deliverOrderV2", idempotent=False, request={"orderDelivery": {
        "orderId": made["orderId"], "lineList": {"line": [{"lineId": line["lineId"], "quantity": 1}]}}})
    assert partial["result"] == "DELIVER-ORDER-V2-RESULT-OK" and partial["packingSlipId"]
    assert stock(client, article) == (free - 1, held + 2)
    stored = client.get_order(made["orderId"])
    assert stored["deliveryState"] == "ORDER-DELIVERY-STATE-PARTIAL"
    too_much = client.call("deliverOrderV2", idempotent=False, request={"orderDelivery": {
        "orderId": made["orderId"], "lineList": {"line": [{"lineId": line["lineId"], "quantity": 5}]}}})
    assert too_much["result"] == "DELIVER-ORDER-V2-RESULT-FAILED" and stock(client, article) == (free - 1, held + 2)
    rest = client.call("deliverOrder", idempotent=False, request={"orderId": made["orderId"]})
    assert rest["result"] == "DELIVER-ORDER-RESULT-OK"
    assert stock(client, article) == (free - 3, held)
    stored = client.get_order(made["orderId"])
    assert stored["deliveryState"] == "ORDER-DELIVERY-STATE-COMPLETE"
    assert from_quantity(stored["lineList"]["line"][0]["data"]["deliveredQuantity"],
                         stored["lineList"]["line"][0]["data"].get("deliveredDecimalPlaces")) == 3  # fmt: skip
    # Delivered is delivered: again, or paid afterwards, moves nothing.
    again = client.call("deliverOrder", idempotent=False, request={"orderId": made["orderId"]})
    assert again["result"] == "DELIVER-ORDER-RESULT-ALREADY-DELIVERED"
    paid = client.call("payOrder", idempotent=False, request={
        "orderId": made["orderId"], "prepay": False,
        "paymentList": {"payment": [{"method": "PIN", "amount": stored["totalInclAmount"]}]}})  # fmt: skip
    assert paid["result"] == "PAY-ORDER-RESULT-OK"
    assert stock(client, article) == (free - 3, held)
    assert client.get_order(made["orderId"])["completeState"] == "ORDER-COMPLETE-STATE-COMPLETE"


def test_paying_an_order_delivers_it(client, article):
    """payOrder without prepay: delivered, paid, invoiced (DEV-ORD); a deposit (prepay) moves no stock."""
    free, held = stock(client, article)
    made = order(client, article, "2.5")
    deposit = client.call("payOrder", idempotent=False, request={
        "orderId": made["orderId"], "prepay": True, "paymentList": {"payment": [{"method": "PIN", "amount": 100}]}})
    assert deposit["result"] == "PAY-ORDER-RESULT-OK" and stock(client, article) == (free, held + Decimal("2.5"))
    paid = client.call("payOrder", idempotent=False, request={
        "orderId": made["orderId"], "prepay": False,
        "paymentList": {"payment": [{"method": "PIN", "amount": made["totalInclAmount"] - 100}]}})  # fmt: skip
    assert paid["result"] == "PAY-ORDER-RESULT-OK" and paid["invoiceId"]
    assert stock(client, article) == (free - Decimal("2.5"), held)
    assert client.get_order(made["orderId"])["deliveryState"] == "ORDER-DELIVERY-STATE-COMPLETE"


def test_a_receipt_paying_an_order_hands_its_goods_over_once(client, server, article):
    """At the till the customer picks the order up and pays it: the goods leave with the order, not a second time
    with the receipt's lines."""
    free, held = stock(client, article)
    made = order(client, article, "2")
    receipt = httpx.post(f"{server.url}/_sandbox/till/sale", json={
        "kind": "receipt", "orderIds": [made["orderId"]], "relationNumber": 1,
        "lines": [{"articleNumber": article, "quantity": "2"}], "payments": [{"method": "PIN"}]}).json()  # fmt: skip
    assert receipt["orderIds"] == {"id": [made["orderId"]]}
    assert stock(client, article) == (free - 2, held)
    assert client.get_order(made["orderId"])["deliveryState"] == "ORDER-DELIVERY-STATE-COMPLETE"
    # A receipt of the till's own (no order) lowers the stock by its lines, as before.
    httpx.post(f"{server.url}/_sandbox/till/sale", json={
        "kind": "receipt", "lines": [{"articleNumber": article, "quantity": "1"}], "payments": [{"method": "PIN"}]})
    assert stock(client, article) == (free - 3, held)


def test_a_cancelled_order_releases_its_reservation_and_never_lowers_the_stock(client, server, article):
    """cancelOrder (WSDL): the reservation goes back; a second cancel changes nothing (ALREADY-CANCELLED); the
    order is never delivered afterwards, by any of the ways an order is delivered."""
    free, held = stock(client, article)
    made = order(client, article, "3")
    assert stock(client, article) == (free, held + 3)
    before = client.get_order(made["orderId"])["syncMarker"]
    cancelled = client.call("cancelOrder", idempotent=False, orderId=made["orderId"])
    assert cancelled["result"] == "CANCEL-ORDER-RESULT-OK"
    assert stock(client, article) == (free, held)
    stored = client.get_order(made["orderId"])
    assert stored["cancelState"] == "ORDER-CANCEL-STATE-COMPLETE" and stored["syncMarker"] > before
    data = stored["lineList"]["line"][0]["data"]
    assert from_quantity(data["cancelledQuantity"], data.get("cancelledDecimalPlaces")) == 3
    again = client.call("cancelOrder", idempotent=False, orderId=made["orderId"])
    assert again["result"] == "CANCEL-ORDER-RESULT-ALREADY-CANCELLED"
    assert stock(client, article) == (free, held) and client.get_order(made["orderId"])["syncMarker"] == stored["syncMarker"]
    # Never delivered: deliverOrder, deliverOrderV2, payOrder and a till sale naming it are refused.
    line_id = stored["lineList"]["line"][0]["lineId"]
    assert client.call("deliverOrder", idempotent=False, request={"orderId": made["orderId"]})["result"] == (
        "DELIVER-ORDER-RESULT-FAILED")  # fmt: skip
    v2 = client.call("deliverOrderV2", idempotent=False, request={"orderDelivery": {
        "orderId": made["orderId"], "lineList": {"line": [{"lineId": line_id, "quantity": 1}]}}})  # fmt: skip
    assert v2["result"] == "DELIVER-ORDER-V2-RESULT-FAILED"
    paid = client.call("payOrder", idempotent=False, request={
        "orderId": made["orderId"], "prepay": False,
        "paymentList": {"payment": [{"method": "PIN", "amount": stored["totalInclAmount"]}]}})  # fmt: skip
    assert paid["result"] == "PAY-ORDER-RESULT-FAILED" and "cancelled" in paid["errorMessage"]
    receipts = len(server.app.store.receipts)
    sale = httpx.post(f"{server.url}/_sandbox/till/sale", json={
        "kind": "receipt", "orderIds": [made["orderId"]], "relationNumber": 1,
        "lines": [{"articleNumber": article, "quantity": "3"}], "payments": [{"method": "PIN"}]})  # fmt: skip
    assert sale.status_code == 400 and "cancelled" in sale.json()["error"]
    assert len(server.app.store.receipts) == receipts
    assert stock(client, article) == (free, held)
    assert client.get_order(made["orderId"])["deliveryState"] == "ORDER-DELIVERY-STATE-NOTHING"


def test_an_order_whose_goods_left_cannot_be_cancelled(client, article):
    free, held = stock(client, article)
    made = order(client, article, "2")
    line_id = made["lineList"]["line"][0]["lineId"]
    client.call("deliverOrderV2", idempotent=False, request={"orderDelivery": {
        "orderId": made["orderId"], "lineList": {"line": [{"lineId": line_id, "quantity": 1}]}}})  # fmt: skip
    refused = client.call("cancelOrder", idempotent=False, orderId=made["orderId"])
    assert refused["result"] == "CANCEL-ORDER-RESULT-FAILED" and "delivered" in refused["message"]
    assert stock(client, article) == (free - 1, held + 1)
    assert client.get_order(made["orderId"])["cancelState"] == "ORDER-CANCEL-STATE-NOTHING"
    missing = client.call("cancelOrder", idempotent=False, orderId=str(uuid.uuid4()))
    assert missing["result"] == "CANCEL-ORDER-RESULT-NOT-FOUND"


def test_cancel_order_v2_undoes_a_cancel(client, article):
    """cancelOrderV2 on a cancelled order undoes the cancel (the WSDL's documentation): reserved again,
    deliverable again."""
    free, held = stock(client, article)
    made = order(client, article, "2")
    request = {"workplace": {"branchNumber": 1, "workplaceNumber": 1}, "employee": {"employeeNumber": 1},
               "orderId": made["orderId"]}  # fmt: skip
    assert client.call("cancelOrderV2", idempotent=False, request=request)["result"] == "CANCEL-ORDER-RESULT-OK"
    assert stock(client, article) == (free, held)
    undone = client.call("cancelOrderV2", idempotent=False, request=request)
    assert undone["result"] == "CANCEL-ORDER-RESULT-UNDO-CANCEL-OK"
    assert stock(client, article) == (free, held + 2)
    stored = client.get_order(made["orderId"])
    assert stored["cancelState"] == "ORDER-CANCEL-STATE-NOTHING" and "cancelledQuantity" not in stored["lineList"]["line"][0]["data"]
    assert client.call("deliverOrder", idempotent=False, request={"orderId": made["orderId"]})["result"] == (
        "DELIVER-ORDER-RESULT-OK")  # fmt: skip
    assert stock(client, article) == (free - 2, held)
    bad = client.call("cancelOrderV2", idempotent=False, request={**request, "workplace": {"branchNumber": 99,
                                                                                          "workplaceNumber": 1}})
    assert bad["result"] == "CANCEL-ORDER-RESULT-FAILED"
