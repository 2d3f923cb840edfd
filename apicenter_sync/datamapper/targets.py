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

__all__ = ["Target", "TargetError", "resolve_target"]

_TARGET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\])?)*$")


class TargetError(ValueError):
    pass


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
        raise TargetError(f"invalid target path {text!r} (expected dotted names like 'billing_address.city')")
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
            raise TargetError(f"unknown canonical field {where!r} for {current.__name__}")
        tp = _unwrap_optional(field.annotation)
        origin = get_origin(tp)
        keys.append(name)
        if _is_model(tp):
            if is_list:
                raise TargetError(f"{where!r} is not a list; remove '[]'")
            if last:
                raise TargetError(
                    f"{where!r} is an object; map one of its fields, e.g. '{where}.{next(iter(tp.model_fields))}'"
                )
            current = tp
            continue
        if origin is list and get_args(tp) and _is_model(get_args(tp)[0]):
            if not is_list:
                raise TargetError(f"{where!r} is a list; map its items as '{where}[].<field>'")
            if collection is not None:
                raise TargetError(f"{text!r}: only one '[]' list level is supported")
            if last:
                raise TargetError(f"{where!r} is a list of objects; map one of their fields, e.g. '{where}[].<field>'")
            collection, keys = tuple(keys), []
            current = get_args(tp)[0]
            continue
        if is_list:
            raise TargetError(f"{where!r} is not a list of objects; remove '[]'")
        if origin is dict:
            rest = segments[i + 1 :]
            if not rest:
                raise TargetError(f"{where!r} is a dictionary; name a key, e.g. '{where}.<key>'")
            if any(s.endswith("[]") for s in rest):
                raise TargetError(f"'[]' is not allowed below the dictionary {where!r}")
            keys.extend(rest)
            return Target(text, collection, tuple(keys), False)
        if not last:
            raise TargetError(f"{where!r} is a plain value and has no field {segments[i + 1].removesuffix('[]')!r}")
        return Target(text, collection, tuple(keys), origin is list)
    raise TargetError(f"invalid target path {text!r}")  # unreachable: the loop returns or raises
