"""The datamapper: transforms, definition checks, defaults, and mapping real-shaped records."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from importlib import resources

import pytest

from apicenter_sync.datamapper import (
    DEFAULT_FLOWS,
    TRANSFORMS,
    FlowMapping,
    MappingDefinitionError,
    MappingError,
    compile_mapping,
    load_default_mapping,
)
from apicenter_sync.datamapper.addresses import split_street
from apicenter_sync.datamapper.paths import PathError, SourcePath
from apicenter_sync.datamapper.targets import TargetError, resolve_target
from apicenter_sync.flows.customers import is_company
from apicenter_sync.i18n import PSEUDO, Msg
from apicenter_sync.models import Article, Customer, Order
from apicenter_sync.profile import ApiProfile


def run(transforms, value, *, source=None, tables=None, flow_source="X"):
    """Map ``{X: value, **source}`` through one line ``X -> extra.out`` and return the result."""
    mapper = compile_mapping(
        {"flow": "products", "lines": [{"source": flow_source, "target": "extra.out", "transforms": transforms}]}
    )
    record = {"X": value, **(source or {})}
    return mapper.apply(record, tables).get("extra", {}).get("out")


def run_error(transforms, value, **kw) -> str:
    with pytest.raises(MappingError) as exc:
        run(transforms, value, **kw)
    return str(exc.value)


def definition_errors(lines, flow="products", **kw) -> list[str]:
    with pytest.raises(MappingDefinitionError) as exc:
        compile_mapping({"flow": flow, "lines": lines}, **kw)
    return exc.value.errors


def T(name, **params):
    return {"name": name, "params": params}


# ---------------------------------------------------------------------------- text transforms


def test_strip_upper_lower_title():
    assert run(["strip"], "  ART-1   ") == "ART-1"
    assert run([T("strip", chars="-")], "--x--") == "x"
    assert run(["strip", "upper"], " nl ") == "NL"
    assert run(["lower"], "Jan@Example.NL") == "jan@example.nl"
    assert run(["title"], "jan de vries") == "Jan De Vries"
    assert run(["strip"], None) is None  # an empty field stays empty
    assert run(["upper"], 12) == "12"  # numbers are text to text transforms


def test_text_transform_rejects_objects():
    assert run_error(["strip"], {"a": 1}) == "line 1 (X -> extra.out): strip: {'a': 1} is not a text"
    assert run_error(["upper"], True) == "line 1 (X -> extra.out): upper: True is not a text"


def test_truncate():
    assert run([T("truncate", length=5)], "Koffiebonen") == "Koffi"
    assert run([T("truncate", length=40)], "kort") == "kort"
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("truncate", length=0)]}]) == [
        "line 1 (X -> name): transform 1: truncate: parameter 'length' must be at least 1, got 0"
    ]
    assert definition_errors([{"source": "X", "target": "name", "transforms": ["truncate"]}]) == [
        "line 1 (X -> name): transform 1: truncate: missing parameter 'length'"
    ]
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("truncate", length="5")]}]) == [
        "line 1 (X -> name): transform 1: truncate: parameter 'length' must be a whole number, got '5'"
    ]


def test_digits_only():
    assert run(["digits_only"], "+31 (0)6-1234 5678") == "310612345678"
    assert run(["digits_only"], "8 712345 678906") == "8712345678906"


def test_replace_prefix_suffix():
    assert run([T("replace", old=" ", new="")], "NL 1234 B01") == "NL1234B01"
    assert run([T("replace", old="-")], "a-b-c") == "abc"
    assert run([T("prefix", value="POS-")], 12) == "POS-12"
    assert run([T("suffix", value=" B.V.")], "Bakkerij") == "Bakkerij B.V."
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("replace", old="")]}]) == [
        "line 1 (X -> name): transform 1: replace: parameter 'old' must not be empty"
    ]


def test_split():
    assert run([T("split", separator=",", index=0)], "a, b, c") == "a"
    assert run([T("split", separator=",", index=-1)], "a, b, c") == "c"
    assert run([T("split", separator=",", index=5)], "a, b") is None
    assert run([T("split", separator=";")], "871;; 872 ") == ["871", "872"]
    assert run([T("split", separator=";", strip=False)], "a; b") == ["a", " b"]


def test_str():
    assert run(["str"], 100001) == "100001"
    assert run(["str"], Decimal("12.50")) == "12.50"
    assert run(["str"], True) == "true"
    assert run_error(["str"], [1]) == "line 1 (X -> extra.out): str: [1] cannot be turned into text"


# ---------------------------------------------------------------------------- Dutch addresses

STREETS = [
    ("Kerkstraat 12-A", ("Kerkstraat", "12", "A")),
    ("Kerkstraat 12a", ("Kerkstraat", "12", "a")),
    ("Kerkstraat 12 A", ("Kerkstraat", "12", "A")),
    ("Kerkstraat 12", ("Kerkstraat", "12", None)),
    ("Laan van Meerdervoort 1021 bis", ("Laan van Meerdervoort", "1021", "bis")),
    ("Plein 1940-1945 12", ("Plein 1940-1945", "12", None)),
    ("2e Helmersstraat 15", ("2e Helmersstraat", "15", None)),
    ("2e Helmersstraat", ("2e Helmersstraat", None, None)),
    ("Kerkstraat", ("Kerkstraat", None, None)),
    ("Kerkstraat12", ("Kerkstraat", "12", None)),
    ("Oudegracht 100 C", ("Oudegracht", "100", "C")),
    ("Kerkstraat 12-1", ("Kerkstraat", "12", "1")),
    ("Kerkstraat 12/2", ("Kerkstraat", "12", "2")),
    ("Prinsengracht 263-267", ("Prinsengracht", "263", "267")),
    ("Hoofdstraat 1 hs", ("Hoofdstraat", "1", "hs")),
    ("Van Baerlestraat 92 III", ("Van Baerlestraat", "92", "III")),
    ("Nieuwe Binnenweg 176 B02", ("Nieuwe Binnenweg", "176", "B02")),
    ("Straat 4 - 2 hoog", ("Straat", "4", "2 hoog")),
    ("Kerkstraat 12 bus 3", ("Kerkstraat", "12", "bus 3")),
    ("Rue de la Loi 16 bte 5", ("Rue de la Loi", "16", "bte 5")),
    ("Dorpsstraat 5 app 2", ("Dorpsstraat", "5", "app 2")),
    ("Postbus 123", ("Postbus", "123", None)),
    ("  Kerkstraat ,  12  ", ("Kerkstraat", "12", None)),
    ("221B Baker Street", ("Baker Street", "221", "B")),
    ("Schoolstraat 7 A", ("Schoolstraat", "7", "A")),
    ("Crème-brûléestraat 3", ("Crème-brûléestraat", "3", None)),
]


@pytest.mark.parametrize(("line", "parts"), STREETS)
def test_split_street_table(line, parts):
    assert split_street(line) == parts


def test_split_street_transform_parts():
    assert run([T("split_street", part="street")], "Kerkstraat 12-A") == "Kerkstraat"
    assert run([T("split_street", part="house_number")], "Kerkstraat 12-A") == "12"
    assert run([T("split_street", part="addition")], "Kerkstraat 12-A") == "A"
    assert run([T("split_street", part="addition")], "Kerkstraat 12") is None
    assert run([T("split_street", part="street")], None) is None
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("split_street", part="nr")]}]) == [
        "line 1 (X -> name): transform 1: split_street: parameter 'part' must be one of street, house_number, "
        "addition, got 'nr'"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234ab", "1234 AB"),
        ("1234 ab", "1234 AB"),
        (" 1234AB ", "1234 AB"),
        ("1234  AB", "1234 AB"),
        ("2000", "2000"),  # Belgium: left alone
        ("50667", "50667"),  # Germany
        ("SW1A 1AA", "SW1A 1AA"),  # UK
        ("", None),  # an empty value is left out of the result
        (None, None),
    ],
)
def test_nl_postcode(value, expected):
    assert run(["nl_postcode"], value) == expected


def test_nl_postcode_strict_and_country():
    strict = [T("nl_postcode", strict=True)]
    assert run(strict, "3542ad") == "3542 AD"
    assert run_error(strict, "12345") == (
        "line 1 (X -> extra.out): nl_postcode: '12345' is not a valid Dutch postcode (expected 1234 AB)"
    )
    assert run_error(strict, "0123 AB") == (
        "line 1 (X -> extra.out): nl_postcode: '0123 AB' is not a valid Dutch postcode (expected 1234 AB)"
    )
    assert run_error(strict, "1234 SS") == (
        "line 1 (X -> extra.out): nl_postcode: '1234 SS' is not a valid Dutch postcode (expected 1234 AB)"
    )
    by_country = [T("nl_postcode", strict=True, country_field="CNT")]
    assert run(by_country, "59000", source={"CNT": "FR"}) == "59000"  # foreign: strict does not apply
    assert run(by_country, "1234ab", source={"CNT": "nl"}) == "1234 AB"
    assert run(by_country, "1234ab", source={"CNT": ""}) == "1234 AB"  # no country: the administration's own
    assert "is not a valid Dutch postcode" in run_error(by_country, "59000", source={"CNT": "NL"})


# ---------------------------------------------------------------------------- numbers and money


def test_cents_transforms():
    assert run(["to_cents"], 9.95) == 995
    assert run(["to_cents"], "12.345") == 1235
    assert run(["from_cents"], 995) == Decimal("9.95")
    assert run(["from_cents"], -250) == Decimal("-2.50")
    assert run(["from_cents"], None) is None
    assert run_error(["to_cents"], "abc") == "line 1 (X -> extra.out): to_cents: amount 'abc' is not a number"
    assert run_error(["from_cents"], "9.95") == "line 1 (X -> extra.out): from_cents: cents '9.95' is not an integer"


def test_to_decimal():
    assert run(["to_decimal"], 12.5) == Decimal("12.5")
    assert run([T("to_decimal", places=2)], "19.995") == Decimal("20.00")
    assert run([T("to_decimal", places=2)], 7) == Decimal("7.00")
    assert run([T("to_decimal", decimal_comma=True)], "1.234,5") == Decimal("1234.5")
    assert run(["to_decimal"], "  ") is None
    assert run_error(["to_decimal"], "12,5") == "line 1 (X -> extra.out): to_decimal: value '12,5' is not a number"
    assert run_error(["to_decimal"], "1e13") == (
        "line 1 (X -> extra.out): to_decimal: value '1e13' is out of range (absolute value must be below "
        "1,000,000,000,000)"
    )


def test_from_quantity_transform():
    mapping = [T("from_quantity", places_field="P")]
    assert run(mapping, 125, source={"P": 1}) == Decimal("12.5")
    assert run(mapping, 3) == Decimal(3)  # decimalPlaces missing: 0
    assert run([T("from_quantity", places=3)], 530) == Decimal("0.530")
    assert run_error(mapping, 1, source={"P": -2}) == (
        "line 1 (X -> extra.out): from_quantity: decimalPlaces -2 is out of range (0..18)"
    )
    assert definition_errors(
        [{"source": "X", "target": "name", "transforms": [T("from_quantity", places=1, places_field="P")]}]
    ) == ["line 1 (X -> name): transform 1: from_quantity: give either 'places_field' or 'places', not both"]


def test_int_and_bool():
    assert run(["int"], "12") == 12
    assert run(["int"], 3.0) == 3
    assert run(["int"], Decimal("4.00")) == 4
    assert run_error(["int"], "12.5") == "line 1 (X -> extra.out): int: '12.5' is not a whole number"
    assert run_error(["int"], True) == "line 1 (X -> extra.out): int: value True is not a number"
    for yes in (True, 1, "1", "J", "ja", "Yes", "true", "X"):
        assert run(["bool"], yes) is True, yes
    for no in (False, 0, "0", "N", "nee", "no", "FALSE"):
        assert run(["bool"], no) is False, no
    assert run(["bool"], "") is None
    assert run_error(["bool"], "misschien") == "line 1 (X -> extra.out): bool: 'misschien' is not a yes/no value"
    assert run_error(["bool"], 2) == "line 1 (X -> extra.out): bool: 2 is not a yes/no value"
    assert run([T("bool", true_values=["actief"], false_values=["inactief"])], "Actief") is True


# ---------------------------------------------------------------------------- gaps and lookups


def test_default_choose_null_if():
    assert run([T("default", value="EUR")], None) == "EUR"
    assert run([T("default", value="EUR")], "  ") == "EUR"
    assert run([T("default", value="EUR")], "USD") == "USD"
    assert run([T("choose", if_present="company", if_empty="person")], "Jan") == "company"
    assert run([T("choose", if_present="company", if_empty="person")], "") == "person"
    assert run([T("null_if", values=[0, "-"]), "str"], 0) is None
    assert run([T("null_if", values=[0, "-"])], "-") is None
    assert run([T("null_if", values=[0]), "str"], 17) == "17"


TABLES = {"vat_by_country": {"NL": "2", "BE": "4"}, "payment": {"PIN": "0", "ACCOUNT": "14"}}


def test_map_table():
    assert run([T("map_table", table="vat_by_country")], "NL", tables=TABLES) == "2"
    # Missing key: required (the default) -> error naming the value and the table.
    assert run_error([T("map_table", table="vat_by_country")], "DE", tables=TABLES) == (
        "line 1 (X -> extra.out): map_table: 'DE' is not in mapping table “vat_by_country”"
    )
    # ... a default wins over required ...
    assert run([T("map_table", table="vat_by_country", default="5")], "US", tables=TABLES) == "5"
    # ... not required: empty ...
    assert run([T("map_table", table="vat_by_country", required=False)], "DE", tables=TABLES) is None
    # ... passthrough: the value itself.
    assert run([T("map_table", table="vat_by_country", passthrough=True)], "DE", tables=TABLES) == "DE"
    assert run([T("map_table", table="vat_by_country", ignore_case=True)], "be", tables=TABLES) == "4"
    assert run([T("map_table", table="vat_by_country")], None, tables=TABLES) is None
    assert run_error([T("map_table", table="nope")], "NL", tables=TABLES) == (
        "line 1 (X -> extra.out): map_table: mapping table “nope” does not exist"
    )


def test_map_table_inline_and_keys():
    inline = [T("map_table", values={"VAT-METHOD-INCLUSIVE": True, "VAT-METHOD-EXCLUSIVE": False})]
    assert run(inline, "VAT-METHOD-EXCLUSIVE") is False
    assert run_error(inline, "VAT-METHOD-NONE") == (
        "line 1 (X -> extra.out): map_table: 'VAT-METHOD-NONE' is not in the inline table"
    )
    assert run([T("map_table", values={"2": "hoog"})], 2) == "hoog"  # numbers are looked up as text
    assert run([T("map_table", values={"true": "J"})], True) == "J"


def test_map_table_definition_checks():
    line = {"source": "X", "target": "vat_code"}
    assert definition_errors([{**line, "transforms": ["map_table"]}]) == [
        "line 1 (X -> vat_code): transform 1: map_table: give exactly one of 'table' or 'values'"
    ]
    assert definition_errors(
        [{**line, "transforms": [T("map_table", table="vat")]}], known_tables=["vat_by_country"]
    ) == ["line 1 (X -> vat_code): transform 1: map_table: unknown mapping table 'vat'"]
    compile_mapping(
        {"flow": "products", "lines": [{**line, "transforms": [T("map_table", table="vat_by_country")]}]},
        known_tables=["vat_by_country"],
    )


def test_concat_and_first_non_empty():
    source = {"FIRST": "Jan", "LAST": " de Vries ", "EMPTY": "  "}
    assert run([T("concat", fields=["LAST"])], "Jan", source=source) == "Jan de Vries"
    assert run([T("concat", fields=["EMPTY", "LAST"], separator=", ")], "Jan", source=source) == "Jan, de Vries"
    assert run([T("concat", fields=["FIRST", "LAST"])], None, source=source) == "Jan de Vries"
    assert run([T("concat", fields=["EMPTY"])], None, source=source) is None
    assert run([T("concat", fields=["NESTED.a"], separator="-")], 2026, source={"NESTED": {"a": 7}}) == "2026-7"
    assert run([T("first_non_empty", fields=["EMPTY", "FIRST"])], "", source=source) == "Jan"
    assert run([T("first_non_empty", fields=["EMPTY"])], "own", source=source) == "own"
    assert run([T("first_non_empty", fields=["EMPTY"])], None, source=source) is None
    # A line without a source builds its value from other fields only.
    mapper = compile_mapping(
        {"flow": "customers", "lines": [{"target": "name", "transforms": [T("concat", fields=["FIRST", "LAST"])]}]}
    )
    assert mapper.apply(source) == {"name": "Jan de Vries"}
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("concat", fields=[])]}]) == [
        "line 1 (X -> name): transform 1: concat: parameter 'fields' must be a non-empty list of source field "
        "paths, got []"
    ]
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("concat", fields=["a b"])]}]) == [
        "line 1 (X -> name): transform 1: concat: invalid source path 'a b' (expected dotted names like "
        "'invoiceAddress.city')"
    ]


# ---------------------------------------------------------------------------- dates


def test_date_format():
    av = [T("date_format", input="accountview", output="date")]
    assert run(av, "2026-01-05T08:00:00") == date(2026, 1, 5)
    assert run(av, "") is None
    assert run([T("date_format", input="accountview", output="foxpro")], "2026-01-05T08:30:00") == (
        "{^2026-01-05 08:30:00}"
    )
    assert run([T("date_format", output="foxpro")], "2026-01-05") == "{^2026-01-05}"
    assert run([T("date_format", input="foxpro", output="accountview")], "{^2026-01-05}") == "2026-01-05T00:00:00"
    assert run([T("date_format", input="foxpro", output="iso")], "{^2026-01-05 08:00:00}") == "2026-01-05T08:00:00"
    mplus = {"sec": 5, "min": 4, "hour": 3, "day": 2, "mon": 1, "year": 2026, "isdst": False, "timezone": 60}
    assert run([T("date_format", input="mplus", output="datetime")], mplus) == datetime(2026, 1, 2, 3, 4, 5)
    assert run([T("date_format", output="date")], {"day": 31, "mon": 12, "year": 2025}) == date(2025, 12, 31)
    assert run([T("date_format", input="mplus")], {"day": 0, "mon": 0, "year": 0}) is None  # unset Mplus date
    assert run([T("date_format", output="mplus")], "2026-03-04") == {"day": 4, "mon": 3, "year": 2026}
    assert run([T("date_format", input="%d-%m-%Y", output="%Y%m%d")], "31-12-2025") == "20251231"
    assert run([T("date_format", output="mplus_datetime")], datetime(2026, 1, 2, 3, 4, 5))["hour"] == 3


def test_date_format_errors():
    assert run_error([T("date_format", input="accountview")], "05-01-2026") == (
        "line 1 (X -> extra.out): date_format: '05-01-2026' is not an ISO date like 2026-01-31T08:00:00"
    )
    assert run_error([T("date_format", input="foxpro")], "{^2026-13-01}") == (
        "line 1 (X -> extra.out): date_format: '{^2026-13-01}' is not a valid date: month must be in 1..12"
    )
    assert run_error([T("date_format", input="%d-%m-%Y")], "2026-01-05") == (
        "line 1 (X -> extra.out): date_format: '2026-01-05' does not match the date format '%d-%m-%Y'"
    )
    assert definition_errors([{"source": "X", "target": "name", "transforms": [T("date_format", output="us")]}]) == [
        "line 1 (X -> name): transform 1: date_format: parameter 'output' must be one of date, datetime, iso, "
        "accountview, foxpro, mplus, mplus_datetime or a %-pattern, got 'us'"
    ]


def test_every_registered_transform_is_tested():
    tested = {
        "strip", "upper", "lower", "title", "truncate", "digits_only", "replace", "prefix", "suffix", "split", "str",
        "split_street", "nl_postcode", "to_cents", "from_cents", "to_decimal", "from_quantity", "int", "bool",
        "default", "choose", "null_if", "map_table", "concat", "first_non_empty", "date_format",
    }  # fmt: skip
    assert set(TRANSFORMS) == tested
    assert all(spec.doc for spec in TRANSFORMS.values())


# ---------------------------------------------------------------------------- no eval, ever


@pytest.mark.parametrize("name", ["__import__", "eval", "exec", "os.system", "__class__", "Strip", "compile"])
def test_transform_names_outside_the_registry_are_rejected(name):
    errors = definition_errors([{"source": "X", "target": "name", "transforms": [name]}])
    assert len(errors) == 1
    assert errors[0] in (
        f"line 1 (X -> name): transform 1: invalid transform name {name!r}",
        f"line 1 (X -> name): transform 1: unknown transform {name!r}",
    )


def test_params_are_data_not_code():
    # A "parameter" that looks like code is just text.
    assert run([T("prefix", value="__import__('os').system('true')")], "x") == "__import__('os').system('true')x"
    assert definition_errors([{"source": "obj.__class__", "target": "name"}]) == [
        "line 1 (obj.__class__ -> name): invalid source path 'obj.__class__': names starting with '__' are not readable"
    ]

    class Sneaky:
        secret = "s"

    mapper = compile_mapping({"flow": "products", "lines": [{"source": "obj.secret", "target": "extra.out"}]})
    assert mapper.apply({"obj": Sneaky()}) == {"extra": {"out": "s"}}  # zeep objects: public attributes work


# ---------------------------------------------------------------------------- definition checks


def test_definition_errors_are_collected_and_name_the_line():
    lines = [
        {"source": "ART_CODE", "target": "sku", "transforms": ["strip"]},
        {"source": "ART_DESC1", "target": "nmae"},
        {"source": "bad path!", "target": "name"},
        {"source": "PX_SELL", "target": "price_excl", "transforms": ["to_cents", T("truncate", length=3, x=1)]},
        {"source": "ART_CODE", "target": "sku"},
        {"source": "X", "target": "billing_address.city"},
        {"source": "X", "target": "features"},
        {"source": "X", "target": "attributes.size.x[]"},
        {"target": "name", "transforms": [{"name": "strip", "params": "oops"}]},
        {"source": "X", "target": "name", "colour": "red"},
    ]
    errors = definition_errors(lines)
    assert errors == [
        "line 9 (- -> name): transforms.0.params: Input should be a valid dictionary",
        "line 10 (X -> name): colour: not a part of a mapping line",
        "line 2 (ART_DESC1 -> nmae): unknown canonical field 'nmae' for Article",
        "line 3 (bad path! -> name): invalid source path 'bad path!' (expected dotted names like "
        "'invoiceAddress.city')",
        "line 4 (PX_SELL -> price_excl): transform 2: truncate: unknown parameter 'x' (allowed: length)",
        "line 5 (ART_CODE -> sku): target 'sku' is already written by line 1 (ART_CODE -> sku)",
        "line 6 (X -> billing_address.city): unknown canonical field 'billing_address' for Article",
        "line 7 (X -> features): 'features' is a dictionary; name a key, e.g. 'features.<key>'",
        "line 8 (X -> attributes.size.x[]): '[]' is not allowed below the dictionary 'attributes'",
    ]
    with pytest.raises(MappingDefinitionError) as exc:
        compile_mapping({"flow": "products", "lines": lines})
    assert str(exc.value).startswith("invalid mapping for flow 'products':\n  - line 9 (- -> name): transforms.0")
    assert str(exc.value).count("\n  - ") == len(errors)
    # every problem is a message: the reader's language, and nothing outside the catalogue (xx marks it all)
    for problem in exc.value.errors:
        assert isinstance(problem, Msg) and problem.render("nl") != str(problem), problem
    shown = exc.value.args[0].render(PSEUDO)
    assert shown.startswith("⟦") and shown.endswith("⟧") and shown.count("⟦") > len(exc.value.errors), shown


def test_each_kind_of_mapping_error_reads_in_dutch():
    """A source path, a target path, a transform's parameters, a missing default mapping and a value the canonical
    model refuses: each error says it in the reader's language."""
    with pytest.raises(PathError) as path:
        SourcePath("a[].b[].c")
    assert path.value.args[0].render("nl") == "ongeldig bronpad 'a[].b[].c': er kan maar één lijstniveau '[]' zijn"
    with pytest.raises(TargetError) as target:
        resolve_target(Article, "features")
    assert target.value.args[0].render("nl") == (
        "'features' is een woordenboek (sleutels en waarden); noem een sleutel, bijvoorbeeld 'features.<key>'"
    )
    (problem,) = definition_errors([{"source": "X", "target": "name", "transforms": [T("truncate")]}])
    assert problem.render("nl") == "regel 1 (X -> name): transformatie 1: truncate: parameter 'length' ontbreekt"
    assert problem.render("pl") == "wiersz 1 (X -> name): transformacja 1: truncate: brak parametru 'length'"
    (problem,) = definition_errors([{"source": "X", "target": "name", "transforms": [T("truncate", length="3")]}])
    assert problem.render("nl").endswith("parameter 'length' moet een geheel getal zijn, maar is '3'")
    with pytest.raises(KeyError) as missing:
        load_default_mapping("vouchers")
    assert missing.value.args[0].render("nl").startswith("geen standaardkoppeling voor flow 'vouchers'")
    mapper = compile_mapping({"flow": "customers", "lines": [{"source": "CNT", "target": "billing_address.country"}]})
    with pytest.raises(MappingError) as refused:
        mapper.to_model({"CNT": "Nederland"})
    assert refused.value.text().render("nl") == (
        "regel 1 (CNT -> billing_address.country): 'Nederland' past niet bij het patroon '^[A-Z]{2}$'"
    )


