"""MplusKASSA SOAP sandbox: the API of the till, answered from a seeded World."""

from .app import MplusSandbox
from .seed import SHIPPING_ARTICLE_NUMBER

__all__ = ["MplusSandbox", "SHIPPING_ARTICLE_NUMBER"]
