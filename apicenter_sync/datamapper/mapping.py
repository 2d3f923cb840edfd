"""Mapping definitions and their compiled form.

A ``FlowMapping`` is data (JSON in ``defaults/``, records in Odoo): a list of
``FieldMapping`` lines, each reading one source field, running named
transforms, and writing one canonical field.  ``compile_mapping`` checks the
whole definition once -- paths, canonical fields, transforms, parameters,
duplicates -- and reports every problem at once.  The resulting ``Mapper`` is
then applied to many records; it only does dictionary lookups and calls the
prepared transform functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import models
from ..i18n import Msg, Text, msg
from ..profile import ApiProfile
from .errors import FieldError, MappingDefinitionError, MappingError
from .paths import Context, PathError, SourcePath, read
from .targets import Target, TargetError, resolve_target
from .transforms import BuildContext, TransformDefinitionError, TransformFn, build_transform

__all__ = [
    "FLOW_MODELS",
    "FieldMapping",
    "FlowMapping",
    "Mapper",
    "TransformStep",
    "compile_mapping",
]

# Which canonical model each flow's mapping fills.
FLOW_MODELS: dict[str, type[BaseModel]] = {
    "products": models.Article,
    "categories": models.Category,
    "customers": models.Customer,
    "orders": models.Order,
    "receipts": models.Order,  # the orders flow reading till receipts
    "invoices": models.Order,  # the orders flow reading MplusKASSA invoices
    "stock": models.StockLevel,
    "prices": models.PriceListPrice,
    "discounts": models.Discount,
    "price_lists": models.PriceList,
    "customer_groups": models.CustomerGroup,
}
_EMPTY_TABLES: Mapping[str, Mapping[str, Any]] = {}


class TransformStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class FieldMapping(BaseModel):
    """One mapping line: ``source`` (dotted path, optional) -> transforms -> ``target`` (canonical path)."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = None
    target: str
    transforms: list[TransformStep] = Field(default_factory=list)
    required: bool = False
    default: Any = None  # used when the value is empty after the transforms
    active: bool = True
    sequence: int = 10
    note: str | None = None

    @field_validator("transforms", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # "strip" is shorthand for {"name": "strip"}: keeps the shipped JSON readable.
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class FlowMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: str
    model: str | None = None  # canonical model name; informative, FLOW_MODELS decides
    source: str | None = None  # what the source records are, for people
    note: str | None = None
    lines: list[dict[str, Any] | FieldMapping] = Field(default_factory=list)


def _label(position: int, source: Any, target: Any) -> Text:
    return msg("mapping.line", n=position, source=str(source or "-"), target=str(target or "?"))


def _at(label: Text, exc_or_text: Exception | Text) -> Msg:
    """A problem of a mapping line: the line, then why (an error's message)."""
    why = exc_or_text.args[0] if isinstance(exc_or_text, Exception) and exc_or_text.args else exc_or_text
    return msg("core.error_at", where=label, message=why if isinstance(why, str) else str(why))


def _definition_problem(err: Mapping[str, Any]) -> Msg:
    """A problem the definition's own validation found, in our words where we have them (a field missing, one too
    many), else the validation library's."""
    field = ".".join(str(x) for x in err["loc"]) or "line"
    if err.get("type") == "missing":
        return msg("mapping.def.field_missing", field=field)
    if err.get("type") == "extra_forbidden":
        return msg("mapping.def.field_unknown", field=field)
    return msg("mapping.def.field_invalid", field=field, reason=str(err.get("msg")))


_NOT_A_NUMBER = ("decimal_parsing", "decimal_type", "float_parsing", "float_type", "finite_number")


def _value_problem(err: Mapping[str, Any]) -> Msg:
    """Why the canonical model refuses a mapped value, in the catalogue's words for the usual cases."""
    kind, value = str(err.get("type") or ""), repr(err.get("input"))
    if kind == "missing":
        return msg("mapping.required_empty")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return msg("units.not_an_integer", what=msg("units.what.value"), value=value)
    if kind in _NOT_A_NUMBER:
        return msg("units.not_a_number", what=msg("units.what.value"), value=value)
    if kind in ("bool_parsing", "bool_type"):
        return msg("mapping.not_yes_no", value=value)
    if kind == "string_type":
        return msg("mapping.not_text", value=value)
    if kind == "string_pattern_mismatch":
        return msg("mapping.value.pattern", value=value, pattern=repr((err.get("ctx") or {}).get("pattern")))
    if kind.startswith(("date_", "datetime_")):
        return msg("mapping.value.not_date", value=value)
    if kind in ("literal_error", "enum"):
        return msg("mapping.value.not_one_of", value=value, expected=str((err.get("ctx") or {}).get("expected")))
    return msg("mapping.value.refused", reason=str(err.get("msg")), value=value)


def _reason(exc: Exception) -> Text:
    """Why a transform failed: its message (a catalogue message where the transform gives one), else its text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Msg) else (str(exc) or repr(exc))


class _Step:
    """A compiled mapping line."""

    __slots__ = ("label", "source", "target", "get", "fns", "default", "required", "parents", "last", "wrap")

    def __init__(self, label: str, line: FieldMapping, get, fns, target: Target):
        self.label = label
        self.source = line.source
        self.target = line.target
        self.get: Callable[[Context], Any] = get
        self.fns: list[tuple[str, TransformFn]] = fns
        self.default = line.default
        self.required = line.required
        self.parents = target.keys[:-1]
        self.last = target.keys[-1]
        self.wrap = target.wrap_list

    def run(self, ctx: Context, out: dict, errors: list[FieldError], item: int | None) -> None:
        value = self.get(ctx) if self.get is not None else None
        name = None
        try:
            for name, fn in self.fns:  # noqa: B007 -- name is reported when fn raises
                value = fn(value, ctx)
        except Exception as exc:  # a transform bug must still name the field, not kill the batch
            label = self.label if item is None else msg("mapping.item", line=self.label, item=item)
            errors.append(FieldError(label, self.source, self.target, value, _reason(exc), name))
            return
        if value is None or (type(value) is str and not value.strip()):
            if self.default is not None:
                value = self.default
            elif self.required:
                label = self.label if item is None else msg("mapping.item", line=self.label, item=item)
                errors.append(FieldError(label, self.source, self.target, value, msg("mapping.required_empty")))
                return
            else:
                return  # empty values are left out; the model's defaults apply
        if self.wrap and not isinstance(value, list | tuple):
            value = [value]
        node = out
        for key in self.parents:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            node = child
        node[self.last] = value


class _Group:
    """Lines applied to every item of one source list (``lineList.line[]`` -> ``lines[]``)."""

    __slots__ = ("source", "target", "steps")

    def __init__(self, source: tuple[str, ...], target: tuple[str, ...]):
        self.source = source
        self.target = target
        self.steps: list[_Step] = []


class Mapper:
    """A compiled ``FlowMapping``: ``apply`` maps one source record to a canonical dict."""

    def __init__(self, flow: str, model: type[BaseModel], steps: list[_Step], groups: list[_Group]):
        self.flow = flow
        self.model = model
        self._steps = steps
        self._groups = groups
        self._by_target = {s.target: s for s in steps} | {s.target: s for g in groups for s in g.steps}

    @property
    def targets(self) -> list[str]:
        return list(self._by_target)

    def source_of(self, target: str) -> str | None:
        """The source path the line for ``target`` reads (e.g. the field that groups variants), or None."""
        step = self._by_target.get(target)
        return step.source if step is not None else None

    @property
    def source_fields(self) -> list[str]:
        """Source paths the mapping reads directly (transform parameters not included)."""
        return [s.source for s in self._by_target.values() if s.source]

    def apply(self, source: Any, tables: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """Map one record; raise ``MappingError`` listing every field that failed."""
        tables = _EMPTY_TABLES if tables is None else tables
        ctx = Context(source, None, tables)
        out: dict[str, Any] = {}
        errors: list[FieldError] = []
        for step in self._steps:
            step.run(ctx, out, errors, None)
        for group in self._groups:
            items = read(source, group.source)
            if items is None:
                continue
            if not isinstance(items, list | tuple):
                items = [items]  # a one-item list that arrived unwrapped
            rows = []
            for index, item in enumerate(items):
                row: dict[str, Any] = {}
                item_ctx = Context(source, item, tables)
                for step in group.steps:
                    step.run(item_ctx, row, errors, index)
                rows.append(row)
            node = out
            for key in group.target[:-1]:
                node = node.setdefault(key, {})
            node[group.target[-1]] = rows
        if errors:
            raise MappingError(errors)
        return out

    def to_model(self, source: Any, tables: Mapping[str, Mapping[str, Any]] | None = None) -> BaseModel:
        """``apply`` and build the canonical model; model validation errors name the mapping line too."""
        data = self.apply(source, tables)
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise MappingError([self._field_error(err) for err in exc.errors()]) from None

    def _field_error(self, err: Mapping[str, Any]) -> FieldError:
        loc = list(err.get("loc", ()))
        item = None
        parts: list[str] = []
        for part in loc:
            if isinstance(part, int):
                item = part
                if parts:
                    parts[-1] += "[]"
            else:
                parts.append(str(part))
        target = ".".join(parts)
        step = self._by_target.get(target)
        if step is None:
            label = msg("mapping.target_label", target=repr(target))
        else:
            label = step.label if item is None else msg("mapping.item", line=step.label, item=item)
        value = err.get("input")
        return FieldError(label, step.source if step else None, target, value, _value_problem(err))


def _parse_lines(raw_lines: Sequence[Any], errors: list[Text]) -> list[tuple[int, FieldMapping]]:
    parsed = []
    for position, raw in enumerate(raw_lines, start=1):
        if isinstance(raw, FieldMapping):
            parsed.append((position, raw))
            continue
        try:
            parsed.append((position, FieldMapping.model_validate(raw)))
        except ValidationError as exc:
            src = raw.get("source") if isinstance(raw, Mapping) else None
            tgt = raw.get("target") if isinstance(raw, Mapping) else None
            for err in exc.errors():
                errors.append(_at(_label(position, src, tgt), _definition_problem(err)))
    return parsed


def _resolve_references(lines: list[tuple[int, FieldMapping]], profile: ApiProfile,
                        errors: list[Text]) -> list[tuple[int, FieldMapping]]:  # fmt: skip
    """Lines with every ``@object.field`` reference replaced by the profile's field name."""

    def resolve(value: Any, label: Text) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            try:
                return profile.resolve(value)
            except ValueError as exc:
                errors.append(_at(label, exc))
                return value
        if isinstance(value, list):
            return [resolve(v, label) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v, label) for k, v in value.items()}
        return value

    resolved = []
    for position, line in lines:
        label = _label(position, line.source, line.target)
        changes: dict[str, Any] = {}
        if line.source and line.source.startswith("@"):
            changes["source"] = resolve(line.source, label)
        steps = [step.model_copy(update={"params": resolve(step.params, label)}) for step in line.transforms]
        if steps != line.transforms:
            changes["transforms"] = steps
        resolved.append((position, line.model_copy(update=changes) if changes else line))
    return resolved


