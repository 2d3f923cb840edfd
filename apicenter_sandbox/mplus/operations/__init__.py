"""The implemented Mplus operations; importing this package registers them in HANDLERS."""

from . import catalog, groups, orders, relations, sales, stock, system
from .registry import HANDLERS, Handler

__all__ = ["HANDLERS", "Handler", "catalog", "groups", "orders", "relations", "sales", "stock", "system"]
