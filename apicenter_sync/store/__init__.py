"""State store: bindings, watermarks, mapping tables, settings and the activity log.

``interfaces`` holds the protocols both implementations follow (``sqlite`` here, the ORM in the Odoo addon).
"""

from .hashing import canonical_json, payload_hash
from .interfaces import (
    ActivityLog,
    Binding,
    BindingConflict,
    BindingStore,
    LogLine,
    MappingStore,
    PurgeResult,
    Run,
    SettingsStore,
    Store,
    Watermark,
    WatermarkStore,
)
from .sqlite import SqliteStore

__all__ = [
    "ActivityLog",
    "Binding",
    "BindingConflict",
    "BindingStore",
    "LogLine",
    "MappingStore",
    "PurgeResult",
    "Run",
    "SettingsStore",
    "SqliteStore",
    "Store",
    "Watermark",
    "WatermarkStore",
    "canonical_json",
    "payload_hash",
]
