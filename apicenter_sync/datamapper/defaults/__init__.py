"""Default mappings, shipped as JSON package data (one file per flow)."""

from __future__ import annotations

import json
from importlib import resources

from ...i18n import msg
from ..mapping import FlowMapping

__all__ = ["DEFAULT_FLOWS", "load_default_mapping"]

DEFAULT_FLOWS = ("products", "categories", "customers", "orders", "receipts", "invoices", "stock", "prices", "discounts")


def load_default_mapping(flow: str) -> FlowMapping:
    """The shipped default mapping of ``flow`` (a fresh object: callers may edit it)."""
    if flow not in DEFAULT_FLOWS:
        raise KeyError(msg("mapping.def.no_default", flow=repr(flow), flows=list(DEFAULT_FLOWS)))
    text = resources.files(__package__).joinpath(f"{flow}.json").read_text(encoding="utf-8")
    return FlowMapping.model_validate(json.loads(text))
