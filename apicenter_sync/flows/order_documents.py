"""An order as an AccountView document: a sales order (SO1: SO_HDR + SO_LINE) or a booking (DJ2: DJ_PAGE + DJ_LINE).

Mapping tables used here (keys as MplusKASSA or ISO send them; docs/flows.md):

- ``payment_method_condition``: payment method → payment condition (``SO_HDR``/``DJ_PAGE.DISC_CODE``)
- ``payment_method_journal``: payment method → journal of a DJ2 booking (else setting ``sales_journal``)
- ``shipping_method``: delivery method → AccountView shipping method (``SO_HDR.SHIP_MTH``)
- ``vat_code_by_country``: customer country → VAT code of every line (foreign customers: reverse charge, export)
- ``vat_code_by_rate``: VAT percentage ("21") → VAT code; when a rate is not in it, the AccountView VAT table
  (VA1) decides: the lowest code with that percentage that is not a reverse-charge code
- ``revenue_account_by_country`` then ``revenue_account_by_vat_code``: ledger account of each DJ2 line

ASSUMPTION (docs/assumptions.md): the external reference goes into ``COMMENT1`` of SO_HDR / DJ_PAGE.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Order
from .base import record_error
from .order_amounts import PricedLine, booking_total, money, sales_order_prices, sales_order_total

PAYMENT_CONDITION = "payment_method_condition"
PAYMENT_JOURNAL = "payment_method_journal"
SHIPPING_METHOD = "shipping_method"
VAT_BY_COUNTRY = "vat_code_by_country"
VAT_BY_RATE = "vat_code_by_rate"
REVENUE_BY_COUNTRY = "revenue_account_by_country"
REVENUE_BY_VAT = "revenue_account_by_vat_code"

# (business object to POST, object to read back, header table, detail table, header key) per order_type.
DOCUMENTS = {
    "SO1": ("SO1", "SO1", "SO_HDR", "SO_LINE", "REC_ID"),
    "DJ2": ("DJ2", "DJ2P", "DJ_PAGE", "DJ_LINE", "REC_ID"),
}
REFERENCE_FIELD = "COMMENT1"  # ASSUMPTION: USAGE order_reference / booking_reference of the sandbox
TEXT_LENGTH = 40  # ART_DESC1, TRN_DESC, HDR_DESC


class DocumentBuilder:
    def __init__(self, flow, vat_by_pct: dict[Decimal, str]):
        self.flow = flow
        self.tables = flow.tables
        self.settings = flow.settings
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

    def vat_code(self, pct: Decimal | None, country: str | None, ref: str) -> str:
        by_country = self._table(VAT_BY_COUNTRY).get(country or "")
        if by_country:
            return by_country
        if pct is None:
            raise record_error(f"order {ref}: a line has no VAT rate, so no VAT code can be chosen", source_id=ref)
        key = format(pct.normalize(), "f")
        code = self._table(VAT_BY_RATE).get(key) or self.vat_by_pct.get(pct.normalize())
        if not code:
            raise record_error(
                f"order {ref}: no AccountView VAT code for {key} % (mapping table {VAT_BY_RATE}, or a VAT code with "
                "that percentage in AccountView)",
                source_id=ref,
            )
        return code

    def payment_condition(self, order: Order, steps: list[str]) -> str | None:
        method = order.payment_method
        if not method:
            return None
        code = self._table(PAYMENT_CONDITION).get(method)
        if code is None:
            steps.append(f"payment method {method}: not in {PAYMENT_CONDITION}, the debtor's condition applies")
        return code

    # --- SO1 ------------------------------------------------------------------------------------------------
    def sales_order(self, order: Order, ref: str, lines: list[PricedLine], steps: list[str]) -> tuple[dict, list]:
        country = self.country(order)
        header: dict = {REFERENCE_FIELD: ref}
        moment = order.created_at or order.order_date
        if moment is not None:
            header["ORD_DATE"] = moment
        if order.number:
            header["COMMENT2"] = f"MplusKASSA order {order.number}"
        if order.employee:
            header["EMP_NR"] = str(order.employee)[:10]
        if order.customer and order.customer.email:
            header["TO_EMAIL"] = order.customer.email.strip()[:50]
        condition = self.payment_condition(order, steps)
        if condition:
            header["DISC_CODE"] = condition
        if order.shipping_method:
            method = self._table(SHIPPING_METHOD).get(order.shipping_method)
            if method:
                header["SHIP_MTH"] = method
            else:
                steps.append(f"shipping method {order.shipping_method}: not in {SHIPPING_METHOD}, left empty")
        rows = []
        for pl in lines:
            vat = self.vat_code(pl.vat_pct, country, ref)
            for qty, price in sales_order_prices(pl.line.quantity, pl.total, ref, pl.sku):
                row = {"ART_CODE": pl.sku, "ORD_QTY": qty, "ART_PX": price, "VAT_CODE": vat}
                if pl.line.description:
                    row["ART_DESC1"] = pl.line.description[:TEXT_LENGTH]
                rows.append(row)
        return header, rows

    # --- DJ2 ------------------------------------------------------------------------------------------------
    def booking(self, order: Order, ref: str, lines: list[PricedLine], total, steps: list[str]) -> tuple[dict, list]:
        country = self.country(order)
        journal = self._table(PAYMENT_JOURNAL).get(order.payment_method or "") or self.settings.get("sales_journal")
        header: dict = {
            "DJ_CODE": journal or "VK",
            REFERENCE_FIELD: ref,
            "HDR_DESC": f"Order {ref}"[:TEXT_LENGTH],
            "GROSS_FLG": True,  # amounts incl. VAT, as the till sold them: the page total is the order total
            "PAGE_AMT": total,
            "CUR_CODE": order.currency or "EUR",
        }
        if order.order_date is not None:
            header["TRN_DATE"] = order.order_date
        condition = self.payment_condition(order, steps)
        if condition:
            header["DISC_CODE"] = condition
        rows = []
        for pl in lines:
            vat = self.vat_code(pl.vat_pct, country, ref)
            row = {
                "ACCT_NR": self.revenue_account(pl, vat, country, ref),
                "AMOUNT": pl.total,
                "VAT_CODE": vat,
                "TRN_QTY": pl.line.quantity,
            }
            if pl.line.description:
                row["TRN_DESC"] = pl.line.description[:TEXT_LENGTH]
            rows.append(row)
        return header, rows

    def revenue_account(self, pl: PricedLine, vat: str, country: str | None, ref: str) -> str:
        if pl.is_shipping and self.settings.get("shipping_revenue_account"):
            return str(self.settings["shipping_revenue_account"])
        account = self._table(REVENUE_BY_COUNTRY).get(country or "") or self._table(REVENUE_BY_VAT).get(vat)
        if not account:
            raise record_error(
                f"order {ref}: no revenue account for country {country or '?'} / VAT code {vat} "
                f"(mapping tables {REVENUE_BY_COUNTRY}, {REVENUE_BY_VAT})",
                source_id=ref,
            )
        return account


def document_total(order_type: str, rows: list[dict]) -> Decimal:
    """The total of a document's detail rows under the documented valuation (the same check before and after)."""
    return sales_order_total(rows) if order_type == "SO1" else booking_total(rows)


__all__ = ["DOCUMENTS", "REFERENCE_FIELD", "DocumentBuilder", "document_total", "money"]
