"""Secrets never leak: every flow through the command-line engine, with failures, retries and a token refresh,
then every log line, every stored row and payload, the SQLite file, every exception and every repr is searched
for the Mplus ident/secret, the AccountView client secret and every token the sandbox issued.

Tokens must be stored in their own table (oauth_tokens) and nowhere else.
"""

from __future__ import annotations

import inspect
import logging
import sqlite3
import ssl
import traceback
from pathlib import Path

import httpx
import pytest
from flow_fixtures import FAST_RETRY

from apicenter_sandbox.demo import sandbox_config_text
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync import config as config_mod
from apicenter_sync.cli import open_store
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth, MemoryTokenStore, Tokens
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.connect import authorize, choose_company
from apicenter_sync.engine import RUN_ORDER, Engine
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

IDENT, MPLUS_SECRET = "IDENT-c7f1e2", "MPLUS-SECRET-9a8b7c"
AV_CLIENT_ID, AV_SECRET = "av-client-4d2e", "AV-SECRET-3d4e5f"
LOGGERS = ("apicenter_sync", "apicenter_sandbox", "urllib3", "httpx", "httpcore", "zeep", "requests")


def _dump_tables(path: Path, skip: str = "oauth_tokens") -> str:
    """Every row of every table but ``skip``, all columns, as text."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if r[0] != skip]
        return "\n".join(repr(row) for name in names for row in con.execute(f'SELECT * FROM "{name}"'))
    finally:
        con.close()


def _without_tokens(path: Path, tmp: Path) -> bytes:
    """The file's bytes once the token table is dropped and the file rewritten (no free pages left over)."""
    copy = tmp / "copy.sqlite3"
    src, dst = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        src.close()
    dst.execute("DROP TABLE IF EXISTS oauth_tokens")
    dst.commit()
    dst.execute("VACUUM")
    dst.close()
    return copy.read_bytes()


def _exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(getattr(exc, "__dict__", {}))]


@pytest.fixture(scope="module")
def sandboxes():
    with start_sandboxes(size=60, mplus_ident=IDENT, mplus_secret=MPLUS_SECRET, av_client_id=AV_CLIENT_ID,
                         av_client_secret=AV_SECRET) as sb:  # fmt: skip
        yield sb


