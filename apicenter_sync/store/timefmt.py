"""UTC timestamps as fixed-width text, so string order is time order in SQL comparisons and indexes."""

from __future__ import annotations

from datetime import UTC, datetime

from ..i18n import msg

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError(msg("store.naive_datetime"))
    return dt.astimezone(UTC).strftime(_FORMAT)


def from_ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)
