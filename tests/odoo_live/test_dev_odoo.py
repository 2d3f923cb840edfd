"""``./dev odoo``: one command opens a working app whose dashboard is green after the first scheduled runs.

The command itself runs (as ``./dev odoo --check``: it starts PostgreSQL, the sandboxes, a demo database and
Odoo with its job runner, waits for the first scheduled run of every flow, prints the dashboard and stops).
Where Odoo is absent it must say how to get it; that part runs on every machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from apicenter_sandbox.odoo_server import SERIES, find_odoo, why_no_odoo

REPO = Path(__file__).resolve().parents[2]


def run_demo(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apicenter_sandbox.odoo_demo", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, env={**os.environ, **(env or {})})  # fmt: skip


@pytest.mark.parametrize("series", SERIES)
def test_without_odoo_it_says_how_to_get_it(tmp_path, series):
    # The older variable of 18 is honoured too: it points nowhere here, as does the series' own.
    gone = {"APICENTER_ODOO_HOME": str(tmp_path / "no-odoo"), f"APICENTER_ODOO{series}_HOME": str(tmp_path / "no")}
    done = run_demo("--series", str(series), env=gone, timeout=60)
    assert done.returncode == 2
    assert f"Odoo {series} was not found" in done.stderr and f"APICENTER_ODOO{series}_HOME" in done.stderr
    assert f"odoo-addon-queue-job>={series}.0" in done.stderr and f"setup-odoo{series}.sh" in done.stderr


@pytest.mark.parametrize("series", SERIES)
def test_dev_odoo_opens_a_working_app_with_every_flow_green(series):
    if find_odoo(series) is None:
        pytest.skip(f"ODOO LIVE TESTS SKIPPED: {why_no_odoo(series)}")
    done = run_demo("--check", "--series", str(series), "--port", "0", "--size", "120")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"==> Odoo {series} at" in done.stdout
    assert "Login:        admin / admin" in done.stdout and "/odoo/action-" in done.stdout
    assert "Odoo's log: clean" in done.stdout, "an ERROR or WARNING line in Odoo's log:\n" + done.stdout[-3000:]
    board = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[-5:]}
    assert set(board) == {"customers", "orders", "prices", "products", "stock"}
    assert all(state == ["done", "ok"] for state in board.values()), board
    # Ctrl-C (or the end of --check) drops what it created: no demo database is left behind.
    (db,) = re.findall(r"Database: +(apicenter_demo_\w+)", done.stdout)
    dbs = subprocess.run(["su", "postgres", "-c", "psql -Atc 'select datname from pg_database'"],
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    assert db not in dbs  # its own database only: other runs on this machine may have theirs


def test_the_check_fails_on_an_error_or_warning_line_of_odoos_log():
    from apicenter_sandbox.odoo_demo import log_problems

    log = ("2026-12-07 10:00:00,000 42 INFO db odoo.modules.loading: loaded\n"
           "2026-12-07 10:00:01,000 42 WARNING db py.warnings: a field is not searchable\n"
           "2026-12-07 10:00:02,000 42 ERROR db odoo.http: Couldn't bind the websocket\n"
           "  Traceback line that says ERROR somewhere\n")  # fmt: skip
    assert [line.split()[3] for line in log_problems(log)] == ["WARNING", "ERROR"]
    assert log_problems("2026-12-07 10:00:00,000 42 INFO db odoo: fine\n") == []
    core = ("2026-12-07 10:00:00,000 42 WARNING db py.warnings: /opt/odoo18/odoo/addons/base/models/ir_qweb.py:504: "
            "DeprecationWarning: 'werkzeug.urls.url_encode' is deprecated\n")  # fmt: skip
    ours = core.replace("/opt/odoo18/odoo/addons/base/models/ir_qweb.py", "/src/apicenter_connector/models/x.py")
    assert log_problems(core) == [] and len(log_problems(ours)) == 1
