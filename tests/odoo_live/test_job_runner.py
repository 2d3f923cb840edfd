"""A real Odoo (each series installed: 19 and 18) with queue_job's job runner (``server_wide_modules=base,web,queue_job``, prefork workers) runs
the flows against the sandboxes: what the Odoo test runner, which has no job runner, cannot show.

1. Scheduled: the scheduled action enqueues every enabled flow; the job runner dispatches the jobs to the
   workers on the channel of each flow's source system; a run longer than ``batches_per_job`` goes on in the
   next job; the dashboard fields show the results.
2. Crash: workers are SIGKILLed in the middle of product jobs; the job runner requeues the dead jobs and the
   flow converges to the state of an uninterrupted run: nothing lost, nothing created twice.
3. Two workers: two jobs of one flow start at once on two workers; the flow lock lets one work, the other ends
   as skipped, and the sandboxes count the writes of one run.
4. Secrets over RPC: APIcenter users and managers read backends, flows and log lines over XML-RPC without ever
   seeing a credential or token; reading a secret field or the token model is refused.

Each series is skipped, with the reason, where it is not installed (``APICENTER_ODOO19_HOME``/``APICENTER_ODOO18_HOME``,
see README).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import xmlrpc.client
from collections import Counter

import httpx
import pytest

from apicenter_sandbox.odoo_server import SERIES, OdooServer, find_odoo, why_no_odoo
from apicenter_sandbox.runner import start_sandboxes

SIZE = 120
KILLS = 2  # the job runner finds a dead job within about a minute

FLOW_FIELDS = ["flow", "last_state", "last_success_at", "last_counts", "health", "failure_24h_count",
               "backlog_count", "open_failure_count", "next_run_at", "last_error"]  # fmt: skip
RESET_SCRIPT = """
    backend = env["apicenter.backend"].browse(params["backend"])
    for model in ("apicenter.log.line", "apicenter.run", "apicenter.binding", "apicenter.watermark"):
        env[model].search([("backend_id", "=", backend.id)]).unlink()
    env["queue.job"].search([("channel", "like", "root.apicenter")]).unlink()
    flows = env["apicenter.flow"].search([("backend_id", "=", backend.id)])
    flows.write({"enabled": False, "next_run_at": False, "last_alert_at": False})
    for name, values in params["settings"].items():
        flows.filtered(lambda f: f.flow == name).write(values)
"""
TWINS_SCRIPT = """
    flow = env["apicenter.flow"].browse(params["flow"])
    for twin in (1, 2):
        flow.with_delay(channel=flow._job_channel(), description=f"twin {twin}")._run_job("normal")
