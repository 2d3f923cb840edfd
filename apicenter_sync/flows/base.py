"""What every flow shares: the run loop, per-record isolation, logging, watermarks and dry runs.

A flow reads its source in batches, turns each record into an :class:`Outcome`
(created, updated, unchanged, skipped, failed or dry_run) and commits each
batch in one unit of work: bindings, log lines and the watermark together, so
a crash never leaves the watermark ahead of work that was not recorded.

One bad record never stops the batch: its error goes on its own log line, with
an automatic retry time when the cause may go away by itself (a transient
error, an article that does not exist yet). Failed records are re-read by id
at the start of every run until they succeed, so the watermark can move on
without ever losing them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..datamapper import Mapper, MappingDefinitionError, MappingError, compile_mapping, load_default_mapping
from ..errors import AuthError, ConfigError, RecordError, SyncError
from ..i18n import Msg, Text, bounded, msg, render, setting_ref, with_step_messages
from ..profile import ApiProfile
from ..store import Binding, LogLine, Store, payload_hash
from ..store.interfaces import Action, BindingConflict, Direction
from .side_by_side import SideBySide

_log = logging.getLogger("apicenter_sync.flows")
WAIT_DAYS = 7  # default of the setting wait_days: how long a record waiting for master data is retried
# A write that failed with one of these (nested in the record's error) may still be under way at the server.
NO_REPLY_IN_TIME = frozenset({"clients.read_timeout", "clients.read_timeout_because", "clients.deadline",
                              "orders.post_unsettled"})
MAX_RETRY_DELAY = 3600  # seconds: the backoff of automatic retries doubles up to this
SWITCHED_OFF = "switched_off"  # stream of the notice that a step is off (an object the API profile says is absent)
MAX_ERROR_TEXT = 2000  # characters of a record's error message kept on its log line
MAX_SOURCE_ID = 200
# Flows whose records need those of other flows at the target (stock and prices need the articles, prices the
# relations too). Flow.run does not start such a flow while another runner holds the lock of a flow it needs, in
# any process on the same store; the Odoo jobs wait for them too (apicenter_connector). engine.NEEDS is this.
NEEDS: dict[str, tuple[str, ...]] = {"stock": ("products",), "prices": ("products", "customers")}


@dataclass
class Outcome:
    """What happened to one source record."""

    entity: str
    source_id: str
    action: Action
    target_id: str | None = None
    source_payload: Any = None
    target_payload: Any = None
    reply: Any = None
    error: Text | None = None  # a catalogue message (i18n.Msg) for anything a person reads
    retry: bool = False  # failed, but worth an automatic retry later
    bindings: list[Binding] = field(default_factory=list)  # to store when the batch commits
    message: Text | None = None  # a short note for "skipped" (why)
    wait: str | None = None  # failed, waiting for master data: "articles" or "mapping" (retried for days, not tries)


@dataclass
class Batch:
    """Source records read together, and where the watermark stands once they are done."""

    records: list[dict]
    stream: str = "default"
    watermark: str | None = None  # None: this batch does not move the watermark (retries, full lookups)
    processed_ids: tuple[str, ...] = ()
    # Where a stopped read of the stream resumes: (cursor stream, value, ids), stored with the batch's commit as a
    # watermark of its own; value None clears it (the stream was read to its end). See av_source.changed_batches.
    cursor: tuple[str, str | None, tuple[str, ...]] | None = None


@dataclass
class RunOptions:
    dry_run: bool = False
    full: bool = False  # ignore watermarks and payload hashes: re-read and re-send everything
    limit: int | None = None  # stop after this many source records; the next run goes on from there
    max_batches: int | None = None  # stop after this many batches with records (an Odoo job's share)
    resume: bool = False  # this run continues one that stopped at its limit: a full run does not start over
    progress: Callable[[str, int, int | None], None] | None = None  # (flow, records done, total if known)


@dataclass
class RunResult:
    flow: str
    run_id: int | None
    mode: str
    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, Text]] = field(default_factory=list)  # (source id, error)
    planned: list[Outcome] = field(default_factory=list)  # dry run: what would be written
    error: Text | None = None  # the run itself stopped (auth, configuration, source unreachable)
    transient: bool = False  # that stop may pass by itself (timeout, 5xx, connection refused): worth a retry
    system: str = ""  # the system whose call stopped the run ("accountview", "mplus"; "" for anything else)
    auth: bool = False  # it stopped on an authentication error: a person must reconnect (apicenter_sync.outage)
    seconds: float = 0.0
    locked_out: bool = False  # another run of the same flow held the flow lock: nothing was done
    more: bool = False  # stopped at options.limit / max_batches with records left: a run with resume=True goes on
    budget_spent: bool = False  # stopped because run_budget_seconds was spent; the next run goes on from there

    @property
    def ok(self) -> bool:
        return self.error is None


class Flow:
    """Base of the five flows. Subclasses implement :meth:`read_batches`, :meth:`fetch_by_ids`, :meth:`process`."""

    name = ""
    direction: Direction = "av_to_mplus"
    entity = ""  # the main entity of the log lines and retries

    def __init__(self, store: Store, accountview, mplus, options: RunOptions | None = None, *,
                 profile: ApiProfile | None = None):  # fmt: skip
        self.store = store
        self.av = accountview
        self.mplus = mplus
        self.options = options or RunOptions()
        self.profile = profile or ApiProfile.default()
        self.names = self.profile.accountview  # every AccountView object, table and field name (the API profile)
        self.settings = store.settings.all(self.name)
        self._tables: dict[str, dict[str, str]] | None = None
        self._mapper: Mapper | None = None
        self._other_mappers: dict[str, Mapper] = {}
        self.run_id: int | None = None
        self._prior: dict[tuple[str, str | None], LogLine] = {}  # open failures retried in this run, by record
        self._refused = 0  # records given up on in this run (waited longer than wait_days)
        self._side_by_side: SideBySide | None = None  # see concurrently()

    # --- for subclasses ----------------------------------------------------------------------------------
    def read_batches(self) -> Iterator[Batch]:
        """Changed source records since the watermark (all of them when ``options.full``)."""
        raise NotImplementedError

    def fetch_by_ids(self, source_ids: list[str], entity: str) -> list[dict] | None:
        """Source records of ``entity`` by id, to retry failed ones; ids that no longer exist are left out. None:
        they cannot be read now (their object is switched off), so their failures stay open."""
        raise NotImplementedError

    def source_id(self, record: dict) -> str:
        raise NotImplementedError

    def process(self, record: dict) -> Outcome:
        raise NotImplementedError

    def prepare(self) -> None:
        """Once per run before the first batch (reference data, caches)."""

    def process_batch(self, batch: Batch) -> list[Outcome]:
        """Per record by default; flows override it to look a whole batch up at the target in one call."""
        return [self.guarded(record, self.process) for record in batch.records]

    # --- helpers -----------------------------------------------------------------------------------------
    @property
    def dry_run(self) -> bool:
        return self.options.dry_run or bool(self.settings.get("dry_run"))

    @property
    def tables(self) -> dict[str, dict[str, str]]:
        if self._tables is None:
            self._tables = {name: self.store.mappings.get_table(name) for name in self.store.mappings.list_tables()}
        return self._tables

    def mapper(self, flow: str | None = None) -> Mapper:
        """The flow's datamapper: the user's lines when customised, else the shipped defaults."""
        flow = flow or self.name
        if flow == self.name and self._mapper is not None:
            return self._mapper
        if flow in self._other_mappers:  # compiled once per run: compiling costs ~2 ms (bench/README.md)
            return self._other_mappers[flow]
        lines = self.store.mappings.get_datamapper(flow)
        definition = {"flow": flow, "lines": lines} if lines is not None else load_default_mapping(flow)
        try:
            mapper = compile_mapping(definition, profile=self.profile)
        except SyncError:
            raise
        except MappingDefinitionError as exc:  # a stored definition that no longer compiles: every problem
            raise ConfigError(msg("flows.datamapper_invalid", flow=flow, error=exc.errors)) from exc
        except Exception as exc:
            raise ConfigError(msg("flows.datamapper_invalid", flow=flow, error=str(exc))) from exc
        if flow == self.name:
            self._mapper = mapper
        else:
            self._other_mappers[flow] = mapper
        return mapper

    @property
    def from_start(self) -> bool:
        """Read every source record from the start: a full run, but not the continuation of one."""
        return self.options.full and not self.options.resume

    def concurrently(self, fn: Callable[[Any], Any], items: list) -> list:
        """``[fn(item) for item in items]``, with up to ``write_concurrency`` calls at a time while the writes wait
        on the network (side_by_side.py): remote writes of one batch that do not depend on each other. ``fn`` must
        not touch the store; results come back in the order of ``items``."""
        if self._side_by_side is None:  # one per run, closed when the run ends
            workers = int(self.settings.get("write_concurrency") or 1)
            self._side_by_side = SideBySide(workers, f"{self.name}-write", retried=self._retried_calls)
        return self._side_by_side.map(fn, items)

    def _retried_calls(self) -> int:
        return sum(getattr(client, "retry_count", 0) for client in (self.av, self.mplus))

    def available(self, name: str) -> bool:
        """Whether the AccountView object ``name`` of the profile can be read (an optional one may be switched off)."""
        obj = self.names.objects[name]
        return obj.available or not obj.optional

    def switched_off(self) -> Iterator[Batch]:
        """One notice per run for each step of this flow that the profile switches off (an optional object it says
        the administration lacks): what is no longer filled, and the mapping table or setting that can fill it."""
        steps = self.profile.switched_off(self.name)
        if steps:
            yield Batch([{"profile": step.key, "message": step.notice()} for step in steps], stream=SWITCHED_OFF)

    def unchanged(self, binding: Binding | None, digest: str) -> bool:
        return not self.options.full and binding is not None and binding.is_unchanged(digest)

    def guarded(self, record: dict, fn: Callable[[dict], Outcome]) -> Outcome:
        """Run ``fn`` on one record; any error becomes a failed outcome for that record only."""
        try:
            return fn(record)
        except AuthError:
            raise  # nobody can proceed: stop the run
        except Exception as exc:  # noqa: BLE001 - per-record isolation is the point
            return self.failure(record, exc)

    def failure(self, record: dict, exc: BaseException, entity: str | None = None) -> Outcome:
        try:
            source_id = self.source_id(record)
        except Exception:  # noqa: BLE001 - a record too broken to have an id
            source_id = "?"
        if len(source_id) > MAX_SOURCE_ID:  # a hostile key (a 20 MB "SKU") must not fill the log
            source_id = source_id[: MAX_SOURCE_ID - 1] + "…"
        wait = getattr(exc, "wait", None)
        message: Text
        if isinstance(exc, SyncError):
            message, retry = exc.text(), exc.transient or getattr(exc, "retry", False)
        elif isinstance(exc, MappingError):  # bad data, expected: the message names every field, no traceback
            message, retry = msg("flows.cannot_map", detail=exc.text()), False
            _log.warning("%s %s cannot be mapped: %.500s", self.name, source_id, exc)
        else:
            message, retry = msg("flows.unexpected_error", error=f"{type(exc).__name__}: {exc}"), False
            # exc_info from the exception itself: failure() is also called outside its except block.
            _log.error("unexpected error on %s %s", self.name, source_id, exc_info=exc)
        message = bounded(message, MAX_ERROR_TEXT)  # messages quote values: a huge value must not make a huge line
        return Outcome(entity or self.entity, source_id, "failed", source_payload=record, error=message, retry=retry,
                       wait=wait)  # fmt: skip

    def unsettled(self, binding: Binding | None, entity: str) -> bool:
        """This record's last write got no reply in time (its latest log line says so) so recently that AccountView
        may still be writing it: looked up now it could be missed and written twice, so it waits (retried). A write
        that failed otherwise (a reset, an error reply) is over at the server and is looked up at once."""
        if binding is None or binding.state != "pending" or binding.updated_at is None:
            return False
        if (self.now() - binding.updated_at).total_seconds() >= getattr(self.av, "settle_seconds", 0):
            return False
        last = self.store.log.list_lines(flow=self.name, entity=entity, source_id=binding.source_id, limit=1)
        error = last[0].error if last else None
        return isinstance(error, Msg) and bool(error.keys() & NO_REPLY_IN_TIME)

    def now(self) -> datetime:
        """The store's clock (a test may move it), else the wall clock; aware, UTC."""
        clock = getattr(self.store, "clock", None)
        return clock() if callable(clock) else datetime.now(UTC)

    def hash(self, payload: Any) -> str:
        return payload_hash(payload)

    # --- the run loop ------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        """One run, under the flow lock: a second runner of the same flow on the same store ends at once."""
        mode = "dry_run" if self.dry_run else ("full" if self.options.full else "normal")
        with self.store.flow_lock(self.name) as acquired:
            if acquired:
                busy = self._needed_running()
                if busy is None:
                    return self._run()
                message = msg("flows.waits_for", flow=self.name, busy=busy)
                _log.warning("flow %s", message)
                return RunResult(self.name, None, mode, error=message, transient=True, locked_out=True)
        _log.warning("flow %s: another run is in progress; this one does nothing", self.name)
        return RunResult(self.name, None, mode, error=msg("flows.already_running", flow=self.name),
                         transient=True, locked_out=True)  # fmt: skip

    def _needed_running(self) -> str | None:
        """A flow this one needs (NEEDS) whose lock another runner holds right now, or None. Stores that can tell
        (``flow_lock_held_elsewhere``: SQLite) make the order hold across processes."""
        held = getattr(self.store, "flow_lock_held_elsewhere", None)
        if held is None:
            return None
        return next((flow for flow in NEEDS.get(self.name, ()) if held(flow)), None)

    def _run(self) -> RunResult:
        try:
            return self._run_batches()
        finally:
            if self._side_by_side is not None:
                self._side_by_side.close()
                self._side_by_side = None

    def _run_batches(self) -> RunResult:
        mode = "dry_run" if self.dry_run else ("full" if self.options.full else "normal")
        started = time.monotonic()
        # We hold the flow lock, so a run of this flow still marked running died with its process (SIGKILL, crash).
        self.store.log.abandon_stale_runs(0, flow=self.name)
        result = RunResult(self.name, None, mode)
        result.run_id = self.run_id = self.store.log.start_run(self.name, mode)
        done = batches = 0
        budget = int(self.settings.get("run_budget_seconds") or 0)
        try:
            self.prepare()
            if self.from_start and not self.dry_run:
                self.store.watermarks.reset(self.name)
            for batch in self._batches():
                if batch.records and self._at_limit(done, batches):
                    # Not processed, so not committed: the next run (resume=True) reads it again.
                    result.more = True
                    break
                if budget and batch.records and time.monotonic() - started >= budget:
                    # Like a limit: this batch is not processed, nothing past the last commit moves; the next run
                    # goes on from the last committed watermark and cursor.
                    result.more = result.budget_spent = True
                    result.counts["budget_spent"] += 1
                    _log.warning("flow %s: run budget of %d s (setting run_budget_seconds) spent after %d records; "
                                 "no new batch is started, the next run goes on from here", self.name, budget, done)  # fmt: skip
                    break
                if batch.stream == SWITCHED_OFF:
                    outcomes = [Outcome("profile", r["profile"], "skipped", message=r["message"]) for r in batch.records]
                    _log.warning("flow %s: %s", self.name, "; ".join(str(r["message"]) for r in batch.records))
                else:
                    outcomes = self.process_batch(batch)
                self._commit(result, batch, outcomes)
                if batch.stream != SWITCHED_OFF:  # a notice is no record: limits count the work
                    done += len(batch.records)
                    batches += 1 if batch.records else 0
                if self.options.progress:
                    self.options.progress(self.name, done, None)
        except (SyncError, OSError) as exc:
            result.error = exc.text() if isinstance(exc, SyncError) else msg("flows.system_error", error=str(exc))
            result.transient = isinstance(exc, OSError) or bool(getattr(exc, "transient", False))
            result.system, result.auth = getattr(exc, "system", ""), isinstance(exc, AuthError)
            _log.warning("flow %s stopped: %s", self.name, exc)
        except Exception as exc:  # noqa: BLE001 - recorded on the run, never swallowed silently
            result.error = msg("flows.unexpected_error", error=f"{type(exc).__name__}: {exc}")
            _log.exception("flow %s crashed", self.name)
        if self._refused:
            result.counts["refused"] += self._refused
        result.seconds = time.monotonic() - started
        state = "failed" if result.error else "done"
        self.store.log.finish_run(result.run_id, state=state, counts=dict(result.counts), error=result.error)
        return result

    def _at_limit(self, records: int, batches: int) -> bool:
        limit, most = self.options.limit, self.options.max_batches
        return (limit is not None and records >= limit) or (most is not None and batches >= most)

    def _batches(self) -> Iterator[Batch]:
        yield from self.switched_off()
        yield from self._retry_batches()
        yield from self.read_batches()

    def _retry_batches(self) -> Iterator[Batch]:
        max_attempts = int(self.settings.get("max_attempts") or 0) or None
        due = self.store.log.pending_retries(self.name, max_attempts=max_attempts)
        due = self._give_up_waiting(due)
        self._prior = {(line.entity, line.source_id): line for line in due}
        by_entity: dict[str, list[str]] = {}
        for line in due:
            if line.source_id and line.source_id != "?":
                ids = by_entity.setdefault(line.entity, [])
                if line.source_id not in ids:
                    ids.append(line.source_id)
        size = int(self.settings.get("batch_size") or 100)
        for entity, ids in by_entity.items():
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                records = self.fetch_by_ids(chunk, entity)
                if records is None:  # cannot be read now (the API profile switched its object off): they wait
                    continue
                gone = set(chunk) - {self.source_id(r) for r in records}
                if gone and not self.dry_run:
                    # Deleted at the source since it failed: close the failure instead of retrying it forever.
                    lines = [
                        LogLine(self.name, entity, self.direction, sid, "skipped", error=msg("flows.gone_at_source"))
                        for sid in sorted(gone)
                    ]
                    self.store.log.add_lines(self.run_id, lines)
                if records:
                    yield Batch(records, stream=entity)

    def _give_up_waiting(self, due: list[LogLine]) -> list[LogLine]:
        """Records that waited longer than ``wait_days`` for master data are refused: a last failed line without
        an automatic retry (it stays an open failure a person can retry or ignore) and the run counts it as
        ``refused``, so the failure digest reports it. The rest is returned, to be retried."""
        days = int(self.settings.get("wait_days") or WAIT_DAYS)
        cutoff = self.now() - timedelta(days=days)
        expired = [ln for ln in due if ln.state == "failed" and ln.wait and ln.waiting_since
                   and ln.waiting_since <= cutoff]  # fmt: skip
        if expired and not self.dry_run:
            refused = [
                LogLine(self.name, ln.entity, self.direction, ln.source_id, "failed",
                        error=bounded(msg("flows.refused_after_waiting", days=days, setting=setting_ref("wait_days"),
                                          waits_for=msg(f"flows.wait.{ln.wait}"), error=ln.error or ""),
                                      MAX_ERROR_TEXT), source_payload=ln.source_payload)  # fmt: skip
                for ln in expired
            ]
            self.store.log.add_lines(self.run_id, refused)
            self._refused += len(refused)
            _log.warning("flow %s: %d record(s) refused after waiting %d days", self.name, len(refused), days)
        gone = {id(ln) for ln in expired}
        return [ln for ln in due if id(ln) not in gone]

    def retry_at(self, out: Outcome, now: datetime) -> datetime:
        """When a failed record is retried: ``retry_delay_seconds``, doubled with every attempt up to an hour."""
        base = int(self.settings.get("retry_delay_seconds", 60))
        prior = self._prior.get((out.entity, out.source_id))
        attempts = prior.attempts if prior is not None else 0
        return now + timedelta(seconds=min(base * 2 ** min(attempts, 16), max(base, MAX_RETRY_DELAY)))

    def _commit(self, result: RunResult, batch: Batch, outcomes: Iterable[Outcome]) -> None:
        outcomes = list(outcomes)
        with self.store.transaction():
            if not self.dry_run:
                self._store_bindings(outcomes)
            self._add_lines(result, outcomes)
            if batch.watermark is not None and not self.dry_run:
                self.store.watermarks.advance(self.name, batch.stream, batch.watermark, batch.processed_ids)
            if batch.cursor is not None and not self.dry_run:
                stream, value, ids = batch.cursor
                if value is None:
                    self.store.watermarks.reset(self.name, stream)
                else:
                    self.store.watermarks.set(self.name, stream, value, ids)

    def _store_bindings(self, outcomes: list[Outcome]) -> None:
        """The bindings of a batch, in one statement; when one would bind a target that another record holds,
        each record's bindings are stored on their own and the record whose bindings conflict fails on its log
        line (a person must look), so the batch, its log lines and the watermark still commit."""
        bindings = [b for out in outcomes for b in out.bindings]
        if not bindings:
            return
        try:
            with self.store.transaction():
                self.store.bindings.upsert_many(bindings)
            return
        except BindingConflict:
            pass
        for out in outcomes:
            if not out.bindings:
                continue
            try:
                with self.store.transaction():
                    self.store.bindings.upsert_many(out.bindings)
            except BindingConflict as exc:
                _log.error("flow %s: %s %s not bound: %s", self.name, out.entity, out.source_id, exc)
                done = msg(f"flows.done.{out.action}", target=out.target_id or "")
                out.action, out.retry, out.wait = "failed", False, None
                out.error = msg("flows.link_not_recorded", done=done, error=exc.args[0] if exc.args else str(exc))

    def _add_lines(self, result: RunResult, outcomes: list[Outcome]) -> None:
        now = self.now()
        lines = []
        for out in outcomes:
            result.counts[out.action] += 1
            if out.action == "failed":
                result.failures.append((out.source_id, out.error or ""))
            if out.action == "dry_run":
                result.planned.append(out)
            retry_at = None
            if out.action == "failed" and out.retry and not self.dry_run:  # a dry run schedules nothing
                retry_at = self.retry_at(out, now)
            if out.action == "failed" and out.wait:
                result.counts["waiting"] += 1
            lines.append(
                LogLine(
                    flow=self.name,
                    entity=out.entity,
                    direction=self.direction,
                    source_id=out.source_id,
                    action=out.action,
                    target_id=out.target_id,
                    error=out.error or out.message,
                    source_payload=out.source_payload,
                    target_payload=out.target_payload,
                    reply=with_step_messages(out.reply),
                    retry_at=retry_at,
                    wait=out.wait if out.action == "failed" else None,
                )
            )
        if lines:
            self.store.log.add_lines(result.run_id, lines)


