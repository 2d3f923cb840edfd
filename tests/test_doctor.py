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
from apicenter_sync.doctor import run_doctor
from apicenter_sync.engine import Engine
from apicenter_sync.mplus_wsdl import wsdl_bytes
from apicenter_sync.profile import ApiProfile, parse_profile_text

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
    entries = [k for k in profile.flat() if k.startswith("accountview.") and not k.endswith((".length", ".available"))
               and ".dictionary." not in k and k != "accountview.default_key"]  # fmt: skip
    assert set(entries) <= keys, sorted(set(entries) - keys)  # one check per profile entry
    assert {"accountview.token", "accountview.company", "mplus.credentials", "mplus.employee"} <= keys
    assert {f"mplus.operation.{op}" for op in OPERATIONS_USED} <= keys
    article_ean = next(c for c in report.checks if c.id == "accountview.article.fields.ean")
    assert article_ean.detail == "type C14"  # from the tenant's data dictionary
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


def test_the_default_profile_on_a_renamed_tenant_names_exactly_the_refuted_assumptions(variant_sb):
    """(a) Every assumed name differs on this tenant and it has no group discounts: the doctor refutes exactly
    those profile entries, and nothing it knows for sure."""
    default = ApiProfile.default()
    renamed = parse_profile_text(profile_file("renamed").read_text(encoding="utf-8"))
    expected = {k for k, v in default.flat().items() if renamed.flat()[k] != v and not k.endswith(".length")}
    expected.discard("accountview.group_discount.available")  # the default profile expects the discounts
    expected |= {k for k in default.flat() if k.startswith("accountview.group_discount.")
                 and k.rsplit(".", 1)[-1] not in ("available", "length")}  # fmt: skip
    assumed = {e.key for e in default.entries() if e.evidence == "assumed"}
    assert expected <= assumed | {k for k in expected if "group_discount" in k}

    report, _ = doctor(variant_sb)
    refuted = {c.profile_key for c in report.refuted if c.profile_key.startswith("accountview.")}
    assert refuted == expected, (sorted(refuted - expected), sorted(expected - refuted))
    assert report.exit_status() == 1
    not_checked = {c.id for c in report.checks if c.status == "unchecked"}
    assert not_checked == {"accountview.price_list.filter.change_date", "accountview.price_list_item.filter.change_date",
                           "accountview.group_discount.filter.change_date", "accountview.stock.filter.change_date",
                           "accountview.warehouses"}  # fmt: skip
    stock = next(c for c in report.checks if c.id == "accountview.stock.code")
    assert "unknown business object 'STK1'" in stock.detail and "accountview.stock.available = false" in stock.hint
    reference = next(c for c in report.checks if c.id == "accountview.sales_order.fields.reference")
    assert reference.status == "refuted" and "SO_HDR has no field COMMENT1" in reference.detail


def test_the_tenants_own_profile_is_confirmed(variant_sb):
    renamed = parse_profile_text(profile_file("renamed").read_text(encoding="utf-8"))
    report, _ = doctor(variant_sb, renamed)
    assert report.state == "confirmed", report.text()
    discounts = next(c for c in report.checks if c.id == "accountview.group_discount.available")
    assert discounts.status == "confirmed" and "has no DSC1" in discounts.detail
    # The profile saying "absent" about an object that exists is refuted, not silently accepted.
    report, _ = doctor(variant_sb, ApiProfile.from_flat({**renamed.flat(), "accountview.warehouse.available": False}))
    check = next(c for c in report.checks if c.id == "accountview.warehouse.available")
    assert check.status == "refuted" and "set accountview.warehouse.available = true" in check.hint


def test_lengths_and_types_from_the_data_dictionary(sb):
    """A field the engine writes that is shorter on the tenant, or of another type, is refuted with the fix."""
    profile = ApiProfile.from_overrides({"accountview": {"debtor": {"fields": {
        "name": {"length": 60},  # the engine would write up to 60 characters into a C40 field
        "email": "DISC_PCT",  # a numeric field where text is expected
    }}}})  # fmt: skip
    report, _ = doctor(sb, profile)
    name = next(c for c in report.checks if c.id == "accountview.debtor.fields.name")
    assert name.status == "refuted" and "holds 40 characters" in name.detail
    assert "accountview.debtor.fields.name.length = 40" in name.hint
    email = next(c for c in report.checks if c.id == "accountview.debtor.fields.email")
    assert email.status == "refuted" and "type N9" in email.detail
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
    assert refuted["mplus.operation.getTurnoverGroups"] == "the live WSDL has no operation getTurnoverGroups"
    assert "lacks request/branchNumbers" in refuted["mplus.operation.getOrders"]


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
        assert report.checks[0].status == "refuted" and "connect AccountView again" in report.checks[0].hint
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
    assert any("time (0 s) ran out" in c.detail for c in report.checks)


def test_the_command_line_doctor(sb, tmp_path, capsys):
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
    assert main(["--config", str(config), "doctor", "--only", "accountview"]) == 1
    out = capsys.readouterr().out
    assert "REFUTED      accountview business object VRD1" in out and "set accountview.stock.code" in out


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
    assert "payment_method_account" in by_id["mplus.payment_account.IDEAL"].hint