def compile_mapping(
    definition: FlowMapping | Mapping[str, Any],
    *,
    model: type[BaseModel] | None = None,
    known_tables: Sequence[str] | None = None,
    profile: ApiProfile | None = None,
) -> Mapper:
    """Check a flow mapping and compile it.  Raises ``MappingDefinitionError`` listing every problem.

    ``model`` overrides the flow's canonical model (``FLOW_MODELS``).  When ``known_tables`` is given,
    ``map_table`` lines must name one of those tables.  Sources and transform parameters written as profile
    references (``@article.ean``) become the field names of ``profile`` (default: the shipped profile), so the
    shipped mappings follow a tenant whose names differ.
    """
    if isinstance(definition, Mapping):
        try:
            definition = FlowMapping.model_validate(definition)
        except ValidationError as exc:
            flow = definition.get("flow", "?")
            raise MappingDefinitionError(str(flow), [_definition_problem(e) for e in exc.errors()]) from None
    flow = definition.flow
    errors: list[Text] = []
    model = model or FLOW_MODELS.get(flow)
    if model is None:
        raise MappingDefinitionError(flow, [msg("mapping.def.unknown_flow", flow=repr(flow), flows=list(FLOW_MODELS))])
    tables = frozenset(known_tables) if known_tables is not None else None

    lines = [(pos, line) for pos, line in _parse_lines(definition.lines, errors) if line.active]
    lines = _resolve_references(lines, profile or ApiProfile.default(), errors)
    lines.sort(key=lambda pl: pl[1].sequence)  # stable: equal sequences keep their written order

    steps: list[_Step] = []
    groups: dict[tuple[str, ...], _Group] = {}
    seen: dict[str, Text] = {}  # output path -> label, for duplicate and overlap checks
    for position, line in lines:
        label = _label(position, line.source, line.target)
        before = len(errors)
        try:
            target = resolve_target(model, line.target)
        except TargetError as exc:
            errors.append(_at(label, exc))
            continue
        source = None
        if line.source:
            try:
                source = SourcePath(line.source)
            except PathError as exc:
                errors.append(_at(label, exc))
        if source is not None and (source.collection is None) != (target.collection is None):
            if source.collection is not None:
                errors.append(_at(label, msg("mapping.def.source_is_list", source=repr(line.source))))
            else:
                errors.append(_at(label, msg("mapping.def.target_is_list", target=repr(line.target))))
            continue
        group = None
        if target.collection is not None:
            group = groups.get(target.collection)
            if group is None and source is not None:
                group = groups[target.collection] = _Group(source.collection, target.collection)
            elif group is not None and source is not None and not group.source:
                group.source = source.collection  # declared by an earlier line without a source
            elif group is not None and source is not None and group.source != source.collection:
                same = msg("mapping.def.same_list", target=".".join(target.collection), source=".".join(group.source))
                errors.append(_at(label, same))
                continue

        def compile_field(path: str, _group=group, _target=target) -> Callable[[Context], Any]:
            parsed = SourcePath(path)
            if parsed.collection is not None and _group is not None and not _group.source:
                _group.source = parsed.collection
            if parsed.collection is not None and (_group is None or parsed.collection != _group.source):
                raise PathError(msg("mapping.def.outside_list", path=repr(path)))
            return parsed.get

        bctx = BuildContext(compile_field=compile_field, known_tables=tables)
        fns: list[tuple[str, TransformFn]] = []
        for n, step in enumerate(line.transforms, start=1):
            try:
                fns.append((step.name, build_transform(step.name, step.params, bctx)))
            except TransformDefinitionError as exc:
                errors.append(_at(label, msg("mapping.def.transform", n=n, message=exc.args[0])))
        if len(errors) > before:
            continue

        out_path = ".".join((target.collection or ()) + ("[]",) * (target.collection is not None) + target.keys)
        for other_path, other_label in seen.items():
            if other_path == out_path:
                errors.append(_at(label, msg("mapping.def.written_twice", target=repr(line.target), other=other_label)))
                break
            if other_path.startswith(out_path + ".") or out_path.startswith(other_path + "."):
                errors.append(_at(label, msg("mapping.def.overlaps", target=repr(line.target), other=other_label)))
                break
        else:
            seen[out_path] = label
        compiled = _Step(label, line, source.get if source else None, fns, target)
        if target.collection is None:
            steps.append(compiled)
        elif group is None:
            # A list line without a source (constant/default): its group may be declared by a later line.
            groups.setdefault(target.collection, _Group((), target.collection)).steps.append(compiled)
        else:
            group.steps.append(compiled)

    for group in groups.values():
        if not group.source:
            errors.append(msg("mapping.def.no_source_list", target=".".join(group.target)))
    if errors:
        raise MappingDefinitionError(flow, errors)
    return Mapper(flow, model, steps, list(groups.values()))
