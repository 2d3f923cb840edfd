"""Canonical models and the money/quantity conversions of apicenter_sync.units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from apicenter_sync import units
from apicenter_sync.models import (
    Address,
    Article,
    Customer,
    Discount,
    Order,
    OrderLine,
    PriceData,
    PriceListPrice,
    StockLevel,
    group_articles,
)
from apicenter_sync.units import UnitsError, from_cents, from_quantity, to_cents, to_quantity

# ---------------------------------------------------------------------------- cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (Decimal("9.95"), 995),
        ("9.95", 995),
        (9.95, 995),  # float via repr: no 994 from binary noise
        (0.1, 10),
        (12, 1200),
        (Decimal("0.005"), 1),  # half up
        (Decimal("0.004"), 0),
        (Decimal("-1.005"), -101),  # half away from zero for negatives (returns)
        (Decimal("-9.95"), -995),
        (" 19.99 ", 1999),
        (0, 0),
    ],
)
def test_to_cents(value, cents):
    assert to_cents(value) == cents


@pytest.mark.parametrize("cents", [0, 1, 995, -995, 123456789, -1])
def test_cents_round_trip(cents):
    assert to_cents(from_cents(cents)) == cents
    assert from_cents(cents) == Decimal(cents) / 100


def test_from_cents_exact():
    assert from_cents(995) == Decimal("9.95")
    assert str(from_cents(1200)) == "12.00"
    assert from_cents("-250") == Decimal("-2.50")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "amount 'abc' is not a number"),
        (None, "amount None is not a number"),
        (True, "amount True is not a number"),
        ("NaN", "amount 'NaN' is not a finite number"),
        (float("inf"), "amount inf is not a finite number"),
        (Decimal("1e12"), "amount Decimal('1E+12') is out of range (absolute value must be below 1,000,000,000,000)"),
        (-(10**13), "amount -10000000000000 is out of range (absolute value must be below 1,000,000,000,000)"),
    ],
)
def test_to_cents_rejects(value, message):
    with pytest.raises(UnitsError) as exc:
        to_cents(value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.5", "cents '12.5' is not an integer"),
        (True, "cents True is not an integer"),
        (None, "cents None is not an integer"),
        (2**63, f"cents {2**63} is out of range"),
        (10**14, "amount in cents 100000000000000 is out of range (absolute value must be below 1,000,000,000,000)"),
    ],
)
def test_from_cents_rejects(value, message):
    with pytest.raises(UnitsError) as exc:
        from_cents(value)
    assert str(exc.value) == message


# ---------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("value", "pair"),
    [
        (Decimal("12.5"), (125, 1)),
        ("12.5", (125, 1)),
        (12.5, (125, 1)),
        (Decimal("2.500"), (25, 1)),  # trailing zeros dropped
        (3, (3, 0)),
        (Decimal("3.00"), (3, 0)),
        (Decimal("1E+3"), (1000, 0)),
        (Decimal("0.530"), (53, 2)),
        (Decimal("-1"), (-1, 0)),
        (Decimal("-0.25"), (-25, 2)),
        (0, (0, 0)),
        (Decimal("0.0000005"), (1, 6)),  # rounded half up to 6 places
        (Decimal("1.23456789"), (1234568, 6)),
    ],
)
def test_to_quantity(value, pair):
    assert to_quantity(value) == pair


@pytest.mark.parametrize(
    "value", [Decimal("12.5"), Decimal("-3"), Decimal("0.125"), Decimal("1000"), Decimal("-0.001"), Decimal(0)]
)
def test_quantity_round_trip(value):
    assert from_quantity(*to_quantity(value)) == value


def test_from_quantity():
    assert from_quantity(125, 1) == Decimal("12.5")
    assert from_quantity(25, 1) == Decimal("2.5")
    assert from_quantity(1) == Decimal(1)  # missing decimalPlaces means 0 (research/mplus.md §3)
    assert from_quantity(1, None) == Decimal(1)
    assert from_quantity(-3, 0) == Decimal(-3)
    assert from_quantity("530", "3") == Decimal("0.530")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.5, 1), "quantity 1.5 is not an integer"),
        ((True, 0), "quantity True is not an integer"),
        (("abc", 0), "quantity 'abc' is not an integer"),
        ((1, -1), "decimalPlaces -1 is out of range (0..18)"),
        ((1, 19), "decimalPlaces 19 is out of range (0..18)"),
        ((1, "x"), "decimalPlaces 'x' is not an integer"),
        ((1, True), "decimalPlaces True is not an integer"),
        ((2**63, 0), f"quantity {2**63} is out of range"),
    ],
)
def test_from_quantity_rejects(args, message):
    with pytest.raises(UnitsError) as exc:
        from_quantity(*args)
    assert str(exc.value) == message


def test_to_quantity_rejects_absurd():
    with pytest.raises(UnitsError) as exc:
        to_quantity(Decimal("5e12"))
    assert str(exc.value) == (
        "quantity Decimal('5E+12') is out of range (absolute value must be below 1,000,000,000,000)"
    )
    with pytest.raises(UnitsError, match="is not a number"):
        to_quantity("twelve")


def test_parse_decimal_comma():
    assert units.parse_decimal("1.234,50", decimal_comma=True) == Decimal("1234.50")


# ---------------------------------------------------------------------------- models


def test_customer_kind_is_derived():
    assert Customer(name="Jan Jansen").kind == "person"
    company = Customer(company_name="Bakkerij B.V.")
    assert company.kind == "company"
    assert company.display_name == "Bakkerij B.V."
    # An explicit company without a company name takes the display name (AccountView ACCT_NAME).
    explicit = Customer(kind="company", name="Koffiebar Smit")
    assert explicit.company_name == "Koffiebar Smit"
    assert Customer(first_name="Zoë", last_name="Ørsted").display_name == "Zoë Ørsted"


def test_models_forbid_unknown_fields_and_coerce_numbers():
    with pytest.raises(ValidationError):
        Article(sku="1", nmae="typo")
    assert Article(sku=100001).sku == "100001"  # an Mplus articleNumber arrives as int


def test_address_country_and_street_line():
    assert Address(street="Kerkstraat", house_number="12", house_number_addition="A").street_line == "Kerkstraat 12-A"
    assert Address(street="Kerkstraat").street_line == "Kerkstraat"
    with pytest.raises(ValidationError):
        Address(country="Nederland")


def test_stock_level_figures():
    level = StockLevel(sku="1", on_hand=Decimal("12.5"), reserved=Decimal(3), incoming=Decimal(10))
    assert level.available == Decimal("9.5")
    assert level.economic == Decimal("19.5")
    assert level.model_dump()["available"] == Decimal("9.5")
    assert StockLevel(sku="1", on_hand=Decimal(-3)).available == Decimal(-3)


def test_group_articles():
    arts = [
        Article(sku="1", name="Mok"),
        Article(sku="2", name="Trui S", variant_group="M1", attributes={"size": "S"}),
        Article(sku="3", name="Pen"),
        Article(sku="4", name="Trui M", variant_group="M1", attributes={"size": "M"}),
    ]
    products = group_articles(arts)
    assert [[a.sku for a in p.articles] for p in products] == [["1"], ["2", "4"], ["3"]]
    assert products[0].is_simple and not products[1].is_simple
    assert products[1].variant_group == "M1"


def test_order_defaults_and_anonymous():
    order = Order(lines=[OrderLine(sku="1", quantity=Decimal(-1), unit_price_incl=Decimal("2.50"))])
    assert order.customer is None
    assert order.currency is None  # the shop's own currency (setting currency)
    assert order.lines[0].discount_amount is None  # the till gave none: the percentage rule may apply
    assert not order.lines[0].is_shipping


def test_price_models():
    data = PriceData(
        prices=[PriceListPrice(price_list="MKB", sku="1", min_qty=Decimal(10), price_excl=Decimal("9.00"))],
        discounts=[Discount(price_list="HOR", article_group="G001", pct=Decimal(5))],
    )
    assert data.prices[0].min_qty == 10
    assert PriceListPrice(price_list="MKB", sku="1").min_qty == 1
