"""A real Odoo (18 or 19) server with ``apicenter_connector`` and queue_job's job runner, pointed at the sandboxes.

What the Odoo test runner cannot show: scheduled actions firing on their own, the job runner dispatching jobs
to prefork workers over HTTP, a worker SIGKILLed in the middle of a job, two workers at once. Used by
``tests/odoo_live/`` and by the benchmark of flows through Odoo jobs (``bench/odoo_jobs.py``).

Where Odoo is found (the same variables as ``.ci/odoo-tests.sh``)::

    APICENTER_ODOO18_HOME   Odoo 18 source with odoo-bin (default /opt/odoo18; APICENTER_ODOO_HOME still works)
    APICENTER_ODOO18_VENV   its virtualenv, with queue_job 18.0 (default /opt/odoo18-venv; APICENTER_ODOO_VENV too)
    APICENTER_ODOO19_HOME   Odoo 19 source with odoo-bin (default /opt/odoo19)
    APICENTER_ODOO19_VENV   its virtualenv, with queue_job 19.0 (default /opt/odoo19-venv)
    APICENTER_ODOO_DB_USER  PostgreSQL superuser role (default odoo; password = role name)

:func:`find_odoo` returns None when they are not there; callers skip, loudly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACTIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")


@dataclass(frozen=True)
class OdooInstall:
    home: Path
    python: Path
    db_user: str

    def odoo_bin(self) -> list[str]:
        return [str(self.python), str(self.home / "odoo-bin")]

    def series(self) -> int:
        """The major version of this Odoo (its odoo/release.py)."""
        found = re.search(r"^version_info = \((\d+)", (self.home / "odoo" / "release.py").read_text(), re.M)
        return int(found.group(1)) if found else 18


SERIES = (19, 18)  # the Odoo series the addon runs on, the current one first (docs/odoo-series.md)


def odoo_paths(series: int = 18) -> tuple[Path, Path]:
    """Odoo source and virtualenv of a series: APICENTER_ODOO<series>_HOME/_VENV; for 18 also the older
    APICENTER_ODOO_HOME/_VENV; by default /opt/odoo<series> and /opt/odoo<series>-venv."""
    env = os.environ
    home = env.get(f"APICENTER_ODOO{series}_HOME") or (env.get("APICENTER_ODOO_HOME") if series == 18 else None)
    venv = env.get(f"APICENTER_ODOO{series}_VENV") or (env.get("APICENTER_ODOO_VENV") if series == 18 else None)
    return Path(home or f"/opt/odoo{series}"), Path(venv or f"/opt/odoo{series}-venv")


def find_odoo(series: int = 18) -> OdooInstall | None:
    home, venv = odoo_paths(series)
    python = venv / "bin" / "python"
    if not (home / "odoo-bin").is_file() or not python.is_file():
        return None
    probe = subprocess.run([str(python), "-c", "import odoo.addons.queue_job"], capture_output=True, cwd=home)
    if probe.returncode != 0:
        return None
    return OdooInstall(home, python, os.environ.get("APICENTER_ODOO_DB_USER", "odoo"))


def why_no_odoo(series: int = 18) -> str:
    home, venv = odoo_paths(series)
    return (f"no Odoo {series} with queue_job at APICENTER_ODOO{series}_HOME={home} / "
            f"APICENTER_ODOO{series}_VENV={venv} (see README, Tests and CI)")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OdooServer:
    """One database with the addon installed, a configured backend, and (after :meth:`start`) a prefork server.

    ``channels``: queue_job channel capacities, e.g. ``"root:2,root.apicenter.accountview:2"``."""

    def __init__(self, install: OdooInstall, *, db: str | None = None, workers: int = 2,
                 channels: str = "root:2,root.apicenter:2,root.apicenter.accountview:1,root.apicenter.mplus:1",
                 cron_threads: int = 1, limit_time_real: int = 600,
                 runner_target: tuple[str, int] | None = None, runner: bool = True):  # fmt: skip
        self.install = install
        self.db = db or f"apicenter_live_{os.getpid()}_{int(time.time())}"
        self.workers, self.channels, self.cron_threads = workers, channels, cron_threads
        self.limit_time_real = limit_time_real
        # Where the job runner sends jobs (queue_job's [queue_job] host/port): this server, or a load balancer in
        # front of several servers on one database (docs/deployment.md).
        self.runner_target = runner_target
        # False: the server runs without queue_job's job runner (queue_job is not a server-wide module): jobs are
        # queued, scheduled actions run, nothing starts the jobs (a stopped runner, tests/odoo_live/test_outages.py).
        self.runner = runner
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="apicenter-odoo-"))
        self.log_path = self.dir / "odoo.log"
        self.proc: subprocess.Popen | None = None
        self._uid: int | None = None
        self._write_config()

    def without_demo(self) -> str:
        # 18 takes "all" (or a list of modules); 19 made it a boolean and warns on "all".
        return "True" if self.install.series() >= 19 else "all"

    # --- set-up ---------------------------------------------------------------------------------------------
    def _write_config(self) -> None:
        user = self.install.db_user
        text = f"""\
            [options]
            db_host = 127.0.0.1
            db_user = {user}
            db_password = {user}
            db_name = {self.db}
            dbfilter = ^{self.db}$
            list_db = False
            addons_path = {self.install.home / "odoo" / "addons"},{REPO}
            data_dir = {self.dir / "data"}
            http_interface = 127.0.0.1
            http_port = {self.port}
            gevent_port = {free_port()}
            workers = {self.workers}
            max_cron_threads = {self.cron_threads}
            server_wide_modules = {"base,web,queue_job" if self.runner else "base,web"}
            limit_time_real = {self.limit_time_real}
            limit_time_cpu = {self.limit_time_real}
            limit_memory_soft = 4294967296
            limit_memory_hard = 8589934592
            without_demo = {self.without_demo()}
            logfile = {self.log_path}
            log_level = info

            [queue_job]
            channels = {self.channels}
            """
        if self.runner_target:
            text += f"            host = {self.runner_target[0]}\n            port = {self.runner_target[1]}\n"
        self.config = self.dir / "odoo.conf"
        self.config.write_text(textwrap.dedent(text), encoding="utf-8")

    def prepare(self) -> None:
        """PostgreSQL up, this checkout's engine in Odoo's environment, a fresh database with the addon."""
        subprocess.run([str(REPO / ".ci" / "postgres.sh"), self.install.db_user], check=True, capture_output=True)
        self._ensure_engine()
        done = subprocess.run(
            [*self.install.odoo_bin(), "-c", str(self.config), "-d", self.db, "-i", "apicenter_connector",
             "--stop-after-init", "--workers=0", "--max-cron-threads=0", "--http-port", str(free_port())],
            capture_output=True, text=True, cwd=self.install.home,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"installing apicenter_connector failed ({done.returncode}): {self.log_tail()}")

    def _ensure_engine(self) -> None:
        probe = subprocess.run(
            [str(self.install.python), "-c",
             "import apicenter_sync, apicenter_sandbox; print(apicenter_sync.__file__); print(apicenter_sandbox.__file__)"],
            capture_output=True, text=True, cwd=self.install.home,  # not this checkout: '' on sys.path would find it
        )  # fmt: skip
        if probe.returncode == 0 and all(Path(f).resolve().is_relative_to(REPO) for f in probe.stdout.split()):
            return
        subprocess.run([str(self.install.python), "-m", "pip", "install", "--quiet", "--no-deps",
                        "-e", str(REPO), "-e", str(REPO / "apicenter_sandbox")], check=True, capture_output=True)  # fmt: skip

    def shell(self, script: str, **params) -> dict:
        """Run ``script`` in ``odoo-bin shell`` (``env`` and ``params`` are defined; it commits when it ends
        without error). Whatever the script puts in the dict ``out`` comes back."""
        program = (
            "import json, os\n"
            "params = json.loads(os.environ['APICENTER_SHELL_PARAMS'])\n"
            "out = {}\n"
            + textwrap.dedent(script)
            + "\nenv.cr.commit()\nprint('APICENTER-OUT ' + json.dumps(out))\n"
        )
        done = subprocess.run(
            [*self.install.odoo_bin(), "shell", "-c", str(self.config), "-d", self.db, "--no-http",
             "--workers=0", "--max-cron-threads=0", "--logfile", str(self.dir / "shell.log")],
            input=program, capture_output=True, text=True, cwd=self.install.home,
            env={**os.environ, "APICENTER_SHELL_PARAMS": json.dumps(params)}, timeout=600,
        )  # fmt: skip
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("APICENTER-OUT ")]
        if done.returncode != 0 or not lines:
            log = (self.dir / "shell.log").read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"odoo shell failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}\n{log}")
        return json.loads(lines[-1][len("APICENTER-OUT ") :])

    def configure(self, sb, *, flow_settings: dict | None = None, enabled: bool = False) -> dict:
        """A backend on the sandboxes ``sb`` (attributes of ``runner.Sandboxes``), its flows with the sandbox
        settings plus ``flow_settings`` (``{flow: {setting: value}}``); ``enabled`` schedules them. Returns
        ``{"backend": id, "flows": {name: id}}``."""
        creds = {k: getattr(sb, k) for k in ("accountview_url", "av_client_id", "av_client_secret", "mplus_url",
                                             "mplus_ident", "mplus_secret")}  # fmt: skip
        # The helpers live beside the addon's tests (tests/common.py imports odoo.tests): said so to Odoo, which
        # otherwise logs an ERROR for a test framework imported outside a test run (a clean log is checked).
        script = """
            from types import SimpleNamespace
            from odoo.tools import config
            config["test_enable"] = True
            from odoo.addons.apicenter_connector.tests.common import configure_sandbox_backend, create_sandbox_flows
            backend = configure_sandbox_backend(env, SimpleNamespace(**params["sb"]), timeout_seconds=60)
            flows = create_sandbox_flows(backend, params["settings"])
            flows.write({"enabled": params["enabled"]})
            out["backend"] = backend.id
            out["flows"] = {f.flow: f.id for f in flows}
        """
        return self.shell(script, sb=creds, settings=flow_settings or {}, enabled=enabled)

    # --- the server -----------------------------------------------------------------------------------------
    def start(self, timeout: float = 120) -> None:
        self.proc = subprocess.Popen(
            [*self.install.odoo_bin(), "-c", str(self.config), "-d", self.db],
            cwd=self.install.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited at start ({self.proc.returncode}): {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                self.uid()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"Odoo did not answer on {self.url} within {timeout:.0f} s: {self.log_tail()}")

    def restart(self, *, runner: bool | None = None, timeout: float = 120) -> None:
        """Stop the server and start it again on the same database, with or without the job runner."""
        self.stop()
        if runner is not None and runner != self.runner:
            self.runner = runner
            self._write_config()
        self.start(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def drop(self) -> None:
        self.stop()
        subprocess.run(["su", "postgres", "-c", f"dropdb --if-exists --force {self.db}"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> OdooServer:
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def worker_pids(self) -> set[int]:
        """The prefork worker processes (children of the server), not the job runner thread's own process."""
        if self.proc is None:
            return set()
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in children.read_text().split()} if children.exists() else set()

    # --- XML-RPC --------------------------------------------------------------------------------------------
    def uid(self) -> int:
        if self._uid is None:
            common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common", allow_none=True)
            uid = common.authenticate(self.db, "admin", "admin", {})
            if not uid:
                raise RuntimeError("admin/admin refused by Odoo")
            self._uid = uid
        return self._uid

    def call(self, model: str, method: str, *args, **kwargs):
        proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        return proxy.execute_kw(self.db, self.uid(), "admin", model, method, list(args), kwargs)

    def jobs(self, domain=(), fields=("state", "args", "result", "exc_info", "worker_pid", "date_started",
                                      "date_done", "retry", "channel", "uuid", "func_string")) -> list[dict]:  # fmt: skip
        return self.call("queue.job", "search_read", [("channel", "like", "root.apicenter"), *domain],
                         fields=list(fields), order="id")  # fmt: skip

    def wait_idle(self, timeout: float = 600, poll: float = 0.25, quiet: float = 1.0, since: float | None = None) -> float:
        """Until no apicenter job is waiting or running (and none appeared for ``quiet`` seconds); returns the
        seconds from ``since`` (a ``time.monotonic()``; default: now) to the moment the last job ended, to within
        ``poll``. Raises TimeoutError naming the jobs still active."""
        started = time.monotonic()
        since = started if since is None else since
        idle_since = None
        while True:
            active = self.call("queue.job", "search_count",
                               [("channel", "like", "root.apicenter"), ("state", "in", list(ACTIVE_JOB_STATES))])  # fmt: skip
            now = time.monotonic()
            if active:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= quiet:
                return idle_since - since
            if now - started > timeout:
                raise TimeoutError(f"apicenter jobs still active after {timeout:.0f} s: "
                                   f"{self.jobs([('state', 'in', list(ACTIVE_JOB_STATES))])}")  # fmt: skip
            time.sleep(poll)