def test_target_checks_for_nested_and_list_fields():
    errors = definition_errors(
        [
            {"source": "a", "target": "billing_address"},
            {"source": "b", "target": "lines.sku"},
            {"source": "c", "target": "customer.contact.name.first"},
            {"source": "d", "target": "billing_address[].city"},
            {"source": "e[].f", "target": "status"},
            {"source": "g", "target": "lines[].sku"},
            {"source": "h", "target": "extra.x"},
            {"source": "i", "target": "extra.x.y"},
        ],
        flow="orders",
    )
    assert errors == [
        "line 1 (a -> billing_address): 'billing_address' is an object; map one of its fields, e.g. "
        "'billing_address.name'",
        "line 2 (b -> lines.sku): 'lines' is a list; map its items as 'lines[].<field>'",
        "line 3 (c -> customer.contact.name.first): 'customer.contact.name' is a plain value and has no field 'first'",
        "line 4 (d -> billing_address[].city): 'billing_address' is not a list; remove '[]'",
        "line 5 (e[].f -> status): source 'e[].f' reads a list item; the target needs '[]' too",
        "line 6 (g -> lines[].sku): target 'lines[].sku' is a list item; the source needs '[]' too",
        "line 8 (i -> extra.x.y): target 'extra.x.y' overlaps line 7 (h -> extra.x)",
    ]


