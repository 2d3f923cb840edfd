"""Dotted source paths: parsing and fast getters.

A source path names a value in a source record: ``EAN_FIELD``,
``invoiceAddress.zipcode``, ``orderNumber.number`` or, inside a list,
``lineList.line[].data.price``.  At most one ``[]`` may appear: it marks the
list whose items a group of mapping lines is applied to (order lines,
payments).  A segment of digits indexes a list (``invoiceIds.id.0``).

Getters are built once per mapping line; applying them is a handful of dict
lookups, which is what keeps the datamapper fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..i18n import msg

__all__ = ["Context", "SourcePath", "PathError", "parse_source_path", "read"]

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+"
_SOURCE_RE = re.compile(rf"^(?:{_SEGMENT})(?:\[\])?(?:\.(?:{_SEGMENT})(?:\[\])?)*$")


class PathError(ValueError):
    """A path is not valid syntax (raised while a mapping is loaded); its first argument is the message."""


class Context:
    """What a transform may look at while one record is mapped."""

    __slots__ = ("root", "item", "tables")

    def __init__(self, root: Any, item: Any, tables: Mapping[str, Mapping[str, Any]]):
        self.root = root  # the whole source record
        self.item = item  # the current list item inside a ``[]`` group, else None
        self.tables = tables  # mapping tables by name


def _step(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    if isinstance(obj, list | tuple):
        if key.isdigit():
            index = int(key)
            return obj[index] if index < len(obj) else None
        return None
    # zeep CompoundValue and similar objects: plain attribute access, never a call, never a dunder
    return None if key.startswith("__") else getattr(obj, key, None)


def read(obj: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        obj = _step(obj, key)
        if obj is None:
            return None
    return obj


def _getter(keys: tuple[str, ...], use_item: bool) -> Callable[[Context], Any]:
    # Specialise the one-key dict case: most AccountView fields are flat row keys.
    if len(keys) == 1:
        key = keys[0]
        if use_item:

            def get_item1(ctx: Context) -> Any:
                item = ctx.item
                return item.get(key) if type(item) is dict else _step(item, key)

            return get_item1

        def get_root1(ctx: Context) -> Any:
            root = ctx.root
            return root.get(key) if type(root) is dict else _step(root, key)

        return get_root1
    if use_item:
        return lambda ctx: read(ctx.item, keys)
    return lambda ctx: read(ctx.root, keys)


class SourcePath:
    """A parsed source path: ``collection`` is the part before ``[]`` (or None), ``keys`` the rest."""

    __slots__ = ("text", "collection", "keys", "get")

    def __init__(self, text: str):
        if not isinstance(text, str) or not _SOURCE_RE.match(text):
            raise PathError(msg("mapping.path.invalid", path=repr(text)))
        if any(segment.startswith("__") for segment in text.replace("[]", "").split(".")):
            raise PathError(msg("mapping.path.dunder", path=repr(text)))
        if text.count("[]") > 1:
            raise PathError(msg("mapping.path.two_lists", path=repr(text)))
        self.text = text
        if "[]" in text:
            before, _, after = text.partition("[]")
            self.collection: tuple[str, ...] | None = tuple(before.split("."))
            self.keys: tuple[str, ...] = tuple(after.lstrip(".").split(".")) if after else ()
            if not self.keys:
                raise PathError(msg("mapping.path.no_item_field", path=repr(text)))
        else:
            self.collection = None
            self.keys = tuple(text.split("."))
        self.get: Callable[[Context], Any] = _getter(self.keys, self.collection is not None)


def parse_source_path(text: str) -> SourcePath:
    return SourcePath(text)
