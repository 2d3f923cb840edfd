"""The registry of named, parameterised transforms.

A mapping line names transforms from this registry, never code: the datamapper
looks the name up in ``TRANSFORMS`` and calls a factory with checked
parameters.  User text is never evaluated.

Every factory returns ``fn(value, ctx) -> value``.  Transforms pass ``None``
through unchanged (an empty source field stays empty until ``default`` or the
line's own default fills it), except ``default``, ``concat``,
``first_non_empty`` and ``map_table`` (``default`` parameter) which exist to
fill gaps.  At run time a transform raises ``TransformError`` with a message
about the value; the mapper adds which line and field it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import units
from ..i18n import msg, table_ref
from . import addresses, dates
from .paths import Context, PathError

__all__ = [
    "TRANSFORMS",
    "BuildContext",
    "Param",
    "TransformDefinitionError",
    "TransformError",
    "TransformFn",
    "TransformSpec",
    "build_transform",
]

TransformFn = Callable[[Any, Context], Any]
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class TransformError(ValueError):
    """A transform cannot handle a value (run time)."""


class TransformDefinitionError(ValueError):
    """A transform is unknown or its parameters are wrong (load time); its first argument is the message."""


@dataclass(frozen=True)
class Param:
    """Declared parameter: ``kind`` is one of int, str, bool, any, str_list, list, dict, field, field_list."""

    kind: str
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: int | None = None
    doc: str = ""


@dataclass(frozen=True)
class TransformSpec:
    name: str
    factory: Callable[[dict[str, Any], BuildContext], TransformFn]
    params: dict[str, Param] = field(default_factory=dict)
    doc: str = ""


@dataclass
class BuildContext:
    """What a factory may use while a mapping is compiled."""

    # Turns a source path into a getter; raises PathError (e.g. list item path outside a list line).
    compile_field: Callable[[str], Callable[[Context], Any]]
    # Names of the mapping tables that will exist, when the caller knows them (else no check).
    known_tables: frozenset[str] | None = None


TRANSFORMS: dict[str, TransformSpec] = {}


def transform(name: str, doc: str = "", **params: Param):
    def register(factory):
        TRANSFORMS[name] = TransformSpec(name, factory, params, doc)
        return factory

    return register


# ---------------------------------------------------------------------------- parameter checks

_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "any": lambda v: v is None or isinstance(v, str | int | float | bool | Decimal),
    "str_list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
    "field": lambda v: isinstance(v, str) and bool(v),
    "field_list": lambda v: isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v),
}


def check_params(spec: TransformSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate user parameters against the spec; return them with defaults filled in."""
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        allowed = list(spec.params) or msg("mapping.transform.no_params")
        raise TransformDefinitionError(
            msg("mapping.transform.unknown_param", transform=spec.name, param=repr(unknown[0]), allowed=allowed)
        )
    checked: dict[str, Any] = {}
    for pname, p in spec.params.items():
        if pname not in params:
            if p.required:
                raise TransformDefinitionError(msg("mapping.transform.missing_param", transform=spec.name,
                                                   param=repr(pname)))  # fmt: skip
            checked[pname] = p.default
            continue
        value = params[pname]
        said = {"transform": spec.name, "param": repr(pname), "value": repr(value)}
        if not _KIND_CHECKS[p.kind](value):
            raise TransformDefinitionError(msg("mapping.transform.param_kind", kind=msg(f"mapping.kind.{p.kind}"), **said))
        if p.choices and value not in p.choices:
            raise TransformDefinitionError(msg("mapping.transform.param_choice", options=list(map(str, p.choices)), **said))
        if p.minimum is not None and value < p.minimum:
            raise TransformDefinitionError(msg("mapping.transform.param_minimum", minimum=p.minimum, **said))
        checked[pname] = value
    return checked


def build_transform(name: Any, params: Mapping[str, Any] | None, bctx: BuildContext) -> TransformFn:
    """Look ``name`` up in the registry (never anywhere else) and build it with checked parameters."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise TransformDefinitionError(msg("mapping.transform.invalid_name", name=repr(name)))
    spec = TRANSFORMS.get(name)
    if spec is None:
        raise TransformDefinitionError(msg("mapping.transform.unknown", name=repr(name)))
    if params is not None and not isinstance(params, Mapping):
        raise TransformDefinitionError(msg("mapping.transform.params_not_object", transform=name, value=repr(params)))
    checked = check_params(spec, params or {})
    try:
        return spec.factory(checked, bctx)
    except PathError as exc:
        raise TransformDefinitionError(msg("mapping.in_transform", transform=name, message=exc.args[0])) from None


# ---------------------------------------------------------------------------- helpers


def _text(value: Any) -> str:
    """Text transforms accept numbers too (an Mplus articleNumber is an int) but not objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise TransformError(msg("mapping.not_text", value=repr(value)))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_transform(fn: Callable[[str], Any]) -> TransformFn:
    def run(value: Any, ctx: Context) -> Any:
        if value is None:
            return None
        return fn(value if isinstance(value, str) else _text(value))

    return run