def test_list_groups_must_share_one_source_list():
    errors = definition_errors(
        [
            {"source": "lineList.line[].articleNumber", "target": "lines[].sku"},
            {"source": "other[].qty", "target": "lines[].quantity"},
            {"source": "x", "target": "lines[].description", "transforms": [T("concat", fields=["p[].q"])]},
        ],
        flow="orders",
    )
    assert errors == [
        "line 2 (other[].qty -> lines[].quantity): all lines for 'lines[]' must read the same source list "
        "('lineList.line[]')",
        "line 3 (x -> lines[].description): target 'lines[].description' is a list item; the source needs '[]' too",
    ]
    errors = definition_errors(
        [
            {"source": "lineList.line[].articleNumber", "target": "lines[].sku"},
            {
                "source": "lineList.line[].text",
                "target": "lines[].description",
                "transforms": [T("concat", fields=["p[].q"])],
            },
        ],
        flow="orders",
    )
    assert errors == [
        "line 2 (lineList.line[].text -> lines[].description): transform 1: concat: field 'p[].q' reads a list "
        "item outside this line's list"
    ]


def test_unknown_flow_and_model_override():
    with pytest.raises(MappingDefinitionError) as exc:
        compile_mapping({"flow": "vouchers", "lines": []})
    assert exc.value.errors[0].startswith("unknown flow 'vouchers' (known: products, categories, customers")
    mapper = compile_mapping({"flow": "vouchers", "lines": [{"source": "a", "target": "sku"}]}, model=Article)
    assert mapper.to_model({"a": "1"}).sku == "1"


