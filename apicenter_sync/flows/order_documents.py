"""An order as an AccountView document: a sales order (profile ``sales_order``: header + lines) or a journal booking
(``booking``: journal page + lines). Every table and field name comes from the API profile.

Mapping tables used here (keys as MplusKASSA or ISO send them; docs/flows.md):

- ``payment_method_condition``: payment method → payment condition of the document
- ``payment_method_journal``: payment method → journal of a booking (else setting ``sales_journal``)
- ``shipping_method``: delivery method → AccountView shipping method of a sales order
- ``vat_code_by_country``: customer country → VAT code of every line (foreign customers: reverse charge, export)
- ``vat_code_by_rate``: VAT percentage ("21") → VAT code; when a rate is not in it, the AccountView VAT table
  decides: the lowest code with that percentage that is not a reverse-charge code (profile ``mplus.vat_lookup =
  rate``, the default); ``vat_code_mplus_av``: the till's vatCode → VAT code (``vat_lookup = code``)
- ``turnover_group_revenue_account`` (profile ``mplus.revenue_lookup = turnover_group``), then
  ``revenue_account_by_country``, then ``revenue_account_by_vat_code``: ledger account of each booking line

ASSUMPTION (docs/assumptions.md): the external reference goes into the document's ``reference`` field.
"""

from __future__ import annotations

from decimal import Decimal

from ..i18n import msg, profile_ref, setting_ref, table_ref
from ..models import Order
from ..profile import ApiProfile, ObjectSpec
from .base import record_error
from .order_amounts import PricedLine, booking_total, money, sales_order_prices, sales_order_total

PAYMENT_CONDITION = "payment_method_condition"
PAYMENT_JOURNAL = "payment_method_journal"
SHIPPING_METHOD = "shipping_method"
VAT_BY_COUNTRY = "vat_code_by_country"
VAT_BY_RATE = "vat_code_by_rate"
VAT_BY_MPLUS_CODE = "vat_code_mplus_av"
REVENUE_BY_TURNOVER_GROUP = "turnover_group_revenue_account"
REVENUE_BY_COUNTRY = "revenue_account_by_country"
REVENUE_BY_VAT = "revenue_account_by_vat_code"
ORDER_TYPES = ("sales_order", "booking")  # the setting order_type: which profile object an order becomes


def document(profile: ApiProfile, order_type: str) -> ObjectSpec:
    """The profile object of an order type: its codes, tables and fields."""
    return profile.accountview.objects[order_type]


def text_length(spec_length: int) -> int:
    return spec_length or 40