def _units(fn: Callable[[Any], Any]) -> TransformFn:
    def run(value: Any, ctx: Context) -> Any:
        if _empty(value):
            return None
        try:
            return fn(value)
        except units.UnitsError as exc:
            raise TransformError(exc.args[0]) from None  # the message itself

    return run


# ---------------------------------------------------------------------------- text


@transform("strip", "Remove leading and trailing whitespace (AccountView pads char fields).", chars=Param("str"))
def _strip(p, bctx):
    chars = p["chars"]
    return _text_transform(lambda s: s.strip(chars))


@transform("upper", "Upper-case the text.")
def _upper(p, bctx):
    return _text_transform(str.upper)


@transform("lower", "Lower-case the text.")
def _lower(p, bctx):
    return _text_transform(str.lower)


@transform("title", "Capitalise each word.")
def _title(p, bctx):
    return _text_transform(str.title)


@transform("truncate", "Cut the text to at most `length` characters.", length=Param("int", required=True, minimum=1))
def _truncate(p, bctx):
    length = p["length"]
    return _text_transform(lambda s: s[:length])


@transform("digits_only", "Keep only the digits 0-9 (phone numbers, EAN codes).")
def _digits_only(p, bctx):
    return _text_transform(lambda s: "".join(ch for ch in s if "0" <= ch <= "9"))


@transform("replace", "Replace every `old` with `new`.", old=Param("str", required=True), new=Param("str", default=""))
def _replace(p, bctx):
    old, new = p["old"], p["new"]
    if not old:
        raise TransformDefinitionError(msg("mapping.transform.param_empty", transform="replace", param="'old'"))
    return _text_transform(lambda s: s.replace(old, new))


@transform("prefix", "Put `value` before the text.", value=Param("str", required=True))
def _prefix(p, bctx):
    pre = p["value"]
    return _text_transform(lambda s: pre + s)


@transform("suffix", "Put `value` after the text.", value=Param("str", required=True))
def _suffix(p, bctx):
    post = p["value"]
    return _text_transform(lambda s: s + post)


@transform(
    "split",
    "Split the text on `separator`; with `index` keep that part (negative counts from the end), else keep the list.",
    separator=Param("str", required=True),
    index=Param("int"),
    strip=Param("bool", default=True),
)
def _split(p, bctx):
    sep, index, strip = p["separator"], p["index"], p["strip"]
    if not sep:
        raise TransformDefinitionError(msg("mapping.transform.param_empty", transform="split", param="'separator'"))

    def run(s: str) -> Any:
        parts = [x.strip() for x in s.split(sep)] if strip else s.split(sep)
        if index is None:
            return [x for x in parts if x] if strip else parts
        try:
            return parts[index]
        except IndexError:
            return None  # "no such part" is an empty value, not an error: defaults can fill it

    return _text_transform(run)


@transform("str", "Turn a number or boolean into text.")
def _str(p, bctx):
    def run(value: Any, ctx: Context) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | Decimal | float):
            return str(value)
        raise TransformError(msg("mapping.no_text", value=repr(value)))

    return run


# ---------------------------------------------------------------------------- addresses


@transform(
    "split_street",
    "Take one part of a one-line Dutch address: 'Kerkstraat 12-A' -> street 'Kerkstraat', house_number '12', addition 'A'.",
    part=Param("str", required=True, choices=("street", "house_number", "addition")),
)
def _split_street(p, bctx):
    index = ("street", "house_number", "addition").index(p["part"])

    def run(s: str) -> Any:
        return addresses.split_street(s)[index] or None

    return _text_transform(run)


