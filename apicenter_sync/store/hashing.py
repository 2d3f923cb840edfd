"""Canonical JSON and the payload hash kept on bindings ("nothing is written when the payload is unchanged")."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _default(obj: Any) -> Any:
    # Decimal -> text, not float: float noise must not make an unchanged price look changed.
    if isinstance(obj, Decimal):
        # normalised so 10.50 and 10.5 hash the same; "f" so 10 is not written as 1E+1.
        return format(obj.normalize(), "f")
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj, key=repr) if isinstance(obj, set | frozenset) else list(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def canonical_json(obj: Any) -> str:
    """Key-sorted, whitespace-free JSON: equal data gives equal text whatever the dict order."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def payload_hash(obj: Any) -> str:
    """sha256 hex digest of :func:`canonical_json` of the target payload."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
