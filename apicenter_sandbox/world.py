"""A deterministic Dutch shop, the seed of both sandboxes.

``generate(size, seed)`` builds one consistent world: the books (AccountView)
hold VAT codes, ledger accounts, journals, article groups, articles (some as
variants of one model), stock per warehouse, price lists and debtors; the till
(MplusKASSA) holds branches, employees, payment and delivery methods, the
articles it already sells, the customers it already knows and the orders it
took.  Each sandbox turns the world into its own storage shape.

The same (size, seed) always gives the same world, byte for byte.  Edge cases
are placed on fixed positions so tests can find them (see ``EDGE``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SEED_EPOCH = datetime(2026, 1, 5, 8, 0, 0)  # all seeded change dates lie after this


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class VatCode:
    code: str  # AccountView VAT_CODE (C2)
    name: str
    pct: Decimal
    mplus_code: int  # Mplus vatCode (VatGroup)


@dataclass
class LedgerAccount:
    number: str
    name: str
    kind: str  # "revenue", "receivable", "vat", "bank", "other"
    vat_code: str = ""


@dataclass
class Journal:
    code: str
    name: str
    kind: str  # "sales", "bank", "cash", "memo"


@dataclass
class ArticleGroup:
    code: str
    description: str
    mplus_number: int
    sell_in_pos: bool = True
    parent: str = ""  # code of the parent group; empty: a top-level group


@dataclass
class StockLevel:
    warehouse: str
    on_hand: Decimal
    reserved: Decimal  # reserved by open sales orders
    incoming: Decimal  # on open purchase orders


@dataclass
class Article:
    sku: str
    description: str
    long_description: str
    group: str
    price_excl: Decimal
    vat_code: str
    price_incl: Decimal
    cost_price: Decimal
    ean: str
    unit: str
    sell_in_pos: bool
    country_of_origin: str
    delivery_days: int
    stock: list[StockLevel]
    changed: datetime
    model: str = ""  # variants of one model share it; empty for a simple article
    size: str = ""
    colour: str = ""
    in_mplus: bool = False  # the till already sells it (numeric SKU only)
    in_accountview: bool = True  # False: only the till knows it (an order for it must fail on "missing SKU")
    blocked: bool = False  # blocked in AccountView: no longer sold (the till deactivates it)
    material: str = ""  # a third variant attribute, a custom field in the till
    discount_group: str = ""  # B2B item attribute: the article discount group (numeric codes = the till's numbers)


@dataclass
class Address:
    street: str
    house_number: str
    addition: str
    postcode: str
    city: str
    country: str  # ISO 3166 alpha-2


@dataclass
class Customer:
    number: str  # AccountView SUB_NR
    company: str  # empty for a private person
    first_name: str
    last_name: str
    email: str  # may be empty
    phone: str
    address: Address
    delivery: Address | None
    vat_number: str
    price_list: str  # customer group / price list code, may be empty
    discount_pct: Decimal
    payment_condition: str
    changed: datetime
    in_mplus: bool = False  # the till already has this relation (matched by e-mail)
    mplus_relation: int = 0

    @property
    def name(self) -> str:
        return self.company or f"{self.first_name} {self.last_name}".strip()


@dataclass
class PriceList:
    code: str
    description: str
    mplus_price_group: int


@dataclass
class PriceListItem:
    price_list: str
    sku: str
    min_qty: Decimal  # staffel: from this quantity on
    price_excl: Decimal


@dataclass
class GroupDiscount:
    price_list: str
    article_group: str
    pct: Decimal


@dataclass
class DebtorDiscount:
    """A discount per debtor and article, as only some tenants keep them (the variant ``discounts`` serves them)."""

    customer: str  # AccountView SUB_NR
    sku: str
    pct: Decimal


@dataclass
class Warehouse:
    code: str
    name: str
    branch: int  # Mplus branch number


@dataclass
class Employee:
    number: int
    name: str


@dataclass
class PaymentMethod:
    code: str  # Mplus method code
    description: str
    accountview_condition: str  # AccountView payment condition (DISC_CODE)


@dataclass
class DeliveryMethod:
    code: str
    description: str


@dataclass
class OrderLine:
    sku: str
    description: str
    quantity: Decimal  # negative on a return line
    price_incl: Decimal  # unit price incl. VAT
    discount_amount: Decimal  # line discount incl. VAT, for the whole line
    vat_pct: Decimal


@dataclass
class Payment:
    method: str
    amount: Decimal


@dataclass
class Order:
    ext_order_id: str
    created: datetime
    branch: int
    employee: int
    customer: str  # Customer.number; empty for an anonymous till sale
    lines: list[OrderLine]
    payments: list[Payment]
    delivery_method: str
    shipping_cost_incl: Decimal
    status: str  # Mplus-side state name, mapped by the order-status mapping table
    already_booked: bool = False  # AccountView already holds it (the flow must skip it)
    note: str = ""

    @property
    def total_incl(self) -> Decimal:
        total = sum((money(ln.quantity * ln.price_incl) - ln.discount_amount for ln in self.lines), Decimal(0))
        return money(total + self.shipping_cost_incl)


@dataclass
class World:
    size: int
    seed: int
    company_name: str
    vat_codes: list[VatCode]
    ledger: list[LedgerAccount]
    journals: list[Journal]
    warehouses: list[Warehouse]
    groups: list[ArticleGroup]
    articles: list[Article]
    price_lists: list[PriceList]
    price_items: list[PriceListItem]
    group_discounts: list[GroupDiscount]
    customers: list[Customer]
    employees: list[Employee]
    payment_methods: list[PaymentMethod]
    delivery_methods: list[DeliveryMethod]
    orders: list[Order]
    edge: dict[str, str] = field(default_factory=dict)  # name of an edge case -> the id that carries it
    debtor_discounts: list[DebtorDiscount] = field(default_factory=list)


FIRST = "Jan Piet Klaas Sanne Fleur Daan Emma Lotte Bram Sophie Mila Noah Lucas Julia Tess Sem Anna Finn Ruben Eva".split()
LAST = [
    "de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
    "Brouwer", "de Wit", "Dijkstra", "Smits", "van Dijk", "Kok", "Jacobs", "Vermeulen",
]  # fmt: skip
STREETS = [
    "Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Hoofdstraat",
    "Julianastraat", "Beatrixlaan", "Nieuwe Binnenweg", "Oudegracht", "Prinsengracht", "Lindenlaan",
]  # fmt: skip
CITIES_NL = [("Amsterdam", 1012), ("Rotterdam", 3011), ("Utrecht", 3511), ("Den Haag", 2511),
             ("Eindhoven", 5611), ("Groningen", 9711), ("Zwolle", 8011), ("Haarlem", 2011)]  # fmt: skip
CITIES_ABROAD = [("Antwerpen", "2000", "BE"), ("Köln", "50667", "DE"), ("Lille", "59000", "FR"),
                 ("Gent", "9000", "BE"), ("Düsseldorf", "40213", "DE")]  # fmt: skip
COMPANY_WORDS = "Bakkerij Fietsenwinkel Koffiebar Bloemisterij Boekhandel Lunchroom Hotel Sportzaak Kapsalon".split()
PRODUCT_WORDS = [
    ("Koffiebonen", "Drinks"), ("Thee", "Drinks"), ("Stroopwafels", "Food"), ("Kaas", "Food"),
    ("Mok", "Home"), ("Theedoek", "Home"), ("Kaars", "Home"), ("Notitieboek", "Office"),
    ("Pen", "Office"), ("T-shirt", "Clothing"), ("Sokken", "Clothing"), ("Trui", "Clothing"),
    ("Fietsbel", "Bike"), ("Fietslamp", "Bike"), ("Bloempot", "Garden"), ("Zaden", "Garden"),
]  # fmt: skip
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["zwart", "wit", "rood", "blauw", "groen"]

# Fixed positions of edge cases (index into the articles / customers / orders).
EDGE_NON_NUMERIC_EVERY = 97  # every 97th article gets a non-numeric SKU like "AB-0097"
SHIPPING_SKU = "999000"
OTHER_LINE_SKU = "999100"  # lines without an article of their own (setting other_line_article)
ROUNDING_SKU = "999200"  # cash rounding (setting cash_rounding_article)  # the shipping-cost article, in the books and (as Mplus' own seed) in the till
EDGE_FIRST_NON_NUMERIC = 23  # ...and the 23rd, so even the smallest world has one


def _ean13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def generate(size: int = 100, seed: int = 1, orders: int | None = None) -> World:
    """Build a world with ``size`` articles (at least 30) and, by default, size/10 orders."""
    size = max(30, int(size))
    n_orders = max(20, size // 10) if orders is None else max(0, int(orders))
    rng = random.Random(seed)

    vat_codes = [
        VatCode("0", "Vrijgesteld / 0%", Decimal("0"), 0),
        VatCode("1", "BTW laag 9%", Decimal("9"), 1),
        VatCode("2", "BTW hoog 21%", Decimal("21"), 2),
        VatCode("4", "BTW binnen EU verlegd", Decimal("0"), 4),
        VatCode("5", "BTW buiten EU 0%", Decimal("0"), 5),
    ]
    vat_by_code = {v.code: v for v in vat_codes}
    ledger = [
        LedgerAccount("1000", "Kas", "cash"),
        LedgerAccount("1100", "Bank", "bank"),
        LedgerAccount("1300", "Debiteuren", "receivable"),
        LedgerAccount("1600", "Te betalen BTW hoog", "vat", "2"),
        LedgerAccount("1610", "Te betalen BTW laag", "vat", "1"),
        LedgerAccount("8000", "Omzet hoog tarief", "revenue", "2"),
        LedgerAccount("8010", "Omzet laag tarief", "revenue", "1"),
        LedgerAccount("8100", "Omzet binnen EU", "revenue", "4"),
        LedgerAccount("8200", "Omzet buiten EU", "revenue", "5"),
        LedgerAccount("8300", "Omzet verzendkosten", "revenue", "2"),
        LedgerAccount("1400", "Uitstaande cadeaubonnen", "other"),
        LedgerAccount("8900", "Afrondingsverschillen kas", "other", "0"),
    ]
    journals = [
        Journal("VK", "Verkoopboek", "sales"),
        Journal("KAS", "Kasboek", "cash"),
        Journal("BNK", "Bankboek", "bank"),
        Journal("MEM", "Memoriaal", "memo"),
    ]
    warehouses = [Warehouse("HOOFD", "Hoofdmagazijn", 1), Warehouse("WINKEL", "Winkel Utrecht", 2)]

    n_groups = min(200, max(8, size // 200))
    kinds = sorted({k for _, k in PRODUCT_WORDS})
    groups = [
        ArticleGroup(f"G{i + 1:03d}", f"{kinds[i % len(kinds)]} {i // len(kinds) + 1}", 100 + i, sell_in_pos=(i % 9 != 8))
        for i in range(n_groups)
    ]
    # A tree: every fourth group is a child of the one before it, and G003-like groups of G002-like ones, so the
    # smallest world has a group three levels deep (G004 under G003 under G002).
    for i, group in enumerate(groups):
        if i % 4 == 3 or i % 8 == 2:
            group.parent = groups[i - 1].code

    edge: dict[str, str] = {}
    articles: list[Article] = []
    i = 0
    while len(articles) < size:
        word, _kind = PRODUCT_WORDS[i % len(PRODUCT_WORDS)]
        group = groups[i % n_groups]
        vat = vat_by_code["1" if _kind == "Food" or _kind == "Drinks" else "2"]
        changed = SEED_EPOCH + timedelta(minutes=i)
        base_price = money(Decimal(rng.randint(99, 19999)) / 100)
        variant_model = _kind == "Clothing" and i % 5 == 0 and len(articles) + 4 <= size
        members = [(s, COLOURS[(i // 5) % len(COLOURS)]) for s in SIZES] if variant_model else [("", "")]
        for size_label, colour in members:
            n = len(articles) + 1
            numeric = n % EDGE_NON_NUMERIC_EVERY != 0 and n != EDGE_FIRST_NON_NUMERIC
            sku = str(100000 + n) if numeric else f"AB-{n:04d}"
            desc = f"{word} {n}"
            if size_label:
                desc = f"{word} {colour} maat {size_label}"
            long_desc = f"{desc}. Geleverd door onze vaste leverancier; kwaliteit gegarandeerd."
            if n == 7:
                long_desc = "Zeer lange omschrijving " + "met heel veel details " * 120
                edge["long_description"] = sku
            if n == 11:
                desc = "Crème brûlée bakje — Ærø ™ 🍮"
                edge["unicode_article"] = sku
            price_excl = base_price
            stock = []
            for w_i, wh in enumerate(warehouses):
                on_hand = Decimal(rng.randint(0, 120) if w_i == 0 else rng.randint(0, 30))
                reserved = Decimal(rng.randint(0, 5))
                incoming = Decimal(rng.choice([0, 0, 10, 25]))
                stock.append(StockLevel(wh.code, on_hand, min(reserved, on_hand + 5), incoming))
            if n == 13:
                stock = [StockLevel(w.code, Decimal(0), Decimal(0), Decimal(0)) for w in warehouses]
                edge["zero_stock"] = sku
            if n == 17:
                stock[0].on_hand = Decimal(-3)
                edge["negative_stock"] = sku
            if n == 19:
                stock[0].on_hand = Decimal("12.5")
                edge["fractional_stock"] = sku
            articles.append(
                Article(
                    sku=sku,
                    description=desc,
                    long_description=long_desc,
                    group=group.code,
                    price_excl=price_excl,
                    vat_code=vat.code,
                    price_incl=money(price_excl * (1 + vat.pct / 100)),
                    cost_price=money(price_excl * Decimal("0.55")),
                    ean=_ean13(f"87{n:010d}") if n % 10 != 3 else "",
                    unit="st" if _kind != "Food" or n % 4 else "kg",
                    sell_in_pos=group.sell_in_pos and n % 50 != 49,
                    country_of_origin=rng.choice(["NL", "NL", "BE", "DE", "CN"]),
                    delivery_days=rng.choice([1, 2, 5, 10]),
                    stock=stock,
                    changed=changed,
                    model=f"M{i:05d}" if size_label else "",
                    size=size_label,
                    colour=colour,
                    in_mplus=numeric and n % 3 != 0,
                    blocked=n % 23 == 8,
                    material=("katoen" if word != "Trui" else "wol") if size_label else "",
                    discount_group={0: "1", 3: "2"}.get(n % 6, ""),
                )
            )
            if variant_model and "variant_model" not in edge:
                edge["variant_model"] = f"M{i:05d}"
        i += 1
    edge["non_numeric_sku"] = next(a.sku for a in articles if not a.sku.isdigit())
    blocked = [a.sku for a in articles if a.blocked]
    if blocked:
        edge["blocked_article"] = blocked[0]

    # One article only the till knows: an order for it hits "missing SKU".
    till_only = Article(
        sku="999001", description="Kassa-only cadeaubon", long_description="", group=groups[0].code,
        price_excl=money(Decimal("20.66")), vat_code="2", price_incl=money(Decimal("25.00")),
        cost_price=Decimal(0), ean="", unit="st", sell_in_pos=True, country_of_origin="NL", delivery_days=0,
        stock=[], changed=SEED_EPOCH, in_mplus=True, in_accountview=False,
    )  # fmt: skip
    articles.append(till_only)
    edge["missing_sku"] = till_only.sku

    price_lists = [
        PriceList("MKB", "Midden- en kleinbedrijf", 2),
        PriceList("HOR", "Horeca", 3),
    ]
    price_items: list[PriceListItem] = []
    for n, art in enumerate(articles):
        if not art.in_accountview or n % 4:
            continue
        for pl_i, pl in enumerate(price_lists):
            factor = Decimal("0.90") if pl_i == 0 else Decimal("0.85")
            price_items.append(PriceListItem(pl.code, art.sku, Decimal(1), money(art.price_excl * factor)))
            if n % 8 == 0:  # staffel: cheaper from 10 pieces
                price_items.append(PriceListItem(pl.code, art.sku, Decimal(10), money(art.price_excl * factor * Decimal("0.9"))))
    # The books' shipping-cost article; the till has the same number as its "Verzendkosten" (seeded by the Mplus
    # sandbox), so orders' shipping lines and the orders flow's shipping_article setting meet on it.
    shipping = Article(
        sku=SHIPPING_SKU, description="Verzendkosten", long_description="", group=groups[0].code,
        price_excl=money(Decimal("5.74")), vat_code="2", price_incl=money(Decimal("6.95")), cost_price=Decimal(0),
        ean="", unit="st", sell_in_pos=True, country_of_origin="NL", delivery_days=0, stock=[], changed=SEED_EPOCH,
    )  # fmt: skip
    articles.append(shipping)
    edge["shipping_article"] = shipping.sku
    edge["other_line_article"], edge["cash_rounding_article"] = OTHER_LINE_SKU, ROUNDING_SKU
    # The books' articles of till lines without an article of their own (text lines with an amount, deposits)
    # and of cash roundings: the orders flow's settings other_line_article and cash_rounding_article.
    for sku, description, vat in ((OTHER_LINE_SKU, "Diversen (kassa)", "2"), (ROUNDING_SKU, "Kasafronding", "2")):
        articles.append(Article(
            sku=sku, description=description, long_description="", group=groups[0].code, price_excl=Decimal(0),
            vat_code=vat, price_incl=Decimal(0), cost_price=Decimal(0), ean="", unit="st", sell_in_pos=False,
            country_of_origin="NL", delivery_days=0, stock=[], changed=SEED_EPOCH, in_mplus=False,
        ))  # fmt: skip
    group_discounts = [GroupDiscount("HOR", groups[g].code, Decimal(5 + g % 3 * 5)) for g in range(0, n_groups, 3)]

    n_customers = max(20, size // 2)
    customers: list[Customer] = []
    for c in range(n_customers):
        first, last = FIRST[c % len(FIRST)], LAST[(c * 7) % len(LAST)]
        is_company = c % 3 == 0
        company = f"{COMPANY_WORDS[c % len(COMPANY_WORDS)]} {last} B.V." if is_company else ""
        if c % 11 == 5:  # foreign customer
            city, postcode, country = CITIES_ABROAD[c % len(CITIES_ABROAD)]
        else:
            city, pc = CITIES_NL[c % len(CITIES_NL)]
            postcode, country = f"{pc + c % 80} {chr(65 + c % 26)}{chr(65 + (c // 26) % 26)}", "NL"
        addr = Address(STREETS[c % len(STREETS)], str(1 + c % 230), "" if c % 6 else "A", postcode, city, country)
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{c}@example.nl"
        cust = Customer(
            number=f"{10000 + c}",
            company=company,
            first_name=first,
            last_name=last,
            email=email,
            phone=f"06{rng.randint(10000000, 99999999)}",
            address=addr,
            delivery=Address("Industrieweg", str(10 + c % 50), "", "3542 AD", "Utrecht", "NL") if c % 13 == 0 else None,
            vat_number=f"NL{rng.randint(100000000, 999999999)}B01" if is_company else "",
            price_list=("MKB" if c % 2 else "HOR") if is_company and c % 4 != 3 else "",
            discount_pct=Decimal(c % 4 * 2.5).quantize(CENT) if is_company else Decimal(0),
            payment_condition="14" if is_company else "0",
            changed=SEED_EPOCH + timedelta(minutes=c),
            in_mplus=c % 5 == 1,
            mplus_relation=0,
        )
        customers.append(cust)
    customers[2].email = ""
    edge["customer_without_email"] = customers[2].number
    customers[4].first_name, customers[4].last_name = "Zoë", "Ørsted-Ñúñez"
    customers[4].email = "zoe.orsted@example.nl"
    edge["unicode_customer"] = customers[4].number
    edge["company_customer"] = customers[0].number
    edge["person_customer"] = customers[1].number
    edge["foreign_customer"] = next(c.number for c in customers if c.address.country != "NL")
    by_number = {c.number: c for c in customers}
    relation_no = 1
    for cust in customers:
        if cust.in_mplus:
            cust.mplus_relation = relation_no
            relation_no += 1

    employees = [Employee(1, "Kassa 1"), Employee(2, "Sanne Winkel"), Employee(999999, "Webshop / API")]
    payment_methods = [
        PaymentMethod("CASH", "Contant", "0"),
        PaymentMethod("PIN", "Pin", "0"),
        PaymentMethod("IDEAL", "iDEAL", "0"),
        PaymentMethod("ACCOUNT", "Op rekening", "14"),
        PaymentMethod("GIFTCARD", "Cadeaubon", "0"),
    ]
    delivery_methods = [DeliveryMethod("PICKUP", "Afhalen"), DeliveryMethod("POSTNL", "PostNL"), DeliveryMethod("DHL", "DHL")]

    sellable = [a for a in articles if a.in_mplus and a.in_accountview]
    vat_pct = {v.code: v.pct for v in vat_codes}
    orders: list[Order] = []
    for o in range(n_orders):
        cust = "" if o % 4 == 3 else customers[(o * 7) % n_customers].number
        lines = []
        for ln in range(1 + o % 4):
            art = sellable[(o * 5 + ln * 3) % len(sellable)]
            qty = Decimal(1 + (o + ln) % 3)
            disc = money(art.price_incl * qty * Decimal("0.10")) if (o + ln) % 6 == 0 else Decimal(0)
            lines.append(OrderLine(art.sku, art.description, qty, art.price_incl, disc, vat_pct[art.vat_code]))
        shipping = Decimal("6.95") if o % 5 == 1 else Decimal(0)
        order = Order(
            ext_order_id=f"POS-{2026}-{o + 1:06d}",
            created=SEED_EPOCH + timedelta(hours=o),
            branch=1 + o % 2,
            employee=employees[o % 2].number,
            customer=cust,
            lines=lines,
            payments=[],
            delivery_method="POSTNL" if shipping else "PICKUP",
            shipping_cost_incl=shipping,
            status="COMPLETE" if o % 10 != 9 else "OPEN",
        )
        orders.append(order)
    if orders:
        orders[0].already_booked = True
        edge["order_already_booked"] = orders[0].ext_order_id
        # A return: the customer brings one piece back.
        ret = orders[min(1, len(orders) - 1)]
        ret.lines.append(OrderLine(sellable[0].sku, sellable[0].description, Decimal(-1), sellable[0].price_incl, Decimal(0), vat_pct[sellable[0].vat_code]))
        edge["order_with_return"] = ret.ext_order_id
        miss = orders[min(2, len(orders) - 1)]
        miss.lines.append(OrderLine(till_only.sku, till_only.description, Decimal(1), till_only.price_incl, Decimal(0), Decimal(21)))
        edge["order_missing_sku"] = miss.ext_order_id
        edge["order_anonymous"] = orders[min(3, len(orders) - 1)].ext_order_id
        edge["order_foreign_customer"] = next(
            (o.ext_order_id for o in orders if o.customer and by_number[o.customer].address.country != "NL"), ""
        )
    for order in orders:
        total = order.total_incl
        method = payment_methods[(len(order.lines) + order.branch) % 3] if order.customer or total <= 0 else payment_methods[0]
        if order.customer and by_number[order.customer].company:
            method = payment_methods[3]
        order.payments = [Payment(method.code, total)]

    # Discounts per debtor and article (served by the variant "discounts" only): the first three companies, two
    # articles the till already sells each. Taken from what exists, without the random generator, so the rest of
    # the world stays as it was.
    companies = [c for c in customers if c.company][:3]
    debtor_discounts = [
        DebtorDiscount(cust.number, sellable[(i * 2 + k) % len(sellable)].sku, Decimal(10 + 5 * ((i + k) % 3)))
        for i, cust in enumerate(companies) for k in range(2)
    ]  # fmt: skip

    return World(
        size=size, seed=seed, company_name="Demo Winkel B.V.", vat_codes=vat_codes, ledger=ledger,
        journals=journals, warehouses=warehouses, groups=groups, articles=articles, price_lists=price_lists,
        price_items=price_items, group_discounts=group_discounts, customers=customers, employees=employees,
        payment_methods=payment_methods, delivery_methods=delivery_methods, orders=orders, edge=edge,
        debtor_discounts=debtor_discounts,
    )  # fmt: skip