def test_inactive_lines_and_sequence():
    mapper = compile_mapping(
        {
            "flow": "products",
            "lines": [
                {"source": "B", "target": "name", "sequence": 20},
                {"source": "A", "target": "sku", "sequence": 10},
                {"source": "C", "target": "nonsense", "active": False, "transforms": ["__import__"]},
            ],
        }
    )
    assert list(mapper.apply({"A": "1", "B": "Mok"})) == ["sku", "name"]
    assert mapper.targets == ["sku", "name"]
    assert mapper.source_fields == ["A", "B"]


# ---------------------------------------------------------------------------- run time behaviour


def test_missing_required_default_and_all_errors_reported():
    mapper = compile_mapping(
        {
            "flow": "products",
            "lines": [
                {"source": "ART_CODE", "target": "sku", "transforms": ["strip"], "required": True},
                {"source": "ART_DESC1", "target": "name", "required": True},
                {"source": "PX_SELL", "target": "price_excl", "transforms": ["to_decimal"]},
                {"source": "UNIT", "target": "unit", "default": "st"},
                {"source": "NOPE", "target": "vat_code"},
            ],
        }
    )
    assert mapper.apply({"ART_CODE": "1", "ART_DESC1": "Mok"}) == {"sku": "1", "name": "Mok", "unit": "st"}
    with pytest.raises(MappingError) as exc:
        mapper.apply({"ART_CODE": "   ", "PX_SELL": "twelve"})
    assert [str(e) for e in exc.value.errors] == [
        "line 1 (ART_CODE -> sku): required value is empty",
        "line 2 (ART_DESC1 -> name): required value is empty",
        "line 3 (PX_SELL -> price_excl): to_decimal: value 'twelve' is not a number",
    ]
    first = exc.value.errors[2]
    assert (first.source, first.target, first.value, first.transform) == (
        "PX_SELL",
        "price_excl",
        "twelve",
        "to_decimal",
    )
    assert str(exc.value).startswith("line 1 (ART_CODE -> sku): required value is empty; line 2 ")
    # In the reader's language: the line and the reason are the catalogue's (a number's own words stay plain).
    dutch = exc.value.text().render("nl")
    assert dutch.startswith("regel 1 (ART_CODE -> sku): verplichte waarde is leeg, regel 2 (ART_DESC1 -> name)")


