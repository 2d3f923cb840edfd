"""Mask secrets before anything is logged or stored.

The activity log keeps source and target payloads, replies and error texts for weeks; an OAuth token or the
Mplus ``ident``/``secret`` pair (sent as query parameters) in any of them would leak credentials to everyone who
can read the log. Every payload and message the log stores goes through :func:`redact` / :func:`redact_text`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

MASK = "***"

# Keys compared after lower-casing and dropping "-" and "_", so "Client-Secret", "client_secret" and
# "clientSecret" are one key. Exact names are for keys that are too short or too common to match as substrings
# ("ident" would otherwise hit "identifier").
_EXACT_KEYS = frozenset({"ident", "authorization", "proxyauthorization", "cookie", "setcookie", "apikey", "xapikey"})
_KEY_PARTS = ("secret", "password", "passwd", "token", "apikey", "privatekey")

# Credentials that travel inside free text: URLs with query parameters, "Authorization: Bearer …" headers.
_QUERY_RE = re.compile(
    r"(?i)\b(ident|secret|password|passwd|token|access_token|refresh_token|client_secret|api_key|apikey|code)"
    r"=([^&\s\"'<>]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# An e-mail address in a text that outlives the payloads (errors, notes, digests, chatter): docs/privacy.md.
_EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
EMAIL_MASK = "[e-mail address]"
_PLAIN = frozenset({int, float, bool, type(None), Decimal, bytes})


@lru_cache(maxsize=8192)
def _is_secret_name(key: str) -> bool:
    norm = key.lower().replace("-", "").replace("_", "")
    return norm in _EXACT_KEYS or any(part in norm for part in _KEY_PARTS)


def is_secret_key(key: object) -> bool:
    # Cached: payloads repeat the same few hundred field names on every record (bench/README.md, profile).
    return isinstance(key, str) and _is_secret_name(key)


def redact_text(text: str) -> str:
    """Mask credentials embedded in a string (query parameters, bearer tokens)."""
    if "=" in text:  # every query-parameter credential has one
        text = _QUERY_RE.sub(lambda m: f"{m.group(1)}={MASK}", text)
    if len(text) < 14:  # "basic" + a space + 8 characters is the shortest bearer/basic credential
        return text
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {MASK}", text)


def mask_emails(text: str) -> str:
    """``text`` with every e-mail address replaced by :data:`EMAIL_MASK`. For the texts kept longer than the
    payloads (an error, a note, a digest): they name the record by its reference (debtor number, order), so a
    person's address does not live on there after the payloads are purged. A server that echoes one is covered."""
    return _EMAIL_RE.sub(EMAIL_MASK, text) if "@" in text else text


def redact(obj: Any) -> Any:
    """Return a copy of ``obj`` with every value under a secret-looking key masked, at any depth.

    Accepts JSON-like data (dicts, lists, tuples, scalars) plus dataclasses and pydantic models, which are
    converted to dicts first. Empty values are kept as they are so "no token configured" stays visible.
    """
    kind = type(obj)
    if kind is str:
        return redact_text(obj)
    if kind in _PLAIN:  # most values of a payload: nothing to look into
        return obj
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            secret = type(key) is str and _is_secret_name(key)
            if secret and value not in (None, "", b""):
                out[key] = MASK
                continue
            # Inlined for the scalars most values are (a debtor row has 189 fields): no call per value.
            value_kind = type(value)
            if value_kind in _PLAIN:
                out[key] = value
            elif value_kind is str:
                out[key] = redact_text(value) if "=" in value or len(value) >= 14 else value
            else:
                out[key] = redact(value)
        return out
    if isinstance(obj, list | tuple | set | frozenset):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return redact(dataclasses.asdict(obj))
    dump = getattr(obj, "model_dump", None)
    if callable(dump):  # pydantic v2 model, without importing pydantic here
        return redact(dump(mode="json"))
    return obj


# The activity log keeps payloads for weeks: one hostile value (a 20 MB article description) must not become
# 20 MB per log line and attempt. Longer texts are cut, with a note saying how long they were.
MAX_STORED_TEXT = 65_536


def bound_texts(obj: Any, limit: int = MAX_STORED_TEXT) -> Any:
    """``obj`` (JSON-like, as :func:`redact` returns it) with every string longer than ``limit`` cut short."""
    kind = type(obj)
    if kind is str:
        return obj if len(obj) <= limit else f"{obj[:limit]}… [cut: {len(obj):,} characters]"
    if kind is dict:
        return {k: v if type(v) in _PLAIN or (type(v) is str and len(v) <= limit) else bound_texts(v, limit)
                for k, v in obj.items()}  # fmt: skip
    if kind is list:
        return [bound_texts(v, limit) for v in obj]
    return obj
