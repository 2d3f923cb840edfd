"""The doctor against the sandboxes: what it confirms, what it refutes and why, read-only and bounded."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from flow_fixtures import Env

from apicenter_sandbox.accountview.variant import profile_file
from apicenter_sandbox.demo import sandbox_config_text
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.cli import main
from apicenter_sync.clients.mplus import OPERATIONS_USED
from apicenter_sync.doctor import Report, run_doctor
from apicenter_sync.doctor.pair import check_pair
from apicenter_sync.doctor.propose import proposed_toml
from apicenter_sync.engine import Engine
from apicenter_sync.i18n import references, render
from apicenter_sync.mplus_wsdl import wsdl_bytes
from apicenter_sync.profile import ApiProfile, parse_profile_text
from apicenter_sync.store.sqlite import SqliteStore

PAYMENTS = {"CASH": "0", "PIN": "0", "IDEAL": "0", "ACCOUNT": "14", "GIFTCARD": "0"}


@pytest.fixture(scope="module")
def sb():
    with start_sandboxes(size=60) as sandboxes:
        yield sandboxes


@pytest.fixture(scope="module")
def variant_sb():
    with start_sandboxes(size=60, variant="renamed") as sandboxes:
        yield sandboxes


def reset(sandboxes) -> None:
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()


def doctor(sandboxes, profile: ApiProfile | None = None, **settings):
    reset(sandboxes)
    env = Env(sandboxes)
    env.store.mappings.set_table("payment_method_condition", PAYMENTS)
    env.set("products", non_numeric_sku="generate")
    for name, value in settings.items():
        env.set("orders" if name == "employee_number" else "products", **{name: value})
    engine = Engine(env.store, env.av, env.mp, profile)
    try:
        return run_doctor(engine), env
    finally:
        env.close()


def api_calls(sandboxes) -> dict[str, int]:
    return {url: sum(httpx.get(f"{url}/_sandbox/stats").json()["calls"].values())
            for url in (sandboxes.accountview_url, sandboxes.mplus_url)}  # fmt: skip


def test_everything_confirmed_on_a_tenant_that_matches_the_profile(sb):
    report, _ = doctor(sb)
    assert report.state == "confirmed", report.text()
    assert report.exit_status() == 0
    keys = {c.id for c in report.checks}
    profile = ApiProfile.default()
    off = tuple(f"accountview.{name}." for name in profile.optional_off())  # absent by default: per-debtor discounts
    entries = [k for k in profile.flat() if k.startswith("accountview.") and not k.endswith((".length", ".available"))
               and ".dictionary." not in k and k != "accountview.default_key" and not k.startswith(off)]  # fmt: skip
    assert set(entries) <= keys, sorted(set(entries) - keys)  # one check per profile entry
    # A switched-off object is checked by whether the tenant has it after all; this one has none.
    assert off and all(next(c for c in report.checks if c.id == f"{o}available").status == "confirmed" for o in off)
    assert {"accountview.token", "accountview.company", "mplus.credentials", "mplus.employee"} <= keys
    assert {f"mplus.operation.{op}" for op in OPERATIONS_USED} <= keys
    article_ean = next(c for c in report.checks if c.id == "accountview.article.fields.ean")
    assert str(article_ean.detail) == "type C14"  # from the tenant's data dictionary
    assert report.proposals() == [] and report.questions() == []
    assert report.versions == {"MplusKASSA API": "67.1.3", "bundled WSDL": "67.1.3"}


def test_read_only_and_bounded(sb):
    reset(sb)
    writes_before = {u: httpx.get(f"{u}/_sandbox/stats").json()["total_writes"] for u in (sb.accountview_url,
                                                                                          sb.mplus_url)}  # fmt: skip
    assert writes_before == dict.fromkeys(writes_before, 0)
    doctor(sb)
    stats = {u: httpx.get(f"{u}/_sandbox/stats").json() for u in (sb.accountview_url, sb.mplus_url)}
    assert all(s["total_writes"] == 0 for s in stats.values()), "the doctor writes nothing"
    calls = {u: s["calls"] for u, s in stats.items()}
    assert set(calls[sb.accountview_url]) - {"POST token"} <= {
        *(f"GET {code}" for code in ("AK1", "AG1", "AR1", "ADDR", "VA1", "GL1", "DJ1", "PRL1", "PRI1", "DSC1",
                                     "WH1", "STK1", "PC1", "SM1", "SO1", "DJ2P")),
        "GET companies", "GET businessobjects", "GET systemdata", "GET authorize",
    }  # fmt: skip
    assert calls[sb.accountview_url]["POST token"] == 2  # the connection's code exchange and the refresh it checks
    assert all(op.startswith("get") for op in calls[sb.mplus_url]), calls[sb.mplus_url]
    # Bounded: a fixed number of requests whatever the tenant's size (the SKU count reads 1000 codes a page).
    assert sum(calls[sb.accountview_url].values()) < 80 and sum(calls[sb.mplus_url].values()) < 15


def refuted_keys(report) -> set[str]:
    return {c.profile_key for c in report.refuted if c.profile_key.startswith("accountview.")}


def variant_profile(name: str) -> ApiProfile:
    return parse_profile_text(profile_file(name).read_text(encoding="utf-8"))


def test_on_a_renamed_tenant_the_doctor_proposes_the_tenants_names(variant_sb):
    """Every assumed name differs on this tenant and it has no group discounts. The doctor proposes each of the
    tenant's names, found in its business-object list and data dictionary; the proposals are the profile a person
    wrote for it by hand (variants/renamed.toml), and one cause is one finding."""
    report, _ = doctor(variant_sb)
    assert report.exit_status() == 1
    assert report.questions() == []
    proposed = report.proposed_profile(ApiProfile.default())
    assert proposed.flat() == variant_profile("renamed").flat()
    # A renamed object is one finding with its code and table; its fields are checked in the tenant's table.
    stock = [c for c in report.refuted if c.id.startswith("accountview.stock.") and ".fields." not in c.id]
    assert [c.id for c in stock] == ["accountview.stock.code"]
    assert {p.key: p.value for p in stock[0].proposals} == {"accountview.stock.code": "VRD1",
                                                            "accountview.stock.table": "VOORRAAD"}
    assert "unknown business object 'STK1'" in str(stock[0].detail)
    sku = next(c for c in report.checks if c.id == "accountview.stock.fields.sku")
    assert str(sku.subject).startswith("field VOORRAAD.ART_CODE")  # checked where the tenant keeps it
    (found,) = sku.proposals
    assert (found.value, found.confidence) == ("ARTIKEL", "high")
    assert "described as “Artikelcode”" in str(found.evidence)
    # An absent object is one finding proposing available = false, naming the steps it switches off.
    discounts = [c for c in report.checks if "group_discount" in c.id]
    assert [c.id for c in discounts] == ["accountview.group_discount.available"]
    assert discounts[0].status == "refuted" and discounts[0].proposals[0].value is False
    assert "no group discounts reach the till" in str(discounts[0].detail)
    # Nothing is left unchecked: the filters ran on the names found.
    assert not [c for c in report.checks if c.status == "unchecked"], report.text()
    filters = next(c for c in report.checks if c.id == "accountview.stock.filter.change_date")
    assert filters.status == "confirmed" and "VRD1" in str(filters.subject)


def test_the_proposed_profile_is_confirmed_on_the_next_run(variant_sb):
    report, _ = doctor(variant_sb)
    again, _ = doctor(variant_sb, report.proposed_profile(ApiProfile.default()))
    assert again.state == "confirmed", again.text()
    discounts = next(c for c in again.checks if c.id == "accountview.group_discount.available")
    assert discounts.status == "confirmed" and "has no DSC1" in str(discounts.detail)
    # The profile saying "absent" about an object that exists is refuted, with the proposal to switch it on.
    renamed = variant_profile("renamed")
    report, _ = doctor(variant_sb, ApiProfile.from_flat({**renamed.flat(), "accountview.warehouse.available": False}))
    check = next(c for c in report.checks if c.id == "accountview.warehouse.available")
    assert check.status == "refuted" and [(p.key, p.value) for p in check.proposals] == [
        ("accountview.warehouse.available", True)]


@pytest.fixture(scope="module")
def reshaped_sb():
    with start_sandboxes(size=60, variant="reshaped") as sandboxes:
        yield sandboxes


def test_a_tenant_with_renamed_tables_keys_absent_objects_and_shorter_fields(reshaped_sb):
    """The second tenant: other names and descriptions, tables renamed with their fields the same, renamed keys, no
    payment conditions or shipping methods, text fields shorter than the engine writes. One finding per cause, and
    the proposals are its profile."""
    report, _ = doctor(reshaped_sb)
    proposed = report.proposed_profile(ApiProfile.default())
    assert proposed.flat() == variant_profile("reshaped").flat()
    assert report.questions() == []
    refuted = refuted_keys(report)
    # A renamed table whose fields are the same: one finding, not one per field.
    assert {k for k in refuted if k.startswith("accountview.price_list_item.")} == {"accountview.price_list_item.code"}
    prices = [c for c in report.checks if c.id.startswith("accountview.price_list_item.fields.")]
    assert len(prices) == 5 and {c.status for c in prices} == {"confirmed"}
    assert all("in ART_PRIJS" in str(c.detail) for c in prices)
    # Absent objects: one finding each, with what can fill the switched-off step instead.
    conditions = [c for c in report.checks if ".payment_condition." in c.id and not c.id.startswith(
        ("accountview.debtor", "accountview.sales_order", "accountview.booking"))]  # fmt: skip
    assert [c.id for c in conditions] == ["accountview.payment_condition.available"]
    assert ("table", "payment_condition_days") in references(conditions[0].detail)
    # Shorter fields in the same pass as the names: the length proposal beside the field.
    name = next(c for c in report.checks if c.id == "accountview.delivery_address.fields.name")
    assert name.status == "refuted" and [(p.key, p.value) for p in name.proposals] == [
        ("accountview.delivery_address.fields.name.length", 30)]
    # A renamed key, and a warehouse link that follows the renamed warehouse table.
    assert {p.key: p.value for c in report.refuted for p in c.proposals if ".record_id" in p.key} == {
        "accountview.delivery_address.fields.record_id": "ADDR_ID", "accountview.stock.fields.record_id": "STK_ID"}
    again, _ = doctor(reshaped_sb, proposed)
    assert again.state == "confirmed", again.text()


def test_an_entry_that_cannot_be_placed_is_a_question(tmp_path):
    """Two fields of the tenant fit a profile field equally well: the doctor asks instead of guessing."""
    from apicenter_sandbox.accountview.variant import Variant

    twins = Variant("twins", {}, {}, {"ARTICLE": {"SIZE_CODE": "KENMERK1", "COLOR_CODE": "KENMERK2"}},
                    lengths={"ARTICLE": {"COLOR_CODE": 10}},
                    labels={"ARTICLE": {"SIZE_CODE": "Kenmerk", "COLOR_CODE": "Kenmerk"}})  # fmt: skip
    with start_sandboxes(size=20, variant=twins) as sb:
        report, _ = doctor(sb)
    questions = {q.key: q for q in report.questions()}
    assert set(questions) == {"accountview.article.fields.size", "accountview.article.fields.colour"}
    assert set(questions["accountview.article.fields.size"].candidates[:2]) == {"KENMERK1", "KENMERK2"}
    assert "accountview.article.fields.size" not in {p.key for p in report.proposals()}
    size = next(c for c in report.checks if c.id == "accountview.article.fields.size")
    assert "choose" in str(size.hint)
    text = proposed_toml(report, ApiProfile.default())
    assert "# question: accountview.article.fields.size (now SIZE_CODE)" in text
    assert parse_profile_text(text) == ApiProfile.default()  # a question is never written as a value


def test_a_wrong_name_in_the_profile_is_found_back(sb):
    """A typo in the profile: the doctor proposes the field the tenant has, by its description."""
    profile = ApiProfile.from_overrides({"accountview": {"debtor": {"fields": {"phone": "TEL_BUSS"}},
                                                         "article": {"fields": {"ean": "EAN"}}}})  # fmt: skip
    report, _ = doctor(sb, profile)
    assert {p.key: p.value for p in report.proposals()} == {"accountview.debtor.fields.phone": "TEL_BUS",
                                                           "accountview.article.fields.ean": "EAN_CODE"}


def test_lengths_and_types_from_the_data_dictionary(sb):
    """A field the engine writes that is shorter on the tenant, or of another type, is refuted with the fix."""
    profile = ApiProfile.from_overrides({"accountview": {"debtor": {"fields": {
        "name": {"length": 60},  # the engine would write up to 60 characters into a C40 field
        "email": "DISC_PCT",  # a numeric field where text is expected
    }}}})  # fmt: skip
    report, _ = doctor(sb, profile)
    name = next(c for c in report.checks if c.id == "accountview.debtor.fields.name")
    assert name.status == "refuted" and "holds 40 characters" in str(name.detail)
    assert [(p.key, p.value, p.confidence) for p in name.proposals] == [
        ("accountview.debtor.fields.name.length", 40, "high")]
    email = next(c for c in report.checks if c.id == "accountview.debtor.fields.email")
    assert email.status == "refuted" and "type N9" in str(email.detail)
    assert [(p.key, p.value) for p in email.proposals] == [("accountview.debtor.fields.email", "MAIL_BUS")]
    assert {c.profile_key for c in report.refuted} == {"accountview.debtor.fields.name", "accountview.debtor.fields.email"}


def test_the_live_wsdl_is_compared_with_the_bundled_one(sb):
    reset(sb)
    text = wsdl_bytes().decode("utf-8-sig")
    # A server of another version: no getTurnoverGroups, and getOrders without the branch filter.
    text = re.sub(r'<operation name="getTurnoverGroups">.*?</operation>', "", text, flags=re.S)
    start = text.index('<complexType name="GetOrdersRequest">')
    end = text.index("</complexType>", start)
    block = text[start:end]
    text = text[:start] + re.sub(r'\s*<element name="branchNumbers"[^>]*/>', "", block, count=1) + text[end:]
    httpx.post(f"{sb.mplus_url}/_sandbox/wsdl", content=text.encode()).raise_for_status()
    env = Env(sb)
    env.store.mappings.set_table("payment_method_condition", PAYMENTS)
    env.set("products", non_numeric_sku="generate")
    try:
        report = run_doctor(Engine(env.store, env.av, env.mp))
    finally:
        env.close()
        reset(sb)
    refuted = {c.id: c.detail for c in report.refuted}
    assert set(refuted) == {"mplus.operation.getTurnoverGroups", "mplus.operation.getOrders"}, report.text()
    assert str(refuted["mplus.operation.getTurnoverGroups"]) == "the live WSDL has no operation getTurnoverGroups"
    assert "lacks request/branchNumbers" in str(refuted["mplus.operation.getOrders"])
    assert refuted["mplus.operation.getOrders"].render("nl").startswith("in het verzoek getOrders")


def test_what_the_till_uses_must_be_configured(sb):
    reset(sb)
    env = Env(sb)
    env.store.mappings.set_table("payment_method_condition", {"CASH": "0", "PIN": "0"})
    env.store.mappings.set_table("warehouse_branch", {"HOOFD": "1", "WINKEL": "2", "OPSLAG": "9"})
    env.store.mappings.set_table("vat_code_av_mplus", {"0": "0", "1": "1", "2": "2", "4": "4", "5": "77"})
    env.set("products", non_numeric_sku="generate")
    env.set("orders", employee_number=4242)
    profile = ApiProfile.from_overrides({"mplus": {"revenue_lookup": "turnover_group", "vat_lookup": "code"}})
    env.store.mappings.set_table("turnover_group_revenue_account", {"100": "8000", "101": "8010", "102": "8020"})
    env.store.mappings.set_table("vat_code_mplus_av", {"0": "0", "1": "1", "2": "2", "4": "4"})
    try:
        report = run_doctor(Engine(env.store, env.av, env.mp, profile))
    finally:
        env.close()
    refuted = {c.id for c in report.refuted}
    assert refuted == {
        "mplus.payment_method.IDEAL", "mplus.payment_method.ACCOUNT",  # not mapped to a condition or journal
        "mplus.payment_method.GIFTCARD",
        "mplus.branch.9", "accountview.warehouse.OPSLAG",  # a warehouse AccountView lacks, on a branch the till lacks
        "mplus.vat_mapping.5",  # maps to an MplusKASSA VAT code that does not exist
        "mplus.vat.5",  # a till VAT code without an AccountView VAT code (vat_lookup = code)
        "mplus.employee",  # the employee of sales without one
        "mplus.turnover_group.104", "mplus.turnover_group.105",  # revenue_lookup = turnover_group, unmapped
    }, report.text()
    by_id = {c.id: c for c in report.checks}
    assert by_id["mplus.employee"].profile_key == "employee_number"
    assert by_id["mplus.turnover_group.104"].profile_key == "turnover_group_revenue_account"
    assert "mplus.turnover_group.900" not in by_id  # a payment group books no revenue


def test_no_access_and_no_time_are_said_as_such(sb):
    reset(sb)
    env = Env(sb)
    try:
        tokens = env.av.token_store.get()
        env.av.token_store.save(tokens.__class__(**{**tokens.__dict__, "refresh_token": "revoked"}))
        report = run_doctor(Engine(env.store, env.av, env.mp), systems=("accountview",))
        assert [c.id for c in report.checks] == ["accountview.token", "accountview.rest"]
        assert report.checks[0].status == "refuted" and "connect AccountView again" in str(report.checks[0].hint)
        assert report.exit_status() == 1
    finally:
        env.close()
    reset(sb)
    env = Env(sb)
    try:
        report = run_doctor(Engine(env.store, env.av, env.mp), seconds=0)
    finally:
        env.close()
    assert report.state == "unchecked" and report.exit_status() == 3
    assert any("time (0 s) ran out" in str(c.detail) for c in report.checks)


def test_the_command_line_doctor(sb, tmp_path, capsys, monkeypatch):
    reset(sb)
    config = tmp_path / "apicenter.toml"
    config.write_text(sandbox_config_text(sb).replace('non_numeric_sku = "reject"', 'non_numeric_sku = "generate"'),
                      encoding="utf-8")  # fmt: skip
    assert main(["--config", str(config), "doctor"]) == 1  # not connected yet: the token check is refuted
    out = capsys.readouterr().out
    assert "REFUTED      accountview refreshing the access token" in out
    assert main(["--config", str(config), "connect", "accountview"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "doctor"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\d+ confirmed, 0 refuted, 0 not checked", out) and "CONFIRMED" not in out
    assert main(["--config", str(config), "doctor", "--json", "--only", "mplus"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "confirmed", data
    assert {c["system"] for c in data["checks"]} == {"mplus", "accountview"}  # AccountView's warehouses of the mapping
    assert {c["id"] for c in data["checks"] if c["system"] == "accountview"} == {"accountview.warehouse.HOOFD",
                                                                                 "accountview.warehouse.WINKEL"}
    config.write_text(config.read_text() + '\n[profile.accountview.stock]\ncode = "VRD1"\n', encoding="utf-8")
    proposed = tmp_path / "proposed.toml"
    assert main(["--config", str(config), "doctor", "--only", "accountview", "--propose", str(proposed)]) == 1
    out = capsys.readouterr().out
    assert "REFUTED      accountview Stock per warehouse: business object VRD1, table ART_STOCK" in out
    assert "proposed: accountview.stock.code = STK1 (high confidence: business object STK1" in out
    assert f"{proposed}: the proposed [profile] (1 proposals, 0 questions)" in out
    text = proposed.read_text(encoding="utf-8")
    assert "# proposed (high confidence): business object STK1" in text
    assert parse_profile_text(text) == ApiProfile.default()  # STK1 is the default: the proposal undoes the change
    monkeypatch.setenv("APICENTER_LANG", "nl")
    assert main(["--config", str(config), "doctor", "--only", "accountview"]) == 1
    out = capsys.readouterr().out
    assert "WEERLEGD     accountview Voorraad per magazijn: bedrijfsobject VRD1, tabel ART_STOCK" in out
    assert "voorstel: accountview.stock.code = STK1 (grote zekerheid" in out


def test_the_list_of_operations_the_doctor_checks_is_complete():
    """Every WSDL operation the client names is in OPERATIONS_USED, so the doctor checks each on a live server."""
    from pathlib import Path

    from apicenter_sync.doctor.wsdl_compare import WsdlShape

    operations = set(WsdlShape(wsdl_bytes()).operations)
    source = (Path(__file__).parents[1] / "apicenter_sync" / "clients" / "mplus.py").read_text(encoding="utf-8")
    named = {m for m in re.findall(r'"([a-z][A-Za-z0-9]+)"', source) if m in operations}
    assert named and named <= set(OPERATIONS_USED), sorted(named - set(OPERATIONS_USED))
    assert set(OPERATIONS_USED) <= operations


def test_booking_per_till_closing_needs_an_account_per_payment_method(sb):
    reset(sb)
    env = Env(sb)
    env.store.mappings.set_table("payment_method_condition", PAYMENTS)
    env.set("orders", source_document_type="order, receipt", receipt_booking="per_closing")
    env.store.mappings.set_table("payment_method_account", {"CASH": "1000", "PIN": "1100"})
    try:
        report = run_doctor(Engine(env.store, env.av, env.mp))
    finally:
        env.close()
    by_id = {c.id: c for c in report.checks}
    assert by_id["mplus.payment_account.CASH"].status == "confirmed"
    refuted = {c.id for c in report.refuted if c.id.startswith("mplus.payment_account.")}
    assert refuted == {"mplus.payment_account.IDEAL", "mplus.payment_account.ACCOUNT", "mplus.payment_account.GIFTCARD"}
    assert references(by_id["mplus.payment_account.IDEAL"].hint) == [("table", "payment_method_account")]


def test_a_report_keeps_its_messages_and_proposals(variant_sb):
    """Stored as data (Odoo keeps it so), a report reads back in any language with its proposals."""
    report, _ = doctor(variant_sb)
    data = json.loads(json.dumps(report.to_dict()))
    back = Report.from_dict(data)
    assert back.text("nl") == report.text("nl") and back.text("pl") == report.text("pl")
    assert [p.to_dict() for p in back.proposals()] == [p.to_dict() for p in report.proposals()]
    stock = next(c for c in data["checks"] if c["id"] == "accountview.stock.code")
    assert stock["subject"].startswith("Stock per warehouse: business object STK1")  # the English text, searchable
    assert stock["subject_data"]["key"] == "doctor.av.object_renamed"
    assert "⟦" in back.text("xx") and not [ln for ln in back.text("xx").splitlines()[1:] if "⟦" not in ln]


def test_descriptions_are_compared_word_by_word():
    """Compounds, abbreviations and case do not hide a match; another meaning does not come near."""
    from apicenter_sync.doctor.finder import label_similarity

    assert label_similarity("BTW-code", "btw code") == 1.0
    assert label_similarity("Verkoopprijs incl. BTW", "Prijs inclusief BTW") > 0.6
    assert label_similarity("Voorraadartikel", "Voorraad bijhouden") > 0.4 > label_similarity("Voorraadartikel",
                                                                                             "Geblokkeerd")  # fmt: skip
    assert label_similarity("Land van herkomst", "Herkomstland") > label_similarity("Land van herkomst", "ISO-landcode")
    assert label_similarity("", "Maat") == 0.0


def test_a_pair_served_by_another_backend_of_the_store_is_refuted(sb, tmp_path):
    """One AccountView company and MplusKASSA administration, one backend: the doctor refutes a second one on the
    same pair in the command line's store (two backends of one SQLite file), naming it."""
    reset(sb)
    env = Env(sb)
    path = str(tmp_path / "two.sqlite3")
    first, second = SqliteStore(path, backend="shop"), SqliteStore(path, backend="shop-copy")
    try:
        alone = Report()
        check_pair(Engine(first, env.av, env.mp), alone)
        assert [(c.id, c.status) for c in alone.checks] == [("mplus.one_backend_per_pair", "confirmed")]
        report = run_doctor(Engine(second, env.av, env.mp))
        (pair,) = [c for c in report.checks if c.id == "mplus.one_backend_per_pair"]
        assert pair.status == "refuted"
        assert "also served by shop:" in render(pair.detail, "en")
        assert "ook bediend door shop" in render(pair.detail, "nl")
        again = Report()
        check_pair(Engine(first, env.av, env.mp), again)
        assert again.checks[0].status == "refuted" and "shop-copy" in render(again.checks[0].detail, "en")
        # Another administration on the same file is not the same pair.
        env.mp.url = env.mp.url.rstrip("/") + "/other"
        other = Report()
        check_pair(Engine(SqliteStore(path, backend="elsewhere"), env.av, env.mp), other)
        assert other.checks[0].status == "confirmed"
    finally:
        first.close()
        second.close()
        env.close()