def test_to_model_validation_errors_name_the_line():
    mapper = compile_mapping(
        {
            "flow": "customers",
            "lines": [
                {"source": "CNT", "target": "billing_address.country"},
                {"source": "N", "target": "name"},
            ],
        }
    )
    with pytest.raises(MappingError) as exc:
        mapper.to_model({"CNT": "Nederland", "N": "Jan"})
    assert str(exc.value) == (
        "line 1 (CNT -> billing_address.country): 'Nederland' does not match the pattern '^[A-Z]{2}$'"
    )


def test_list_items_are_mapped_and_errors_name_the_item():
    mapper = compile_mapping(
        {
            "flow": "orders",
            "lines": [
                {"source": "lineList.line[].articleNumber", "target": "lines[].sku", "transforms": ["str"]},
                {"target": "lines[].is_shipping", "default": False},
                {
                    "source": "lineList.line[].data.quantity",
                    "target": "lines[].quantity",
                    "transforms": [T("from_quantity", places_field="lineList.line[].data.decimalPlaces")],
                },
                {
                    "source": "lineList.line[].data.price",
                    "target": "lines[].unit_price_incl",
                    "transforms": ["from_cents"],
                },
            ],
        }
    )
    order = {
        "lineList": {
            "line": [
                {"articleNumber": 100001, "data": {"quantity": 125, "decimalPlaces": 1, "price": 995}},
                {"articleNumber": 100002, "data": {"quantity": -1, "price": 250}},
            ]
        }
    }
    assert mapper.apply(order) == {
        "lines": [
            {"sku": "100001", "is_shipping": False, "quantity": Decimal("12.5"), "unit_price_incl": Decimal("9.95")},
            {"sku": "100002", "is_shipping": False, "quantity": Decimal(-1), "unit_price_incl": Decimal("2.50")},
        ]
    }
    assert mapper.apply({"lineList": {"line": {"articleNumber": 7}}})["lines"] == [{"sku": "7", "is_shipping": False}]
    assert mapper.apply({}) == {}
    order["lineList"]["line"][1]["data"]["price"] = "1.5"
    with pytest.raises(MappingError) as exc:
        mapper.apply(order)
    assert str(exc.value) == (
        "line 4 (lineList.line[].data.price -> lines[].unit_price_incl) [item 1]: from_cents: cents '1.5' is not "
        "an integer"
    )


