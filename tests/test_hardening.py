"""Issue 16, engine side: the per-run budget, the call limits taken from the settings, and an INFO log free of
personal data."""

from __future__ import annotations

import ast
import logging
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from flow_fixtures import Env, env_fixture, sandboxes_fixture  # noqa: F401 - fixtures "env", "sandboxes"

from apicenter_sandbox.demo import sandbox_config_text
from apicenter_sync.cli import main
from apicenter_sync.engine import QUIET_LOGGERS, call_limits
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.store import SqliteStore

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from corpus_env import inject_rows, raw_reply  # noqa: E402


def _latency(env: Env, ms: int) -> None:
    for url in (env.sb.accountview_url, env.sb.mplus_url):
        httpx.post(f"{url}/_sandbox/latency", json={"latency_ms": ms}).raise_for_status()


def test_a_spent_run_budget_starts_no_new_batch_and_the_next_run_goes_on(env: Env):
    env.set("products", batch_size=5, run_budget_seconds=1)
    _latency(env, 40)  # every call takes a while: a batch costs well over 0.1 s
    try:
        first = env.run("products")
    finally:
        _latency(env, 0)
    assert first.budget_spent and first.more and first.ok
    assert first.counts["budget_spent"] == 1
    run = env.store.log.get_run(first.run_id)
    assert run.state == "done"
    created_first = env.writes()["product"]
    assert 0 < created_first < 40  # stopped early: the world has 60 articles
    env.set("products", run_budget_seconds=0)
    second = env.run("products")
    assert not second.budget_spent
    # The second run went on where the first stopped: everything is done, and a third run has nothing left.
    assert second.counts["created"] > 0
    numeric = [a.sku for a in env.world.articles if a.sku.isdigit()]
    assert all(env.mplus_article(int(sku)) is not None for sku in numeric)
    # Nothing the first run committed was done again by the second.
    first_ids = {ln.source_id for ln in env.store.log.list_lines(flow="products", run_id=first.run_id, limit=10_000)
                 if ln.action in ("created", "updated")}  # fmt: skip
    second_ids = {ln.source_id for ln in env.store.log.list_lines(flow="products", run_id=second.run_id,
                                                                  limit=10_000) if ln.action in ("created", "updated")}  # fmt: skip
    assert first_ids and second_ids and not first_ids & second_ids
    third = env.run("products")
    assert third.counts["created"] == 0 and third.counts["updated"] == 0


def test_call_limits_come_from_the_settings():
    store = SqliteStore(":memory:")
    limits = call_limits(store)
    assert limits.deadline_s == 120 and limits.max_reply_bytes == 64 * 1024 * 1024
    store.settings.set("call_deadline_seconds", 30)
    store.settings.set("max_reply_bytes", 1024 * 1024)
    limits = call_limits(store)
    assert limits.deadline_s == 30 and limits.max_reply_bytes == 1024 * 1024


@pytest.fixture
def noisy_http_loggers():
    """The HTTP libraries' loggers as a fresh process has them (another test's engine may have quietened them)."""
    saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _personal_values_in_info_log(sandboxes, tmp_path, caplog) -> list[str]:
    for url in (sandboxes.accountview_url, sandboxes.mplus_url):
        httpx.post(f"{url}/_sandbox/reset").raise_for_status()
    for name in QUIET_LOGGERS:  # as a fresh process has them (another test's engine may have quietened them)
        logging.getLogger(name).setLevel(logging.NOTSET)
    tmp_path.mkdir()
    cfg = tmp_path / "apicenter.toml"
    cfg.write_text(sandbox_config_text(sandboxes), encoding="utf-8")
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert main(["--config", str(cfg), "-v", "connect", "accountview"]) == 0
    assert main(["--config", str(cfg), "-v", "run", "all"]) == 0
    assert main(["--config", str(cfg), "-v", "run", "all"]) == 0
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    personal = set()
    for customer in sandboxes.world.customers:
        for value in (customer.email, customer.last_name, f"{customer.first_name} {customer.last_name}",
                      customer.phone):  # fmt: skip
            if value and len(value) > 4:
                personal.update({value, quote(value, safe=""), quote_plus(value)})
    return sorted(v for v in personal if v in text)