def test_a_vat_row_between_different_rates_is_refuted(sb):
    """AccountView's 0 % code mapped onto the till's 21 % code exists on both sides, and books the wrong VAT."""
    reset(sb)
    env = Env(sb)
    env.store.mappings.set_table("vat_code_av_mplus", {"0": "2", "1": "1", "2": "2", "4": "4", "5": "5"})
    env.store.mappings.set_table("vat_code_mplus_av", {"0": "0", "1": "1", "2": "0", "4": "4", "5": "5"})
    env.set("products", non_numeric_sku="generate")
    profile = ApiProfile.from_overrides({"mplus": {"vat_lookup": "code"}})
    try:
        report = run_doctor(Engine(env.store, env.av, env.mp, profile))
    finally:
        env.close()
    by_id = {c.id: c for c in report.checks}
    for check_id in ("mplus.vat_mapping.0", "mplus.vat.2"):
        assert by_id[check_id].status == "refuted", report.text()
    assert render(by_id["mplus.vat_mapping.0"].detail, "en") == (
        "AccountView VAT code 0 is 0 %, the till's VAT code 2 is 21 %: the row books the wrong VAT")
    assert "btw-code 2 van de kassa is 21 %" in render(by_id["mplus.vat_mapping.0"].detail, "nl")
    assert by_id["mplus.vat.2"].profile_key == "vat_code_mplus_av"
    assert by_id["mplus.vat_mapping.1"].status == by_id["mplus.vat.1"].status == "confirmed"