def test_zeep_like_objects_and_list_indexes():
    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    mapper = compile_mapping(
        {
            "flow": "orders",
            "lines": [
                {"source": "invoiceAddress.city", "target": "billing_address.city"},
                {"source": "invoiceIds.id.0", "target": "extra.invoice"},
                {"source": "invoiceIds.id.5", "target": "extra.missing"},
            ],
        }
    )
    record = Obj(invoiceAddress=Obj(city="Utrecht"), invoiceIds={"id": ["a", "b"]})
    assert mapper.apply(record) == {"billing_address": {"city": "Utrecht"}, "extra": {"invoice": "a"}}


def test_transform_bug_is_reported_not_raised(monkeypatch):
    from apicenter_sync.datamapper import transforms

    def boom(params, bctx):
        def run_(value, ctx):
            raise ZeroDivisionError("division by zero")

        return run_

    monkeypatch.setitem(transforms.TRANSFORMS, "boom", transforms.TransformSpec("boom", boom, {}, "test only"))
    assert run_error(["boom"], 1) == "line 1 (X -> extra.out): boom: division by zero"


# ---------------------------------------------------------------------------- shipped defaults


def test_defaults_ship_as_package_data():
    files = {p.name for p in resources.files("apicenter_sync.datamapper.defaults").iterdir()}
    assert {f"{flow}.json" for flow in DEFAULT_FLOWS} <= files
    with pytest.raises(KeyError):
        load_default_mapping("vouchers")


@pytest.mark.parametrize("flow", DEFAULT_FLOWS)
def test_every_default_mapping_compiles(flow):
    definition = load_default_mapping(flow)
    assert isinstance(definition, FlowMapping) and definition.flow == flow
    mapper = compile_mapping(definition)
    assert mapper.targets
    raw = json.loads(resources.files("apicenter_sync.datamapper.defaults").joinpath(f"{flow}.json").read_text())
    assert raw["note"] and raw["source"]