def test_the_info_log_of_a_run_holds_no_personal_data(sandboxes, tmp_path, caplog, noisy_http_loggers, monkeypatch):
    found = _personal_values_in_info_log(sandboxes, tmp_path / "run", caplog)
    assert not found, f"personal values in the INFO log: {found[:5]}"
    assert not [r for r in caplog.records if r.name.split(".")[0] in ("httpx", "httpcore", "urllib3")
                and r.levelno < logging.WARNING]  # fmt: skip
    # The control: with the HTTP libraries left at INFO (as before), the same grep finds e-mail addresses in the
    # request lines (the orders flow looks debtors up by e-mail), so the grep above is not vacuous.
    monkeypatch.setattr("apicenter_sync.cli.quiet_http_logs", lambda: None)
    monkeypatch.setattr("apicenter_sync.engine.quiet_http_logs", lambda: None)
    assert any("%40example.nl" in v for v in _personal_values_in_info_log(sandboxes, tmp_path / "control", caplog))


# --- every outgoing request goes through the one deadline and cap (found by reading the code) --------------------
ROOT = Path(__file__).resolve().parents[1]
# Calls that open a connection or send a request, by the dotted name the code calls them with.
NETWORK_CALL = re.compile(
    r"^(httpx\.(get|post|put|patch|delete|head|options|request|stream|Client|AsyncClient|HTTPTransport)"
    r"|requests\.(get|post|put|patch|delete|head|options|request|Session|session)"
    r"|(urllib\.request\.)?urlopen|urllib3\.\w+|(http\.client\.)?HTTPS?Connection|_HTTPS?Connection"
    r"|socket\.(create_connection|socket)|(zeep\.)?Client|make_client|.*\.send|.*\.post_xml|conn\.(request|connect))$"
)
# Each one the engine and the addon make, and why it is bounded (the proof is the named test).
BOUNDED_CALLS = {
    ("apicenter_sync/clients/accountview.py", "httpx.Client"): "bound_httpx_client() right after (DeadlineBackend)",
    ("apicenter_sync/clients/accountview_oauth.py", "httpx.Client"): "bound_httpx_client() right after",
    ("apicenter_sync/clients/accountview.py", "errs.send"): "data calls: accountview_errors.send -> send_httpx",
    ("apicenter_sync/clients/accountview_oauth.py", "errs.send"): "token calls and the authorize page",
    ("apicenter_sync/clients/limits.py", "client.send"): "send_httpx: deadline_scope, raw bytes, read_capped",
    ("apicenter_sync/clients/mplus.py", "Client"): "zeep client on MplusTransport (calls go through _send)",
    ("apicenter_sync/clients/mplus.py", "self.transport.post_xml"): "MplusTransport.post_xml -> _send",
    ("apicenter_sync/clients/mplus_transport.py", "_HTTPConnection"): "connection factories of _route, used by _send",
    ("apicenter_sync/clients/mplus_transport.py", "_HTTPSConnection"): "connection factories of _route",
    ("apicenter_sync/clients/mplus_transport.py", "conn.connect"): "MplusTransport._send, inside deadline_scope",
    ("apicenter_sync/clients/mplus_transport.py", "conn.request"): "MplusTransport._send, inside deadline_scope",
    ("apicenter_sync/mplus_wsdl.py", "Client"): "make_client: a zeep client for tests (never called by the engine)",
    ("apicenter_sync/flows/orders.py", "self.send"): "the orders flow's own method (no network of its own)",
}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _network_calls() -> dict[tuple[str, str], list[tuple[int, str]]]:
    """{(file, call): [(line, innermost function)]} of every network call of the engine and the addon."""
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def visit(node, path: str, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        name = _dotted(node.func) if isinstance(node, ast.Call) else ""
        if name and NETWORK_CALL.match(name):
            found.setdefault((path, name), []).append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, path, function)

    for folder in ("apicenter_sync", "apicenter_connector"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "tests" not in path.relative_to(ROOT).parts:
                visit(ast.parse(path.read_text(encoding="utf-8")), str(path.relative_to(ROOT)), "<module>")
    return found


def test_every_outgoing_request_goes_through_the_deadline_and_cap():
    found = _network_calls()
    unknown = {key: lines for key, lines in found.items() if key not in BOUNDED_CALLS}
    assert not unknown, f"network calls outside the one deadline and cap (clients/limits.py): {unknown}"
    assert not set(BOUNDED_CALLS) - set(found), "BOUNDED_CALLS rows of calls that no longer exist"
    # The structure the table relies on: httpx clients are bound where they are built, only send_httpx sends, the
    # Mplus connections are used inside MplusTransport._send only, and nothing outside the tests builds make_client.
    for path in ("apicenter_sync/clients/accountview.py", "apicenter_sync/clients/accountview_oauth.py"):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        (init,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__"
                   and "httpx.Client" in ast.unparse(n)]  # fmt: skip
        assert {fn for _, fn in found[(path, "httpx.Client")]} == {"__init__"}
        assert "bound_httpx_client(self._http)" in ast.unparse(init), f"{path}: an httpx client without the deadline"
    assert {fn for _, fn in found[("apicenter_sync/clients/limits.py", "client.send")]} == {"send_httpx"}
    for name in ("conn.connect", "conn.request"):
        assert {fn for _, fn in found[("apicenter_sync/clients/mplus_transport.py", name)]} == {"_send"}
    assert {fn for _, fn in found[("apicenter_sync/clients/accountview.py", "errs.send")]} == {"_send"}
    assert {fn for _, fn in found[("apicenter_sync/clients/accountview_oauth.py", "errs.send")]} == {
        "_token_request", "consent_redirect"}
    assert ("apicenter_sync/mplus_wsdl.py", "make_client") not in found and not any(
        name == "make_client" for _, name in found)


def test_http_logging_is_quiet_from_the_first_import():
    """What the Odoo addon's models import (apicenter_backend.py), in a fresh process: the HTTP libraries are below
    INFO before any engine is built (before: only once the first engine of the process existed)."""
    code = ("import logging, apicenter_sync.clients.accountview, apicenter_sync.clients.mplus\n"
            "print(min(logging.getLogger(name).getEffectiveLevel() for name in ('httpx', 'httpcore', 'urllib3', "
            "'zeep')))")  # fmt: skip
    logging_config = "import logging; logging.basicConfig(level=logging.INFO)\n"  # as Odoo's log_level = info
    done = subprocess.run([sys.executable, "-c", logging_config + code], capture_output=True, text=True, check=True)
    assert int(done.stdout.strip()) >= logging.WARNING


# --- personal data gone with the logs: errors name records, not people ------------------------------------------
def test_error_texts_hold_no_email_address_or_name(env: Env):
    """Errors outlive the payloads (metadata retention, 180 days): they name the record (debtor number, order), never
    the person. Invalid e-mail addresses of seeded customers, and a server fault that echoes an address, leave no
    e-mail address and no name in any run error, log line error or note, plain or in its message data."""
    env.run("customers")
    base = dict(env.av_app.tables["CONTACT"].rows["10000"])
    base.pop("CNG_DATE", None)
    people = [c for c in env.world.customers if c.email][:6]
    bad = {}
    for n, customer in enumerate(people):
        local, _, domain = customer.email.partition("@")
        address = f"{local} x@{domain}" if n % 2 else f"{local}@{domain.split('.')[0]}"  # a blank / no dot
        bad[f"9100{n}"] = {**base, "SUB_NR": f"9100{n}", "ACCT_NAME": customer.name, "MAIL_BUS": address}
    inject_rows(env, "CONTACT", bad)
    echoed = people[0].email
    raw_reply(env.mp_app, "updateRelation", _soap_fault("Client", f"relation with e-mail {echoed} is blocked"))
    raw_reply(env.mp_app, "createRelation", _soap_fault("Client", f"relation with e-mail {echoed} is blocked"))
    env.change_debtor(people[1].number, CITY="Ergenshuizen")  # one more relation to write
    result = env.engine.run("customers", RunOptions())
    lines = env.store.log.list_lines(flow="customers", limit=10_000)
    failed = [ln for ln in lines if ln.action == "failed"]
    assert len(failed) >= len(bad), [ln.error for ln in failed]
    assert any("is blocked" in str(ln.error) for ln in failed), "the server's fault reached a line"
    texts = [str(result.error or "")] + [f"{ln.error} {ln.note}" for ln in lines]
    rows = env.store.query("SELECT error, error_data FROM log_line UNION ALL SELECT error, error_data FROM run")
    texts += [f"{error} {data}" for error, data in rows]
    blob = "\n".join(texts)
    personal = {row["MAIL_BUS"] for row in bad.values()} | {echoed} | {c.email for c in env.world.customers if c.email}
    personal |= {c.name for c in people} | {c.last_name for c in people if len(c.last_name) >= 5}
    assert not [v for v in personal if v and v in blob], [v for v in personal if v and v in blob][:5]
    assert "[e-mail address]" in blob  # the server's echo, masked


def _soap_fault(code: str, text: str) -> str:
    return ("<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:SOAP-ENV="
            "'http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><SOAP-ENV:Fault>"
            f"<faultcode>SOAP-ENV:{code}</faultcode><faultstring>{text}</faultstring>"
            "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>")  # fmt: skip
