"""The registry of mapping tables (apicenter_sync.mapping_tables): complete, and its checks say what is wrong."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from apicenter_sync import mapping_tables as registry

ROOT = Path(__file__).resolve().parents[1]


def table_names_read_by_the_flows() -> set[str]:
    """The names the flows look rows up in: ``tables.get(X`` / ``tables.setdefault(X`` / ``mappings.<m>(X`` with X
    a string or a module constant."""
    constants: dict[str, str] = {}
    used: set[str] = set()
    for path in (ROOT / "apicenter_sync" / "flows").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        constants.update(re.findall(r'^([A-Z_]+) = "([a-z_]+)"', text, re.M))
        call = r'(?:tables\.(?:get|setdefault)|mappings\.\w+)\(\s*'
        used |= set(re.findall(call + r'"([a-z_]+)"', text))
        used |= {constants[c] for c in re.findall(call + r"([A-Z_]+)\b", text) if c in constants}
    # order_debtors loops over (field, table) pairs: its constants are read too
    used |= {constants[c] for c in ("VAT_BY_COUNTRY", "REVENUE_CATEGORY_BY_COUNTRY")}
    return used


def test_every_table_the_flows_read_is_in_the_registry():
    read = table_names_read_by_the_flows()
    assert {"vat_code_av_mplus", "warehouse_branch", "order_status", "payment_method_account"} <= read
    assert read - {t.name for t in registry.TABLES} == set()


def test_the_sandbox_configuration_passes_its_own_checks():
    config = tomllib.loads((ROOT / "apicenter_sandbox" / "sandbox.toml").read_text(encoding="utf-8"))
    for table, rows in config["mappings"].items():
        assert registry.get_table(table) is not None, table
        for key, value in rows.items():
            assert registry.check_row(table, key, str(value)) == [], (table, key, value)


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        ("warehouse_branch", "HOOFD", "one",
         "Warehouses → MplusKASSA branches (warehouse_branch): value 'one' must be a whole number of at least 1"),
        ("warehouse_branch", "HOOFD", "0", "must be a whole number of at least 1"),
        ("vat_method_by_country", "nl", "VAT-METHOD-INCLUSIVE", "key 'nl' must be an ISO 3166 country code"),
        ("vat_method_by_country", "NL", "INCLUSIVE", "must be one of VAT-METHOD-INCLUSIVE"),
        ("vat_code_av_mplus", "123", "1", "key '123' must be at most 2 characters"),
        ("order_status", "COMPLETE", "maybe", "must be one of send, skip"),
        ("group_default_discount", "HOR", "150", "must be a number from 0 to 100"),
        ("payment_method_condition", "", "14", "key '' must not be empty"),
    ],
)
def test_a_bad_row_is_named_with_what_is_wrong(table, key, value, message):
    problems = registry.check_row(table, key, value)
    assert problems and message in problems[0]


def test_a_bad_row_is_named_in_the_reader_s_language():
    (problem,) = registry.check_row("warehouse_branch", "HOOFD", "one")
    assert problem.render("nl") == ("Magazijnen → MplusKASSA-filialen (warehouse_branch): waarde 'one' moet een geheel "
                                    "getal van minstens 1 zijn (MplusKASSA-filiaal)")  # fmt: skip
    assert problem.render("pl").startswith("Magazyny → oddziały MplusKASSA (warehouse_branch): wartość 'one' musi być")


def test_good_rows_and_unknown_tables_pass():
    assert registry.check_row("warehouse_branch", "HOOFD", "2") == []
    assert registry.check_row("shipping_articles", "999000", "") == []  # empty: the setting shipping_article
    assert registry.check_row("group_default_discount", "HOR", "7,5") == []
    assert registry.check_row("my_own_table", "anything", "goes") == []


def test_tables_for_flows_leave_out_what_the_engine_writes():
    names = {t.name for t in registry.tables_for(["products"])}
    assert "vat_code_av_mplus" in names and "generated_article_numbers" not in names
    assert "order_status" not in names
    assert all(registry.KINDS[t.key] and registry.KINDS[t.value] for t in registry.TABLES)


def test_every_table_constant_of_the_flows_is_in_the_registry():
    """Constants named like tables (``X = "name"`` in the flows) that are no table: streams, entities, settings."""
    not_tables = {"switched_off", "closing", "debtor", "removed_article", "sales_order", "booking", "group",
                  "article", "relation", "stock", "prices", "order", "receipt", "invoice", "orders",
                  "relation_article_discounts", "debtor_article_discount"}  # fmt: skip
    names = set()
    for path in (ROOT / "apicenter_sync" / "flows").glob("*.py"):
        names |= set(re.findall(r'^[A-Z_]+ = "([a-z_]+)"', path.read_text(encoding="utf-8"), re.M))
    assert names - not_tables - {t.name for t in registry.TABLES} == set()


def test_the_readme_shows_the_registry():
    assert registry.markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_tables_a_flow_needs_come_first():
    tables = registry.tables_for(["products", "stock", "orders"])
    required = [t.name for t in tables if registry.is_required(t, ["products", "stock", "orders"])]
    assert required == ["vat_code_av_mplus", "warehouse_branch", "payment_method_condition"]
    assert [t.name for t in tables[: len(required)]] == required
    assert not registry.is_required(registry.get_table("warehouse_branch"), ["products"])