class DocumentBuilder:
    def __init__(self, flow, vat_by_pct: dict[Decimal, str]):
        self.flow = flow
        self.tables = flow.tables
        self.settings = flow.settings
        self.mplus = flow.profile.mplus
        self.vat_by_pct = vat_by_pct  # from AccountView's VAT table, read once per run

    def _table(self, name: str) -> dict[str, str]:
        return self.tables.get(name, {})

    # --- shared lookups ---------------------------------------------------------------------------------------
    def country(self, order: Order) -> str | None:
        for address in (order.billing_address, order.customer and order.customer.billing_address,
                        order.delivery_address):  # fmt: skip
            if address and address.country:
                return address.country
        return None

    def vat_code(self, pl: PricedLine, country: str | None, label: str) -> str:
        if pl.is_rounding:
            return str(self.settings.get("cash_rounding_vat_code") or "0")
        by_country = self._table(VAT_BY_COUNTRY).get(country or "")
        if by_country:
            return by_country
        if self.mplus.vat_lookup == "code":
            till_code = (pl.line.vat_code or "").strip()
            code = self._table(VAT_BY_MPLUS_CODE).get(till_code)
            if not code:
                raise record_error(
                    msg("orders.vat_code_unmapped", label=label, sku=pl.sku or "-", code=till_code or "-",
                        table=table_ref(VAT_BY_MPLUS_CODE), profile=profile_ref("mplus.vat_lookup")),
                    source_id=label, wait="mapping",
                )  # fmt: skip
            return code
        pct = pl.vat_pct
        if pct is None:
            raise record_error(msg("orders.no_vat_rate", label=label), source_id=label)
        key = format(pct.normalize(), "f")
        code = self._table(VAT_BY_RATE).get(key) or self.vat_by_pct.get(pct.normalize())
        if not code:
            raise record_error(msg("orders.no_vat_code", label=label, rate=key, table=table_ref(VAT_BY_RATE)),
                               source_id=label, wait="mapping")  # fmt: skip
        return code

    def payment_condition(self, order: Order, steps: list[str]) -> str | None:
        method = order.payment_method
        if not method:
            return None
        code = self._table(PAYMENT_CONDITION).get(method)
        if code is None:
            steps.append(msg("orders.step.payment_unmapped", method=method, table=table_ref(PAYMENT_CONDITION)))
        return code

    # --- sales order ------------------------------------------------------------------------------------------
    def sales_order(self, order: Order, ref: str, label: str, lines: list[PricedLine], steps: list[str]) -> tuple[dict, list]:
        so = self.flow.names.sales_order
        country = self.country(order)
        header: dict = {so["reference"]: ref}
        moment = order.created_at or order.order_date
        if moment is not None:
            header[so["order_date"]] = moment
        if order.number:
            header[so["note"]] = f"MplusKASSA order {order.number}"
        if order.employee:
            header[so["employee"]] = str(order.employee)[: text_length(so.fields["employee"].length)]
        if order.customer and order.customer.email:
            header[so["email"]] = order.customer.email.strip()[: text_length(so.fields["email"].length)]
        condition = self.payment_condition(order, steps)
        if condition:
            header[so["payment_condition"]] = condition
        if order.shipping_method:
            method = self._table(SHIPPING_METHOD).get(order.shipping_method)
            if method:
                header[so["shipping_method"]] = method
            else:
                steps.append(msg("orders.step.shipping_unmapped", method=order.shipping_method, table=table_ref(SHIPPING_METHOD)))
        described = text_length(so.line_fields["description"].length)
        rows = []
        for pl in lines:
            vat = self.vat_code(pl, country, label)
            for qty, price in sales_order_prices(pl.line.quantity, pl.total, label, pl.sku):
                row = {so.line("sku"): pl.sku, so.line("quantity"): qty, so.line("price"): price,
                       so.line("vat_code"): vat}  # fmt: skip
                if pl.line.description:
                    row[so.line("description")] = pl.line.description[:described]
                rows.append(row)
        return header, rows

    # --- journal booking --------------------------------------------------------------------------------------
    def booking(self, order: Order, ref: str, label: str, lines: list[PricedLine], total, steps: list[str]) -> tuple[dict, list]:
        bk = self.flow.names.booking
        country = self.country(order)
        journal = self._table(PAYMENT_JOURNAL).get(order.payment_method or "") or self.settings.get("sales_journal")
        header: dict = {
            bk["journal"]: journal or "VK",
            bk["reference"]: ref,
            bk["description"]: (label[:1].upper() + label[1:])[: text_length(bk.fields["description"].length)],
            bk["amounts_incl_vat"]: True,  # amounts incl. VAT, as the till sold them: the page total is the order total
            bk["total"]: total,
            bk["currency"]: order.currency or self.settings.get("currency") or "EUR",
        }
        if order.order_date is not None:
            header[bk["date"]] = order.order_date
        condition = self.payment_condition(order, steps)
        if condition:
            header[bk["payment_condition"]] = condition
        described = text_length(bk.line_fields["description"].length)
        rows = []
        for pl in lines:
            vat = self.vat_code(pl, country, label)
            row = {
                bk.line("account"): self.revenue_account(pl, vat, country, label),
                bk.line("amount"): pl.total,
                bk.line("vat_code"): vat,
                bk.line("quantity"): pl.line.quantity,
            }
            if pl.line.description:
                row[bk.line("description")] = pl.line.description[:described]
            rows.append(row)
        return header, rows

    def revenue_account(self, pl: PricedLine, vat: str, country: str | None, label: str) -> str:
        if pl.is_shipping and self.settings.get("shipping_revenue_account"):
            return str(self.settings["shipping_revenue_account"])
        if pl.is_rounding:
            account = str(self.settings.get("cash_rounding_account") or "").strip()
            if not account:
                raise record_error(msg("orders.rounding_account", label=label, total=pl.total,
                                       setting=setting_ref("cash_rounding_account")),
                                   source_id=label, wait="mapping")  # fmt: skip
            return account
        tables = [REVENUE_BY_COUNTRY, REVENUE_BY_VAT]
        account = None
        if self.mplus.revenue_lookup == "turnover_group":
            tables.insert(0, REVENUE_BY_TURNOVER_GROUP)
            account = self._table(REVENUE_BY_TURNOVER_GROUP).get(str(pl.line.turnover_group or ""))
        account = account or self._table(REVENUE_BY_COUNTRY).get(country or "") or self._table(REVENUE_BY_VAT).get(vat)
        if not account:
            group = msg("orders.turnover_group", group=pl.line.turnover_group or "?") if len(tables) == 3 else ""
            raise record_error(
                msg("orders.no_revenue_account", label=label, country=country or "?", vat=vat, group=group,
                    tables=[msg("orders.quoted", name=table_ref(t)) for t in tables]),
                source_id=label, wait="mapping",
            )  # fmt: skip
        return account


def document_total(doc: ObjectSpec, order_type: str, rows: list[dict]) -> Decimal:
    """The total of a document's detail rows under the documented valuation (the same check before and after)."""
    if order_type == "sales_order":
        return sales_order_total(rows, doc.line("quantity"), doc.line("price"))
    return booking_total(rows, doc.line("amount"))


__all__ = ["ORDER_TYPES", "DocumentBuilder", "document", "document_total", "money"]
