"""Customers flow (AccountView debtors → MplusKASSA relations), over real sockets against the sandboxes."""

from __future__ import annotations

from collections import Counter

import httpx
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sync.i18n import references

VAT_METHODS = {"NL": "VAT-METHOD-INCLUSIVE", "BE": "VAT-METHOD-EXCLUSIVE", "DE": "VAT-METHOD-SHIFTED"}


def debtor(env: Env, number: str) -> dict:
    return next(r for r in env.av_rows("CONTACT") if str(r["SUB_NR"]).strip() == number)


def relation_of(env: Env, number: str) -> dict:
    (rel,) = env.relations_with(extRelationId=number)
    return rel


def test_second_run_writes_nothing(env: Env):
    first = env.run("customers")
    assert first.counts["created"] > 0 and first.counts["updated"] > 0
    before = env.writes()
    env.mp.reset_counters()
    second = env.run("customers")
    assert env.writes() == before
    assert set(second.counts) <= {"unchanged"}
    assert not {op for op in env.mp.calls if not op.startswith("get")}


def test_company_becomes_a_company_relation_with_a_contact_person(env: Env):
    env.run("customers")
    number = env.world.edge["company_customer"]
    row = debtor(env, number)
    rel = relation_of(env, number)
    assert rel["companyName"] == row["ACCT_NAME"].strip()
    assert rel["name"] == row["ACCT_NAME"].strip()
    assert rel["contact"] == row["MAIN_CONT"].strip() != ""
    assert rel["email"] == row["MAIL_BUS"].strip().lower()


def test_person_becomes_a_relation_with_a_name_only(env: Env):
    env.run("customers")
    for number in (env.world.edge["person_customer"], env.world.edge["unicode_customer"]):
        row = debtor(env, number)
        rel = relation_of(env, number)
        assert rel["name"] == row["ACCT_NAME"].strip()
        assert not rel.get("companyName") and not rel.get("contact")
    assert relation_of(env, env.world.edge["unicode_customer"])["name"] == "Zoë Ørsted-Ñúñez"


def test_customer_known_to_the_till_is_matched_by_email_and_updated(env: Env):
    known = [c for c in env.world.customers if c.in_mplus and c.email]
    assert known
    relations_before = len(env.mstore.relations)
    result = env.run("customers")
    for cust in known:
        same_mail = env.relations_with(email=cust.email)
        assert len(same_mail) == 1, cust.email
        assert same_mail[0]["relationNumber"] == cust.mplus_relation
        assert same_mail[0]["extRelationId"] == cust.number
    created = result.counts["created"]
    assert len(env.mstore.relations) == relations_before + created
    # nobody twice, by debtor number or e-mail
    ext = Counter(r.get("extRelationId") for r in env.mstore.relations.values() if r.get("extRelationId"))
    assert max(ext.values()) == 1
    mails = Counter((r.get("email") or "").lower() for r in env.mstore.relations.values() if r.get("email"))
    assert max(mails.values()) == 1


def test_customer_without_email_is_created_once(env: Env):
    number = env.world.edge["customer_without_email"]
    env.run("customers")
    env.run("customers", full=True)
    assert len(env.relations_with(extRelationId=number)) == 1


def test_vat_method_per_country(env: Env):
    env.store.mappings.set_table("vat_method_by_country", VAT_METHODS)
    env.run("customers")
    foreign = env.world.edge["foreign_customer"]
    country = debtor(env, foreign)["CNT_CODE"].strip()
    assert country == "BE"
    assert relation_of(env, foreign)["defaultVatMethod"] == "VAT-METHOD-EXCLUSIVE"
    assert relation_of(env, env.world.edge["company_customer"])["defaultVatMethod"] == "VAT-METHOD-INCLUSIVE"


def test_price_group_from_the_customer_group_mapping(env: Env):
    env.run("customers")
    for cust in env.world.customers:
        rel = relation_of(env, cust.number)
        if cust.price_list:
            assert rel["priceGroupNumber"] == {"MKB": 2, "HOR": 3}[cust.price_list], cust.number
    assert any(c.price_list == "MKB" for c in env.world.customers)


def test_unmapped_price_list_is_a_clear_error_and_is_retried_once_mapped(env: Env):
    env.store.mappings.set_table("customer_group_price_group", {"MKB": "2"})
    result = env.run("customers")
    number = env.world.edge["company_customer"]
    assert debtor(env, number)["APX_LIST"].strip() == "HOR"
    errors = dict(result.failures)
    assert errors[number].startswith(f"price list 'HOR' of debtor {number} has no MplusKASSA price group (mapping "
                                     "table “Price lists → MplusKASSA price groups”)")  # fmt: skip
    assert references(errors[number]) == [("table", "customer_group_price_group")]
    hor = {c.number for c in env.world.customers if c.price_list == "HOR"}
    assert set(errors) == hor  # the others went on
    assert result.counts["created"] + result.counts["updated"] == len(env.world.customers) - len(hor)
    # the mapping is added: the failed debtors are retried by the next run (retry_delay_seconds = 0)
    env.store.mappings.set_table("customer_group_price_group", {"MKB": "2", "HOR": "3"})
    again = env.run("customers")
    assert not again.failures
    assert again.counts["created"] + again.counts["updated"] == len(hor)
    assert relation_of(env, number)["priceGroupNumber"] == 3