def test_no_secret_anywhere_after_every_flow_with_failures_retries_and_a_refresh(sandboxes, tmp_path, caplog):
    sb = sandboxes
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)
    cfg_path = tmp_path / "apicenter.toml"
    cfg_path.write_text(sandbox_config_text(sb), encoding="utf-8")
    cfg = config_mod.load(cfg_path)
    cfg.store_path = str(tmp_path / "state.sqlite3")
    cfg.mplus.ident, cfg.mplus.secret = IDENT, MPLUS_SECRET
    cfg.accountview.client_id, cfg.accountview.client_secret = AV_CLIENT_ID, AV_SECRET
    store = open_store(cfg)
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
    errors: list[BaseException] = []
    engine.accountview.retry = engine.mplus.retry = FAST_RETRY
    engine.accountview.on_retry = engine.mplus.on_retry = lambda n, err, delay: errors.append(err)
    authorize(engine.accountview.oauth, engine.accountview.token_store)
    engine.accountview.company_id = choose_company(engine.accountview, "")["Id"]
    texts: list[str] = []

    # 1. every flow, clean; 2. changes, faults on, tokens expired after the first flow; 3. once more.
    results = engine.run_all(only_enabled=False)
    for table, count in (("ARTICLE", 8), ("CONTACT", 5), ("ART_STOCK", 8)):
        httpx.post(f"{sb.accountview_url}/_sandbox/touch", json={"table": table, "count": count}).raise_for_status()
    faults = {"rate": 0.25, "seed": 7, "kinds": ["http500", "http502", "reset", "error200", "lost_reply"]}
    for url in (sb.accountview_url, sb.mplus_url):
        httpx.post(f"{url}/_sandbox/faults", json=faults).raise_for_status()

    def expire_after_products(result):
        if result.flow == "products":
            httpx.post(f"{sb.accountview_url}/_sandbox/expire-tokens").raise_for_status()

    refreshes_before = engine.accountview.calls["POST token"]
    results += engine.run_all(only_enabled=False, on_result=expire_after_products)
    for url in (sb.accountview_url, sb.mplus_url):
        httpx.post(f"{url}/_sandbox/faults", json={"rate": 0}).raise_for_status()
    results += engine.run_all(only_enabled=False)
    assert [r.flow for r in results] == list(RUN_ORDER) * 3
    assert engine.accountview.calls["POST token"] > refreshes_before  # the refresh happened mid-run
    assert errors, "no retry happened: the faults did not bite"
    assert any(r.failures for r in results), "no record failed: the failure paths were not exercised"

    # Exceptions the callers can meet: transport failures (the URL carries ident/secret), refused credentials.
    closed = MplusClient("http://127.0.0.1:9", IDENT, MPLUS_SECRET, retry=FAST_RETRY, timeout=(1, 1))
    wrong = MplusClient(sb.mplus_url, IDENT, MPLUS_SECRET + "x", retry=FAST_RETRY)
    bad_oauth = AccountViewOAuth(sb.accountview_url, AV_CLIENT_ID, AV_SECRET + "x", "http://localhost/cb")
    tokens_now = engine.accountview.token_store.get()
    for call in (closed.api_version, wrong.api_version, lambda: bad_oauth.refresh(tokens_now.refresh_token),
                 lambda: AccountViewClient("http://127.0.0.1:9/api/v3", bad_oauth, MemoryTokenStore(tokens_now),
                                           "x", retry=FAST_RETRY).companies()):  # fmt: skip
        with pytest.raises(Exception) as caught:  # noqa: B017, PT011 - any error; its text is what is checked
            call()
        errors.append(caught.value)
    for client in (closed, wrong, bad_oauth):
        client.close()

    # What is searched.
    for exc in errors:
        texts += _exception_texts(exc)
    texts += [repr(r) for r in results] + [r.error or "" for r in results]
    texts += [caplog.text] + [f"{rec.getMessage()} {rec.args!r} {rec.exc_text or ''}" for rec in caplog.records]
    texts += [repr(engine.accountview), repr(engine.accountview.oauth), repr(engine.mplus), repr(engine.mplus.transport),
              repr(engine.accountview.token_store), repr(tokens_now), repr(cfg), repr(engine.mplus.url)]  # fmt: skip
    texts += [repr(line) for line in store.log.list_lines(limit=100_000)] + [repr(store.log.list_runs(limit=1000))]
    engine.close()
    store.close()
    db = Path(cfg.store_path)
    texts.append(_dump_tables(db))
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # the file, its WAL and journal
    clean_file = _without_tokens(db, tmp_path)

    oauth = sb.accountview.app.oauth
    issued = [*oauth._access, *oauth._refresh]
    assert len(issued) >= 4  # first pair, the refresh (and any refresh during the faults)
    blob = "\n".join(texts)
    for secret in (IDENT, MPLUS_SECRET, AV_SECRET, *issued):
        assert secret not in blob, f"{secret[:6]}… leaked into logs, errors, reprs or stored rows"
        assert secret.encode() not in clean_file, f"{secret[:6]}… is in the SQLite file outside oauth_tokens"
    for secret in (IDENT, MPLUS_SECRET, AV_SECRET):
        assert secret.encode() not in raw, f"{secret[:6]}… is in the SQLite file"
    # The current tokens are stored (in their own table), or the engine could not run tomorrow.
    con = sqlite3.connect(db)
    stored = con.execute("SELECT data FROM oauth_tokens").fetchone()[0]
    con.close()
    assert tokens_now.access_token in stored and tokens_now.refresh_token in stored


def test_tls_is_verified_by_default():
    for cls in (AccountViewClient, AccountViewOAuth, MplusClient):
        assert inspect.signature(cls.__init__).parameters["verify_tls"].default is True, cls.__name__
    assert config_mod.AccountViewConfig().verify_tls and config_mod.MplusConfig().verify_tls
    oauth = AccountViewOAuth("https://www.accountview.net", "id", "secret", "https://localhost/cb")
    client = AccountViewClient(oauth.api_url, oauth, MemoryTokenStore(Tokens("a" * 20, "r" * 20)), "x")
    mplus = MplusClient("https://api.mpluskassa.nl:34567", "ident", "secret")
    try:
        for http in (oauth._http, client._http):
            context = http._transport._pool._ssl_context
            assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert mplus.transport.verify_tls is True
        settings = mplus.session.merge_environment_settings(mplus.url, {}, None, mplus.transport.verify_tls, None)
        assert settings["verify"] not in (False, None, "")  # True, or a CA bundle from the environment
    finally:
        client.close()
        oauth.close()
        mplus.close()
