"""Outages on a real Odoo (each series installed: 19 and 18) with queue_job's job runner (docs/reliability.md, "Outages"): what an outage looks like
to the people who run the shop, with every transaction as in production (the job's transaction is rolled back by
queue_job for the retry; the outage is written in one of its own).

1. AccountView stopped: the scheduled runs fail; every failed attempt is a run with its reason (before: the job's
   rollback erased them, and nothing was seen); the products card turns orange, then red, by the age of its last
   success; the responsible user gets one message; AccountView back: one more message, the cards recover.
2. MplusKASSA stopped: the same, for the flows that need it.
3. The job runner stopped (Odoo without queue_job as a server-wide module): the scheduler keeps queueing jobs that
   nobody starts; the check that runs without the runner (a scheduled action) reports a failed run with the reason
   and one message; the runner back: the jobs run, the outage ends.

Each series is skipped, with the reason, where it is not installed (``APICENTER_ODOO19_HOME``/
``APICENTER_ODOO18_HOME``, see README).
"""

from __future__ import annotations

import time

import pytest

from apicenter_sandbox.http import SandboxServer
from apicenter_sandbox.odoo_server import SERIES, OdooServer, find_odoo, why_no_odoo
from apicenter_sandbox.runner import start_sandboxes

FIELDS = ["flow", "health", "freshness", "last_state", "last_success_at", "outage_system", "outage_since", "color"]
SETUP = """
    backend = env["apicenter.backend"].browse(params["backend"])
    backend.responsible_user_ids = env.ref("base.user_admin")
    env.ref("base.user_admin").partner_id.email = "admin@example.com"
    backend.flow_ids.write({"interval_minutes": 1})
    ICP = env["ir.config_parameter"]
    ICP.set_param("apicenter_connector.late_after_intervals", 1)    # orange after a minute without a success
    ICP.set_param("apicenter_connector.failing_after_intervals", 2)  # red after two
    ICP.set_param("apicenter_connector.runner_stall_minutes", 1)
    env.ref("apicenter_connector.ir_cron_apicenter_check_runner").interval_number = 1
"""


@pytest.fixture(scope="module", params=SERIES, ids=lambda series: f"odoo{series}")
def live(request):
    install = find_odoo(request.param)
    if install is None:
        pytest.skip(f"ODOO LIVE TESTS SKIPPED: {why_no_odoo(request.param)}")
    sb = start_sandboxes(size=20, seed=1)
    server = OdooServer(install, workers=2,
                        channels="root:2,root.apicenter:2,root.apicenter.accountview:1,root.apicenter.mplus:1")  # fmt: skip
    try:
        server.prepare()
        ids = server.configure(sb, enabled=True)
        server.shell(SETUP, backend=ids["backend"])
        server.start()
        yield server, sb, ids
    finally:
        server.drop()
        sb.stop()


def flows(server: OdooServer, ids) -> dict[str, dict]:
    records = server.call("apicenter.flow", "read", list(ids["flows"].values()), FIELDS)
    return {r["flow"]: r for r in records}


def notices(server: OdooServer, ids, words: str) -> list[dict]:
    return server.call("mail.message", "search_read", [("model", "=", "apicenter.backend"),
                       ("res_id", "=", ids["backend"]), ("subject", "like", words)],
                       fields=["subject", "body", "partner_ids"], order="id")  # fmt: skip


def wait_for(what: str, check, timeout: float = 420, poll: float = 3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"not within {timeout:.0f} s: {what}")


def all_done(server, ids) -> bool:
    return all(f["last_state"] == "done" and not f["outage_since"] for f in flows(server, ids).values())


def retry_now(server: OdooServer) -> None:
    """What a person does with Queue > Jobs > Requeue: the waiting retries start now, not after their backoff."""
    waiting = server.call("queue.job", "search", [("channel", "like", "root.apicenter"), ("state", "=", "pending")])
    if waiting:
        server.call("queue.job", "write", waiting, {"eta": False})


def restart_sandbox(stopped: SandboxServer) -> SandboxServer:
    return SandboxServer(stopped.app, stopped.host, stopped.port).start()