@transform(
    "nl_postcode",
    "Format a Dutch postcode as '1234 AB'. Foreign postcodes are left alone; with `strict` an invalid Dutch one is an "
    "error. With `country_field`, only records whose country there is NL (or empty) are treated as Dutch.",
    strict=Param("bool", default=False),
    country_field=Param("field"),
)
def _nl_postcode(p, bctx):
    strict = p["strict"]
    country = bctx.compile_field(p["country_field"]) if p["country_field"] else None

    def run(value: Any, ctx: Context) -> Any:
        if _empty(value):
            return None if value is None else value.strip()
        text = _text(value)
        if country is not None:
            code = country(ctx)
            if not _empty(code) and str(code).strip().upper() != "NL":
                return text.strip()  # a foreign address: leave its postcode alone
        formatted = addresses.format_nl_postcode(text)
        if formatted is not None and (addresses.is_valid_nl_postcode(formatted) or not strict):
            return formatted
        if strict:
            raise TransformError(msg("mapping.postcode", value=repr(value)))
        return text.strip()

    return run


# ---------------------------------------------------------------------------- numbers and money


@transform("to_cents", "Money in units to integer cents: 9.95 -> 995 (half up).")
def _to_cents(p, bctx):
    return _units(units.to_cents)


@transform("from_cents", "Integer cents to money in units: 995 -> 9.95.")
def _from_cents(p, bctx):
    return _units(units.from_cents)


@transform(
    "to_decimal",
    "Read a number as a Decimal, rounded half up to `places` decimals when given. `decimal_comma` reads '1.234,50'.",
    places=Param("int", minimum=0),
    decimal_comma=Param("bool", default=False),
)
def _to_decimal(p, bctx):
    places, comma = p["places"], p["decimal_comma"]
    return _units(lambda value: units.to_decimal(value, places, decimal_comma=comma))


@transform(
    "from_quantity",
    "An Mplus quantity (integer mantissa) to a Decimal, scaled by the decimalPlaces read from `places_field` "
    "(missing = 0) or by the fixed `places`.",
    places_field=Param("field"),
    places=Param("int", minimum=0),
)
def _from_quantity(p, bctx):
    if p["places_field"] and p["places"] is not None:
        raise TransformDefinitionError(msg("mapping.transform.not_both", transform="from_quantity",
                                           first="'places_field'", second="'places'"))  # fmt: skip
    fixed = p["places"]
    places_of = bctx.compile_field(p["places_field"]) if p["places_field"] else None

    def run(value: Any, ctx: Context) -> Any:
        if _empty(value):
            return None
        places = places_of(ctx) if places_of is not None else fixed
        try:
            return units.from_quantity(value, places)
        except units.UnitsError as exc:
            raise TransformError(exc.args[0]) from None  # the message itself

    return run


@transform("int", "Read a whole number: '12' -> 12; '12.5' is an error.")
def _int(p, bctx):
    def convert(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = units.parse_decimal(value)
        if number != number.to_integral_value():
            raise units.UnitsError(msg("units.not_whole", value=repr(value)))
        return int(number)

    return _units(convert)


_TRUE = ("1", "true", "t", "yes", "y", "j", "ja", "on", "x")
_FALSE = ("0", "false", "f", "no", "n", "nee", "off")


@transform(
    "bool",
    "Read yes/no: 1/0, true/false, yes/no, j/n, ja/nee, on/off, x (case-insensitive); lists can be replaced.",
    true_values=Param("str_list"),
    false_values=Param("str_list"),
)
def _bool(p, bctx):
    trues = frozenset(v.lower() for v in (p["true_values"] or _TRUE))
    falses = frozenset(v.lower() for v in (p["false_values"] or _FALSE))

    def run(value: Any, ctx: Context) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | Decimal):
            if value in (0, 1):
                return bool(value)
            raise TransformError(msg("mapping.not_yes_no", value=repr(value)))
        text = _text(value).strip().lower()
        if not text:
            return None
        if text in trues:
            return True
        if text in falses:
            return False
        raise TransformError(msg("mapping.not_yes_no", value=repr(value)))

    return run


# ---------------------------------------------------------------------------- filling gaps, lookups


@transform("default", "Use `value` when the value is empty (None or blank text).", value=Param("any", required=True))
def _default(p, bctx):
    fallback = p["value"]
    return lambda value, ctx: fallback if _empty(value) else value


@transform(
    "choose",
    "Replace a non-empty value by `if_present` and an empty one by `if_empty` (e.g. contact person -> 'company').",
    if_present=Param("any", required=True),
    if_empty=Param("any"),
)
def _choose(p, bctx):
    present, empty = p["if_present"], p["if_empty"]
    return lambda value, ctx: empty if _empty(value) else present


