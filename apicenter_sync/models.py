"""Canonical models: the shape every flow passes between "read" and "write".

A flow maps a source record (an AccountView row, an Mplus order) through the
datamapper into one of these models, then builds the target payload from it.
Money and quantities are ``Decimal`` in units (never floats, never cents: cents
are a wire format, see ``apicenter_sync.units``).  Nearly every field is optional
because a user mapping decides what gets filled; the flows check what they need.

Models are mutable (the engine enriches orders with defaults from mapping
tables) and forbid unknown fields, so a mapping that writes a misspelt canonical
field fails loudly instead of being dropped.  Validators are kept out on purpose:
these models are built once per record in bulk syncs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

__all__ = [
    "Address",
    "Article",
    "Category",
    "ContactPerson",
    "Customer",
    "CustomerGroup",
    "Discount",
    "Order",
    "OrderLine",
    "Payment",
    "PriceData",
    "PriceList",
    "PriceListPrice",
    "Product",
    "StockLevel",
    "group_articles",
]

ZERO = Decimal(0)


class Canonical(BaseModel):
    # coerce_numbers_to_str: Mplus numbers (articleNumber, branchNumber) become our string codes
    # without a transform on every mapping line.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, validate_assignment=False)


class Address(Canonical):
    name: str | None = None  # addressee as printed on the label
    company_name: str | None = None
    contact: str | None = None
    street: str | None = None
    house_number: str | None = None
    house_number_addition: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")  # ISO 3166 alpha-2
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def street_line(self) -> str:
        """The single-line form ("Kerkstraat 12-A") that an AccountView debtor's street line and Mplus ``address`` use."""
        number = (self.house_number or "") + (f"-{self.house_number_addition}" if self.house_number_addition else "")
        return " ".join(part for part in (self.street or "", number) if part)


class ContactPerson(Canonical):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    code: str | None = None  # AccountView contact-person code


class Customer(Canonical):
    source_id: str | None = None  # AccountView debtor number or Mplus relationNumber
    kind: Literal["company", "person"] | None = None  # None: derived, see model_post_init
    name: str | None = None  # display name (an AccountView debtor's name holds a person's full name too)
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    contact: ContactPerson | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    website: str | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None
    vat_number: str | None = None
    coc_number: str | None = None
    price_group: str | None = None  # price list code (the debtor's price list in AccountView)
    customer_group: str | None = None
    discount_pct: Decimal | None = None
    payment_condition: str | None = None
    vat_code: str | None = None
    revenue_account: str | None = None
    language: str | None = None
    currency: str | None = None
    active: bool = True
    extra: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        # SPEC §1.1: "a source with a company name creates a company debtor"; an explicit kind wins.
        if self.kind is None:
            self.kind = "company" if self.company_name else "person"
        if self.kind == "company" and not self.company_name and self.name:
            self.company_name = self.name

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.company_name:
            return self.company_name
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class Category(Canonical):
    """An article group (AccountView article group code and description, Mplus article group)."""

    code: str
    name: str | None = None
    parent_code: str | None = None
    active: bool = True
    sell_in_pos: bool = True
    extra: dict[str, Any] = Field(default_factory=dict)


class Article(Canonical):
    sku: str
    name: str | None = None
    short_description: str | None = None
    long_description: str | None = None
    category_codes: list[str] = Field(default_factory=list)
    price_excl: Decimal | None = None
    price_incl: Decimal | None = None
    prices_include_vat: bool | None = None  # which of the two prices is the master one
    vat_code: str | None = None
    vat_pct: Decimal | None = None
    currency: str | None = None
    ean: str | None = None
    barcodes: list[str] = Field(default_factory=list)
    unit: str | None = None
    cost_price: Decimal | None = None
    active: bool = True
    sell_in_pos: bool = True
    blocked: bool = False  # blocked in the source: no longer sold (deactivated in the till, setting inactive_articles)
    stock_article: bool | None = None  # keep stock of it (None: as the setting manage_stock says)
    discount_group: str | None = None  # B2B item attribute: the article discount group of customer discounts
    variant_group: str | None = None  # articles sharing it form one Product
    attributes: dict[str, str] = Field(default_factory=dict)  # variant axes: size, colour, material...
    features: dict[str, Any] = Field(default_factory=dict)  # country_of_origin, delivery_time...
    extra: dict[str, Any] = Field(default_factory=dict)  # target-native fields, passed through


class Product(Canonical):
    """A group of articles sold as one product (a simple product has one article)."""

    variant_group: str | None = None
    name: str | None = None
    articles: list[Article] = Field(default_factory=list)

    @property
    def is_simple(self) -> bool:
        return len(self.articles) == 1 and not self.variant_group


