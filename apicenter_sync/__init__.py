"""apicenter_sync: the AccountView <-> MplusKASSA sync engine (no Odoo import)."""

__version__ = "0.1.0"