def test_a_stopped_accountview_turns_the_card_red_with_one_notice(live):
    server, sb, ids = live
    wait_for("the first scheduled runs", lambda: all_done(server, ids), timeout=600)
    admin = server.uid()
    failed_before = server.call("apicenter.run", "search_count", [("state", "=", "failed")])
    stopped = sb.accountview
    stopped.stop()
    seen: list[str] = []

    def red():
        products = flows(server, ids)["products"]
        seen.append(products["freshness"])
        return products["health"] == "danger" and products["color"] == 1 and products

    products = wait_for("the products card turns red", red)
    assert "late" in seen and seen.index("late") < seen.index("failing"), f"orange before red: {seen}"
    assert products["outage_system"] == "accountview" and products["freshness"] == "failing"
    runs = server.call("apicenter.run", "search_read", [("state", "=", "failed")], fields=["flow", "error", "job_id"])
    assert len(runs) > failed_before, "runs of retried jobs are recorded (their jobs' transactions rolled back)"
    assert all("cannot connect" in r["error"] for r in runs[: len(runs) - failed_before]), runs
    retried = server.call("queue.job", "search_count", [("channel", "like", "root.apicenter"), ("retry", ">", 0)])
    assert retried, "the jobs were retried by queue_job (RetryableJobError)"
    started = notices(server, ids, "AccountView cannot be reached")
    assert len(started) == 1, started
    (admin_partner,) = server.call("res.users", "read", [admin], ["partner_id"])
    assert admin_partner["partner_id"][0] in started[0]["partner_ids"]

    sb.accountview = restart_sandbox(stopped)
    retry_now(server)
    wait_for("every flow runs again", lambda: retry_now(server) or all_done(server, ids))
    assert len(notices(server, ids, "AccountView cannot be reached")) == 1
    ended = notices(server, ids, "AccountView works again")
    assert len(ended) == 1, ended
    assert flows(server, ids)["products"]["health"] in ("ok", "warning")  # warning: the seeded non-numeric SKU


def test_a_stopped_mplus_is_seen_and_told_once(live):
    server, sb, ids = live
    wait_for("the flows are healthy", lambda: all_done(server, ids), timeout=600)
    stopped = sb.mplus
    stopped.stop()
    try:
        wait_for("an outage of MplusKASSA", lambda: notices(server, ids, "MplusKASSA cannot be reached"))
        runs = server.call("apicenter.run", "search_read", [("flow", "=", "orders"), ("state", "=", "failed")],
                           fields=["error"])  # fmt: skip
        assert runs and "mplus" in runs[0]["error"], runs
        assert "mplus" in {f["outage_system"] for f in flows(server, ids).values()}
    finally:
        sb.mplus = restart_sandbox(stopped)
    wait_for("every flow runs again", lambda: retry_now(server) or all_done(server, ids))
    assert len(notices(server, ids, "MplusKASSA cannot be reached")) == 1
    assert len(notices(server, ids, "MplusKASSA works again")) == 1


def test_a_stopped_job_runner_is_reported(live):
    server, sb, ids = live
    wait_for("the flows are healthy", lambda: all_done(server, ids), timeout=600)
    server.restart(runner=False)
    try:
        report = wait_for("the job runner check reports the jobs nobody started",
                          lambda: notices(server, ids, "the job runner does not start the queued jobs"), timeout=480)
        assert len(report) == 1, report
        runs = server.call("apicenter.run", "search_read", [("error", "like", "for the job runner")],
                           fields=["flow", "error", "state"])  # fmt: skip
        assert runs and all(r["state"] == "failed" for r in runs), runs
        assert "no job of the queue was started" in runs[0]["error"]
        assert any(f["outage_system"] == "runner" for f in flows(server, ids).values())
        queued = server.call("queue.job", "search_count", [("channel", "like", "root.apicenter"),
                                                           ("state", "in", ["pending", "enqueued"])])  # fmt: skip
        assert queued, "the jobs are queued, not lost"
    finally:
        server.restart(runner=True)
    wait_for("the runner works again", lambda: notices(server, ids, "the job runner works again"), timeout=480)
    wait_for("every flow runs again", lambda: all_done(server, ids))
    assert len(notices(server, ids, "the job runner does not start the queued jobs")) == 1
