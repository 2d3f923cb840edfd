"""``./dev odoo``: the product itself, in one command, on a machine with Odoo 19 or 18 (``--series``).

Starts PostgreSQL, both sandboxes with seeded data, a fresh database with ``apicenter_connector`` and queue_job,
a backend connected to the sandboxes (its connection check run, its flows scheduled every minute), and Odoo
with the job runner; prints the URL and the login; Ctrl-C stops all of it and drops the database. Where Odoo is
not found it says how to get it (the same variables as the tests: ``APICENTER_ODOO19_HOME``/``_VENV``,
``APICENTER_ODOO18_HOME``/``_VENV``, ``APICENTER_ODOO_DB_USER``). Without ``--series`` it takes Odoo 19 when
found, else 18. The job runner's channels (capacities) are in the server's configuration file, as
docs/deployment.md says: on Odoo 19 that is the only place for them.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .demo import ring_till_sales
from .odoo_server import REPO, SERIES, OdooServer, find_odoo, free_port, why_no_odoo
from .runner import start_sandboxes

# Settings that make the seeded shop a clean first day: non-numeric SKUs get a number, and every flow runs every
# minute (the dashboard is green after the first scheduled runs).
DEMO_SETTINGS = {
    "products": {"non_numeric_sku": "generate", "interval_minutes": 1},
    "customers": {"interval_minutes": 1},
    "stock": {"interval_minutes": 1},
    "prices": {"interval_minutes": 1},
    "orders": {"interval_minutes": 1},
}
# The till's gift card (an article only the till knows) is booked on the books' "Diversen (kassa)" article, so
# the seeded sale of one does not wait for an article (tests keep it waiting: that is their point).
DEMO_LINE_ARTICLES = {"999001": "999100"}
DEMO_SETUP = """
backend = env['apicenter.backend'].browse(params['backend'])
store = backend._store()
for key, value in params['line_articles'].items():
    store.mappings.set_value('line_articles', key, value)
backend.action_check_connection()
"""
# --lang: the admin user reads the screens in this language (the engine's texts too: apicenter_sync.i18n).
LANG_SETUP = """
env['res.lang']._activate_lang(params['lang'])
env['ir.module.module'].search([('state', '=', 'installed')])._update_translations([params['lang']])
env.ref('base.user_admin').lang = params['lang']
"""
HOW_TO_GET_ODOO = """\
Odoo {series} was not found: {why}.
Get it like the tests do (README, "Odoo for the tests"):
  1. Odoo {series}.0 Community source with odoo-bin at /opt/odoo{series} (or set APICENTER_ODOO{series}_HOME):
     ../shared/odoo/setup-odoo{series}.sh MIRROR /opt/odoo{series} (its header says where MIRROR comes from);
  2. a virtualenv at /opt/odoo{series}-venv (or APICENTER_ODOO{series}_VENV) with Odoo's requirements
     (.ci/odoo18-requirements.txt, for both series) and `pip install --no-deps 'odoo-addon-queue-job>={series}.0,<{series}.1'`
     (on 19 also `pip install openupgradelib`);
  3. PostgreSQL 15 (started by this command; the role APICENTER_ODOO_DB_USER, default odoo, is created).
`.ci/odoo-tests.sh {series}` creates the virtualenv for you once the source is there.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev odoo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="articles in the seeded world (default 200)")
    parser.add_argument("--port", type=int, default=8069, help="Odoo's HTTP port (default 8069; 0: any free one)")
    parser.add_argument("--workers", type=int, default=0,
                        help="Odoo prefork workers (default 0: one threaded server, whose HTTP port also serves the "
                        "browser's live updates; with workers, those need a proxy to Odoo's gevent port)")
    parser.add_argument("--check", action="store_true",
                        help="start everything, wait for the first scheduled runs, print the dashboard, stop")
    parser.add_argument("--screenshots", metavar="DIR",
                        help="with --check: also save pictures of the dashboard and the configuration screens "
                        "(Chromium; docs/screenshots)")
    parser.add_argument("--series", type=int, choices=SERIES,
                        help="the Odoo to start: 19 or 18 (default: 19 when found, else 18)")
    parser.add_argument("--lang", metavar="CODE",
                        help="the admin's language, e.g. nl_NL or pl_PL; with --screenshots: pictures of the cards, "
                        "the runs and Sales from the Till in it (sales rung up at the till first)")
    args = parser.parse_args(argv)
    series = args.series or next((s for s in SERIES if find_odoo(s)), SERIES[0])
    install = find_odoo(series)
    if install is None:
        print(HOW_TO_GET_ODOO.format(series=series, why=why_no_odoo(series)), file=sys.stderr)
        return 2
    print(f"==> Odoo {series} at {install.home}")
    stop = _stop_on_signals()
    print("==> starting the sandboxes (AccountView, MplusKASSA) with seeded data")
    with start_sandboxes(size=args.size) as sb:
        odoo = OdooServer(install, db=f"apicenter_demo_{int(time.time())}", workers=args.workers)
        try:
            odoo.port = args.port or free_port()
            odoo.url = f"http://127.0.0.1:{odoo.port}"
            odoo._write_config()
            print(f"==> creating database {odoo.db} with apicenter_connector and queue_job (about a minute)")
            odoo.prepare()
            print("==> configuring a backend connected to the sandboxes")
            settings = DEMO_SETTINGS
            if args.lang:  # the till's receipts and invoices too, so Sales from the Till shows their numbers
                settings = {**DEMO_SETTINGS, "orders": {**DEMO_SETTINGS["orders"],
                                                        "source_document_type": ["order", "receipt", "invoice"]}}
                ring_till_sales(sb)
                odoo.shell(LANG_SETUP, lang=args.lang)
            ids = odoo.configure(sb, flow_settings=settings, enabled=True)
            odoo.shell(DEMO_SETUP, backend=ids["backend"], line_articles=DEMO_LINE_ARTICLES)
            print("==> starting Odoo with the job runner")
            odoo.start()
            print("==> building the web assets (the first page opens at once)")
            _warm_assets(odoo)
            _banner(odoo, sb, ids)
            if args.check:
                status = _check(odoo, stop)
                if args.screenshots and args.lang:
                    _screenshots_in(odoo, ids, Path(args.screenshots), args.lang)
                elif args.screenshots:
                    _screenshots(odoo, ids, Path(args.screenshots))
                return status
            while not stop["now"]:
                time.sleep(0.5)
            print("\n==> stopping Odoo, dropping the demo database, stopping the sandboxes")
        finally:
            odoo.drop()
    return 0