def test_default_products_maps_an_accountview_article():
    row = {
        "ART_CODE": "100019    ", "ART_DESC1": "Kaas 19", "ART_MEMO": "Kaas 19. Geleverd door onze vaste leverancier.",
        "AG_CODE": "G003", "PX_SELL": 12.5, "COST_PX": 6.875, "QTY_AVAIL": 12.5, "EAN_CODE": "8700 0000 0019 5",
        "VAT_CODE": "1 ", "GROSS_FLG": False, "POS_SELL": True, "ART_UNIT": "kg", "MODEL_CODE": "M00005",
        "SIZE_CODE": "L", "COLOR_CODE": "rood", "CNT_ORIGIN": "nl", "DEL_DAYS": 5.0,
        "INP_DATE": "2026-01-05T08:00:00", "CNG_DATE": "2026-01-05T08:19:00", "EXT_KEY": 19, "ARTICLE_Id": 19,
    }  # fmt: skip
    article = compile_mapping(load_default_mapping("products")).to_model(row)
    assert isinstance(article, Article)
    assert article.model_dump(exclude_defaults=True) == {
        "sku": "100019", "name": "Kaas 19", "short_description": "Kaas 19",
        "long_description": "Kaas 19. Geleverd door onze vaste leverancier.", "category_codes": ["G003"],
        "price_excl": Decimal("12.50"), "prices_include_vat": False, "cost_price": Decimal("6.88"), "vat_code": "1",
        "ean": "8700000000195", "unit": "kg", "variant_group": "M00005",
        "attributes": {"size": "L", "colour": "rood"}, "features": {"country_of_origin": "NL", "delivery_days": 5},
    }  # fmt: skip
    with pytest.raises(MappingError) as exc:
        compile_mapping(load_default_mapping("products")).apply({"ART_DESC1": "x"})
    assert str(exc.value) == "line 1 (ART_CODE -> sku): required value is empty"


def test_default_customers_maps_an_accountview_contact():
    row = {
        "SUB_NR": "10000", "ACCT_NAME": "Bakkerij de Vries B.V.", "SRC_CODE": "BAKKERIJ", "MAIN_CONT": "Jan de Vries",
        "ADDRESS1": "Laan van Meerdervoort 1021 bis", "ST_STREET": "Laan van Meerdervoort", "ST_NR": "1021",
        "ST_EXTRA": "bis", "POST_CODE": "2517ab", "CITY": "Den Haag", "CNT_CODE": "NL", "COUNTRY": "Nederland",
        "MAIL_BUS": " Jan.deVries@Example.NL ", "TEL_BUS": "0612345678", "VAT_NR": "nl 123456789 b01",
        "APX_LIST": "MKB", "PCT_LIST": "MKB", "DISC_PCT": 2.5, "DISC_CODE": "14", "ACCT_NR": "1300",
        "CUR_CODE": "EUR", "LNG_CODE": "NL", "RPL_USER": True,
    }  # fmt: skip
    mapper = compile_mapping(load_default_mapping("customers"))
    customer = mapper.to_model(row)
    assert isinstance(customer, Customer)
    # Company or person is the customers flow's rule (setting company_rule), not the mapping's.
    assert customer.name == "Bakkerij de Vries B.V." and is_company(customer, "contact_or_ids")
    assert customer.contact.name == "Jan de Vries"
    assert customer.email == "jan.devries@example.nl"
    assert customer.vat_number == "NL123456789B01"
    assert customer.discount_pct == Decimal("2.50")
    assert customer.price_group == "MKB" and customer.payment_condition == "14"
    assert customer.billing_address.model_dump(exclude_defaults=True) == {
        "street": "Laan van Meerdervoort", "house_number": "1021", "house_number_addition": "bis",
        "postcode": "2517 AB", "city": "Den Haag", "country": "NL",
    }  # fmt: skip
    person = mapper.to_model(
        {"SUB_NR": "10001", "ACCT_NAME": "Zoë Ørsted-Ñúñez", "MAIN_CONT": "", "ADDRESS1": "Köln Straße 5",
         "POST_CODE": "50667", "CITY": "Köln", "CNT_CODE": "DE", "MAIL_BUS": ""}
    )  # fmt: skip
    assert not is_company(person, "contact_or_ids") and person.company_name is None and person.email is None
    assert person.billing_address.postcode == "50667"
    assert person.billing_address.country == "DE"
    assert mapper.to_model({"SUB_NR": "1", "ACCT_NAME": "X", "CNT_CODE": "  "}).billing_address.country == "NL"


