"""Till sales not yet booked: what the stock flow subtracts from AccountView's figure before it sets the till's.

The till lowers its own stock on every sale and raises it on every return. AccountView's stock figure follows a
sale only once the orders flow has booked it (the profile's assumption ``STOCK_MOVING_DOCUMENTS``: a sales order
with article lines reserves its quantities when it is posted). ``setStock`` is absolute, so the figure sent is
AccountView's minus the quantities the till sold and the books do not show yet; else the next stock change or a
full re-sync would put back units the till already sold. (``updateStock`` sends changes instead, but a change
whose reply was lost cannot be told from one that was not made — the WSDL gives it no key — so a retry could
count it twice; an absolute figure can be sent again safely.)

Not yet booked, per source the orders flow books (setting ``source_document_type``; receipts and invoices move
the till's stock when they are made, an order when it is delivered: what its lines delivered, ``deliveredQuantity``,
also before it is complete and booked):

- read from MplusKASSA from a floor of its own: the lowest sync marker of a sale not booked at the last look
  (not read by the orders flow yet, skipped for its state, waiting), and
- every sale with an open failure in the orders flow's log (read, not booked: waiting, retried or refused),

less those bound as booked (on their own or on a till closing's page). A sale whose document may have reached
AccountView (its write's reply was lost: binding pending) counts its sold units, not its returns: the figure errs
low, never high. A sale made from an order (its
``orderIds``) moves stock with the order and is not counted; lines without an article and foreign-currency lines
move no stock.

A cancelled order (``cancelState``; the orders flow never books it) needs no rule of its own: it counts what its
lines delivered, which is nothing when the till cancels only an order whose goods are still in the shop (the
sandbox's assumption, docs/sandbox-mplus.md "Orders and stock"), and else units that did leave the shop and that
AccountView will never show. Its cancel releases the till's reservation, which the figure sent does not touch.

Sales the orders flow never books (a source it does not read) and sales booked without article lines (a booking
per receipt or per till closing) never reach AccountView's stock: with stock from AccountView the till's figure
must drift. The doctor says so (``doctor/accountview.py``, check ``stock_drift``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .. import record_filters
from ..i18n import msg, setting_ref
from ..profile.defaults import ORDER_TYPE_ALIASES, STOCK_MOVING_DOCUMENTS
from .order_sources import SOURCES

ORDERS = "orders"
# The stock figures that subtract what sales orders reserve (setting stock_figure): the ones a posted sales order
# lowers at once (STOCK_MOVING_DOCUMENTS).
FIGURES_WITH_RESERVED = ("available", "economic")
MOVING_SOURCES = ("receipt", "invoice", "order")  # the sales that move the till's stock (an order: when delivered)
EXCHANGE_PRICE_TYPES = ("PRICE-TYPE-EXCHANGE-RATE-BUY", "PRICE-TYPE-EXCHANGE-RATE-SELL")


def booked_sources(settings: dict) -> list[str]:
    """The sources whose sales the orders flow books (setting ``source_document_type`` of the orders flow)."""
    chosen = settings.get("source_document_type") or ["order"]
    if isinstance(chosen, str):
        chosen = [part.strip() for part in chosen.split(",")]
    return [kind for kind in SOURCES if kind in chosen]


def drift_reasons(orders: dict, stock: dict) -> list:
    """Why, with these settings of the orders and the stock flow, till sales never reach AccountView's stock figure
    (empty: they do once booked). Each reason is a catalogue message naming the setting."""
    reasons = []
    kinds = booked_sources(orders)
    order_type = ORDER_TYPE_ALIASES.get(str(orders.get("order_type") or "sales_order"), orders.get("order_type"))
    if order_type not in STOCK_MOVING_DOCUMENTS:
        reasons.append(msg("stock.drift_booking", setting=setting_ref("order_type")))
    if "receipt" in kinds and orders.get("receipt_booking") == "per_closing":
        reasons.append(msg("stock.drift_per_closing", setting=setting_ref("receipt_booking")))
    if order_type in STOCK_MOVING_DOCUMENTS and stock.get("stock_figure", "available") not in FIGURES_WITH_RESERVED:
        reasons.append(msg("stock.drift_figure", setting=setting_ref("stock_figure"),
                           figure=str(stock.get("stock_figure"))))  # fmt: skip
    return reasons


def floor_stream(kind: str) -> str:
    """The watermark stream (of the orders flow, so that its full run starts both over) of the stock flow's floor."""
    return f"stock_floor_{kind}"


def note_orders_start(flow, kind: str, since: int) -> None:
    """The orders flow starts reading ``kind`` at ``since``: where the stock flow's floor begins, when it has none
    yet, so a sale the orders flow reads and skips (a receipt not fully paid) is still counted until it is booked."""
    if kind in MOVING_SOURCES and not flow.dry_run and not flow.store.watermarks.get(ORDERS, floor_stream(kind)).value:
        flow.store.watermarks.set(ORDERS, floor_stream(kind), str(since))


