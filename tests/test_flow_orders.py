"""Orders flow (MplusKASSA → AccountView) against both sandboxes over real sockets.

Custom orders are put straight into the Mplus sandbox's store (with the states a completed till sale has), so
every amount case — discounts, several VAT rates, foreign customers, returns, big quantities — is under control.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apicenter_sandbox.mplus.values import cents, mplus_date, mplus_datetime, price_other, quantity
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.clients.accountview import AccountViewClient, Filter
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.engine import Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.flows.order_amounts import sales_order_prices
from apicenter_sync.i18n import references
from apicenter_sync.retry import RetryPolicy
from apicenter_sync.settings import SettingError
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

CENT = Decimal("0.01")
SHIP = "VERZEND"  # AccountView article of shipping lines, created by the fixture
DEFAULT_DEBTOR = "10001"
SHIP_TILL = "999000"  # the till's seeded shipping article (MplusKASSA sandbox)


def money(v) -> Decimal:
    return Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP)


# --- fixtures ------------------------------------------------------------------------------------------------
class Env:
    def __init__(self, sb, *, retry: RetryPolicy | None = None, timeout: float = 10.0):
        self.sb = sb
        self.store = SqliteStore(":memory:")
        tokens = SqliteTokenStore(self.store)
        oauth = AccountViewOAuth(sb.accountview_url, sb.av_client_id, sb.av_client_secret, "http://localhost/cb")
        reply = httpx.get(oauth.authorization_url("s1"))
        code = parse_qs(urlsplit(reply.headers["location"]).query)["code"][0]
        tokens.save(oauth.exchange_code(code))
        kw = {"retry": retry} if retry else {}
        self.av = AccountViewClient(oauth.api_url, oauth, tokens, timeout=timeout, **kw)
        self.av.company_id = self.av.companies()[0]["Id"]
        self.mp = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret, timeout=(timeout, timeout), **kw)
        self.engine = Engine(self.store, self.av, self.mp)
        self.av.create("AK1", "ARTICLE", {"ART_CODE": SHIP, "ART_DESC1": "Verzendkosten"})
        s = self.store.settings
        s.set("shipping_article", SHIP, "orders")
        s.set("retry_delay_seconds", 0, "orders")
        self.store.mappings.set_table("payment_method_condition", {"ACCOUNT": "14", "CASH": "0", "PIN": "0"})
        self.store.mappings.set_table("shipping_method", {"POSTNL": "POSTNL", "PICKUP": "PICKUP"})
        self.store.mappings.set_table("shipping_articles", {SHIP_TILL: ""})  # the engine assumes no shipping article

    def run(self, **options):
        return self.engine.run("orders", RunOptions(**options))

    def writes(self) -> dict:
        return httpx.get(self.sb.accountview_url + "/_sandbox/stats").json()["writes"]

    def documents(self, ref: str, obj: str = "SO1", header: str = "SO_HDR") -> list[dict]:
        return [p for p in self.av.iter_pages(obj, header, filters=[Filter.equal("COMMENT1", ref)])]

    def one_document(self, ref: str, obj: str = "SO1", header: str = "SO_HDR", detail: str = "SO_LINE"):
        pages = self.documents(ref, obj, header)
        assert len(pages) == 1 and len(pages[0][header]) == 1, f"{ref}: {pages}"
        return pages[0][header][0], pages[0].get(detail, [])

    def debtors(self, email: str) -> list[dict]:
        return list(self.av.iter_rows("AR1", "CONTACT", filters=[Filter.equal("MAIL_BUS", email)]))

    def add_relation(self, **fields) -> int:
        return self.mp.create_relation(fields)["relationNumber"]

    def add_order(self, ext: str, lines: list[tuple], *, relation: int | None = None, payment: str = "PIN",
                  delivery: str = "PICKUP", country: str = "NL", company: str | None = None,
                  total_delta: int = 0) -> str:  # fmt: skip
        """An order as the till stores it: lines are (article, quantity, price incl. VAT, discount, VAT %)."""
        app = self.sb.mplus.app
        out = []
        for article, qty, price, disc, pct in lines:
            mantissa, places = quantity(Decimal(qty))
            total = cents(Decimal(qty) * Decimal(price) - Decimal(disc))
            out.append({"articleNumber": int(article), "text": f"Artikel {article}", "data": {
                "quantity": mantissa, "decimalPlaces": places, "price": cents(Decimal(price)),
                "priceExcl": price_other(cents(Decimal(price)), pct, True), "vatPercentage": pct,
                "discountAmount": cents(Decimal(disc)), "totalInclAmount": total,
                "totalExclAmount": price_other(total, pct, True)}})  # fmt: skip
        total = sum(ln["data"]["totalInclAmount"] for ln in out) + total_delta
        order_id = str(uuid.uuid4())
        now = app.now()
        order = {
            "orderId": order_id, "extOrderId": ext, "orderType": "ORDER-TYPE-SALES-ORDER", "entryBranchNumber": 1,
            "employeeNumber": 0, "entryTimestamp": mplus_datetime(now), "financialDate": mplus_date(now.date()),
            "financialBranchNumber": 1, "workplaceNumber": 1, "totalInclAmount": total,
            "totalExclAmount": sum(ln["data"]["totalExclAmount"] for ln in out), "vatMethod": "VAT-METHOD-INCLUSIVE",
            "deliveryMethod": delivery, "paymentMethod": payment, "prepaidAmount": total, "fullyPaid": True,
            "deliveryState": "ORDER-DELIVERY-STATE-COMPLETE", "cancelState": "ORDER-CANCEL-STATE-NOTHING",
            "completeState": "ORDER-COMPLETE-STATE-COMPLETE", "orderNumber": {"year": now.year, "number": 9000},
            "lineList": {"line": out}, "paymentList": {"payment": [{"method": payment, "amount": total,
                                                                    "branchNumber": 1, "employeeNumber": 1}]},
        }  # fmt: skip
        if relation:
            rel = app.store.relations[relation]
            address = {"name": rel.get("name"), "address": rel.get("address") or "Kerkstraat 1",
                       "zipcode": rel.get("zipcode") or "1012 AA", "city": rel.get("city") or "Amsterdam",
                       "country": rel.get("country") or country, "companyName": company}  # fmt: skip
            order.update(relationNumber=relation, relationName=rel.get("name"), invoiceAddress=address,
                         deliveryAddress=dict(address))  # fmt: skip
        with app.lock:
            marker = app.store.touch("order", order_id, None)
            app.store.orders[order_id] = {**order, "syncMarker": marker}
            app.store.order_by_ext[ext] = order_id
        return ext

    def close(self):
        self.engine.close()
        self.store.close()


@pytest.fixture
def env():
    with start_sandboxes(size=100) as sb:
        e = Env(sb)
        yield e
        e.close()


def so_total(lines: list[dict]) -> Decimal:
    return sum((money(Decimal(str(ln["ORD_QTY"])) * Decimal(str(ln["ART_PX"]))) for ln in lines), Decimal(0))


def dj_total(lines: list[dict]) -> Decimal:
    return sum((money(Decimal(str(ln["AMOUNT"]))) for ln in lines), Decimal(0))


def mplus_total(env: Env, ext: str) -> Decimal:
    return Decimal(env.mp.find_order(ext)["totalInclAmount"]) / 100


def line_of(env: Env, ref: str, action: str | None = None):
    lines = env.store.log.list_lines(flow="orders", source_id=ref, limit=50)
    return [ln for ln in lines if action is None or ln.action == action]


def set_dj2(env: Env) -> None:
    env.store.settings.set("order_type", "DJ2", "orders")
    env.store.mappings.set_table("revenue_account_by_vat_code", {"2": "8000", "1": "8010", "0": "8000"})


# --- the rules -------------------------------------------------------------------------------------------------
def test_first_run_sends_completed_orders_and_skips_the_rest(env):
    edge = env.sb.world.edge
    result = env.run()
    assert result.ok, result.error
    booked = line_of(env, edge["order_already_booked"])[0]
    assert booked.action == "skipped" and "already exists" in booked.error
    assert len(env.documents(edge["order_already_booked"])[0]["SO_HDR"]) == 1  # still the seeded one only
    open_orders = [o.ext_order_id for o in env.sb.world.orders if o.status == "OPEN"]
    assert open_orders and all("only completed orders" in line_of(env, r)[0].error for r in open_orders)
    assert all(not env.documents(r) for r in open_orders)
    created = env.store.log.list_lines(flow="orders", action="created", limit=500)
    assert len(created) == result.counts["created"] > 0
    for line in created:  # every step is in the log
        steps = line.reply["steps"]
        assert any(s.startswith("amounts:") for s in steps) and any(s.startswith("debtor:") for s in steps)
    watermark = env.store.watermarks.get("orders", "order").value
    assert int(watermark) == max(int(o["syncMarker"]) for o in env.mp.iter_orders(0))


def test_second_run_writes_nothing(env):
    assert env.run().ok
    before = env.writes()
    second = env.run()
    # Only the order whose article is missing is tried again (retry delay 0): it waits; nothing is written.
    assert second.ok and second.counts == Counter({"failed": 1, "waiting": 1})
    assert env.run(full=True).counts["created"] == 0  # a full re-sync finds every order and books none again
    assert env.writes() == before


def test_dry_run_writes_nothing(env):
    before = env.writes()
    result = env.run(dry_run=True)
    assert result.ok and result.counts["dry_run"] > 0
    assert env.writes() == before
    assert env.store.bindings.count("order") == 0 and env.store.watermarks.get("orders", "order").value is None
    plan = result.planned[0]
    assert plan.target_payload["business_object"] == "SO1" and plan.target_payload["SO_LINE"]


def test_new_company_customer_is_created_with_contact_person(env):
    rel = env.add_relation(name="Fietsen Vos B.V.", companyName="Fietsen Vos B.V.", contact="Bram Vos",
                           email="inkoop@fietsenvos.example", address="Molenweg 3B", zipcode="8011 AB",
                           city="Zwolle", country="NL", telephone="0381234567")  # fmt: skip
    ref = env.add_order("WEB-C1", [("100002", 1, "10.00", "0", 21)], relation=rel, company="Fietsen Vos B.V.")
    assert env.run().ok
    [debtor] = env.debtors("inkoop@fietsenvos.example")
    assert debtor["ACCT_NAME"] == "Fietsen Vos B.V." and debtor["MAIN_CONT"] == "Bram Vos"
    assert (debtor["ST_STREET"], debtor["ST_NR"], debtor["ST_EXTRA"], debtor["CITY"]) == (
        "Molenweg",
        "3",
        "B",
        "Zwolle",
    )
    header, _ = env.one_document(ref)
    assert header["RPL_INV"] == debtor["SUB_NR"] and header["TO_EMAIL"] == "inkoop@fietsenvos.example"
    assert any("created company debtor" in s for s in line_of(env, ref, "created")[0].reply["steps"])


def test_new_person_customer_is_created_without_contact(env):
    rel = env.add_relation(name="Eva Kok", email="eva.kok@example.org", address="Lindenlaan 7", zipcode="3511 AA",
                           city="Utrecht", country="NL")  # fmt: skip
    ref = env.add_order("WEB-P1", [("100002", 2, "5.00", "0", 21)], relation=rel)
    assert env.run().ok
    [debtor] = env.debtors("eva.kok@example.org")
    assert debtor["ACCT_NAME"] == "Eva Kok" and debtor["MAIN_CONT"] == ""
    assert env.one_document(ref)[0]["RPL_INV"] == debtor["SUB_NR"]


def test_new_debtor_gets_vat_code_and_revenue_category_of_its_country(env):
    env.store.mappings.set_table("vat_code_by_country", {"BE": "4"})
    env.store.mappings.set_table("revenue_category_by_country", {"BE": "EU", "NL": "BINNENL"})
    be = env.add_relation(name="Jan Peeters", email="jan.peeters@example.be", address="Meir 1", zipcode="2000",
                          city="Antwerpen", country="BE")  # fmt: skip
    nl = env.add_relation(name="Eva Kok", email="eva.kok@example.org", address="Lindenlaan 7", zipcode="3511 AA",
                          city="Utrecht", country="NL")  # fmt: skip
    env.add_order("WEB-BE1", [("100002", 1, "5.00", "0", 21)], relation=be)
    env.add_order("WEB-NL1", [("100002", 1, "5.00", "0", 21)], relation=nl)
    assert env.run().ok
    [debtor_be] = env.debtors("jan.peeters@example.be")
    [debtor_nl] = env.debtors("eva.kok@example.org")
    assert (debtor_be["VAT_CODE"], debtor_be["REV_CAT"]) == ("4", "EU")
    assert (debtor_nl["VAT_CODE"], debtor_nl["REV_CAT"]) == ("", "BINNENL")  # no NL row: the administration's


def test_existing_customer_with_the_same_email_is_updated_not_duplicated(env):
    known = next(c for c in env.sb.world.customers if c.email and not c.company)
    rel = env.add_relation(name=f"{known.first_name} {known.last_name}", email=known.email.upper(),
                           telephone="0612345678", address="Nieuwe Binnenweg 99", zipcode="3011 AA",
                           city="Rotterdam", country="NL")  # fmt: skip
    first = env.add_order("WEB-U1", [("100002", 1, "10.00", "0", 21)], relation=rel)
    second = env.add_order("WEB-U2", [("100003", 1, "10.00", "0", 21)], relation=rel)
    assert env.run().ok
    [debtor] = env.debtors(known.email)
    assert debtor["SUB_NR"] == known.number and debtor["TEL_BUS"] == "0612345678"
    assert debtor["ADDRESS1"] == "Nieuwe Binnenweg 99" and debtor["CITY"] == "Rotterdam"
    assert env.one_document(first)[0]["RPL_INV"] == env.one_document(second)[0]["RPL_INV"] == known.number
    assert env.writes().get("CONTACT", 0) == 1  # one update; the second order found it up to date


@pytest.mark.parametrize("mode", ["when_no_customer", "always"])
def test_default_debtor(env, mode):
    env.store.settings.set("default_debtor_mode", mode, "orders")
    env.store.settings.set("default_debtor_number", DEFAULT_DEBTOR, "orders")
    edge = env.sb.world.edge
    assert env.run().ok
    assert env.one_document(edge["order_anonymous"])[0]["RPL_INV"] == DEFAULT_DEBTOR
    customer_order = edge["order_with_return"]
    debtor = env.one_document(customer_order)[0]["RPL_INV"]
    assert (debtor == DEFAULT_DEBTOR) is (mode == "always")


def test_anonymous_sale_fails_clearly_without_default_debtor(env):
    ref = env.sb.world.edge["order_anonymous"]
    result = env.run()
    assert result.ok
    [failed] = line_of(env, ref, "failed")
    assert "anonymous sale" in failed.error and failed.retry_at is None
    assert ("setting", "default_debtor_mode") in references(failed.error)
    assert not env.documents(ref)


def test_missing_sku_fails_with_the_skus_then_succeeds_once_the_article_exists(env):
    ref, sku = env.sb.world.edge["order_missing_sku"], env.sb.world.edge["missing_sku"]
    env.run()
    [failed] = line_of(env, ref, "failed")
    assert sku in failed.error and "not in AccountView" in failed.error and failed.retry_at is not None
    assert not env.documents(ref)
    assert env.run().counts["failed"] == 1  # retried automatically, still missing, never dropped
    env.av.create("AK1", "ARTICLE", {"ART_CODE": sku, "ART_DESC1": "Cadeaubon"})
    result = env.run()
    assert result.counts == Counter({"created": 1})
    header, lines = env.one_document(ref)
    assert so_total(lines) == mplus_total(env, ref)
    states = [ln.state for ln in line_of(env, ref)]
    assert states[0] == "ok" and "failed" not in states  # the open failure is resolved


def test_dj2_booking_variant(env):
    set_dj2(env)
    env.store.mappings.set_table("payment_method_journal", {"CASH": "KAS"})
    env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
    env.store.settings.set("default_debtor_number", DEFAULT_DEBTOR, "orders")
    edge = env.sb.world.edge
    result = env.run()
    assert result.ok and result.counts["created"] > 0, result.failures
    assert "already exists" in line_of(env, edge["order_already_booked"])[0].error  # found through DJ2P
    assert env.writes().get("SO_HDR") is None
    for line in env.store.log.list_lines(flow="orders", action="created", limit=500):
        page, rows = env.one_document(line.source_id, "DJ2P", "DJ_PAGE", "DJ_LINE")
        assert page["GROSS_FLG"] is True and dj_total(rows) == mplus_total(env, line.source_id)
        assert Decimal(str(page["PAGE_AMT"])) == mplus_total(env, line.source_id)
        assert {r["ACCT_NR"] for r in rows} <= {"8000", "8010"}
    cash = next(o.ext_order_id for o in env.sb.world.orders if o.payments[0].method == "CASH" and o.status == "COMPLETE"
                and not o.already_booked and o.ext_order_id != edge["order_missing_sku"])  # fmt: skip
    assert env.one_document(cash, "DJ2P", "DJ_PAGE", "DJ_LINE")[0]["DJ_CODE"] == "KAS"


def test_payment_shipping_vat_and_revenue_mappings(env):
    env.store.mappings.set_table("vat_code_by_country", {"BE": "4"})
    env.store.mappings.set_table("revenue_account_by_country", {"BE": "8100"})
    be = env.add_relation(name="Brasserie Gent", companyName="Brasserie Gent BV", contact="Piet Claes",
                          email="info@brasserie.example", address="Veldstraat 1", zipcode="9000", city="Gent",
                          country="BE")  # fmt: skip
    nl = env.add_relation(name="Sanne Bos", email="sanne@bos.example", country="NL")
    foreign = env.add_order(
        "WEB-BE1",
        [("100002", 1, "12.10", "0", 21), ("999000", 1, "6.95", "0", 21)],
        relation=be,
        payment="ACCOUNT",
        delivery="POSTNL",
        company="Brasserie Gent BV",
    )
    home = env.add_order("WEB-NL1", [("100002", 1, "12.10", "0", 21), ("100001", 2, "4.36", "0", 9)],
                         relation=nl, payment="PIN", delivery="DHL")  # fmt: skip
    assert env.run().ok
    header, lines = env.one_document(foreign)
    assert header["DISC_CODE"] == "14" and header["SHIP_MTH"] == "POSTNL" and header["EMP_NR"] == "999999"
    assert {ln["VAT_CODE"] for ln in lines} == {"4"}
    assert [ln["ART_CODE"] for ln in lines] == ["100002", SHIP]  # the till's shipping line on the shipping article
    header, lines = env.one_document(home)
    assert header["DISC_CODE"] == "0" and header["SHIP_MTH"] == ""  # DHL is not in the shipping_method table
    assert any("DHL: not in Shipping methods → AccountView" in s for s in line_of(env, home, "created")[0].reply["steps"])
    assert sorted(ln["VAT_CODE"] for ln in lines) == ["1", "2"]  # by rate, from AccountView's VAT table

    set_dj2(env)
    foreign_dj = env.add_order("WEB-BE2", [("100002", 1, "12.10", "0", 21)], relation=be, company="Brasserie Gent BV")
    assert env.run().ok
    _, rows = env.one_document(foreign_dj, "DJ2P", "DJ_PAGE", "DJ_LINE")
    assert [(r["ACCT_NR"], r["VAT_CODE"]) for r in rows] == [("8100", "4")]


AMOUNT_CASES = {
    "discount": [("100002", 3, "9.99", "1.00", 21), ("100003", 1, "19.95", "0.95", 21)],
    "multi_vat": [("100002", 2, "12.10", "0", 21), ("100001", 3, "4.37", "0.13", 9), ("100004", 1, "3.33", "0", 0)],
    "return": [("100002", 2, "12.10", "0", 21), ("100001", -1, "4.37", "0", 9), ("100003", -2, "7.77", "-0.50", 21)],
    "big_quantity": [("100002", 150, "0.33", "0.07", 21), ("100003", 1, "0.01", "0", 21)],
    "fraction": [("100002", "2.5", "3.99", "0", 9), ("100003", "0.333", "12.34", "0.01", 21)],
    "shipping": [("100002", 1, "24.99", "2.50", 21), ("999000", 1, "6.95", "0", 21)],
}


@pytest.mark.parametrize("order_type", ["SO1", "DJ2"])
def test_totals_match_the_mplus_total_to_the_cent(env, order_type):
    if order_type == "DJ2":
        set_dj2(env)
    env.store.mappings.set_table("vat_code_by_country", {"DE": "4"})
    env.store.mappings.set_table("revenue_account_by_country", {"DE": "8100"})
    person = env.add_relation(name="Tess Dekker", email="tess@dekker.example", country="NL")
    german = env.add_relation(name="Köln GmbH", companyName="Köln GmbH", email="einkauf@koeln.example",
                              address="Domplatz 1", zipcode="50667", city="Köln", country="DE")  # fmt: skip
    refs = [env.add_order(f"AMT-{order_type}-{name}", lines, relation=person) for name, lines in AMOUNT_CASES.items()]
    refs.append(env.add_order(f"AMT-{order_type}-foreign", AMOUNT_CASES["discount"], relation=german,
                              company="Köln GmbH"))  # fmt: skip
    result = env.run()
    assert result.ok, result.error
    for ref in refs:
        assert line_of(env, ref)[0].action == "created", line_of(env, ref)[0].error
        if order_type == "SO1":
            _, lines = env.one_document(ref)
            assert so_total(lines) == mplus_total(env, ref), ref
        else:
            _, rows = env.one_document(ref, "DJ2P", "DJ_PAGE", "DJ_LINE")
            assert dj_total(rows) == mplus_total(env, ref), ref
    if order_type == "SO1":  # quantities are kept, even where a line had to be split to stay exact
        _, lines = env.one_document("AMT-SO1-big_quantity")
        assert sum(Decimal(str(ln["ORD_QTY"])) for ln in lines if ln["ART_CODE"] == "100002") == 150


def test_sales_order_prices_are_exact():
    for qty in ("1", "3", "7", "150", "999", "-3", "0.333", "2.5"):
        for total in ("0.01", "9.99", "28.97", "1234.56", "-7.77"):
            pairs = sales_order_prices(Decimal(qty), Decimal(total), "T", "X")
            assert sum(money(q * p) for q, p in pairs) == Decimal(total), (qty, total)
            assert sum(q for q, _ in pairs) == Decimal(qty)


def test_order_whose_lines_do_not_add_up_is_not_sent(env):
    rel = env.add_relation(name="Sem Smit", email="sem@smit.example", country="NL")
    ref = env.add_order("WEB-BAD", [("100002", 1, "10.00", "0", 21)], relation=rel, total_delta=1)
    env.run()
    [failed] = line_of(env, ref, "failed")
    assert "add up to 10.00 but its total is 10.01" in failed.error and failed.retry_at is None
    assert not env.documents(ref)


def test_order_status_mapping_table(env):
    open_orders = [o.ext_order_id for o in env.sb.world.orders if o.status == "OPEN"]
    env.store.mappings.set_table("order_status", {"ORDER-COMPLETE-STATE-NOTHING": "send",
                                                  "ORDER-COMPLETE-STATE-COMPLETE": "skip"})  # fmt: skip
    env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
    env.store.settings.set("default_debtor_number", DEFAULT_DEBTOR, "orders")
    result = env.run()
    assert result.counts["created"] == len(open_orders)
    assert all(env.documents(r) for r in open_orders)
    done = next(o.ext_order_id for o in env.sb.world.orders if o.status == "COMPLETE" and not o.already_booked)
    assert "skip (mapping table “Sale state → send or skip”)" in line_of(env, done)[0].error
    assert references(line_of(env, done)[0].error) == [("table", "order_status")]


def test_an_order_cancelled_at_the_till_is_never_booked_and_a_booked_one_is_flagged(env):
    """cancelOrder at the sandbox till, over real sockets. A table that sends open orders does not send a cancelled
    one (the cancel wins; only a row for the cancel state decides otherwise); an order booked while open and then
    cancelled fails, not retried, naming its booking for a person to reverse (a skip would hide it)."""
    env.store.mappings.set_table("order_status", {"ORDER-COMPLETE-STATE-NOTHING": "send"})
    env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
    env.store.settings.set("default_debtor_number", DEFAULT_DEBTOR, "orders")
    relation = env.add_relation(name="Ada Kok", email="ada@kok.example", country="NL")
    made = {}
    for ext in ("TILL-CANCEL-BOOKED", "TILL-CANCEL-FIRST"):
        made[ext] = env.mp.create_order({"extOrderId": ext, "relationNumber": relation, "entryBranchNumber": 1,
                                         "lineList": {"line": [{"articleNumber": 100002, "data": {"quantity": 1}}]}},
                                        str(uuid.uuid4()))["order"]["orderId"]  # fmt: skip
        if ext == "TILL-CANCEL-BOOKED":
            assert env.run().ok  # booked while open (the table sends open orders)
            booked = env.store.bindings.get("order", ext)
            assert booked.state == "synced" and env.documents(ext)
    for order_id in made.values():
        assert env.mp.call("cancelOrder", idempotent=False, orderId=order_id)["result"] == "CANCEL-ORDER-RESULT-OK"
    result = env.run()
    assert result.ok
    assert not env.documents("TILL-CANCEL-FIRST") and env.store.bindings.get("order", "TILL-CANCEL-FIRST") is None
    [skipped] = line_of(env, "TILL-CANCEL-FIRST", "skipped")[:1]
    assert "ORDER-CANCEL-STATE-COMPLETE: cancelled orders are not sent" in skipped.error
    [flagged] = line_of(env, "TILL-CANCEL-BOOKED", "failed")
    target = env.store.bindings.get("order", "TILL-CANCEL-BOOKED").target_id
    assert flagged.retry_at is None and flagged.target_id == target
    assert f"was cancelled at the till (status ORDER-CANCEL-STATE-COMPLETE) after it was booked as {target}" in (
        flagged.error)  # fmt: skip
    assert "aan de kassa geannuleerd" in flagged.error.render("nl")
    assert len(env.documents("TILL-CANCEL-BOOKED")) == 1  # the engine writes nothing back: a person reverses it
    # A row for the cancel state itself decides: "send" books a cancelled order as any other sale, once.
    env.store.mappings.set_table("order_status", {"ORDER-CANCEL-STATE-COMPLETE": "send"})
    assert env.run(full=True).ok
    assert len(env.documents("TILL-CANCEL-FIRST")) == 1 and len(env.documents("TILL-CANCEL-BOOKED")) == 1


def test_unknown_source_document_type_is_refused(env):
    with pytest.raises(SettingError, match="vouchers"):
        env.store.settings.set("source_document_type", "order, vouchers", "orders")


def test_lost_reply_on_the_order_post_is_recovered_without_a_duplicate(env):
    rel = env.add_relation(name="Anna Vos", email="anna@vos.example", country="NL")
    httpx.post(env.sb.accountview_url + "/_sandbox/faults",
               json={"rate": 1, "kinds": ["lost_reply"], "operations": ["POST SO1"]})  # fmt: skip
    ref = env.add_order("WEB-LOST", [("100002", 1, "10.00", "0", 21)], relation=rel)
    env.run()  # every POST SO1 is applied, then its reply is lost
    failed = line_of(env, ref, "failed")
    assert failed and "may have reached AccountView" in failed[0].error
    assert env.store.bindings.get("order", ref).state == "pending"
    httpx.post(env.sb.accountview_url + "/_sandbox/faults", json={"rate": 0})
    result = env.run()
    assert result.ok
    recovered = line_of(env, ref)[0]
    assert recovered.action == "created" and recovered.error.startswith("recovered")
    assert len(env.documents(ref)[0]["SO_HDR"]) == 1
    assert env.store.bindings.get("order", ref).state == "synced"


def test_lost_reply_on_the_debtor_post_does_not_create_it_twice(env):
    rel = env.add_relation(name="Finn Bakker", email="finn@bakker.example", country="NL")
    first = env.add_order("WEB-D1", [("100002", 1, "10.00", "0", 21)], relation=rel)
    second = env.add_order("WEB-D2", [("100003", 1, "10.00", "0", 21)], relation=rel)
    httpx.post(env.sb.accountview_url + "/_sandbox/faults",
               json={"rate": 1, "kinds": ["lost_reply"], "operations": ["POST AR1"]})  # fmt: skip
    env.run()
    assert "may have been created" in line_of(env, first, "failed")[0].error
    assert len(env.debtors("finn@bakker.example")) == 1  # the second order looked it up instead of creating again
    httpx.post(env.sb.accountview_url + "/_sandbox/faults", json={"rate": 0})
    env.run()
    [debtor] = env.debtors("finn@bakker.example")
    assert env.one_document(first)[0]["RPL_INV"] == env.one_document(second)[0]["RPL_INV"] == debtor["SUB_NR"]


# --- Done-when: 500 orders, 30 % faults on both sandboxes ---------------------------------------------------------
FAULTS = {"rate": 0.3, "kinds": ["timeout", "reset", "http500", "http503", "lost_reply"], "seed": 7, "timeout_s": 0.5}


def test_500_orders_under_faults_are_booked_exactly_once():
    started = time.monotonic()
    with start_sandboxes(size=100, orders=500) as sb:
        env = Env(sb, retry=RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.1), timeout=3.0)
        try:
            env.store.settings.set("default_debtor_mode", "when_no_customer", "orders")
            env.store.settings.set("default_debtor_number", DEFAULT_DEBTOR, "orders")
            env.store.settings.set("batch_size", 100, "orders")
            env.store.settings.set("max_attempts", 50, "orders")
            for url in (sb.accountview_url, sb.mplus_url):
                assert httpx.post(url + "/_sandbox/faults", json=FAULTS).status_code == 200
            missing = sb.world.edge["order_missing_sku"]  # fails until its article exists: expected, not left over
            runs = 0
            while runs < 30:  # until nothing is left to do but the order with the missing article
                runs += 1
                result = env.run()
                open_failures = {ln.source_id for ln in env.store.log.list_lines(flow="orders", failed_only=True)}
                if result.ok and open_failures <= {missing}:
                    break
            for url in (sb.accountview_url, sb.mplus_url):
                httpx.post(url + "/_sandbox/faults", json={"rate": 0})
            final = env.run()
            runs += 1
            assert final.ok and [f[0] for f in final.failures] == [missing], final.failures
            assert not final.counts["created"]
            faults = Counter()
            for url in (sb.accountview_url, sb.mplus_url):
                faults.update(httpx.get(url + "/_sandbox/stats").json()["faults_injected"])
            http_retries = sum(env.av.retries.values()) + sum(env.mp.retries.values())

            world = sb.world
            sendable = {o.ext_order_id for o in world.orders if o.status == "COMPLETE"}
            sendable.discard(world.edge["order_missing_sku"])  # its till-only article is not in AccountView
            per_ref = Counter()
            totals = {}
            for page in env.av.iter_pages("SO1", "SO_HDR", page_size=1000):
                lines_by_order: dict[str, list] = {}
                for line in page.get("SO_LINE", []):
                    lines_by_order.setdefault(line["ORD_NR"], []).append(line)
                for header in page["SO_HDR"]:
                    per_ref[header["COMMENT1"]] += 1
                    totals[header["COMMENT1"]] = so_total(lines_by_order.get(header["ORD_NR"], []))
            duplicates = {r: n for r, n in per_ref.items() if n > 1}
            assert not duplicates
            assert sendable <= set(per_ref), sorted(sendable - set(per_ref))[:5]
            assert not set(per_ref) - sendable - {world.edge["order_already_booked"]}
            mplus = {o["extOrderId"]: Decimal(o["totalInclAmount"]) / 100 for o in env.mp.iter_orders(0)}
            booked_by_seed = world.edge["order_already_booked"]
            mismatches = {r: (totals[r], mplus[r]) for r in sendable if r != booked_by_seed and totals[r] != mplus[r]}
            assert not mismatches

            emails = Counter(str(r["MAIL_BUS"]).lower() for r in env.av.iter_rows("AR1", "CONTACT") if r["MAIL_BUS"])
            created_debtors = [r for r in env.av.iter_rows("AR1", "CONTACT") if r["INP_USR"] == "API"]
            assert all(emails[str(r["MAIL_BUS"]).lower()] == 1 for r in created_debtors)

            # The log shows each retry: every order that failed on the way has its failed lines and then a success.
            failed_lines = env.store.log.list_lines(flow="orders", action="failed", limit=10000)
            retried = {ln.source_id for ln in failed_lines}
            for ref in retried - {world.edge["order_missing_sku"]}:
                history = line_of(env, ref)
                assert history[0].action in ("created", "skipped"), (ref, [(h.action, h.error) for h in history])
            recovered = [ln for ln in env.store.log.list_lines(flow="orders", action="created", limit=10000)
                         if (ln.error or "").startswith("recovered")]  # fmt: skip
            print(
                f"\n500 orders under faults: {runs} runs, {sum(faults.values())} faults injected {dict(faults)}, "
                f"{http_retries} HTTP retries by the clients, {len(failed_lines)} failed "
                f"lines on {len(retried)} orders (retried), {len(recovered)} recovered after a lost reply, "
                f"{len(per_ref)} documents, 0 duplicates, 0 mismatches, {time.monotonic() - started:.1f}s"
            )
            assert retried and recovered and sum(faults.values()) > 100 and time.monotonic() - started < 90
        finally:
            env.close()


def test_a_post_still_under_way_after_our_timeout_is_not_posted_again():
    """AccountView may finish a POST after the client gave up on it (the sandbox's ``slow`` fault writes after
    ``slow_s``, the client waits 0.3 s). The sale stays pending and is not looked up, let alone posted, again until
    the settle time (ten timeouts) has passed; then it is found and bound: one document."""
    with start_sandboxes(size=100) as sb:
        env = Env(sb, timeout=0.3, retry=RetryPolicy(attempts=1))
        try:
            rel = env.add_relation(name="Iris Smit", email="iris@smit.example", country="NL")
            ref = env.add_order("WEB-SLOW", [("100002", 1, "10.00", "0", 21)], relation=rel)
            httpx.post(sb.accountview_url + "/_sandbox/faults",
                       json={"rate": 1, "kinds": ["slow"], "slow_s": 1.0, "operations": ["POST SO1"]})  # fmt: skip
            env.run()
            assert line_of(env, ref, "failed") and env.store.bindings.get("order", ref).state == "pending"
            httpx.post(sb.accountview_url + "/_sandbox/faults", json={"rate": 0})
            env.run()  # at once: the first POST is still being written
            [unsettled] = line_of(env, ref, "failed")[:1]
            assert "may still be writing it" in unsettled.error
            assert "kan het nog aan het schrijven zijn" in unsettled.error.render("nl")
            assert env.av.settle_seconds == pytest.approx(3.0)
            time.sleep(1.5)  # the slow POST has landed
            assert len(env.documents(ref)[0]["SO_HDR"]) == 1, "the second run must not have posted it again"
            later = datetime.now(UTC) + timedelta(seconds=4)
            env.store.clock = lambda: later
            assert env.run().ok
            assert line_of(env, ref)[0].action == "created" and line_of(env, ref)[0].error.startswith("recovered")
            assert len(env.documents(ref)[0]["SO_HDR"]) == 1
            assert env.store.bindings.get("order", ref).state == "synced"
        finally:
            env.close()