def _screenshots(odoo: OdooServer, ids: dict, folder: Path) -> None:
    """The dashboard, the mapping tables, the backend's Mappings tab and the setup wizard's mapping step."""
    backend = ids["backend"]
    odoo.call("apicenter.backend", "action_load_mapping_choices", [backend])
    wizard = odoo.call("apicenter.setup.wizard", "create", {"backend_id": backend, "state": "mappings",
                                                            "flow_orders": False})  # fmt: skip
    # The first hour: which sales to book (as the till's recent days suggest) and the check's problems, first.
    sales = odoo.call("apicenter.setup.wizard", "create", {
        "backend_id": backend, "state": "flows", "book_receipts": True, "book_orders": True,
        "sales_found": "In the last 30 days: 12 till receipts, 0 invoices, 3 orders."})  # fmt: skip
    # A check with a problem: the seeded non-numeric SKUs, refused (then back to generating numbers, checked again).
    products = ids["flows"]["products"]
    odoo.call("apicenter.flow", "write", [products], {"non_numeric_sku": "reject"})
    refuted = odoo.call("apicenter.backend", "action_check_connection", [backend])["res_id"]
    odoo.call("apicenter.flow", "write", [products], {"non_numeric_sku": "generate"})
    odoo.call("apicenter.backend", "action_check_connection", [backend])
    check = odoo.call("apicenter.setup.wizard", "create", {"backend_id": backend, "state": "check",
                                                           "check_report_id": refuted})
    shots = {
        "dev_odoo_dashboard.png": "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
        "odoo_mapping_tables.png": "/odoo/action-apicenter_connector.apicenter_mapping_action",
        "odoo_backend_mappings.png": f"/odoo/action-apicenter_connector.apicenter_backend_action/{backend}@Mappings",
        "odoo_setup_wizard_mappings.png": f"/odoo/apicenter.setup.wizard/{wizard}",
        "odoo_setup_wizard_sales.png": f"/odoo/apicenter.setup.wizard/{sales}",
        "odoo_setup_wizard_check.png": f"/odoo/apicenter.setup.wizard/{check}",
        "odoo_connection_check.png": f"/odoo/action-apicenter_connector.apicenter_doctor_report_action/{refuted}",
    }
    for name, path in shots.items():
        subprocess.run([str(odoo.install.python), "-m", "apicenter_sandbox.browser_screenshot", odoo.url, "admin",
                        "admin", str((folder / name).resolve()), path], check=True, cwd=REPO)  # fmt: skip
    print(f"==> screenshots saved in {folder}")


