"""Which AccountView articles are synced at all: settings ``filter_groups``, ``filter_field``, ``filter_value``, and
the ``products`` rows of the mapping table ``record_filters`` (``apicenter_sync/record_filters.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import record_filters
from ..clients.accountview_filters import rows_in
from ..errors import ConfigError

_TRUE = {"true", "1", "yes", "y", "t", "j", "ja"}


@dataclass
class ArticleFilter:
    groups: frozenset[str]
    field: str
    value: str
    flow: object = None  # the flow, to read article rows when only SKUs are known
    conditions: tuple = ()  # record_filters rows of products: every one must hold

    @classmethod
    def from_settings(cls, flow) -> ArticleFilter:
        s = flow.settings
        groups = frozenset(g.strip().upper() for g in s.get("filter_groups") or () if g.strip())
        try:
            conds = tuple(record_filters.conditions(flow.tables, "products"))
        except ValueError as exc:
            raise ConfigError(exc.args[0]) from None
        return cls(groups, (s.get("filter_field") or "").strip(), str(s.get("filter_value", "true")), flow, conds)

    @property
    def active(self) -> bool:
        return bool(self.groups or self.field or self.conditions)

    def matches(self, article_row: dict) -> bool:
        if self.groups and str(article_row.get(self.flow.names.article["group"], "")).strip().upper() not in self.groups:
            return False
        if self.field and not _same(article_row.get(self.field), self.value):
            return False
        if self.conditions:
            value_of = record_filters.row_value(article_row, self.flow.names.article)
            return record_filters.first_failing(list(self.conditions), value_of) is None
        return True

    def allowed(self, skus: list[str]) -> set[str]:
        """The SKUs that pass, reading their article rows in one request per 50 when a filter is active."""
        if not self.active:
            return set(skus)
        keep: set[str] = set()
        unique = sorted(set(skus))
        art = self.flow.names.article
        rows = rows_in(self.flow.av, art.code, art.table, art.key_field, unique)
        keep.update(str(r.get(art.key_field, "")).strip() for r in rows if self.matches(r))
        return keep


def _same(actual, wanted: str) -> bool:
    if isinstance(actual, bool):
        return actual == (wanted.strip().lower() in _TRUE)
    return str(actual if actual is not None else "").strip().lower() == wanted.strip().lower()