COUNT_ORDER = ("created", "updated", "failed", "waiting", "refused", "skipped", "unchanged", "dry_run", "budget_spent")


def counts_text(counts: dict[str, int], lang: str | None = None) -> str:
    """A run's counts in words, in ``lang``: "created 1, failed 1, waiting 1" (catalogue runs.count.<name>)."""
    return ", ".join(render(part, lang) for part in counts_msgs(counts))


def counts_msgs(counts: dict[str, int]) -> list[Msg]:
    """A run's counts as messages, in the order :func:`counts_text` shows them (one per action with records)."""
    order = {name: i for i, name in enumerate(COUNT_ORDER)}
    shown = sorted((k for k, v in counts.items() if v), key=lambda k: (order.get(k, len(order)), k))
    return [msg("runs.count", what=msg(f"runs.count.{k}"), n=counts[k]) for k in shown]


def synced(entity: str, source_id: str, target_id: str, digest: str) -> Binding:
    return Binding(entity=entity, source_id=source_id, target_id=str(target_id), payload_hash=digest, state="synced")


def record_error(message: Text, *, retry: bool = False, source_id: str = "", wait: str | None = None) -> RecordError:
    """A per-record error; ``retry`` marks causes that may go away by themselves (retried automatically); ``wait``
    ("articles", "mapping") marks a record that waits for master data a person adds (retried for as long as the
    setting wait_days says, with backoff)."""
    err = RecordError(message, source_id=source_id)
    err.retry = retry or wait is not None
    err.wait = wait
    return err
