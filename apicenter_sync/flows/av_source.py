"""Reading AccountView tables incrementally by their change date (the profile's ``change_date`` field).

Rows are paged in key order (keyset paging with ``lastKey``): a record edited
while we read cannot shift a page boundary and hide another row, as it could
when paging by page number over a change-date sort.

The watermark is the newest change date in the table *before* the read
starts (one extra request, on the server's own clock, so no clock skew or
time zone between us and AccountView matters). It is committed only when the
whole stream was read, so a stopped run reads the stream again (unchanged
records cost no write). The next run starts ``overlap_seconds`` before it, so
changes committed late are not missed; rows at exactly the watermark that
were already read are skipped. "Already read" means the same key *and* the
same change counter (``change_counter``): a record changed again within the
same second keeps its change date and must not be skipped.

A change date that is no date ("2026-13-45") or lies far in the future
("9999-12-31") never becomes the watermark: one such row would otherwise push
the watermark past every real change to come (or stop every run on a date
that cannot be parsed). Such rows are still synced, on every run (unchanged
ones cost no write), and a warning names them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from ..clients.accountview import Filter
from ..clients.accountview_filters import rows_in
from ..clients.accountview_values import LOCAL_TZ
from ..profile import ObjectSpec
from .base import Batch, Flow

# A change date more than this ahead of our clock is not trusted as a watermark (clock skew allowance).
MAX_FUTURE = timedelta(days=1)
NEWEST_PROBE = 20  # rows read to find the newest plausible change date
CURSOR_SUFFIX = ":cursor"  # watermark stream of a read in progress (see changed_batches)

_log = logging.getLogger(__name__)


def parse_av_datetime(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    return datetime.fromisoformat(value[:19])


def _changed(row: dict, field: str) -> str:
    return str(row.get(field) or "")[:19]


def plausible(changed: str, now: datetime | None = None) -> bool:
    """A change date that can be a watermark: a real date and time, not far in the future."""
    try:
        moment = parse_av_datetime(changed)
    except ValueError:
        return False
    if moment is None:
        return False
    now = now or datetime.now(LOCAL_TZ).replace(tzinfo=None)
    return moment <= now + MAX_FUTURE


def newest_change(flow: Flow, obj: ObjectSpec) -> str | None:
    """The newest plausible change date of the object's table (see :func:`plausible`), None when there is none."""
    change = flow.names.change_date.name
    page = flow.av.iter_pages(obj.reader, obj.table, fields=[obj.key_field, change], sort=[change],
                              descending=True, page_size=NEWEST_PROBE)  # fmt: skip
    first = next(page, None)
    page.close()
    rows = first.get(obj.table.upper(), []) if first else []
    for row in rows:
        changed = _changed(row, change)
        if plausible(changed):
            return changed
        _log.warning("%s %s %s: change date %r is no date or lies in the future; not used as the watermark",
                     flow.name, obj.table, str(row.get(obj.key_field, "")).strip(), row.get(change))  # fmt: skip
    return None


def changed_batches(flow: Flow, obj: ObjectSpec, *, stream: str = "default", filters: tuple = ()) -> Iterator[Batch]:
    """Batches of ``batch_size`` rows changed since the stream's watermark (everything on a full run); a last,
    empty batch moves the watermark once everything was read.

    Every batch also stores a cursor (the watermark stream ``<stream>:cursor``): the key of its last row, the
    watermark the read is heading for and the ids done at it. A read stopped on purpose (``RunOptions.limit``: an
    Odoo job handles a few batches, the next job goes on) or by a crash goes on after that key towards the same
    watermark, instead of reading the stream again from its start. The last batch clears the cursor."""
    mark = flow.store.watermarks.get(flow.name, stream)
    # A stored watermark that is no plausible date (written before this check existed) starts over with a full read.
    full = flow.from_start or not mark.value or not plausible(mark.value)
    cursor_stream = stream + CURSOR_SUFFIX
    cursor = None if flow.from_start else _read_cursor(flow, cursor_stream)
    if cursor is not None:
        watermark, after, at_watermark = cursor
    else:
        watermark, after, at_watermark = newest_change(flow, obj), None, []
    change, counter, key = flow.names.change_date.name, flow.names.change_counter.name, obj.key_field
    query = list(filters)
    if not full:
        overlap = timedelta(seconds=int(flow.settings.get("overlap_seconds", 30)))
        query.append(Filter.on_or_after(change, parse_av_datetime(mark.value) - overlap))
    size = int(flow.settings.get("batch_size") or 100)
    skip = mark.processed_ids if not full else frozenset()
    paging_key = flow.av.paging_key(obj.table)
    batch: list[dict] = []

    def cut() -> Batch:
        state = json.dumps({"until": watermark, "after": str(batch[-1].get(paging_key, ""))})
        return Batch(batch, stream=stream, cursor=(cursor_stream, state, tuple(at_watermark)))

    rows = flow.av.iter_rows(obj.reader, obj.table, filters=query, page_size=min(max(size, 100), 1000),
                             start_after=after)  # fmt: skip
    for row in rows:
        changed, row_key = _changed(row, change), done_id(row, key, counter)
        if watermark and changed > watermark and plausible(changed):
            continue  # changed after the read began: the next run takes it, with its final content
        if changed == watermark:
            at_watermark.append(row_key)
        if changed == mark.value and row_key in skip:
            continue
        batch.append(row)
        if len(batch) >= size:
            yield cut()
            batch = []
    if batch:
        yield cut()
    end = (cursor_stream, None, ())
    if watermark:
        yield Batch([], stream=stream, watermark=watermark, processed_ids=tuple(at_watermark), cursor=end)
    else:
        yield Batch([], stream=stream, cursor=end)


def _read_cursor(flow: Flow, cursor_stream: str) -> tuple[str | None, str, list[str]] | None:
    """(watermark heading for, key to go on after, ids done at that watermark) of a stopped read, or None."""
    stored = flow.store.watermarks.get(flow.name, cursor_stream)
    if not stored.value:
        return None
    try:
        state = json.loads(stored.value)
        until, after = state["until"], str(state["after"])
    except (ValueError, KeyError, TypeError):
        _log.warning("%s %s: unreadable cursor %r; reading the stream from its start", flow.name, cursor_stream,
                     stored.value)  # fmt: skip
        return None
    if until is not None and not plausible(str(until)):
        return None
    _log.info("%s: going on after %s %r (a read stopped there)", flow.name, cursor_stream, after)
    return until, after, sorted(stored.processed_ids)


def done_id(row: dict, key: str, counter_field: str) -> str:
    """What the watermark remembers of a row done at its date: the key, with the change counter when there is one."""
    ident = str(row.get(key, "")).strip()
    counter = row.get(counter_field)
    return ident if counter in (None, "") else f"{ident}#{counter}"


def rows_by_keys(flow: Flow, obj: ObjectSpec, keys: list[str], field: str | None = None) -> list[dict]:
    """The rows whose ``field`` (default: the key) is one of ``keys`` (to retry failed records), one request per
    chunk of keys, one per key that cannot go in a list filter (a comma, a quote: accountview_filters.rows_in)."""
    return list(rows_in(flow.av, obj.reader, obj.table, field or obj.key_field, keys, page_size=100))