"""


@pytest.fixture(scope="module", params=SERIES, ids=lambda series: f"odoo{series}")
def live(request):
    install = find_odoo(request.param)
    if install is None:
        pytest.skip(f"ODOO LIVE TESTS SKIPPED: {why_no_odoo(request.param)}")
    sb = start_sandboxes(size=SIZE, seed=1)
    server = OdooServer(install, workers=2,
                        channels="root:2,root.apicenter:2,root.apicenter.accountview:2,root.apicenter.mplus:1")  # fmt: skip
    try:
        server.prepare()
        ids = server.configure(sb, flow_settings={"products": {"batch_size": 20, "batches_per_job": 2}},
                               enabled=True)  # fmt: skip
        server.start()
        yield server, sb, ids
    finally:
        server.drop()
        sb.stop()


def mplus_counts(sb) -> Counter:
    m = sb.mplus.app.store
    return Counter({"products": len(m.products), "articles": len(m.article_product),
                    "groups": len(m.article_groups)})  # fmt: skip


def article_numbers_once(sb) -> None:
    seen = Counter(a["articleNumber"] for p in sb.mplus.app.store.products.values()
                   for a in p["articleList"]["article"])  # fmt: skip
    doubled = {n: c for n, c in seen.items() if c > 1}
    assert not doubled, f"articles in more than one product: {doubled}"
    names = Counter(str(g.get("name", "")).strip().lower() for g in sb.mplus.app.store.article_groups.values())
    assert not {n: c for n, c in names.items() if c > 1 and n}, "an article group exists twice"


def reset_all(server: OdooServer, sb, ids, settings: dict) -> None:
    for url in (sb.accountview_url, sb.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    server.shell(RESET_SCRIPT, backend=ids["backend"], settings=settings)


def latency(sb, ms: float) -> None:
    for url in (sb.accountview_url, sb.mplus_url):
        httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": ms}).raise_for_status()


def reference_run(server: OdooServer, sb, ids, settings: dict) -> tuple[dict, Counter]:
    """One uninterrupted products run through jobs on reset sandboxes: (Mplus writes, Mplus entity counts)."""
    reset_all(server, sb, ids, settings)
    server.call("apicenter.flow", "action_run_now", [ids["flows"]["products"]])
    server.wait_idle()
    return dict(sb.mplus.app.stats.writes), mplus_counts(sb)


def wait_flow(server: OdooServer, flow_id: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (rec,) = server.call("apicenter.flow", "read", [flow_id], FLOW_FIELDS)
        if rec["last_state"] != "never":
            return rec
        time.sleep(0.5)
    raise TimeoutError(f"flow {flow_id} did not run within {timeout:.0f} s: {server.log_tail()}")


def test_scheduled_flows_run_through_the_job_runner(live):
    server, sb, ids = live
    flows = {name: wait_flow(server, fid) for name, fid in ids["flows"].items()}
    server.wait_idle(timeout=600)
    flows = {name: server.call("apicenter.flow", "read", [fid], FLOW_FIELDS)[0] for name, fid in ids["flows"].items()}
    jobs = server.jobs()
    by_flow = Counter()
    for job in jobs:
        assert job["state"] == "done", job
        assert job["worker_pid"], f"not run by a worker: {job}"
        by_flow[job["channel"]] += 1
    assert set(by_flow) == {"root.apicenter.accountview", "root.apicenter.mplus"}, by_flow
    products = f"apicenter.flow({ids['flows']['products']},)._run_job"
    continued = [j for j in jobs if j["func_string"].startswith(products) and j["args"] == ["normal", True]]
    assert continued, "the products run (120 articles, 2 batches of 20 a job) went on in further jobs"
    # Stock needs the articles: its jobs waited for the products jobs instead of failing records. What stays open
    # is the stock of the articles products rejected (the seeded non-numeric SKU).
    open_lines = server.call("apicenter.log.line", "search_read", [("state", "in", ["failed", "retry"])],
                             fields=["flow", "source_id", "source_payload", "error"])  # fmt: skip
    rejected = {ln["source_id"] for ln in open_lines if ln["flow"] == "products"}
    assert rejected and all("not numeric" in ln["error"] for ln in open_lines if ln["flow"] == "products")
    stock_open = [ln for ln in open_lines if ln["flow"] == "stock"]
    assert all(json.loads(ln["source_payload"])["ART_CODE"].strip() in rejected for ln in stock_open), stock_open
    for name, rec in flows.items():
        # A run whose records failed (the seeded non-numeric SKU, and so its stock) is not a success.
        assert rec["last_state"] in ("done", "partial"), f"{name}: {rec['last_error']}"
        assert rec["next_run_at"] and (rec["last_success_at"] or rec["last_state"] == "partial"), rec
        assert rec["health"] in ("ok", "warning") if rec["last_state"] == "done" else rec["health"] != "ok", rec
    assert flows["products"]["last_state"] == "partial"
    # The seeded non-numeric SKU is rejected: the dashboard counts the failure.
    assert flows["products"]["failure_24h_count"] >= 1 and flows["products"]["health"] == "warning"
    m = sb.mplus.app.store
    assert len(m.article_product) > 100 and len(sb.accountview.app.tables["SO_HDR"].rows) > 0
    article_numbers_once(sb)
    runs = server.call("apicenter.run", "search_read", [("flow", "=", "products")], fields=["state", "counts"])
    assert len(runs) == len(continued) + 1 and {r["state"] for r in runs} == {"done"}
    assert "queue job runner ready for db" in server.log_text()


def test_killed_workers_converge_without_duplicates(live):
    server, sb, ids = live
    settings = {"products": {"batch_size": 10, "batches_per_job": 2}}
    _, expected = reference_run(server, sb, ids, settings)
    assert expected["articles"] > 100

    reset_all(server, sb, ids, settings)
    latency(sb, 15)  # a job lasts long enough to be killed in its middle
    rng = random.Random(7)
    server.call("apicenter.flow", "action_run_now", [ids["flows"]["products"]])
    killed = []
    deadline = time.monotonic() + 240
    while len(killed) < KILLS and time.monotonic() < deadline:
        started = [j for j in server.jobs([("state", "=", "started")]) if j["worker_pid"] not in killed]
        if not started:
            time.sleep(0.05)
            continue
        time.sleep(rng.uniform(0.2, 1.2))
        pid = started[0]["worker_pid"]
        if pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    latency(sb, 0)
    assert len(killed) == KILLS, "no job ran long enough to be killed"
    server.wait_idle(timeout=600)
    jobs = server.jobs()
    assert all(j["state"] == "done" for j in jobs), [j for j in jobs if j["state"] != "done"]
    assert any(j["retry"] for j in jobs), "the job runner requeued the dead jobs"
    article_numbers_once(sb)
    assert mplus_counts(sb) == expected
    # Nothing is left to do: another run writes nothing.
    writes = dict(sb.mplus.app.stats.writes)
    server.call("apicenter.flow", "action_run_now", [ids["flows"]["products"]])
    server.wait_idle()
    assert dict(sb.mplus.app.stats.writes) == writes
    runs = server.call("apicenter.run", "search_read", [("flow", "=", "products")], fields=["state"])
    assert {r["state"] for r in runs} == {"done"}, "a killed job's run rolled back with its transaction"


def test_two_workers_on_one_flow_write_like_one(live):
    server, sb, ids = live
    settings = {"products": {"batch_size": 20, "batches_per_job": 0}}
    one_run, expected = reference_run(server, sb, ids, settings)

    reset_all(server, sb, ids, settings)
    latency(sb, 10)
    try:
        server.shell(TWINS_SCRIPT, flow=ids["flows"]["products"])
        server.wait_idle(timeout=600)
    finally:
        latency(sb, 0)
    twins = server.jobs()
    assert len(twins) == 2 and all(j["state"] == "done" for j in twins), twins
    first, second = sorted(twins, key=lambda j: j["date_started"])
    assert second["date_started"] <= first["date_done"], "the two jobs ran at the same time (to the second)"
    assert len({j["worker_pid"] for j in twins}) == 2, "on two workers"
    assert sum("Skipped: another run" in (j["result"] or "") for j in twins) == 1, twins
    assert dict(sb.mplus.app.stats.writes) == one_run
    assert mplus_counts(sb) == expected
    article_numbers_once(sb)


def test_secrets_stay_hidden_from_non_admins_over_rpc(live):
    server, sb, ids = live
    secrets = [sb.mplus_secret, sb.av_client_secret, sb.mplus_ident]
    tokens = server.shell('token = env["apicenter.backend.token"].search([], limit=1)\n'
                          'out["tokens"] = [token.access_token, token.refresh_token]')["tokens"]  # fmt: skip
    assert all(tokens)
    for group in ("group_apicenter_user", "group_apicenter_manager"):
        (ref,) = server.call("ir.model.data", "search_read", [("module", "=", "apicenter_connector"), ("name", "=", group)],
                             fields=["res_id"])  # fmt: skip
        login = f"rpc_{group}"
        groups = "group_ids" if server.install.series() >= 19 else "groups_id"  # renamed in Odoo 19
        server.call("res.users", "create", {"name": login, "login": login, "password": f"{login}-pw",
                                            groups: [(6, 0, [ref["res_id"]])]})  # fmt: skip
        common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
        uid = common.authenticate(server.db, login, f"{login}-pw", {})
        assert uid, login
        rpc = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object", allow_none=True)

        def call(model, method, *args, **kw):
            return rpc.execute_kw(server.db, uid, f"{login}-pw", model, method, list(args), kw)  # noqa: B023

        # Everything the user may read of the backend, its flows and the log: no secret, no token in it.
        seen = repr([call("apicenter.backend", "search_read", []), call("apicenter.flow", "search_read", []),
                     call("apicenter.log.line", "search_read", [], limit=200),
                     call("apicenter.backend", "fields_get")])  # fmt: skip
        assert "Sandbox" in seen
        for secret in secrets + tokens:
            assert secret not in seen, f"{group} sees a secret"
        for field in ("mplus_secret", "av_client_secret", "mplus_ident"):
            with pytest.raises(xmlrpc.client.Fault, match="AccessError|not allowed|access"):
                call("apicenter.backend", "read", [ids["backend"]], [field])
        with pytest.raises(xmlrpc.client.Fault):
            call("apicenter.backend.token", "search_read", [])
