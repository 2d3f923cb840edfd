from decimal import Decimal

from apicenter_sandbox import world


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = world.generate(300, seed=3), world.generate(300, seed=3), world.generate(300, seed=4)
    assert a == b
    assert a.articles != c.articles


def test_sizes_follow_the_request():
    w = world.generate(500)
    service = {w.edge[k] for k in ("shipping_article", "other_line_article", "cash_rounding_article")}
    catalogue = [a for a in w.articles if a.in_accountview and a.sku not in service]
    assert len(catalogue) == 500
    assert len(w.orders) == 50
    assert len(world.generate(100, orders=7).orders) == 7


def test_edge_cases_are_present_and_named():
    w = world.generate(200)
    by_sku = {a.sku: a for a in w.articles}
    assert not w.edge["non_numeric_sku"].isdigit()
    assert len(by_sku[w.edge["long_description"]].long_description) > 2000
    assert any(ord(ch) > 127 for ch in by_sku[w.edge["unicode_article"]].description)
    assert all(s.on_hand == 0 for s in by_sku[w.edge["zero_stock"]].stock)
    assert any(s.on_hand < 0 for s in by_sku[w.edge["negative_stock"]].stock)
    assert not by_sku[w.edge["missing_sku"]].in_accountview
    customers = {c.number: c for c in w.customers}
    assert customers[w.edge["customer_without_email"]].email == ""
    assert customers[w.edge["company_customer"]].company
    assert not customers[w.edge["person_customer"]].company
    assert customers[w.edge["foreign_customer"]].address.country != "NL"
    orders = {o.ext_order_id: o for o in w.orders}
    assert orders[w.edge["order_already_booked"]].already_booked
    assert orders[w.edge["order_anonymous"]].customer == ""
    assert any(ln.quantity < 0 for ln in orders[w.edge["order_with_return"]].lines)
    assert any(ln.sku == w.edge["missing_sku"] for ln in orders[w.edge["order_missing_sku"]].lines)


def test_variants_share_a_model_and_skus_are_unique():
    w = world.generate(300)
    skus = [a.sku for a in w.articles]
    assert len(skus) == len(set(skus))
    model = w.edge["variant_model"]
    variants = [a for a in w.articles if a.model == model]
    assert len(variants) == 4 and len({a.size for a in variants}) == 4


def test_orders_are_consistent():
    w = world.generate(300)
    skus = {a.sku for a in w.articles}
    customers = {c.number for c in w.customers}
    for order in w.orders:
        assert all(ln.sku in skus for ln in order.lines)
        assert order.customer == "" or order.customer in customers
        assert sum(p.amount for p in order.payments) == order.total_incl
        assert order.total_incl == order.total_incl.quantize(Decimal("0.01"))


def test_the_smallest_world_still_has_every_edge_case():
    w = world.generate(30)
    assert len(w.edge) == len(world.generate(300).edge)
    assert not w.edge["non_numeric_sku"].isdigit()