def till_sales_not_booked(flow) -> dict[tuple[int, int], Decimal]:
    """(branch, till article number) -> quantity sold at the till (returns negative) not yet booked.

    Each source is read from a floor of its own (watermark ``orders``/``stock_floor_<source>``): the lowest sync
    marker of a sale that moved stock and was not booked at the last look, else the next marker after the last one
    read. It begins where the orders flow began reading (``note_orders_start``); without that, at the orders
    flow's position, else 0. The floor only saves reading: every sale read is judged by its binding."""
    store, mplus = flow.store, flow.mplus
    kinds = [k for k in booked_sources(store.settings.all(ORDERS)) if k in MOVING_SOURCES]
    size = int(flow.settings.get("batch_size") or 200)
    branches = flow.profile.mplus.branches
    totals: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    try:
        conds = record_filters.conditions(flow.tables, ORDERS)  # sales the orders flow leaves out are never booked
    except ValueError:
        conds = []  # the orders flow stops on it and says why
    by_ext = flow.profile.mplus.order_reference == "extOrderId"
    for kind in kinds:
        floor = store.watermarks.get(ORDERS, floor_stream(kind)).value
        if not floor:
            mark = store.watermarks.get(ORDERS, kind).value
            floor = str(int(mark) + 1) if mark else "0"
        read = {"receipt": mplus.iter_receipts, "invoice": mplus.iter_invoices, "order": mplus.iter_orders}[kind]
        # Keyed as the orders flow keys its log lines and bindings: an order by its reference (orders.source_id).
        sales = {sale_ref(kind, s, by_ext): s for s in read(int(floor), page_size=size, branch_numbers=branches)}
        last = max((int(s.get("syncMarker") or 0) for s in sales.values()), default=int(floor) - 1)
        # Read by the orders flow and not booked (waiting, retried, refused): below the floor when it was set late.
        open_ids = {ln.source_id for ln in store.log.list_lines(flow=ORDERS, entity=kind, failed_only=True,
                                                                limit=100_000) if ln.source_id}  # fmt: skip
        fetch = {"receipt": mplus.get_receipt, "invoice": mplus.get_invoice,
                 "order": lambda ref: (mplus.find_order(ref) if by_ext else None) or mplus.get_order(ref)}[kind]
        for sid in sorted(open_ids - set(sales)):
            sale = fetch(sid)
            if sale is not None:
                sales[sid] = sale
        bound = store.bindings.get_many(kind, list(sales))
        lowest = None
        for sid, sale in sales.items():
            binding = bound.get(sid)
            if binding is not None and binding.state == "synced":
                continue  # booked: AccountView's figure shows it (or never will: the doctor's stock_drift)
            if kind != "order" and _ids(sale.get("orderIds")):
                continue  # made from an order: its stock moves with the order
            if record_filters.first_failing(conds, record_filters.sale_value(sale)) is not None:
                continue  # left out by a record filter: never booked (like a source the orders flow does not read)
            moves = list(_moves(sale, delivered=kind == "order"))
            uncertain = binding is not None and binding.state == "pending"  # its document may be in AccountView
            for branch, number, qty in moves:
                if qty > 0 or not uncertain:  # a return AccountView may show already is not added back twice
                    totals[(branch, number)] += qty
            marker = int(sale.get("syncMarker") or 0)
            if moves and marker >= int(floor) and (lowest is None or marker < lowest):
                lowest = marker
        if not flow.dry_run:
            store.watermarks.set(ORDERS, floor_stream(kind), str(lowest if lowest is not None else last + 1))
    return {k: v for k, v in totals.items() if v}


def sale_ref(kind: str, sale: dict, by_ext: bool = True) -> str:
    """The id the orders flow logs and binds a sale under: an order's reference (its extOrderId, else its orderId;
    always its orderId with ``mplus.order_reference = orderId``), a receipt's or an invoice's own id."""
    if kind == "order":
        return str((sale.get("extOrderId") if by_ext else None) or sale.get("orderId") or "").strip()
    return str(sale.get(SOURCES[kind].id_field) or "").strip()


def _moves(sale: dict, *, delivered: bool = False):
    """(branch, article, quantity) the sale moved at the till; an order (``delivered``): what its lines delivered
    (the WSDL's read-only ``deliveredQuantity``; nothing before it is delivered)."""
    branch = int(sale.get("financialBranchNumber") or sale.get("entryBranchNumber") or 0)
    for line in (sale.get("lineList") or {}).get("line") or []:
        number, data = int(line.get("articleNumber") or 0), line.get("data") or {}
        if not number or data.get("priceType") in EXCHANGE_PRICE_TYPES:
            continue
        if line.get("lineKind", "LINE-KIND-DEFAULT") not in ("", None, "LINE-KIND-DEFAULT"):
            continue
        amount, places = ("deliveredQuantity", "deliveredDecimalPlaces") if delivered else ("quantity", "decimalPlaces")
        qty = Decimal(int(data.get(amount) or 0)).scaleb(-int(data.get(places) or 0))
        if qty:
            yield branch, number, qty


def _ids(value) -> list[str]:
    ids = value.get("id") if isinstance(value, dict) else value
    return [str(i) for i in ids or () if str(i).strip()]
