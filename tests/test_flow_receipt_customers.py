"""Customers from receipts, as the till knows them: the relation's address and country reach the debtor created
from a receipt, the country drives the VAT and revenue look-ups, and where no country is known the order defaults'
country is used or the receipt waits — no country is assumed. Receipts are rung up at the MplusKASSA sandbox's till
and the debtors and documents read back from the AccountView sandbox.
"""

from __future__ import annotations

import pytest
from test_flow_orders import Env, line_of, set_dj2
from test_flow_sales import articles, receipts_setting, ring

from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.i18n import references


@pytest.fixture
def env():
    with start_sandboxes(size=60) as sb:
        e = Env(sb)
        receipts_setting(e)
        e.store.mappings.set_table("vat_code_by_country", {"BE": "4", "DE": "5"})
        e.store.mappings.set_table("revenue_category_by_country", {"BE": "EU", "DE": "EU2", "NL": "BINNENL"})
        yield e
        e.close()


def receipt_for(env: Env, relation: int) -> str:
    sold = ring(env, relationNumber=relation, lines=[{"articleNumber": articles(env, 21)[0], "quantity": "1"}],
                payments=[{"method": "PIN"}])  # fmt: skip
    return sold["receiptId"]


def test_a_debtor_from_a_receipt_gets_the_relations_address_and_country(env):
    be = env.add_relation(name="Brasserie Gent", companyName="Brasserie Gent BV", contact="Els Claes",
                          email="els@gent.example", address="Korenmarkt 12 B", zipcode="9000", city="Gent",
                          country="BE", vatNumber="be0123456789")  # fmt: skip
    ref = receipt_for(env, be)
    result = env.run()
    assert result.ok and result.counts["created"] == 1, (result.error, result.failures)
    [debtor] = env.debtors("els@gent.example")
    assert debtor["ACCT_NAME"] == "Brasserie Gent BV" and debtor["MAIN_CONT"] == "Els Claes"
    assert (debtor["ADDRESS1"], debtor["POST_CODE"], debtor["CITY"]) == ("Korenmarkt 12 B", "9000", "Gent")
    assert debtor["CNT_CODE"] == "BE" and debtor["VAT_NR"] == "BE0123456789"
    assert (debtor["VAT_CODE"], debtor["REV_CAT"]) == ("4", "EU")  # Belgian, not the Dutch defaults
    header, lines = env.one_document(ref)
    assert header["RPL_INV"] == debtor["SUB_NR"]
    assert {ln["VAT_CODE"] for ln in lines} == {"4"}


def test_a_relation_without_country_waits_then_takes_the_order_defaults_country(env):
    nowhere = env.add_relation(name="Piet Zonderland", email="piet@nergens.example", address="Dorpsstraat 1",
                               city="Ergens")  # fmt: skip
    ref = receipt_for(env, nowhere)
    first = env.run()
    assert first.ok and ref in dict(first.failures)
    [line] = line_of(env, ref, "failed")
    assert line.wait == "mapping" and "country is not known" in line.error
    assert ("table", "order_defaults") in references(line.error)
    assert not env.debtors("piet@nergens.example") and not env.documents(ref)
    env.store.mappings.set_table("order_defaults", {"country": "DE"})
    second = env.run()
    assert second.ok and second.counts["created"] == 1, (second.error, second.failures)
    [debtor] = env.debtors("piet@nergens.example")
    assert (debtor["VAT_CODE"], debtor["REV_CAT"]) == ("5", "EU2") and debtor["ADDRESS1"] == "Dorpsstraat 1"
    assert {ln["VAT_CODE"] for ln in env.one_document(ref)[1]} == {"5"}


def test_without_country_tables_a_receipt_without_country_is_booked_and_no_country_is_assumed(env):
    env.store.mappings.set_table("vat_code_by_country", {})
    env.store.mappings.set_table("revenue_category_by_country", {})
    nowhere = env.add_relation(name="Piet Zonderland", email="piet@nergens.example")
    ref = receipt_for(env, nowhere)
    result = env.run()
    assert result.ok and result.counts["created"] == 1, (result.error, result.failures)
    [debtor] = env.debtors("piet@nergens.example")
    assert debtor["CNT_CODE"] == "" and debtor["VAT_CODE"] == "" and debtor["REV_CAT"] == ""
    assert env.one_document(ref)[0]["RPL_INV"] == debtor["SUB_NR"]


def test_a_receipt_booked_as_a_booking_uses_the_relations_country_for_the_revenue_account(env):
    set_dj2(env)
    env.store.mappings.set_table("revenue_account_by_country", {"DE": "8100"})
    de = env.add_relation(name="Köln GmbH", companyName="Köln GmbH", email="einkauf@koeln.example",
                          address="Domplatz 1", zipcode="50667", city="Köln", country="DE")  # fmt: skip
    ref = receipt_for(env, de)
    result = env.run()
    assert result.ok and result.counts["created"] == 1, (result.error, result.failures)
    _, lines = env.one_document(ref, "DJ2P", "DJ_PAGE", "DJ_LINE")
    revenue = [ln for ln in lines if ln.get("ACCT_NR") == "8100"]
    assert revenue and {ln["VAT_CODE"] for ln in revenue} == {"5"}
