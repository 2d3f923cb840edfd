# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``OdooStore``: the engine's state store (``apicenter_sync.store.interfaces.Store``) on the ORM.

Plain Python, no model. One store is scoped to one ``apicenter.backend`` and works as superuser: access control
happens where a person starts a run or edits configuration, not inside the engine. The behaviour mirrors the
SQLite reference implementation (``apicenter_sync/store/sqlite.py``): same binding state rules, same watermark
merge, same settings resolution, same log line states (see ``store_log.py``).

Batch methods touch the database a few times per batch, never once per record: ``get_many`` is one
``SELECT``; ``upsert_many`` one conflict check plus one ``INSERT … ON CONFLICT`` for the whole batch.

Units of work: ``transaction()`` is a savepoint of the current cursor. The outer unit of work is the queue job's
own transaction: it commits when the job ends, or rolls back entirely on a retryable error. The engine's
"commit the intent before the remote call" therefore holds at job level: a job that dies re-runs its batches, and
the flows' check-before-create (bindings, lookups by external reference, idempotency keys) makes that harmless.

Settings: the flow record's fields hold the flow's value of every setting that has a field (``FLOW_SETTING_FIELDS``,
defaults from the registry); the global settings with a field live on the backend. Any other registry setting is an
``apicenter.setting`` row (JSON), for one flow or backend-wide. Resolution: flow field, else flow row, else
backend field / backend-wide row, else the registry default.
"""

import json
from contextlib import contextmanager

from apicenter_sync import settings as registry
from apicenter_sync.i18n import msg
from apicenter_sync.redact import redact_text
from apicenter_sync.store.interfaces import Binding, BindingConflict, Watermark

from odoo import fields

from .apicenter_flow import FLOW_SETTING_FIELDS, LOCK_NAMESPACE
from .setting_fields import field_value, read_setting
from .store_log import OdooActivityLog, aware

_BINDING_FIELDS = [
    "entity",
    "source_id",
    "target_id",
    "payload_hash",
    "pending_hash",
    "state",
    "synced_at",
    "last_error",
    "idempotency_key",
    "pending_since",
    "write_date",
]


def _none(value):
    return None if value is False else value


class OdooStore:
    """:class:`~apicenter_sync.store.interfaces.Store` of one ``apicenter.backend`` record."""

    def __init__(self, env, backend):
        self.env = env(su=True)
        self.backend_record = backend.with_env(self.env)
        self.backend_id = backend.id
        self.backend = backend.name or str(backend.id)
        self.bindings = OdooBindingStore(self)
        self.watermarks = OdooWatermarkStore(self)
        self.mappings = OdooMappingStore(self)
        self.settings = OdooSettingsStore(self)
        self.log = OdooActivityLog(self)

    def __repr__(self):
        return f"OdooStore(backend={self.backend!r})"

    def pair_served_elsewhere(self, pair):
        """The other backends on this backend's AccountView company and MplusKASSA administration (the doctor's
        "one backend per pair"; ``pair`` is what the engine's clients use, the backend's own fields say the same)."""
        return self.backend_record.sudo()._same_pair_backends().mapped("name")

    def model(self, name):
        return self.env[name]

    def domain(self, *terms):
        return [("backend_id", "=", self.backend_id), *terms]

    @contextmanager
    def transaction(self):
        """Savepoint: everything inside is written together or not at all (nestable)."""
        with self.env.cr.savepoint():
            yield

    def now(self):
        return fields.Datetime.now()

    @contextmanager
    def flow_lock(self, flow):
        """``Store.flow_lock`` on PostgreSQL: the transaction-level advisory lock the queue job takes
        (``apicenter.flow._try_lock``: key ``(LOCK_NAMESPACE, flow record id)``).

        Advisory locks are re-entrant within one session, so inside the job that already holds it this yields
        True; a second worker (another session) gets False at once. The lock ends with the transaction (commit,
        rollback, or the worker's connection dying): a killed worker never leaves it behind. A flow without an
        ``apicenter.flow`` record (the store used on its own) locks a key derived from backend id and flow name.
        """
        flows = self.env["apicenter.flow"].with_context(active_test=False)
        record = flows.search(self.domain(("flow", "=", flow)), limit=1)
        if record:
            self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, record.id))
        else:
            self.env.cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE + 1, f"{self.backend_id}:{flow}")
            )
        yield bool(self.env.cr.fetchone()[0])

    def close(self):
        """Nothing to release: the cursor belongs to the caller."""


# --- bindings -------------------------------------------------------------------------------------------------
# The binding store is the one part of the store a flow calls once per record (an order is marked pending, then
# bound, around its POST), so it speaks SQL to its own table: the statements of the SQLite reference store, one
# round trip each, instead of an ORM read, write and re-read (measured in bench/README.md, *Through Odoo jobs*).
# Pending ORM writes to the table are flushed before every statement, and the ORM cache of the model is dropped
# after every write, so the ORM and these statements always see the same rows.

_BINDING_COLUMNS = ", ".join(["id", *_BINDING_FIELDS])

_UPSERT_CONFLICT = """
    ON CONFLICT (backend_id, entity, source_id) DO UPDATE SET
        -- never forget a known target id: losing it is how duplicates get created
        target_id = COALESCE(excluded.target_id, b.target_id),
        payload_hash = excluded.payload_hash,
        state = excluded.state,
        synced_at = COALESCE(excluded.synced_at, b.synced_at),
        last_error = excluded.last_error,
        -- only a write whose outcome is still unknown keeps its intent
        idempotency_key = CASE WHEN excluded.state = 'pending' AND b.state = 'pending' THEN b.idempotency_key END,
        pending_hash = CASE WHEN excluded.state = 'pending' AND b.state = 'pending' THEN b.pending_hash END,
        pending_since = CASE WHEN excluded.state = 'pending'
                             THEN COALESCE(CASE WHEN b.state = 'pending' THEN b.pending_since END,
                                           excluded.pending_since) END,
        write_uid = excluded.write_uid, write_date = excluded.write_date
"""

_PENDING_CONFLICT = """
    ON CONFLICT (backend_id, entity, source_id) DO UPDATE SET
        state = 'pending',
        pending_hash = excluded.pending_hash,
        -- a retry after a lost reply must resend the same key, or the target may apply the write twice
        idempotency_key = CASE WHEN b.state = 'pending' AND b.idempotency_key IS NOT NULL
                               THEN b.idempotency_key ELSE excluded.idempotency_key END,
        pending_since = CASE WHEN b.state = 'pending' THEN b.pending_since ELSE excluded.pending_since END,
        write_uid = excluded.write_uid, write_date = excluded.write_date
"""

_FAILED_CONFLICT = """
    ON CONFLICT (backend_id, entity, source_id) DO UPDATE SET
        state = 'failed', last_error = excluded.last_error, idempotency_key = NULL, pending_hash = NULL,
        pending_since = NULL, write_uid = excluded.write_uid, write_date = excluded.write_date
"""

# columns every inserted row gets first, in this order (then the statement's own columns)
_INSERT_HEAD = ("backend_id", "company_id", "entity", "source_id", "create_uid", "create_date", "write_uid", "write_date")


def _binding(row):
    return Binding(
        entity=row["entity"],
        source_id=row["source_id"],
        target_id=_none(row["target_id"]),
        payload_hash=_none(row["payload_hash"]),
        pending_hash=_none(row["pending_hash"]),
        state=row["state"],
        synced_at=aware(row["synced_at"]),
        last_error=_none(row["last_error"]),
        idempotency_key=_none(row["idempotency_key"]),
        pending_since=aware(row["pending_since"]),
        updated_at=aware(row["write_date"]),
    )


def _check_state(state):
    if state not in ("synced", "pending", "failed"):
        raise ValueError(msg("store.unknown_binding_state", state=repr(state), states=["synced", "pending", "failed"]))


class OdooBindingStore:
    def __init__(self, store):
        self._s = store
        self._model = store.model("apicenter.binding")
        self._company_id = store.backend_record.company_id.id

    # --- SQL on the table, in step with the ORM ---
    def _execute(self, query, params):
        self._model.flush_model()
        self._s.env.cr.execute(query, params)

    def _select(self, where, params, suffix=""):
        self._execute(
            f"SELECT {_BINDING_COLUMNS} FROM apicenter_binding WHERE backend_id = %s AND {where} {suffix}",
            [self._s.backend_id, *params],
        )
        return self._s.env.cr.dictfetchall()

    def _insert(self, columns, rows, conflict):
        """One ``INSERT … ON CONFLICT`` of ``rows`` (each: entity, source_id, then ``columns``' values)."""
        now, uid = self._s.now(), self._s.env.uid
        names = _INSERT_HEAD + tuple(columns)
        values, params = [], []
        for entity, source_id, *rest in rows:
            values.append("(" + ", ".join(["%s"] * len(names)) + ")")
            params += [self._s.backend_id, self._company_id, entity, source_id, uid, now, uid, now, *rest]
        self._execute(
            f"INSERT INTO apicenter_binding AS b ({', '.join(names)}) VALUES {', '.join(values)} {conflict} "
            f"RETURNING {_BINDING_COLUMNS}",
            params,
        )
        rows = self._s.env.cr.dictfetchall()
        self._model.invalidate_model()
        return rows

    # --- BindingStore ---
    def get(self, entity, source_id):
        rows = self._select("entity = %s AND source_id = %s", [entity, str(source_id)], "LIMIT 1")
        return _binding(rows[0]) if rows else None

    def get_by_target(self, entity, target_id):
        rows = self._select("entity = %s AND target_id = %s", [entity, str(target_id)], "LIMIT 1")
        return _binding(rows[0]) if rows else None

    def get_many(self, entity, source_ids):
        ids = list({str(i) for i in source_ids})
        if not ids:
            return {}
        return {r["source_id"]: _binding(r) for r in self._select("entity = %s AND source_id = ANY(%s)", [entity, ids])}

    def _check_conflicts(self, entity, wanted):
        """``wanted``: {source_id: target_id} about to be stored; a target bound to another source conflicts."""
        by_target = {}
        for source_id, target in wanted.items():
            if target is None:
                continue
            other = by_target.setdefault(target, source_id)
            if other != source_id:
                raise BindingConflict(msg("store.batch_target_twice"))
        if not by_target:
            return
        for row in self._select("entity = %s AND target_id = ANY(%s)", [entity, list(by_target)]):
            source_id = by_target[row["target_id"]]
            if row["source_id"] != source_id:
                raise BindingConflict(msg("store.target_bound", entity=entity, target=repr(row["target_id"]),
                                          other=repr(row["source_id"]), source=repr(source_id)))  # fmt: skip

    def upsert(self, entity, source_id, *, target_id, payload_hash, state="synced", error=None):
        return _binding(self._upsert([Binding(entity, str(source_id), target_id, payload_hash, state=state,
                                              last_error=error)])[-1])  # fmt: skip

    def upsert_many(self, bindings):
        bindings = list(bindings)
        if bindings:
            self._upsert(bindings)
        return len(bindings)

    def _upsert(self, bindings):
        now = self._s.now()
        rows, wanted = [], {}
        for b in bindings:
            _check_state(b.state)
            sid, target = str(b.source_id), None if b.target_id is None else str(b.target_id)
            # a later entry of the batch without a target keeps the target an earlier one named
            wanted.setdefault(b.entity, {})[sid] = target or wanted.get(b.entity, {}).get(sid)
            error = redact_text(b.last_error) if b.last_error else None
            rows.append((b.entity, sid, target, b.payload_hash or None, b.state, now if b.state == "synced" else None,
                         now if b.state == "pending" else None, error))  # fmt: skip
        for entity, targets in wanted.items():
            self._check_conflicts(entity, targets)
        columns = ("target_id", "payload_hash", "state", "synced_at", "pending_since", "last_error")
        stored = []
        # ON CONFLICT may touch a row once per statement: a record named twice in the batch starts a new statement
        chunk, keys = [], set()
        for row in rows:
            if row[:2] in keys:
                stored += self._insert(columns, chunk, _UPSERT_CONFLICT)
                chunk, keys = [], set()
            chunk.append(row)
            keys.add(row[:2])
        return stored + self._insert(columns, chunk, _UPSERT_CONFLICT)

    def mark_pending(self, entity, source_id, *, payload_hash, idempotency_key=None):
        row = (entity, str(source_id), payload_hash or None, "pending", idempotency_key or None, self._s.now())
        columns = ("pending_hash", "state", "idempotency_key", "pending_since")
        return _binding(self._insert(columns, [row], _PENDING_CONFLICT)[0])

    def mark_failed(self, entity, source_id, error):
        row = (entity, str(source_id), "failed", redact_text(error))
        return _binding(self._insert(("state", "last_error"), [row], _FAILED_CONFLICT)[0])

    def delete(self, entity, source_id):
        rec = self._model.search(self._s.domain(("entity", "=", entity), ("source_id", "=", str(source_id))))
        rec.unlink()
        return bool(rec)

    def iter(self, entity, state=None, *, page_size=1000):
        where = "entity = %s AND source_id > %s" + (" AND state = %s" if state else "")
        after = ""
        while True:
            params = [entity, after] + ([state] if state else [])
            page = self._select(where, params, f"ORDER BY source_id LIMIT {int(page_size)}")
            yield from (_binding(r) for r in page)
            if len(page) < page_size:
                return
            after = page[-1]["source_id"]

    def count(self, entity, state=None):
        terms = [("entity", "=", entity)] + ([("state", "=", state)] if state else [])
        return self._model.search_count(self._s.domain(*terms))


# --- watermarks -----------------------------------------------------------------------------------------------


class OdooWatermarkStore:
    def __init__(self, store):
        self._s = store
        self._model = store.model("apicenter.watermark")

    @staticmethod
    def _wm(rec):
        return Watermark(
            value=rec.value or None,
            processed_ids=frozenset(json.loads(rec.processed_ids or "[]")),
            updated_at=aware(rec.write_date),
        )

    def _find(self, flow, stream):
        return self._model.search(self._s.domain(("flow", "=", flow), ("stream", "=", stream)), limit=1)

    def get(self, flow, stream="default"):
        rec = self._find(flow, stream)
        return self._wm(rec) if rec else Watermark()

    def set(self, flow, stream, value, processed_ids=()):
        vals = {"value": value or False, "processed_ids": json.dumps(sorted({str(i) for i in processed_ids}))}
        rec = self._find(flow, stream)
        if rec:
            rec.write(vals)
        else:
            rec = self._model.create({"backend_id": self._s.backend_id, "flow": flow, "stream": stream, **vals})
        return self._wm(rec)

    def advance(self, flow, stream, value, processed_ids=()):
        current = self.get(flow, stream)
        ids = {str(i) for i in processed_ids}
        if current.value == value:
            ids |= current.processed_ids
        return self.set(flow, stream, value, ids)

    def reset(self, flow, stream=None):
        terms = [("flow", "=", flow)] + ([("stream", "=", stream)] if stream is not None else [])
        recs = self._model.search(self._s.domain(*terms))
        count = len(recs)
        recs.unlink()
        return count

    def list(self, flow):
        recs = self._model.search(self._s.domain(("flow", "=", flow)), order="stream")
        return {rec.stream: self._wm(rec) for rec in recs}


# --- mapping tables and datamapper ----------------------------------------------------------------------------


def _check_text(table, key, value):
    if not isinstance(key, str) or not isinstance(value, str):
        raise TypeError(f"mapping table {table!r}: keys and values must be text, got {key!r} -> {value!r}")


class OdooMappingStore:
    def __init__(self, store):
        self._s = store
        # The engine's own writes (generated article numbers, a configuration loaded) are not a person's change:
        # not posted on the backend's chatter (apicenter_mapping._track_rows).
        self._rows = store.model("apicenter.mapping").with_context(apicenter_untracked=True)
        self._lines = store.model("apicenter.datamapper.line").with_context(active_test=False)

    def get_table(self, name):
        rows = self._rows.search_read(self._s.domain(("table_name", "=", name)), ["key", "value"], order="key")
        return {r["key"]: r["value"] for r in rows}

    def set_table(self, name, rows):
        for key, value in rows.items():
            _check_text(name, key, value)
        with self._s.transaction():
            self._rows.search(self._s.domain(("table_name", "=", name))).unlink()
            self._rows.create(
                [{"backend_id": self._s.backend_id, "table_name": name, "key": k, "value": v} for k, v in rows.items()]
            )

    def lookup(self, name, key, default=None):
        rows = self._rows.search_read(self._s.domain(("table_name", "=", name), ("key", "=", key)), ["value"], limit=1)
        return rows[0]["value"] if rows else default

    def set_value(self, name, key, value):
        _check_text(name, key, value)
        rec = self._rows.search(self._s.domain(("table_name", "=", name), ("key", "=", key)), limit=1)
        if rec:
            rec.value = value
        else:
            self._rows.create({"backend_id": self._s.backend_id, "table_name": name, "key": key, "value": value})

    def delete_value(self, name, key):
        rec = self._rows.search(self._s.domain(("table_name", "=", name), ("key", "=", key)))
        rec.unlink()
        return bool(rec)

    def list_tables(self):
        groups = self._rows._read_group(self._s.domain(), ["table_name"], order="table_name")
        return [name for (name,) in groups]

    def _flow_lines(self, flow):
        return self._lines.search(self._s.domain(("mapping_flow", "=", flow)))

    def get_datamapper(self, flow):
        lines = self._flow_lines(flow)
        return [line._to_line() for line in lines] if lines else None

    def set_datamapper(self, flow, lines):
        with self._s.transaction():
            self._flow_lines(flow).unlink()
            backend = self._s.backend_record
            self._lines.create([self._lines._from_line(backend, flow, line) for line in lines])

    def reset_datamapper(self, flow):
        lines = self._flow_lines(flow)
        lines.unlink()
        return bool(lines)


# --- settings -------------------------------------------------------------------------------------------------


class OdooSettingsStore:
    """Settings of the registry over flow/backend fields and ``apicenter.setting`` rows (see module docstring)."""

    def __init__(self, store):
        self._s = store
        self._rows = store.model("apicenter.setting")
        self._flows = store.model("apicenter.flow")

    def _flow(self, flow):
        return self._flows.search(self._s.domain(("flow", "=", flow)), limit=1) if flow else self._flows

    def _row_values(self, flow_rec):
        rows = self._rows.search_read(self._s.domain(("flow_id", "=", flow_rec.id or False)), ["name", "value"])
        return {r["name"]: json.loads(r["value"]) for r in rows}

    @staticmethod
    def _has_field(record, name):
        if record._name == "apicenter.flow":
            return name in FLOW_SETTING_FIELDS
        return name in record._fields and registry.get_setting(name).is_global

    def _explicit_layers(self, flow):
        """[(record with fields or None, row values)] from the most specific scope to the backend."""
        layers = []
        if flow:
            flow_rec = self._flow(flow)
            if flow_rec:
                layers.append((flow_rec, self._row_values(flow_rec)))
        layers.append((self._s.backend_record, self._row_values(self._flows)))
        return layers

    def _resolve(self, setting, flow, layers):
        for record, rows in layers:
            is_flow_layer = record._name == "apicenter.flow"
            scope = flow if is_flow_layer else None
            if self._has_field(record, setting.name):
                value = read_setting(record, setting.name)
            elif setting.name in rows:
                value = rows[setting.name]
            else:
                continue
            try:
                return setting.validate(value, scope)
            except registry.SettingError as exc:
                raise registry.SettingError(registry.no_longer_valid(exc)) from None
        return setting.default_value()

    def get(self, name, flow=None):
        setting = registry.get_setting(name)
        registry.check_scope(setting, flow)
        return self._resolve(setting, flow, self._explicit_layers(flow))

    def _scope_record(self, flow):
        if not flow:
            return self._s.backend_record
        flow_rec = self._flow(flow)
        if not flow_rec:
            flow_rec = self._flows.create({"backend_id": self._s.backend_id, "flow": flow})
        return flow_rec

    def set(self, name, value, flow=None):
        value = registry.validate(name, value, flow)
        record = self._scope_record(flow)
        if self._has_field(record, name):
            record.write({name: field_value(record, name, value)})
            return
        flow_id = record.id if record._name == "apicenter.flow" else False
        row = self._rows.search(self._s.domain(("flow_id", "=", flow_id), ("name", "=", name)), limit=1)
        if row:
            row.value = json.dumps(value)
        else:
            self._rows.create(
                {"backend_id": self._s.backend_id, "flow_id": flow_id, "name": name, "value": json.dumps(value)}
            )

    def unset(self, name, flow=None):
        setting = registry.get_setting(name)
        registry.check_scope(setting, flow)
        record = self._flow(flow) if flow else self._s.backend_record
        if not record:
            return False
        if self._has_field(record, name):
            changed = read_setting(record, name) != setting.default_value()
            record.write({name: field_value(record, name, setting.default_value())})
            return changed
        flow_id = record.id if record._name == "apicenter.flow" else False
        row = self._rows.search(self._s.domain(("flow_id", "=", flow_id), ("name", "=", name)))
        row.unlink()
        return bool(row)

    def all(self, flow=None):
        layers = self._explicit_layers(flow)
        wanted = registry.SETTINGS if flow is None else registry.settings_for(flow)
        return {s.name: self._resolve(s, flow, layers) for s in wanted}

    def explicit(self, flow=None):
        if flow is not None and flow not in registry.FLOWS:
            raise registry.SettingError(registry.unknown_flow(flow))
        record = self._flow(flow) if flow else self._s.backend_record
        if not record:
            return {}
        names = [s.name for s in (registry.settings_for(flow) if flow else registry.SETTINGS)]
        values = {}
        for name in names:
            if self._has_field(record, name):
                value = read_setting(record, name)
                if value != registry.get_setting(name).default_value():
                    values[name] = value
        values.update(self._row_values(record if flow else self._flows))
        return values