@transform(
    "null_if",
    "Treat any of `values` as empty (e.g. Mplus relationNumber 0 = no customer).",
    values=Param("list", required=True),
)
def _null_if(p, bctx):
    blanks = {str(v) for v in p["values"]}
    return lambda value, ctx: None if value is not None and _table_key(value) in blanks else value


def _table_key(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MISSING = object()


@transform(
    "map_table",
    "Look the value up in a mapping table: `table` names one supplied by the caller (VAT code per country, payment "
    "methods...), `values` gives an inline table. A missing key gives `default` when set; else with `passthrough` the "
    "value itself; else an error when `required` (the default), or empty.",
    table=Param("str"),
    values=Param("dict"),
    default=Param("any", default=_MISSING),
    required=Param("bool", default=True),
    passthrough=Param("bool", default=False),
    ignore_case=Param("bool", default=False),
)
def _map_table(p, bctx):
    table_name, inline = p["table"], p["values"]
    if (table_name is None) == (inline is None):
        raise TransformDefinitionError(msg("mapping.transform.exactly_one", transform="map_table",
                                           first="'table'", second="'values'"))  # fmt: skip
    if table_name is not None and bctx.known_tables is not None and table_name not in bctx.known_tables:
        raise TransformDefinitionError(msg("mapping.transform.unknown_table", transform="map_table",
                                           table=repr(table_name)))  # fmt: skip
    fallback, required, passthrough, fold = p["default"], p["required"], p["passthrough"], p["ignore_case"]
    if inline is not None and fold:
        inline = {k.lower(): v for k, v in inline.items()}
    label = msg("mapping.the_table", table=table_ref(table_name)) if table_name else msg("mapping.inline_table")

    def run(value: Any, ctx: Context) -> Any:
        if value is None:
            return None
        if inline is not None:
            table = inline
        else:
            table = ctx.tables.get(table_name)
            if table is None:
                raise TransformError(msg("mapping.table_missing", table=table_ref(table_name)))
            if fold:
                table = {str(k).lower(): v for k, v in table.items()}
        key = _table_key(value)
        found = table.get(key.lower() if fold else key, _MISSING)
        if found is not _MISSING:
            return found
        if fallback is not _MISSING:
            return fallback
        if passthrough:
            return value
        if required:
            raise TransformError(msg("mapping.not_in_table", value=repr(value), table=label))
        return None

    return run


@transform(
    "concat",
    "Join the value and the source `fields` with `separator`; empty parts are skipped.",
    fields=Param("field_list", required=True),
    separator=Param("str", default=" "),
)
def _concat(p, bctx):
    getters = [bctx.compile_field(f) for f in p["fields"]]
    sep = p["separator"]

    def run(value: Any, ctx: Context) -> Any:
        parts = [value] + [get(ctx) for get in getters]
        texts = [_text(x).strip() for x in parts if not _empty(x)]
        return sep.join(texts) if texts else None

    return run


@transform(
    "first_non_empty",
    "Keep the value when it is not empty, else the first non-empty of the source `fields`.",
    fields=Param("field_list", required=True),
)
def _first_non_empty(p, bctx):
    getters = [bctx.compile_field(f) for f in p["fields"]]

    def run(value: Any, ctx: Context) -> Any:
        if not _empty(value):
            return value
        for get in getters:
            other = get(ctx)
            if not _empty(other):
                return other
        return None

    return run


# ---------------------------------------------------------------------------- dates


@transform(
    "date_format",
    "Parse a date in `input` format and render it in `output` format (see docs/datamapper.md for the names).",
    input=Param("str", default="auto"),
    output=Param("str", default="iso"),
)
def _date_format(p, bctx):
    fmt_in, fmt_out = p["input"], p["output"]
    if not (fmt_in in dates.INPUT_FORMATS or "%" in fmt_in):
        raise TransformDefinitionError(msg("mapping.transform.date_format", transform="date_format", param="'input'",
                                           options=list(dates.INPUT_FORMATS), value=repr(fmt_in)))  # fmt: skip
    if not (fmt_out in dates.OUTPUT_FORMATS or "%" in fmt_out):
        raise TransformDefinitionError(msg("mapping.transform.date_format", transform="date_format", param="'output'",
                                           options=list(dates.OUTPUT_FORMATS), value=repr(fmt_out)))  # fmt: skip
    parse, render = dates.parser(fmt_in), dates.formatter(fmt_out)

    def run(value: Any, ctx: Context) -> Any:
        try:
            moment = parse(value)
        except dates.DateError as exc:
            raise TransformError(exc.args[0]) from None  # the message itself
        return None if moment is None else render(moment)

    return run
