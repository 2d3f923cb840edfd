"""SqliteStore: every interface method, crash safety, two processes at once, redaction on disk."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from apicenter_sync import settings as registry
from apicenter_sync.i18n import Msg, references
from apicenter_sync.redact import MASK, redact, redact_text
from apicenter_sync.store import (
    ActivityLog,
    Binding,
    BindingConflict,
    BindingStore,
    LogLine,
    MappingStore,
    SettingsStore,
    SqliteStore,
    Store,
    WatermarkStore,
    canonical_json,
    payload_hash,
)
from apicenter_sync.store.sqlite import SchemaError

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> SqliteStore:
    with SqliteStore(":memory:", backend="shop", clock=clock) as s:
        yield s


@pytest.fixture
def file_store(tmp_path: Path, clock: Clock) -> SqliteStore:
    with SqliteStore(tmp_path / "state.sqlite3", backend="shop", clock=clock) as s:
        yield s


def line(source_id: str | None = "A1", action: str = "created", **kw) -> LogLine:
    kw.setdefault("flow", "products")
    kw.setdefault("entity", "article")
    kw.setdefault("direction", "av_to_mplus")
    return LogLine(source_id=source_id, action=action, **kw)


# --- protocols and schema -------------------------------------------------------------------------------------


def test_implements_the_protocols(store: SqliteStore) -> None:
    assert isinstance(store, Store)
    assert isinstance(store.bindings, BindingStore)
    assert isinstance(store.watermarks, WatermarkStore)
    assert isinstance(store.mappings, MappingStore)
    assert isinstance(store.settings, SettingsStore)
    assert isinstance(store.log, ActivityLog)


def test_file_store_pragmas_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as s:
        conn = s.connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        s.bindings.upsert("product", "1", target_id="9", payload_hash="h")
        version = s.schema_version()
    with SqliteStore(path) as s:  # migrations are not re-applied
        assert s.schema_version() == version
        assert s.bindings.get("product", "1").target_id == "9"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(SchemaError, match="999"):
        SqliteStore(path)


def test_backends_are_isolated(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path, backend="a") as a, SqliteStore(path, backend="b") as b:
        a.bindings.upsert("product", "1", target_id="10", payload_hash="h")
        a.settings.set("batch_size", 7, flow="orders")
        assert b.bindings.get("product", "1") is None
        assert b.settings.get("batch_size", flow="orders") == 100
        b.bindings.upsert("product", "1", target_id="10", payload_hash="h")  # same target id, other backend: fine


# --- bindings -------------------------------------------------------------------------------------------------


def test_binding_upsert_get_and_target_lookup(store: SqliteStore, clock: Clock) -> None:
    assert store.bindings.get("product", "A1") is None
    b = store.bindings.upsert("product", "A1", target_id="1001", payload_hash="h1")
    assert (b.entity, b.source_id, b.target_id, b.payload_hash, b.state) == ("product", "A1", "1001", "h1", "synced")
    assert b.synced_at == clock.now and b.last_error is None
    assert store.bindings.get_by_target("product", "1001") == b
    assert store.bindings.get_by_target("relation", "1001") is None
    clock.advance(minutes=1)
    b2 = store.bindings.upsert("product", "A1", target_id="1001", payload_hash="h2")
    assert b2.payload_hash == "h2" and b2.synced_at == clock.now


def test_binding_get_many_one_round_trip(store: SqliteStore) -> None:
    store.bindings.upsert_many(
        Binding("article", str(i), target_id=str(10_000 + i), payload_hash=f"h{i}") for i in range(0, 3000, 2)
    )
    wanted = [str(i) for i in range(3000)]
    found = store.bindings.get_many("article", wanted)
    assert len(found) == 1500
    assert found["42"].target_id == "10042" and "43" not in found
    assert store.bindings.get_many("article", []) == {}
    assert store.bindings.get_many("relation", wanted) == {}


def test_payload_hash_decides_unchanged(store: SqliteStore) -> None:
    payload = {"name": "Koffie", "price": Decimal("10.50"), "tags": ["a", "b"]}
    same = {"tags": ["a", "b"], "price": Decimal("10.5"), "name": "Koffie"}
    assert canonical_json(payload) == canonical_json(same)
    assert payload_hash(payload) == payload_hash(same)
    assert payload_hash({"price": Decimal("10")}) == payload_hash({"price": Decimal("10.00")})
    assert len(payload_hash(payload)) == 64
    b = store.bindings.upsert("article", "A1", target_id="1", payload_hash=payload_hash(payload))
    assert b.is_unchanged(payload_hash(same))
    assert not b.is_unchanged(payload_hash({**payload, "price": Decimal("11")}))
    pending = store.bindings.mark_pending("article", "A1", payload_hash=payload_hash(same))
    assert not pending.is_unchanged(payload_hash(same)), "outcome of a pending write is unknown"


def test_binding_never_forgets_target_and_refuses_duplicate_target(store: SqliteStore) -> None:
    store.bindings.upsert("relation", "D1", target_id="55", payload_hash="h")
    b = store.bindings.upsert("relation", "D1", target_id=None, payload_hash=None, state="failed", error="boom")
    assert b.target_id == "55" and b.state == "failed" and b.last_error == "boom"
    with pytest.raises(BindingConflict, match="'55'.*'D1'") as conflict:
        store.bindings.upsert("relation", "D2", target_id="55", payload_hash="h")
    # The flow puts this message in the record's log line (flows.link_not_recorded): a reader's language, not English.
    assert conflict.value.args[0].render("nl") == ("relation: doel-id '55' is al gekoppeld aan bron-id 'D1'; het wordt "
                                                   "niet ook aan 'D2' gekoppeld")  # fmt: skip
    assert store.bindings.get("relation", "D2") is None
    with pytest.raises(BindingConflict):
        store.bindings.upsert_many([Binding("relation", "D3", "77"), Binding("relation", "D4", "77")])
    assert store.bindings.get_many("relation", ["D3", "D4"]) == {}, "a failed batch leaves nothing behind"


def test_mark_pending_records_intent_and_keeps_key(store: SqliteStore, clock: Clock) -> None:
    p = store.bindings.mark_pending("order", "O1", payload_hash="h1", idempotency_key="key-1")
    assert (p.state, p.target_id, p.pending_hash, p.idempotency_key) == ("pending", None, "h1", "key-1")
    assert p.pending_since == clock.now
    clock.advance(minutes=5)
    # The reply was lost: the retry must reuse the first key, not the fresh one it proposes.
    p2 = store.bindings.mark_pending("order", "O1", payload_hash="h1", idempotency_key="key-2")
    assert p2.idempotency_key == "key-1" and p2.pending_since == p.pending_since
    assert [b.source_id for b in store.bindings.iter("order", state="pending")] == ["O1"]
    done = store.bindings.upsert("order", "O1", target_id="AV-9", payload_hash="h1")
    assert (done.state, done.idempotency_key, done.pending_since, done.pending_hash) == ("synced", None, None, None)
    # A new write on a synced binding gets a new key and keeps the confirmed hash.
    p3 = store.bindings.mark_pending("order", "O1", payload_hash="h2", idempotency_key="key-3")
    assert (p3.idempotency_key, p3.payload_hash, p3.pending_hash, p3.target_id) == ("key-3", "h1", "h2", "AV-9")


def test_mark_failed_delete_iter_count(store: SqliteStore) -> None:
    f = store.bindings.mark_failed("product", "X", "SKU 'AB-12' is not numeric")
    assert (f.state, f.target_id, f.last_error) == ("failed", None, "SKU 'AB-12' is not numeric")
    store.bindings.mark_pending("product", "Y", payload_hash="h", idempotency_key="k")
    f2 = store.bindings.mark_failed("product", "Y", "400 bad request")
    assert f2.idempotency_key is None, "a definitive failure drops the key"
    store.bindings.upsert_many(Binding("product", f"P{i:03}", str(i), "h") for i in range(25))
    assert store.bindings.count("product") == 27
    assert store.bindings.count("product", "failed") == 2
    all_ids = [b.source_id for b in store.bindings.iter("product", page_size=4)]
    assert all_ids == sorted(all_ids) and len(all_ids) == 27
    assert store.bindings.delete("product", "X") is True
    assert store.bindings.delete("product", "X") is False
    assert store.bindings.count("product") == 26
    with pytest.raises(ValueError, match="binding state"):
        store.bindings.upsert("product", "Z", target_id="1", payload_hash=None, state="done")


# --- watermarks -----------------------------------------------------------------------------------------------


def test_watermarks(store: SqliteStore) -> None:
    empty = store.watermarks.get("products", "articles")
    assert empty.value is None and empty.processed_ids == frozenset()
    store.watermarks.set("products", "articles", "2025-03-01T10:00:00Z", ["A1", "A2"])
    wm = store.watermarks.advance("products", "articles", "2025-03-01T10:00:00Z", ["A3"])
    assert wm.processed_ids == {"A1", "A2", "A3"}, "same value: ids accumulate"
    wm = store.watermarks.advance("products", "articles", "2025-03-01T10:05:00Z", ["B1"])
    assert wm.value == "2025-03-01T10:05:00Z" and wm.processed_ids == {"B1"}, "new value: set replaced"
    assert store.watermarks.get("products", "articles") == wm
    store.watermarks.set("products", "groups", "17")
    store.watermarks.set("orders", "default", "123456")
    assert set(store.watermarks.list("products")) == {"articles", "groups"}
    assert store.watermarks.reset("products", "groups") == 1
    assert store.watermarks.get("products", "groups").value is None
    assert store.watermarks.reset("products") == 1
    assert store.watermarks.list("products") == {}
    assert store.watermarks.get("orders").value == "123456"


# --- mappings and datamapper ----------------------------------------------------------------------------------


def test_mapping_tables_round_trip(store: SqliteStore) -> None:
    assert store.mappings.get_table("vat_code_by_country") == {}
    store.mappings.set_table("vat_code_by_country", {"NL": "21", "BE": "21b", "DE": "19"})
    store.mappings.set_table("payment_method", {"PIN": "BANK", "CASH": "KAS"})
    assert store.mappings.get_table("vat_code_by_country") == {"BE": "21b", "DE": "19", "NL": "21"}
    store.mappings.set_table("vat_code_by_country", {"NL": "21"})  # replaces, does not merge
    assert store.mappings.get_table("vat_code_by_country") == {"NL": "21"}
    store.mappings.set_value("order_status", "paid", "send")
    assert store.mappings.lookup("order_status", "paid") == "send"
    assert store.mappings.lookup("order_status", "open", "skip") == "skip"
    assert store.mappings.list_tables() == ["order_status", "payment_method", "vat_code_by_country"]
    assert store.mappings.delete_value("order_status", "paid") is True
    assert store.mappings.delete_value("order_status", "paid") is False
    with pytest.raises(TypeError, match="warehouse_branch"):
        store.mappings.set_table("warehouse_branch", {"1": 2})


def test_datamapper_lines_round_trip(store: SqliteStore) -> None:
    assert store.mappings.get_datamapper("orders") is None
    lines = [
        {"source": "customer.name", "target": "debtor.name", "transforms": [{"name": "strip"}]},
        {"source": "lines[].sku", "target": "lines[].article", "transforms": [{"name": "truncate", "args": [20]}]},
    ]
    store.mappings.set_datamapper("orders", lines)
    assert store.mappings.get_datamapper("orders") == lines
    assert store.mappings.reset_datamapper("orders") is True
    assert store.mappings.get_datamapper("orders") is None


# --- settings -------------------------------------------------------------------------------------------------


def test_settings_defaults_and_resolution(store: SqliteStore) -> None:
    assert store.settings.get("batch_size", "orders") == 100
    assert store.settings.get("employee_number", "orders") == 999999
    assert store.settings.get("order_type", "orders") == "sales_order"
    store.settings.set("order_type", "DJ2", flow="orders")  # the business-object code of an older configuration
    assert store.settings.get("order_type", "orders") == "booking"
    store.settings.unset("order_type", flow="orders")
    assert store.settings.get("payload_retention_days") == 30
    store.settings.set("batch_size", 250)  # backend-wide
    store.settings.set("batch_size", 50, flow="stock")
    assert store.settings.get("batch_size", "orders") == 250
    assert store.settings.get("batch_size", "stock") == 50
    assert store.settings.explicit("stock") == {"batch_size": 50}
    assert store.settings.explicit() == {"batch_size": 250}
    assert store.settings.unset("batch_size", flow="stock") is True
    assert store.settings.get("batch_size", "stock") == 250
    store.settings.set("update_fields", ("price", "vat"), flow="products")
    assert store.settings.get("update_fields", "products") == ["price", "vat"]
    products = store.settings.all("products")
    assert set(products) == {s.name for s in registry.settings_for("products")}
    assert products["non_numeric_sku"] == "reject" and products["batch_size"] == 250
    assert set(store.settings.all()) == {s.name for s in registry.SETTINGS}


@pytest.mark.parametrize(
    ("name", "value", "flow", "key", "message"),
    [
        ("batch_sizes", 5, "orders", "settings.error.unknown", "unknown setting 'batch_sizes'"),
        ("batch_size", True, "orders", "settings.error.not_whole",
         "setting “Batch Size” of the Orders flow: expected a whole number, got True"),
        ("batch_size", 0, "orders", "settings.error.below_minimum",
         "setting “Batch Size” of the Orders flow: 0 is below the minimum 1"),
        ("interval_minutes", "5", None, "settings.error.not_whole", "setting “Interval Minutes”: expected a whole number"),
        ("order_type", "SO2", "orders", "settings.error.not_allowed",
         "setting “Order Type” of the Orders flow: 'SO2' not allowed; allowed values: sales_order, booking"),
        ("order_type", "DJ2", "stock", "settings.error.other_flows",
         "setting “Order Type” is used by Orders only, not a setting of the Stock flow"),
        ("stock_figure", "free", "stock", "settings.error.not_allowed", "allowed values: available, on_hand, economic, field"),
        ("default_debtor_mode", "sometimes", "orders", "settings.error.not_allowed", "'sometimes' not allowed"),
        ("non_numeric_sku", "drop", "products", "settings.error.not_allowed", "'drop' not allowed"),
        ("manage_stock", "yes", "stock", "settings.error.not_yes_no",
         "setting “Manage Stock in MplusKASSA” of the Stock flow: expected true or false"),
        ("update_fields", ["price", "images"], "products", "settings.error.not_allowed",
         "of the Products flow: ['images'] not allowed"),
        ("payload_retention_days", 10, "orders", "settings.error.global_only", "is a global setting, not a setting of the Orders flow"),
        ("batch_size", 5, "invoices", "config.no_such_flow", "unknown flow 'invoices'"),
    ],
)  # fmt: skip
def test_settings_errors_name_the_setting(store: SqliteStore, name, value, flow, key, message) -> None:
    with pytest.raises(registry.SettingError) as refused:
        store.settings.set(name, value, flow=flow)
    error = refused.value.args[0]
    assert isinstance(error, Msg) and error.key == key
    assert message in str(refused.value)
    # the reader's language, naming the setting as the screens do (and linking to it)
    assert error.render("nl") != str(error)
    if name in {s.name for s in registry.SETTINGS} and flow in registry.FLOWS:
        assert ("setting", name) in references(error)
    assert store.settings.explicit(flow if flow in registry.FLOWS else None) == {}


def test_a_refused_setting_reads_in_dutch_and_polish() -> None:
    with pytest.raises(registry.SettingError) as refused:
        registry.validate("batch_size", 0, "orders")
    assert refused.value.args[0].render("nl") == "instelling “Batchgrootte” van de flow Orders: 0 is lager dan het minimum 1"
    assert refused.value.args[0].render("pl") == "ustawienie „Rozmiar partii” przepływu Zamówienia: 0 jest poniżej minimum 1"


def test_setting_get_errors(store: SqliteStore) -> None:
    with pytest.raises(registry.SettingError, match="unknown setting 'nope'"):
        store.settings.get("nope")
    with pytest.raises(registry.SettingError, match="“Currency” is used by Products, Prices, Orders only"):
        store.settings.get("currency", "stock")
    # A value stored by an older registry that is no longer valid is reported, not silently defaulted.
    store.connection().execute(
        "INSERT INTO setting VALUES ('shop', 'orders', 'order_type', '\"XX1\"', '2025-01-01T00:00:00.000000Z')"
    )
    with pytest.raises(registry.SettingError, match="no longer valid.*“Order Type”") as refused:
        store.settings.get("order_type", "orders")
    assert refused.value.args[0].render("nl").startswith("de opgeslagen waarde is niet meer geldig: instelling “Ordertype”")


def test_settings_consistency(store: SqliteStore) -> None:
    assert registry.consistency_errors(store.settings.all("orders")) == []
    store.settings.set("default_debtor_mode", "when_no_customer", flow="orders")
    (problem,) = registry.consistency_errors(store.settings.all("orders"))
    assert problem == (
        "setting “Default Debtor Mode” is 'when_no_customer', so setting “Default Debtor Number” must be filled in"
    )
    assert references(problem) == [("setting", "default_debtor_mode"), ("setting", "default_debtor_number")]
    store.settings.set("default_debtor_number", "10000", flow="orders")
    assert registry.consistency_errors(store.settings.all("orders")) == []
    store.settings.set("stock_figure", "field", flow="stock")
    assert "must be filled in" in registry.consistency_errors(store.settings.all("stock"))[0]


def test_setting_parse_from_text() -> None:
    assert registry.get_setting("manage_stock").parse("off") is False
    assert registry.get_setting("batch_size").parse(" 25 ") == 25
    assert registry.get_setting("update_fields").parse("price, vat") == ["price", "vat"]
    with pytest.raises(registry.SettingError, match="“Batch Size”: expected a whole number, got 'many'"):
        registry.get_setting("batch_size").parse("many")


def test_settings_registry_covers_the_spec() -> None:
    names = {s.name for s in registry.SETTINGS}
    for required in (
        "batch_size", "interval_minutes", "order_type", "source_document_type", "employee_number",
        "default_debtor_mode", "default_debtor_number", "stock_figure", "manage_stock", "non_numeric_sku",
        "update_fields", "prices_include_vat", "overlap_seconds", "dry_run", "payload_retention_days",
        "metadata_retention_days",
    ):  # fmt: skip
        assert required in names
    for s in registry.SETTINGS:
        assert s.help and s.validate(s.default_value()) == s.default_value(), s.name


def test_docs_settings_table_is_generated_from_the_registry() -> None:
    doc = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    assert f"{registry.BEGIN_MARK}\n{registry.markdown_table()}{registry.END_MARK}" in doc, (
        "docs/store.md is stale: run python -m apicenter_sync.settings --update-doc docs/store.md"
    )


# --- activity log ---------------------------------------------------------------------------------------------


def test_runs_start_finish_and_counts(store: SqliteStore, clock: Clock) -> None:
    run = store.log.start_run("products", mode="full")
    store.log.add_lines(run, [line("A1"), line("A2", "unchanged"), line("A3", "failed", error="x")])
    clock.advance(seconds=3)
    done = store.log.finish_run(run, counts={"read": 3})
    assert done.state == "done" and done.mode == "full" and done.finished_at == clock.now
    assert done.counts == {"created": 1, "unchanged": 1, "failed": 1, "read": 3}
    other = store.log.start_run("orders")
    assert [r.id for r in store.log.list_runs()] == [other, run]
    assert [r.id for r in store.log.list_runs("products")] == [run]
    assert store.log.get_run(other).state == "running"
    with pytest.raises(ValueError, match="mode"):
        store.log.start_run("orders", mode="fast")
    with pytest.raises(KeyError):
        store.log.finish_run(99_999)


def test_abandon_stale_runs(store: SqliteStore, clock: Clock) -> None:
    old = store.log.start_run("stock")
    clock.advance(hours=2)
    fresh = store.log.start_run("stock")
    assert store.log.abandon_stale_runs(3600) == 1
    assert store.log.get_run(old).state == "aborted"
    assert store.log.get_run(fresh).state == "running"


def test_log_lines_filters(store: SqliteStore, clock: Clock) -> None:
    r1 = store.log.start_run("products")
    ids = store.log.add_lines(
        r1,
        [
            line("A1", target_id="1001", source_payload={"code": "A1"}, target_payload={"articleNumber": 1001}),
            line("A2", "failed", error="SKU 'A2' is not numeric"),
            line("G1", "updated", entity="group", target_id="7"),
        ],
    )
    assert len(ids) == 3 and ids == sorted(ids)
    clock.advance(hours=1)
    r2 = store.log.start_run("orders")
    store.log.add_lines(r2, [line("O1", "created", flow="orders", entity="order", direction="mplus_to_av")])
    got = store.log.get_line(ids[0])
    assert got.source_payload == {"code": "A1"} and got.target_payload == {"articleNumber": 1001}
    assert (got.run_id, got.state, got.attempts, got.created_at) == (r1, "ok", 1, clock.now - timedelta(hours=1))
    assert [ln.source_id for ln in store.log.list_lines(flow="products")] == ["G1", "A2", "A1"]
    assert [ln.source_id for ln in store.log.list_lines(state="failed")] == ["A2"]
    assert [ln.source_id for ln in store.log.list_lines(failed_only=True)] == ["A2"]
    assert [ln.source_id for ln in store.log.list_lines(source_id="A1")] == ["A1"]
    assert [ln.source_id for ln in store.log.list_lines(target_id="7")] == ["G1"]
    assert [ln.source_id for ln in store.log.list_lines(entity="order")] == ["O1"]
    assert [ln.source_id for ln in store.log.list_lines(action="updated")] == ["G1"]
    assert [ln.source_id for ln in store.log.list_lines(run_id=r2)] == ["O1"]
    assert [ln.source_id for ln in store.log.list_lines(since=clock.now)] == ["O1"]
    assert len(store.log.list_lines(limit=2)) == 2 and len(store.log.list_lines(limit=2, offset=3)) == 1
    with pytest.raises(ValueError, match="action"):
        store.log.add_lines(r1, [line("A9", "exploded")])
    with pytest.raises(ValueError, match="direction"):
        store.log.add_lines(r1, [line("A9", direction="sideways")])
    with pytest.raises(KeyError):
        store.log.add_lines(12345, [line("A9")])


def test_failures_count_attempts_and_resolve(store: SqliteStore) -> None:
    run = store.log.start_run("products")
    (first,) = store.log.add_lines(run, [line("A1", "failed", error="timeout")])
    (second,) = store.log.add_lines(run, [line("A1", "failed", error="timeout")])
    assert store.log.get_line(first).state == "superseded"
    assert (store.log.get_line(second).state, store.log.get_line(second).attempts) == ("failed", 2)
    (ok,) = store.log.add_lines(run, [line("A1", "updated")])
    assert store.log.get_line(second).state == "resolved"
    assert (store.log.get_line(ok).state, store.log.get_line(ok).attempts) == ("ok", 3)
    assert store.log.list_lines(failed_only=True) == []
    # Same record twice in one batch: the earlier line is closed by the later one.
    a, b = store.log.add_lines(run, [line("B1", "failed", error="e"), line("B1", "failed", error="e")])
    assert store.log.get_line(a).state == "superseded"
    assert (store.log.get_line(b).state, store.log.get_line(b).attempts) == ("failed", 2)
    # Other flows/entities with the same source id are separate records.
    store.log.add_lines(run, [line("B1", "created", entity="group")])
    assert store.log.get_line(b).state == "failed"


def test_retry_ignore_and_pending_retries(store: SqliteStore, clock: Clock) -> None:
    run = store.log.start_run("orders")
    soon = clock.now + timedelta(minutes=5)
    o = {"flow": "orders", "entity": "order", "direction": "mplus_to_av"}
    auto, manual, other = store.log.add_lines(
        run,
        [
            line("O1", "failed", error="503", retry_at=soon, **o),
            line("O2", "failed", error="SKUs missing: 12, 13", **o),
            line("O3", "failed", error="bad", retry_at=soon, **o),
        ],
    )
    assert store.log.pending_retries("orders") == [], "nothing due yet; O2 waits for a user"
    clock.advance(minutes=6)
    assert [ln.source_id for ln in store.log.pending_retries("orders")] == ["O1", "O3"]
    assert store.log.pending_retries("orders", max_attempts=1) == []
    assert [ln.source_id for ln in store.log.pending_retries("orders", limit=1)] == ["O1"]
    assert store.log.pending_retries("products") == []
    assert store.log.mark_retry([manual]) == 1
    assert store.log.mark_ignored([other], note="customer cancelled") == 1
    assert store.log.get_line(other).note == "customer cancelled"
    due = store.log.pending_retries("orders", "order", max_attempts=1)
    assert [(ln.source_id, ln.state) for ln in due] == [("O2", "retry")], "a user's retry ignores max_attempts"
    assert {ln.source_id for ln in store.log.list_lines(failed_only=True)} == {"O1", "O2"}
    assert store.log.mark_ignored([auto, 99_999]) == 1
    ok = store.log.add_lines(store.log.start_run("products"), [line("P1")])
    assert store.log.mark_retry(ok) == 0, "only failures can be retried"
    assert store.log.mark_retry([other]) == 1, "an ignored failure can be brought back"


def test_purge_keeps_metadata_and_open_failures(file_store: SqliteStore, clock: Clock) -> None:
    s = file_store
    old_run = s.log.start_run("customers")
    s.log.add_lines(
        old_run,
        [
            # Large enough to spill into overflow pages, which only secure_delete wipes on purge.
            line(
                "D1", "created", entity="relation", source_payload={"email": "old.customer@example.nl", "n": "x" * 9000}
            ),
            line("D2", "failed", entity="relation", error="x", reply={"fault": "old-fault-text"}),
        ],
    )
    s.log.finish_run(old_run)
    clock.advance(days=40)
    mid_run = s.log.start_run("customers")
    s.log.add_lines(mid_run, [line("D3", "created", entity="relation", source_payload={"email": "mid@example.nl"})])
    s.log.finish_run(mid_run)
    clock.advance(days=160)
    assert b"old.customer@example.nl" in _db_bytes(s.path), "control: the payload is on disk before the purge"
    result = s.log.purge(payload_days=30, metadata_days=180)
    assert (result.payloads_cleared, result.lines_deleted, result.runs_deleted) == (3, 1, 0)
    d2 = s.log.list_lines(source_id="D2")[0]
    assert d2.state == "failed" and d2.payload_purged and d2.reply is None and d2.error == "x"
    d3 = s.log.list_lines(source_id="D3")[0]
    assert d3.payload_purged and d3.source_payload is None and d3.entity == "relation"
    assert s.log.get_run(old_run) is not None, "run kept while its open failure is"
    s.log.mark_ignored([d2.id])
    result = s.log.purge(payload_days=30, metadata_days=180)
    assert (result.payloads_cleared, result.lines_deleted, result.runs_deleted) == (0, 1, 1)
    assert s.log.get_run(old_run) is None and s.log.get_run(mid_run) is not None
    s.close()
    assert b"old.customer@example.nl" not in _db_bytes(s.path)
    assert b"old-fault-text" not in _db_bytes(s.path)
    with pytest.raises(ValueError):
        SqliteStore(s.path).log.purge(payload_days=-1, metadata_days=1)


# --- redaction ------------------------------------------------------------------------------------------------


def test_redact_nested() -> None:
    data = {
        "ident": "shop-ident",
        "Client_Secret": "cs",
        "nested": [{"refresh_token": "rt", "Authorization": "Bearer abcdefghijkl", "name": "Jan"}],
        "headers": {"X-Api-Key": "k", "accessToken": "at", "password": "", "identifier": "keep-me"},
        "url": "https://mplus.example/api?ident=shop&secret=s3cr3t&x=1",
        "tuple": ({"token": "t"},),
    }
    out = redact(data)
    assert out["ident"] == MASK and out["Client_Secret"] == MASK
    assert out["nested"][0] == {"refresh_token": MASK, "Authorization": MASK, "name": "Jan"}
    assert out["headers"] == {"X-Api-Key": MASK, "accessToken": MASK, "password": "", "identifier": "keep-me"}
    assert out["url"] == f"https://mplus.example/api?ident={MASK}&secret={MASK}&x=1"
    assert out["tuple"] == [{"token": MASK}]
    assert data["ident"] == "shop-ident", "the input is not modified"
    assert redact_text("401: Bearer eyJhbGciOiJIUzI1NiJ9.x.y") == f"401: Bearer {MASK}"


def _db_bytes(path: str) -> bytes:
    return b"".join(Path(path + suffix).read_bytes() for suffix in ("", "-wal", "-shm") if Path(path + suffix).exists())


def test_secrets_never_reach_the_database_file(file_store: SqliteStore) -> None:
    secret = "SuperSecret-9f8e7d"
    run = file_store.log.start_run("orders")
    file_store.log.add_lines(
        run,
        [
            line(
                "O1",
                "failed",
                flow="orders",
                entity="order",
                direction="mplus_to_av",
                error=f"POST https://mplus/?ident=i&secret={secret} failed",
                source_payload={"order": {"id": 1, "name": "Visible-Marker", "auth": {"client_secret": secret}}},
                target_payload=[{"headers": {"Authorization": f"Bearer {secret}"}}],
                reply={"deep": [{"x": {"access_token": secret, "refresh_token": secret}}]},
            )
        ],
    )
    file_store.log.finish_run(run, state="failed", error=f"token={secret}")
    file_store.bindings.mark_failed("order", "O1", f"401 for password={secret}")
    stored = file_store.log.list_lines()[0]
    assert stored.source_payload == {"order": {"id": 1, "name": "Visible-Marker", "auth": {"client_secret": MASK}}}
    assert b"Visible-Marker" in _db_bytes(file_store.path), "control: payloads do reach the file"
    assert secret.encode() not in _db_bytes(file_store.path)
    file_store.close()
    assert secret.encode() not in _db_bytes(file_store.path)


# --- transactions ---------------------------------------------------------------------------------------------


def test_rolled_back_transaction_leaves_nothing(store: SqliteStore) -> None:
    run = store.log.start_run("products")
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction():
            store.bindings.upsert("article", "A1", target_id="1", payload_hash="h")
            store.watermarks.advance("products", "articles", "2025-03-01T10:00:00Z", ["A1"])
            store.log.add_lines(run, [line("A1")])
            store.mappings.set_value("t", "k", "v")
            store.settings.set("batch_size", 5, flow="products")
            raise RuntimeError("boom")
    assert store.bindings.get("article", "A1") is None
    assert store.watermarks.get("products", "articles").value is None
    assert store.log.list_lines() == []
    assert store.mappings.list_tables() == []
    assert store.settings.explicit("products") == {}
    assert not store.in_transaction


def test_nested_transaction_is_a_savepoint(store: SqliteStore) -> None:
    with store.transaction():
        store.bindings.upsert("article", "A1", target_id="1", payload_hash="h")
        with pytest.raises(KeyError):
            with store.transaction():
                store.bindings.upsert("article", "A2", target_id="2", payload_hash="h")
                raise KeyError("inner")
    assert store.bindings.get("article", "A1") is not None
    assert store.bindings.get("article", "A2") is None


def test_threads_share_a_store(file_store: SqliteStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                with file_store.transaction():
                    file_store.bindings.upsert("article", f"{n}-{i}", target_id=f"{n}-{i}", payload_hash="h")
                    file_store.watermarks.advance("products", f"t{n}", "v", [str(i)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert file_store.bindings.count("article") == 200
    assert len(file_store.watermarks.get("products", "t2").processed_ids) == 50


# --- two processes, crash safety ------------------------------------------------------------------------------


def _writer(path: str, tag: str, batches: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with SqliteStore(path, backend="shop", busy_timeout_ms=30_000) as s:
        for b in range(batches):
            run = s.log.start_run("products")
            with s.transaction():
                s.bindings.upsert_many(Binding("article", f"{tag}-{b}-{i}", f"{tag}-{b}-{i}", "h") for i in range(20))
                s.log.add_lines(run, [line(f"{tag}-{b}-{i}", source_payload={"i": i}) for i in range(20)])
                s.watermarks.advance("products", tag, str(b), [str(b)])
            s.bindings.get_many("article", [f"{tag}-{b}-{i}" for i in range(20)])  # readers run alongside writers
            s.log.finish_run(run)


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    SqliteStore(path).close()  # create the schema first, as the CLI does on setup
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, tag, 40, start)) for tag in ("p1", "p2", "p3")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0], "a writer failed (database is locked?)"
    with SqliteStore(path, backend="shop") as s:
        assert s.bindings.count("article") == 3 * 40 * 20
        assert len(s.log.list_lines(limit=10_000)) == 3 * 40 * 20
        assert {r.state for r in s.log.list_runs(limit=1000)} == {"done"}
        assert s.watermarks.get("products", "p3").value == "39"


def _killed_mid_batch(path: str) -> None:
    s = SqliteStore(path, backend="shop")
    with s.transaction():  # batch 1 commits
        s.bindings.upsert("article", "A1", target_id="1", payload_hash="h1")
        s.watermarks.advance("products", "articles", "t1", ["A1"])
    s.bindings.mark_pending("order", "O1", payload_hash="ho", idempotency_key="k1")  # intent committed
    with s.transaction():  # batch 2 dies before its commit
        s.bindings.upsert("article", "A2", target_id="2", payload_hash="h2")
        s.watermarks.advance("products", "articles", "t2", ["A2"])
        os.kill(os.getpid(), signal.SIGKILL)


def test_sigkill_never_leaves_watermark_ahead_of_work(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.sqlite3")
    proc = multiprocessing.get_context("spawn").Process(target=_killed_mid_batch, args=(path,))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    with SqliteStore(path, backend="shop") as s:
        wm = s.watermarks.get("products", "articles")
        assert (wm.value, wm.processed_ids) == ("t1", {"A1"})
        assert s.bindings.get("article", "A1").target_id == "1"
        assert s.bindings.get("article", "A2") is None
        pending = s.bindings.get("order", "O1")
        assert (pending.state, pending.idempotency_key) == ("pending", "k1")
        assert s.connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_store_is_created_owner_only(tmp_path: Path) -> None:
    # It holds the OAuth tokens: database, WAL and SHM are readable by their owner only, whatever the umask.
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "tokens.sqlite3"
        store = SqliteStore(path)
        store.bindings.upsert("product", "1", target_id="9", payload_hash="h")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        store.close()
        loose = tmp_path / "loose.sqlite3"
        SqliteStore(loose).close()
        loose.chmod(0o644)  # an older version created it world-readable
        SqliteStore(loose).close()
        assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_store_refusal_is_a_catalogue_message_in_the_readers_language(tmp_path):
    """What the store refuses reaches a log or the command line as a message (store.toml), not English only."""
    with SqliteStore(tmp_path / "s.sqlite3", backend="shop") as store:
        with pytest.raises(ValueError, match="unknown binding state 'done'") as err:
            store.bindings.upsert("product", "Z", target_id="1", payload_hash=None, state="done")
        assert err.value.args[0].render("nl") == "onbekende koppelstatus 'done'; statussen: synced, pending, failed"
        with pytest.raises(KeyError) as missing:
            store.log.finish_run(4242, state="done")
        assert missing.value.args[0].render("pl") == "brak przebiegu 4242 w backendzie 'shop'"
        with pytest.raises(registry.SettingError) as flow:
            store.settings.explicit("invoices")
        assert flow.value.args[0].render("nl").startswith("onbekende flow 'invoices'; de flows zijn ")
