"""Canonical target paths, checked against the pydantic model of the flow.

``name``, ``billing_address.postcode``, ``features.country_of_origin``,
``extra.priceIncl`` (any key below a dict field: passed straight to the target
API) and, for list-of-model fields, ``lines[].sku``.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..i18n import msg

__all__ = ["Target", "TargetError", "resolve_target"]

_TARGET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\])?)*$")


class TargetError(ValueError):
    """A target path names no canonical field the way it is written; its first argument is the message."""


@dataclass(frozen=True)
class Target:
    text: str
    collection: tuple[str, ...] | None  # output keys of the list (("lines",)) for a "[]" target
    keys: tuple[str, ...]  # output keys, inside the list item when ``collection`` is set
    wrap_list: bool  # the field is a list of scalars: a single value becomes a one-item list


def _unwrap_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def resolve_target(model: type[BaseModel], text: Any) -> Target:
    if not isinstance(text, str) or not _TARGET_RE.match(text):
        raise TargetError(msg("mapping.target.invalid", path=repr(text)))
    segments = text.split(".")
    collection: tuple[str, ...] | None = None
    keys: list[str] = []
    current = model
    for i, raw in enumerate(segments):
        name = raw.removesuffix("[]")
        is_list = raw.endswith("[]")
        last = i == len(segments) - 1
        where = ".".join(s.removesuffix("[]") for s in segments[: i + 1])
        field = current.model_fields.get(name)
        if field is None:
            raise TargetError(msg("mapping.target.unknown", field=repr(where), model=current.__name__))
        tp = _unwrap_optional(field.annotation)
        origin = get_origin(tp)
        keys.append(name)
        if _is_model(tp):
            if is_list:
                raise TargetError(msg("mapping.target.not_a_list", field=repr(where)))
            if last:
                example = f"{where}.{next(iter(tp.model_fields))}"
                raise TargetError(msg("mapping.target.an_object", field=repr(where), example=example))
            current = tp
            continue
        if origin is list and get_args(tp) and _is_model(get_args(tp)[0]):
            if not is_list:
                raise TargetError(msg("mapping.target.a_list", field=repr(where), example=f"{where}[].<field>"))
            if collection is not None:
                raise TargetError(msg("mapping.target.two_lists", path=repr(text)))
            if last:
                raise TargetError(msg("mapping.target.list_of_objects", field=repr(where), example=f"{where}[].<field>"))
            collection, keys = tuple(keys), []
            current = get_args(tp)[0]
            continue
        if is_list:
            raise TargetError(msg("mapping.target.not_list_of_objects", field=repr(where)))
        if origin is dict:
            rest = segments[i + 1 :]
            if not rest:
                raise TargetError(msg("mapping.target.a_dictionary", field=repr(where), example=f"{where}.<key>"))
            if any(s.endswith("[]") for s in rest):
                raise TargetError(msg("mapping.target.list_below_dictionary", field=repr(where)))
            keys.extend(rest)
            return Target(text, collection, tuple(keys), False)
        if not last:
            child = segments[i + 1].removesuffix("[]")
            raise TargetError(msg("mapping.target.plain_value", field=repr(where), child=repr(child)))
        return Target(text, collection, tuple(keys), origin is list)
    raise TargetError(msg("mapping.target.invalid", path=repr(text)))  # unreachable: the loop returns or raises
