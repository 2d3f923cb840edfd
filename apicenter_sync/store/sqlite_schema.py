"""SQLite schema and its migrations (applied in order on open; the version lives in ``schema_version``).

Never edit a released migration: add the next one. Every table carries ``backend`` so one file can hold several
integrations; times are UTC text in one fixed-width format so they compare correctly as strings.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE binding (
                backend TEXT NOT NULL,
                entity TEXT NOT NULL,
                source_id TEXT NOT NULL,
                target_id TEXT,
                payload_hash TEXT,
                pending_hash TEXT,
                state TEXT NOT NULL CHECK (state IN ('synced', 'pending', 'failed')),
                idempotency_key TEXT,
                synced_at TEXT,
                pending_since TEXT,
                last_error TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (backend, entity, source_id)
            ) WITHOUT ROWID""",
            # One source per target: a second binding to the same target id is the classic duplicate bug.
            """CREATE UNIQUE INDEX binding_target ON binding (backend, entity, target_id)
                WHERE target_id IS NOT NULL""",
            "CREATE INDEX binding_state ON binding (backend, entity, state)",
            """CREATE TABLE watermark (
                backend TEXT NOT NULL,
                flow TEXT NOT NULL,
                stream TEXT NOT NULL,
                value TEXT,
                processed_ids TEXT NOT NULL DEFAULT '[]',
                updated_at TEXT NOT NULL,
                PRIMARY KEY (backend, flow, stream)
            ) WITHOUT ROWID""",
            """CREATE TABLE mapping_row (
                backend TEXT NOT NULL,
                table_name TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (backend, table_name, key)
            ) WITHOUT ROWID""",
            """CREATE TABLE datamapper (
                backend TEXT NOT NULL,
                flow TEXT NOT NULL,
                lines TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (backend, flow)
            ) WITHOUT ROWID""",
            """CREATE TABLE setting (
                backend TEXT NOT NULL,
                scope TEXT NOT NULL,  -- flow name, or '' for the backend-wide value
                name TEXT NOT NULL,
                value TEXT NOT NULL,  -- JSON
                updated_at TEXT NOT NULL,
                PRIMARY KEY (backend, scope, name)
            ) WITHOUT ROWID""",
            # AUTOINCREMENT: ids are never reused after a purge, and a bulk insert gets consecutive ids.
            """CREATE TABLE run (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                backend TEXT NOT NULL,
                flow TEXT NOT NULL,
                mode TEXT NOT NULL CHECK (mode IN ('normal', 'full', 'dry_run')),
                state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'aborted')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                counts TEXT NOT NULL DEFAULT '{}',
                error TEXT
            )""",
            "CREATE INDEX run_flow ON run (backend, flow, started_at)",
            """CREATE TABLE log_line (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER REFERENCES run (id),
                backend TEXT NOT NULL,
                flow TEXT NOT NULL,
                entity TEXT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('av_to_mplus', 'mplus_to_av')),
                source_id TEXT,
                target_id TEXT,
                action TEXT NOT NULL
                    CHECK (action IN ('created', 'updated', 'skipped', 'unchanged', 'failed', 'dry_run')),
                state TEXT NOT NULL
                    CHECK (state IN ('ok', 'failed', 'retry', 'ignored', 'resolved', 'superseded')),
                attempts INTEGER NOT NULL DEFAULT 1,
                error TEXT,
                note TEXT,
                source_payload TEXT,
                target_payload TEXT,
                reply TEXT,
                payload_purged INTEGER NOT NULL DEFAULT 0,
                retry_at TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX log_line_run ON log_line (run_id)",
            "CREATE INDEX log_line_flow_state ON log_line (backend, flow, state, created_at)",
            "CREATE INDEX log_line_record ON log_line (backend, flow, entity, source_id, state)",
            "CREATE INDEX log_line_source ON log_line (backend, source_id)",
            "CREATE INDEX log_line_target ON log_line (backend, target_id)",
            "CREATE INDEX log_line_created ON log_line (backend, created_at)",
        ],
    ),
]

MIGRATIONS.append(
    (
        2,
        [
            # Store.flow_lock: one lease per (backend, flow). owner = host:pid:token of the holder; a lease whose
            # expires_at passed, or whose holder process is gone (same host), may be taken over.
            """CREATE TABLE flow_lock (
                backend TEXT NOT NULL,
                flow TEXT NOT NULL,
                owner TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                acquired_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                PRIMARY KEY (backend, flow)
            ) WITHOUT ROWID""",
        ],
    )
)

MIGRATIONS.append(
    (
        3,
        [
            # A failed line that waits for master data (articles, mapping): retried for days (setting wait_days),
            # counted from waiting_since, which the record's next waiting line carries over.
            "ALTER TABLE log_line ADD COLUMN wait TEXT",
            "ALTER TABLE log_line ADD COLUMN waiting_since TEXT",
        ],
    )
)

MIGRATIONS.append(
    (
        4,
        [
            # The catalogue message of a line's or run's error (apicenter_sync.i18n): shown in the reader's
            # language; ``error`` keeps its English text.
            "ALTER TABLE log_line ADD COLUMN error_data TEXT",
            "ALTER TABLE run ADD COLUMN error_data TEXT",
        ],
    )
)

MIGRATIONS.append(
    (
        5,
        [
            # Which AccountView company and MplusKASSA administration each backend of this file serves (recorded
            # by the doctor): two backends on one pair would write the same records twice.
            """CREATE TABLE backend_pair (
                backend TEXT NOT NULL PRIMARY KEY,
                pair TEXT NOT NULL,
                seen_at TEXT NOT NULL
            ) WITHOUT ROWID""",
        ],
    )
)

LATEST_VERSION = MIGRATIONS[-1][0]
