"""A shop's data in the addon survives the move from Odoo 18 to Odoo 19 (docs/deployment.md, "From Odoo 18 to Odoo 19").

As far as the tools here go: no OpenUpgrade or upgrade service moves ``base`` from 18 to 19 on this machine. So a
database is filled on 18 (backend, flows, mapping rows, bindings, watermarks, runs, log lines, channel capacities),
its addon tables are loaded into a database of Odoo 19 with the addon (the 18 capacity column of the job channels
with them, as a moved database keeps it), the addon is marked as installed at its 18 version and updated on 19 (its
migration scripts run). Then every row is there, with its constraints, and the capacities of 18 are in the line to
configure. Runs only where both series are installed (a few minutes).
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from apicenter_sandbox.odoo_server import OdooServer, find_odoo, why_no_odoo

ODOO18, ODOO19 = find_odoo(18), find_odoo(19)
pytestmark = pytest.mark.skipif(
    ODOO18 is None or ODOO19 is None,
    reason=f"ODOO LIVE TESTS SKIPPED: {why_no_odoo(18) if ODOO18 is None else why_no_odoo(19)}",
)

FILL = """
from datetime import UTC, datetime, timedelta
from apicenter_sync.store.interfaces import Binding, LogLine
backend = env["apicenter.backend"].create({"name": "Shop", "av_base_url": "http://127.0.0.1:9", "av_company_id": "c1",
                                           "mplus_url": "http://127.0.0.1:9"})
backend.action_create_flows()
store = backend._store()
store.mappings.set_value("line_articles", "999001", "999100")
store.bindings.upsert_many([Binding("product", str(i), str(100 + i), f"h{i}") for i in range(5)])
run = store.log.start_run("products")
store.log.add_lines(run, [LogLine("products", "product", "av_to_mplus", "AB-1", "failed", error="not numeric",
                                  retry_at=datetime.now(UTC) + timedelta(minutes=5)),
                          LogLine("products", "product", "av_to_mplus", "7", "created", target_id="107")])
store.log.finish_run(run, state="done", counts={"failed": 1, "created": 1})
env.ref("apicenter_connector.channel_apicenter").capacity = 3
env.ref("apicenter_connector.channel_apicenter_mplus").capacity = 2
"""
COUNT = """
env.cr.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'apicenter%'")
out["rows"] = {}
for (table,) in env.cr.fetchall():
    env.cr.execute(f'SELECT count(*) FROM "{table}"')
    out["rows"][table] = env.cr.fetchone()[0]
env.cr.execute("SELECT conname FROM pg_constraint WHERE conname LIKE 'apicenter%uniq'")
out["constraints"] = sorted(name for (name,) in env.cr.fetchall())
module = env["ir.module.module"].search([("name", "=", "apicenter_connector")])
out["version"] = module.latest_version
out["channels"] = env["ir.config_parameter"].sudo().get_param("apicenter_connector.channels_from_18")
out["flows"] = sorted(env["apicenter.flow"].search([]).mapped("flow"))
out["failed"] = env["apicenter.log.line"].search_count([("state", "=", "failed"), ("retry_at", "!=", False)])
"""


def psql(db: str, sql: str, *args: str) -> str:
    done = subprocess.run(["su", "postgres", "-c", f"psql -v ON_ERROR_STOP=1 -Atq {' '.join(args)} -d {db}"],
                          input=sql, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_addon_data_of_an_18_database_survives_the_update_on_19():
    stamp = f"{os.getpid()}_{int(time.time())}"  # two databases: the default names would be the same
    with OdooServer(ODOO18, db=f"apicenter_up18_{stamp}") as old, OdooServer(ODOO19, db=f"apicenter_up19_{stamp}") as new:
        old.prepare()
        old.shell(FILL)
        before = old.shell(COUNT)
        assert before["version"].startswith("18.0.") and before["rows"]["apicenter_binding"] == 5
        new.prepare()
        # The 18 database's addon tables, and the capacity column of its job channels, into the 19 database.
        tables = sorted(t for t, n in before["rows"].items() if n)
        dump = subprocess.run(
            ["su", "postgres", "-c", f"pg_dump --data-only --column-inserts --disable-triggers "
             f"{' '.join('-t ' + t for t in tables)} {old.db}"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert dump.returncode == 0, dump.stderr
        truncate = f"TRUNCATE {', '.join(before['rows'])} CASCADE;"
        capacities = psql(old.db, "SELECT complete_name || ':' || capacity FROM queue_job_channel "
                          "WHERE complete_name LIKE 'root.apicenter%' ORDER BY 1").split()  # fmt: skip
        moved = [
            truncate,
            dump.stdout,
            "SET search_path = public;",  # pg_dump's output empties it
            "ALTER TABLE queue_job_channel ADD COLUMN capacity integer;",
            *(f"UPDATE queue_job_channel SET capacity = {c.rsplit(':', 1)[1]} WHERE complete_name = '{c.rsplit(':', 1)[0]}';"
              for c in capacities),
            # The ids go on after the moved rows (base tables with an id sequence only).
            "DO $$ DECLARE t text; BEGIN FOR t IN SELECT c.table_name FROM information_schema.columns c "
            "JOIN pg_tables p ON p.tablename = c.table_name WHERE c.table_name LIKE 'apicenter%' AND c.column_name = 'id' "
            "LOOP EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), coalesce((SELECT max(id) FROM %I), 1))', "
            "t, t); END LOOP; END $$;",
            "UPDATE ir_module_module SET latest_version = '18.0.1.3.0' WHERE name = 'apicenter_connector';",
        ]  # fmt: skip
        psql(new.db, "\n".join(moved))
        update = subprocess.run(
            [*ODOO19.odoo_bin(), "-c", str(new.config), "-d", new.db, "-u", "apicenter_connector",
             "--stop-after-init", "--workers=0", "--max-cron-threads=0", "--http-port=0"],
            capture_output=True, text=True, cwd=ODOO19.home, timeout=900,
        )  # fmt: skip
        log = new.log_text()
        assert update.returncode == 0, log[-4000:]
        assert " ERROR " not in log and " CRITICAL " not in log, log[-4000:]
        after = new.shell(COUNT)
    assert after["version"].startswith("19.0.")
    lost = {t: (n, after["rows"].get(t)) for t, n in before["rows"].items() if after["rows"].get(t) != n}
    assert not lost, lost
    assert after["constraints"] == before["constraints"] and len(after["constraints"]) >= 9
    assert (after["flows"], after["failed"]) == (before["flows"], 1)
    assert after["channels"] == "root.apicenter:3,root.apicenter.accountview:1,root.apicenter.mplus:2"
    assert "channels = root.apicenter:3,root.apicenter.accountview:1,root.apicenter.mplus:2" in log