def _screenshots_in(odoo: OdooServer, ids: dict, folder: Path, lang: str) -> None:
    """What a bookkeeper reads, in ``lang``: the cards, the runs (those that wrote or failed) and Sales from the
    Till with one sale's form."""
    suffix = lang.split("_")[0]
    folder.mkdir(parents=True, exist_ok=True)
    sales = odoo.call("apicenter.sale", "search_read", [("source", "=", "invoice"), ("state", "=", "sent")],
                      fields=["id"], limit=1)  # fmt: skip
    shots = {
        f"odoo_cards_{suffix}.png": "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
        f"odoo_runs_{suffix}.png": "/odoo/action-apicenter_connector.apicenter_run_action",
        f"odoo_sales_{suffix}.png": "/odoo/action-apicenter_connector.apicenter_sale_action",
    }
    if sales:
        shots[f"odoo_sale_{suffix}.png"] = f"/odoo/action-apicenter_connector.apicenter_sale_action/{sales[0]['id']}"
    # The log (each line's entity in words), a run that wrote (named by its flow and start) and the backend's chatter.
    shots[f"odoo_log_lines_{suffix}.png"] = "/odoo/action-apicenter_connector.apicenter_log_line_action"
    runs = odoo.call("apicenter.run", "search_read", [("did_something", "=", True)], fields=["id"], limit=1)
    if runs:
        shots[f"odoo_run_{suffix}.png"] = f"/odoo/action-apicenter_connector.apicenter_run_action/{runs[0]['id']}"
    shots[f"odoo_backend_chatter_{suffix}.png"] = (
        f"/odoo/action-apicenter_connector.apicenter_backend_action/{ids['backend']}#chatter"
    )
    for name, path in shots.items():
        subprocess.run([str(odoo.install.python), "-m", "apicenter_sandbox.browser_screenshot", odoo.url, "admin",
                        "admin", str((folder / name).resolve()), path], check=True, cwd=REPO)  # fmt: skip
    print(f"==> screenshots ({lang}) saved in {folder}")


def _warm_assets(odoo: OdooServer) -> None:
    """Log in and load the web client once: Odoo builds its asset bundles on the first page, which took over a
    minute in the browser; done here, before the URL is printed."""
    with httpx.Client(base_url=odoo.url, timeout=300, follow_redirects=True) as client:
        client.post("/web/session/authenticate", json={"jsonrpc": "2.0", "params": {
            "db": odoo.db, "login": "admin", "password": "admin"}})  # fmt: skip
        for page in ("/web/login", "/odoo"):
            html = client.get(page).text
            for asset in sorted(set(re.findall(r'(?:src|href)="(/web/assets/[^"]+)"', html))):
                client.get(asset)


def _stop_on_signals() -> dict:
    stop = {"now": False}

    def handler(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _banner(odoo: OdooServer, sb, ids: dict) -> None:
    print()
    print("  APIcenter Connector is running")
    print(f"  Odoo:         {odoo.url}/odoo/action-apicenter_connector.apicenter_flow_action_dashboard")
    print("  Login:        admin / admin")
    print(f"  AccountView:  {sb.accountview_url}   MplusKASSA: {sb.mplus_url}   (sandboxes, seeded)")
    print(f"  Database:     {odoo.db} (dropped when you stop)   Odoo log: {odoo.log_path}")
    print("  Every flow runs each minute; the dashboard turns green after the first runs. Ctrl-C stops everything.")
    print()


def _check(odoo: OdooServer, stop: dict, timeout: float = 600) -> int:
    """Until every flow ran once (and its chained jobs ended); the dashboard as a table; 0 when all are green."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline and not stop["now"]:
        rows = odoo.call("apicenter.flow", "search_read", [], fields=["flow", "health", "last_state"])
        if rows and all(r["last_state"] in ("done", "failed") for r in rows):
            odoo.wait_idle(timeout=max(1.0, deadline - time.monotonic()))
            rows = odoo.call("apicenter.flow", "search_read", [], fields=["flow", "health", "last_state"])
            break
        time.sleep(2)
    noisy = log_problems(odoo.log_text())
    print(f"  Odoo's log: {len(noisy)} ERROR or WARNING line(s)" if noisy else "  Odoo's log: clean")
    for line in noisy[:20]:
        print(f"    {line[:300]}")
    for row in sorted(rows, key=lambda r: r["flow"]):
        print(f"  {row['flow']:<10} {row['last_state'] or '-':<8} {row['health']}")
    return 0 if rows and all(r["health"] == "ok" for r in rows) and not noisy else 1


def log_problems(text: str) -> list[str]:
    """The ERROR, CRITICAL and WARNING lines of Odoo's log (a clean start and first runs have none). Not counted:
    a DeprecationWarning Odoo's own code raises against a library newer than Odoo pins (werkzeug.urls in
    ir_qweb.py): the environment's, not the addon's; one from the addon's code (a path with apicenter) counts. Nor
    Odoo 19's notice that XML-RPC is deprecated, which this tool's own set-up calls cause."""
    problems = []
    for line in text.splitlines():
        if not re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL|WARNING) ", line):
            continue
        if "py.warnings:" in line and "DeprecationWarning" in line and "apicenter" not in line.split("py.warnings:")[1]:
            continue
        if "odoo.addons.rpc.controllers.xmlrpc:" in line and "deprecated" in line:
            continue  # Odoo 19 on this tool's own XML-RPC calls (it sets the demo up); a browser never makes them
        problems.append(line)
    return problems


if __name__ == "__main__":
    sys.exit(main())