def test_changed_debtor_is_exactly_one_update(env: Env):
    env.run("customers")
    number = env.world.edge["company_customer"]
    env.change_debtor(number, TEL_BUS="0301234567")
    before = env.writes()
    env.mp.reset_counters()
    result = env.run("customers")
    assert dict(result.counts) == {"updated": 1}
    assert env.mp.calls["updateRelation"] == 1
    assert env.mp.calls["createRelation"] == 0
    assert env.writes() - before == Counter({"relation": 1})
    assert relation_of(env, number)["telephone"] == "0301234567"


def test_dry_run_and_full(env: Env):
    dry = env.run("customers", dry_run=True)
    assert env.writes() == Counter()
    assert {p.message for p in dry.planned} == {"would be created", "would be updated"}
    assert len(dry.planned) == len(env.world.customers)
    env.run("customers")
    env.mp.reset_counters()
    full = env.run("customers", full=True)
    assert full.counts["updated"] == len(env.world.customers)
    assert env.mp.calls["createRelation"] == 0


def test_transient_faults_end_in_the_right_state(sandboxes):
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    e = Env(sandboxes, client_timeout=2.0)
    try:
        e.store.mappings.set_table("vat_method_by_country", VAT_METHODS)
        e.set("customers", batch_size=7)
        e.faults(0.2, kinds=["timeout", "reset", "http500", "http503", "http429", "lost_reply"], timeout_s=0.2,
                 seed=5)  # fmt: skip
        for i in range(4):
            e.engine.run("customers")
            if i == 1:
                e.change_debtor(e.world.edge["person_customer"], TEL_BUS="0201111111")
        assert sum(e.faults_injected().values()) > 0
        e.faults(0)
        for _ in range(3):
            last = e.run("customers")
            if not last.failures:
                break
        assert not last.failures
        check_relations_match(e)
    finally:
        e.close()


def check_relations_match(env: Env) -> None:
    ext = Counter(r.get("extRelationId") for r in env.mstore.relations.values() if r.get("extRelationId"))
    assert max(ext.values()) == 1, "a debtor has two relations"
    mails = Counter((r.get("email") or "").lower() for r in env.mstore.relations.values() if r.get("email"))
    assert max(mails.values()) == 1, "an e-mail address has two relations"
    for row in env.av_rows("CONTACT"):
        rel = relation_of(env, str(row["SUB_NR"]).strip())
        assert rel["name"] == row["ACCT_NAME"].strip()
        assert (rel.get("telephone") or "") == row["TEL_BUS"].strip()


def test_a_debtors_delivery_address_becomes_the_relations(env: Env):
    env.run("customers")
    with_delivery = [c for c in env.world.customers if c.delivery]
    without = next(c for c in env.world.customers if not c.delivery)
    assert with_delivery
    for cust in with_delivery:
        rel = relation_of(env, cust.number)
        d = cust.delivery
        assert rel["deliveryAddress"] == f"{d.street} {d.house_number}".strip()
        assert (rel["deliveryZipcode"], rel["deliveryCity"], rel["deliveryCountry"]) == (d.postcode, d.city, d.country)
    assert not relation_of(env, without.number).get("deliveryAddress")


def test_company_or_person_follows_the_company_rule(env: Env):
    """A company debtor without a contact person stays a company (its VAT number says so); the rule is a setting."""
    number = env.world.edge["company_customer"]
    env.change_debtor(number, MAIN_CONT="", VAT_NR="NL123456789B01")
    person = env.world.edge["person_customer"]
    env.run("customers")
    rel = relation_of(env, number)
    assert rel["companyName"] == debtor(env, number)["ACCT_NAME"].strip()
    assert not relation_of(env, person).get("companyName")
    env.set("customers", company_rule="contact")  # only a contact person makes a company
    env.run("customers", full=True)
    assert not relation_of(env, number).get("companyName")
    env.set("customers", company_rule="company")
    env.run("customers", full=True)
    assert relation_of(env, person)["companyName"] == debtor(env, person)["ACCT_NAME"].strip()


def test_customer_group_defaults_fill_what_the_debtor_leaves_empty(env: Env):
    number = env.world.edge["person_customer"]
    env.change_debtor(number, APX_LIST="", PCT_LIST="HOR", DISC_PCT=0, DISC_CODE="")
    env.store.mappings.set_table("group_default_price_group", {"HOR": "3"})
    env.store.mappings.set_table("group_default_discount", {"HOR": "7.5"})
    env.store.mappings.set_table("group_default_payment_condition", {"HOR": "30"})
    env.run("customers")
    rel = relation_of(env, number)
    assert (rel["priceGroupNumber"], rel["discountPercentage"]) == (3, 8)  # whole percent, half up
    assert rel["paymentWithinDays"] == 30  # the days of AccountView's payment condition 30
    # The debtor's own values win over the group's; the days of a condition can be set in a mapping table.
    env.change_debtor(number, DISC_PCT=2, DISC_CODE="14")
    env.store.mappings.set_table("payment_condition_days", {"14": "10"})
    env.run("customers")
    rel = relation_of(env, number)
    assert (rel["discountPercentage"], rel["paymentWithinDays"]) == (2, 10)
    # A default that is no number waits for the mapping to be fixed, naming table and key.
    env.store.mappings.set_table("group_default_price_group", {"HOR": "drie"})
    env.change_debtor(number, DISC_PCT=1)
    result = env.run("customers")
    (line,) = [ln for ln in env.store.log.list_lines(flow="customers", run_id=result.run_id, limit=1000)
               if ln.source_id == number]  # fmt: skip
    assert line.action == "failed" and "row 'HOR': 'drie' is not a whole number" in line.error
    assert references(line.error) == [("table", "group_default_price_group")]
