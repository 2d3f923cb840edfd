# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A backend configured through the ORM against both sandboxes, served in-process (real sockets, threads)."""

import tomllib
from importlib import resources

from apicenter_sandbox.runner import start_sandboxes

from odoo.tests import TransactionCase
from odoo.tests import common as odoo_tests_common

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from ..models.setting_fields import field_value

# queue_job 18.0.4.x test helpers register themselves in SETATTR_SOURCES, which older Odoo 18.0 builds lack.
if not hasattr(odoo_tests_common, "SETATTR_SOURCES"):
    odoo_tests_common.SETATTR_SOURCES = {}

from odoo.addons.queue_job.exception import RetryableJobError  # noqa: E402
from odoo.addons.queue_job.tests.common import trap_jobs  # noqa: E402

__all__ = [
    "ApicenterCase",
    "TupleTimeouts",
    "check_and_accept",
    "configure_sandbox_backend",
    "create_sandbox_flows",
    "perform_chained_jobs",
    "sandbox_config",
    "trap_jobs",
]


def sandbox_config():
    """Mapping tables and settings of the bundled sandbox configuration (apicenter_sandbox/sandbox.toml)."""
    text = resources.files("apicenter_sandbox").joinpath("sandbox.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def configure_sandbox_backend(env, sb, *, name="Sandbox", timeout_seconds=30):
    """A backend on the sandboxes ``sb`` (anything with their URLs and credentials: ``Sandboxes``, or a namespace
    built from ``apicenter-sandbox --json``), connected to AccountView, with the sandbox mapping tables."""
    backend = env["apicenter.backend"].create(
        {
            "name": name,
            "av_base_url": sb.accountview_url,
            "av_client_id": sb.av_client_id,
            "av_client_secret": sb.av_client_secret,
            "mplus_url": sb.mplus_url,
            "mplus_ident": sb.mplus_ident,
            "mplus_secret": sb.mplus_secret,
            "timeout_seconds": timeout_seconds,
        }
    )
    backend._connect_accountview()
    store = backend._store()
    for table, rows in sandbox_config().get("mappings", {}).items():
        store.mappings.set_table(table, rows)
    return backend


def create_sandbox_flows(backend, overrides=None, check=True):
    """The backend's flows with the per-flow settings of the sandbox configuration, then ``overrides``
    (``{flow: {setting: value}}``) on top; ``check``: then the connection check, its problems accepted."""
    backend.action_create_flows()
    store = backend._store()
    cfg = sandbox_config().get("settings", {})
    for flow in backend.flow_ids:
        values = {**cfg.get(flow.flow, {}), **(overrides or {}).get(flow.flow, {})}
        # One write: some settings only make sense together (default debtor mode and number).
        flow.write({name: field_value(flow, name, v) for name, v in values.items() if name in flow._fields})
        for name, value in values.items():
            if name not in flow._fields:
                store.settings.set(name, value, flow.flow)
    if check:
        check_and_accept(backend)
    return backend.flow_ids


def check_and_accept(backend):
    """Run the connection check on ``backend`` and, where it is not all confirmed (the sandbox configuration
    refutes its seeded non-numeric SKU), accept its problems as an administrator: flows write only after that."""
    report = backend._run_connection_check()
    if report.state != "confirmed":
        report.with_user(backend.env.ref("base.user_admin")).action_confirm()
    return report


def perform_chained_jobs(flow, mode="normal", limit=200):
    """Enqueue ``flow`` and perform its job and every job it chains; a job that stops on a transient error is left
    for later, as queue_job would retry it. True when one did."""
    retry = False
    with trap_jobs() as trap:
        flow._enqueue(mode)
        for _ in range(limit):
            jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
            if not jobs:
                break
            for job in jobs:
                try:
                    job.perform()
                except RetryableJobError:
                    retry = True
    return retry


class TupleTimeouts:
    """Odoo's guard against external requests compares the timeout with a number; the MplusKASSA client passes
    requests a (connect, read) tuple. The sandboxes listen on 127.0.0.1, which the guard allows."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(t for t in kw["timeout"] if t is not None)
        return super()._request_handler(s, r, **kw)


class ApicenterCase(TupleTimeouts, TransactionCase):
    sandbox_size = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.sb = start_sandboxes(size=cls.sandbox_size, seed=1)
        cls.addClassCleanup(cls.sb.stop)
        cls.backend = configure_sandbox_backend(cls.env, cls.sb)
        cls.store = cls.backend._store()

    @classmethod
    def create_flows(cls):
        return create_sandbox_flows(cls.backend)