def group_articles(articles: list[Article]) -> list[Product]:
    """Group articles by ``variant_group``; an article without one is its own product.

    Order is kept (first appearance of each group) so runs are deterministic.
    """
    products: list[Product] = []
    by_group: dict[str, Product] = {}
    for article in articles:
        key = article.variant_group
        if not key:
            products.append(Product(name=article.name, articles=[article]))
            continue
        product = by_group.get(key)
        if product is None:
            product = by_group[key] = Product(variant_group=key, name=article.name, articles=[])
            products.append(product)
        product.articles.append(article)
    return products


class StockLevel(Canonical):
    sku: str
    warehouse: str | None = None  # None: the article's total over all warehouses
    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO  # by open sales orders
    incoming: Decimal = ZERO  # on open purchase orders

    @computed_field  # type: ignore[prop-decorator]
    @property
    def available(self) -> Decimal:
        """SPEC §1.4 default stock figure: on hand minus reserved."""
        return self.on_hand - self.reserved

    @property
    def economic(self) -> Decimal:
        return self.on_hand - self.reserved + self.incoming


class PriceList(Canonical):
    code: str
    name: str | None = None
    currency: str | None = None


class CustomerGroup(Canonical):
    code: str
    name: str | None = None
    price_list: str | None = None


class PriceListPrice(Canonical):
    """One (staffel) price: from ``min_qty`` on, this article costs ``price_excl`` in this list."""

    price_list: str
    sku: str
    min_qty: Decimal = Decimal(1)
    price_excl: Decimal | None = None
    price_incl: Decimal | None = None
    currency: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Discount(Canonical):
    """A discount percentage for a price list / customer group / customer on an article group or article."""

    price_list: str | None = None
    customer_group: str | None = None
    customer: str | None = None
    article_group: str | None = None
    sku: str | None = None
    pct: Decimal
    min_qty: Decimal | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class PriceData(Canonical):
    """Everything the B2B-prices flow (SPEC §1.5) reads in one run."""

    price_lists: list[PriceList] = Field(default_factory=list)
    customer_groups: list[CustomerGroup] = Field(default_factory=list)
    prices: list[PriceListPrice] = Field(default_factory=list)
    discounts: list[Discount] = Field(default_factory=list)


class OrderLine(Canonical):
    """One line of a sale (order, receipt or invoice) as the till holds it; amounts in units, not cents."""

    sku: str | None = None  # the till's article number ("0" or empty: a line without an article)
    plu: str | None = None  # the till article's PLU (the SKU when the profile says mplus.sku_field = pluNumber)
    description: str | None = None
    quantity: Decimal = Decimal(1)  # negative on a return line
    unit_price_incl: Decimal | None = None
    unit_price_excl: Decimal | None = None
    discount_amount: Decimal | None = None  # for the whole line, incl. VAT (None: the till gave none)
    discount_amount_excl: Decimal | None = None  # for the whole line, excl. VAT
    discount_pct: Decimal | None = None  # applied to the line when the till gave no discount amount
    discount_type: str | None = None  # DISCOUNT-TYPE-… of the WSDL: which rule priced the line
    total_incl: Decimal | None = None  # the till's own line total incl. VAT: the line's value when present
    total_excl: Decimal | None = None
    vat_pct: Decimal | None = None
    vat_code: str | None = None
    turnover_group: str | None = None  # the till's turnover group (revenue group) of the line
    line_kind: str | None = None  # LINE-KIND-DEFAULT, or a subtotal/header line that sells nothing
    price_type: str | None = None  # PRICE-TYPE-… (exchange-rate lines are foreign currency)
    bpe_id: str | None = None  # a deposit / breakage / own-use line (BPE)
    is_shipping: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


class Payment(Canonical):
    method: str | None = None
    amount: Decimal = ZERO
    type: str | None = None  # PAYMENT-METHOD-TYPE-… as the till recorded it
    reference: str | None = None


class Order(Canonical):
    source_id: str | None = None  # Mplus orderId
    external_reference: str | None = None  # Mplus extOrderId; stored on the AccountView order to skip duplicates
    number: str | None = None  # human order number ("2026-123")
    order_date: date | None = None
    created_at: datetime | None = None
    customer: Customer | None = None  # None: anonymous till sale
    billing_address: Address | None = None
    delivery_address: Address | None = None
    lines: list[OrderLine] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    payment_method: str | None = None
    shipping_method: str | None = None
    shipping_cost: Decimal = ZERO
    status: str | None = None
    currency: str | None = None  # None: the shop's currency (setting currency); another one is refused
    prices_include_vat: bool = True
    total_incl: Decimal | None = None
    total_excl: Decimal | None = None
    branch: str | None = None
    employee: str | None = None
    reference: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