def test_default_orders_maps_an_mplus_order():
    order = {
        "orderId": "8db211ba-142b-5bf3-bae8-2cd9556d777c", "extOrderId": "POS-2026-000002",
        "employeeNumber": 999999, "financialBranchNumber": 1, "relationNumber": 12, "relationName": "Koffiebar Smit",
        "relationVatNumber": "NL123456789B01",
        "entryTimestamp": {"sec": 0, "min": 0, "hour": 9, "day": 5, "mon": 1, "year": 2026, "isdst": False,
                           "timezone": 60},
        "financialDate": {"day": 5, "mon": 1, "year": 2026},
        "orderNumber": {"year": 2026, "number": 2},
        "invoiceAddress": {"name": "Koffiebar Smit", "companyName": "Koffiebar Smit", "address": "Kerkstraat 12A",
                           "zipcode": "1012ab", "city": "Amsterdam", "country": "NL"},
        "deliveryAddress": {"name": "Koffiebar Smit", "address": "Rue de la Loi 16", "zipcode": "1000",
                            "city": "Brussel", "country": "be"},
        "totalInclAmount": 2185, "totalExclAmount": 1806, "vatMethod": "VAT-METHOD-INCLUSIVE",
        "deliveryMethod": "POSTNL", "completeState": "ORDER-COMPLETE-STATE-COMPLETE", "paymentMethod": "PIN",
        "lineList": {"line": [
            {"articleNumber": 100001, "text": "Koffiebonen 1",
             "data": {"quantity": 25, "decimalPlaces": 1, "price": 599, "priceExcl": 550, "vatCode": 1,
                      "vatPercentage": 9, "discountAmount": 0}},
            {"articleNumber": 100002, "text": "Mok", "data": {"quantity": -1, "price": 995, "vatPercentage": 21}},
            {"articleNumber": 999, "text": "Verzendkosten", "data": {"quantity": 1, "decimalPlaces": 0, "price": 695}},
        ]},
        "paymentList": {"payment": [{"method": "PIN", "amount": 2185}]},
    }  # fmt: skip
    result = compile_mapping(load_default_mapping("orders")).to_model(order)
    assert isinstance(result, Order)
    assert result.external_reference == "POS-2026-000002" and result.number == "2026-2"
    assert result.order_date == date(2026, 1, 5) and result.created_at == datetime(2026, 1, 5, 9)
    assert result.customer.name == "Koffiebar Smit" and result.customer.kind == "company"
    assert result.customer.source_id == "12"
    assert result.billing_address.model_dump(exclude_defaults=True) == {
        "name": "Koffiebar Smit", "company_name": "Koffiebar Smit", "street": "Kerkstraat", "house_number": "12",
        "house_number_addition": "A", "postcode": "1012 AB", "city": "Amsterdam", "country": "NL",
    }  # fmt: skip
    assert result.delivery_address.country == "BE" and result.delivery_address.postcode == "1000"
    assert [(ln.sku, ln.quantity, ln.unit_price_incl) for ln in result.lines] == [
        ("100001", Decimal("2.5"), Decimal("5.99")),
        ("100002", Decimal(-1), Decimal("9.95")),
        ("999", Decimal(1), Decimal("6.95")),
    ]
    assert result.lines[0].vat_pct == 9 and result.lines[0].vat_code == "1"
    assert result.payments[0].amount == Decimal("21.85") and result.total_incl == Decimal("21.85")
    assert result.prices_include_vat is True and result.employee == "999999" and result.branch == "1"

    anonymous = {k: v for k, v in order.items() if not k.startswith(("relation", "invoice", "delivery"))}
    anonymous["relationNumber"] = 0
    assert compile_mapping(load_default_mapping("orders")).to_model(anonymous).customer is None


def test_default_field_names_match_the_sandbox_assumptions():
    """The shipped mappings name AccountView fields as API-profile references; under the default profile they are
    the sandbox's assumed names, under a changed profile the changed ones."""
    assumptions = pytest.importorskip("apicenter_sandbox.accountview.assumptions")
    article_sources = set(compile_mapping(load_default_mapping("products")).source_fields)
    for key in ("ean", "vat_code", "price_incl_vat", "sell_in_pos", "long_description", "unit", "model", "size",
                "colour", "country_of_origin", "delivery_days"):  # fmt: skip
        assert assumptions.ARTICLE_FIELDS[key].name in article_sources, key
    stock = set(compile_mapping(load_default_mapping("stock")).source_fields)
    assert {assumptions.STOCK.fields[k].name for k in ("sku", "warehouse", "on_hand", "reserved", "incoming")} == stock
    prices = set(compile_mapping(load_default_mapping("prices")).source_fields)
    assert {
        assumptions.PRICE_LIST_ITEM.fields[k].name for k in ("price_list", "sku", "min_qty", "price_excl")
    } == prices
    discounts = set(compile_mapping(load_default_mapping("discounts")).source_fields)
    assert {assumptions.GROUP_DISCOUNT.fields[k].name for k in ("customer_group", "article_group", "pct")} == discounts
    renamed = ApiProfile.from_overrides({"accountview": {"article": {"fields": {"ean": "BARCODE"}}}})
    sources = compile_mapping(load_default_mapping("products"), profile=renamed).source_fields
    assert "BARCODE" in sources and assumptions.ARTICLE_FIELDS["ean"].name not in sources


def test_profile_references_name_what_exists():
    with pytest.raises(MappingDefinitionError) as err:
        compile_mapping({"flow": "products", "lines": [{"source": "@article.barcode", "target": "ean"}]})
    assert "'@article.barcode' is no field of the API profile" in str(err.value) and "@article.ean" in str(err.value)
    postcode = {"source": "@debtor.postcode", "target": "billing_address.postcode",
                "transforms": [{"name": "nl_postcode", "params": {"country_field": "@debtor.country"}}]}  # fmt: skip
    profile = ApiProfile.from_overrides({"accountview": {"debtor": {"fields": {"country": "LAND"}}}})
    mapper = compile_mapping({"flow": "customers", "lines": [postcode]}, profile=profile)
    assert mapper.to_model({"POST_CODE": "1234ab", "LAND": "NL"}).billing_address.postcode == "1234 AB"
    assert mapper.to_model({"POST_CODE": "1234ab", "LAND": "BE"}).billing_address.postcode == "1234ab"


def test_defaults_map_the_whole_sandbox_world():
    """Every seeded AccountView row and Mplus order maps without an error."""
    world_mod = pytest.importorskip("apicenter_sandbox.world")
    av_seed = pytest.importorskip("apicenter_sandbox.accountview.seed")
    av_store = pytest.importorskip("apicenter_sandbox.accountview.store")
    mplus_seed = pytest.importorskip("apicenter_sandbox.mplus.seed")
    world = world_mod.generate(120, 3)
    store = av_store.Store()
    av_seed.seed(store, world)
    tables = {"products": "ARTICLE", "categories": "ART_GRP", "customers": "CONTACT", "stock": "ART_STOCK",
              "prices": "PRICE_ART", "discounts": "DISC_GRP"}  # fmt: skip
    for flow, table in tables.items():
        mapper = compile_mapping(load_default_mapping(flow))
        rows = list(store[table].rows.values())
        assert rows, table
        for row in rows:
            mapper.to_model(row)
    mapper = compile_mapping(load_default_mapping("orders"))
    orders = [mapper.to_model(o) for o in mplus_seed.seed(world).orders.values()]
    assert any(o.customer is None for o in orders) and any(o.customer for o in orders)
