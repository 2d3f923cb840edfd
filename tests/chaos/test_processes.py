"""Crash safety and concurrency of the command line: ``apicenter-sync run`` as separate processes.

- Crash: ``apicenter-sync run all`` is SIGKILLed at seeded random moments, several times, then restarted until it
  is done; the end state equals that of an uninterrupted run (same number of documents, debtors, relations,
  products, articles, stock entries; strict reconciliation clean): no lost watermark, no double write.
- Concurrency: two processes run the same flow at the same moment on the same SQLite store; the flow lock lets
  one of them work and ends the other at once, so the sandboxes count exactly the writes of a single run.

The sandboxes run in this test process (real sockets on 127.0.0.1) so the end state can be read in-process; a
little latency per request makes a run last long enough to be killed or overlapped.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from chaos_harness import config_text, connect_store, post, stats

from apicenter_sandbox.reconcile import reconcile
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync import config as config_mod
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

SIZE = 60
LATENCY_MS = 8


def prepare(sb, folder: Path) -> Path:
    """A config file for these sandboxes, a store with the sandbox settings and connected AccountView tokens."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg_path = folder / "apicenter.toml"
    cfg_path.write_text(config_text(sb, folder / "apicenter.sqlite3", timeout=10), encoding="utf-8")
    cfg = config_mod.load(cfg_path)
    with SqliteStore(cfg.store_path, cfg.backend) as store:
        cfg.apply_to(store)
        connect_store(sb, store)
    return cfg_path


def cli(cfg_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "apicenter_sync.cli", "--config", str(cfg_path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip


def run_to_end(cfg_path: Path, *args: str, timeout: float = 120) -> tuple[int, str]:
    proc = cli(cfg_path, *args)
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def entity_counts(sb) -> Counter:
    m, av = sb.mplus.app.store, sb.accountview.app.tables
    return Counter({
        "AV SO_HDR": len(av["SO_HDR"].rows), "AV SO_LINE": len(av["SO_LINE"].rows), "AV CONTACT": len(av["CONTACT"].rows),
        "Mplus relations": len(m.relations), "Mplus products": len(m.products), "Mplus articles": len(m.article_product),
        "Mplus stock": len(m.stock), "Mplus article groups": len(m.article_groups),
    })  # fmt: skip


def writes(sb) -> Counter:
    total: Counter = Counter()
    for name, url in (("AV", sb.accountview_url), ("Mplus", sb.mplus_url)):
        total.update({f"{name} {k}": v for k, v in stats(url)["writes"].items()})
    return total


def latency(sb, ms: float) -> None:
    for url in (sb.accountview_url, sb.mplus_url):
        post(url, "/_sandbox/latency", {"latency_ms": ms})


def reset(sb) -> None:
    for url in (sb.accountview_url, sb.mplus_url):
        post(url, "/_sandbox/reset")


def settle(cfg_path: Path, runs: int = 4) -> list[str]:
    """Run everything until a run writes nothing (the customers flow picks up debtors the orders flow created)."""
    outputs = []
    for _ in range(runs):
        code, out = run_to_end(cfg_path, "run", "all")
        outputs.append(out)
        assert code in (0, 1) and "STOPPED" not in out, out
        if _quiet(out):
            break
    return outputs


def _quiet(summary: str) -> bool:
    """No created/updated in the summary table of `apicenter-sync run`."""
    for line in summary.splitlines():
        cells = line.split()
        if cells and cells[0] in ("products", "customers", "stock", "prices", "orders") and len(cells) > 3:
            if cells[1] != "0" or cells[2] != "0":
                return False
    return True


def strict_check(sb, cfg_path: Path, seeded: set[int]):
    cfg = config_mod.load(cfg_path)
    store = SqliteStore(cfg.store_path, cfg.backend)
    oauth = AccountViewOAuth(cfg.accountview.base_url, cfg.accountview.client_id, cfg.accountview.client_secret,
                             cfg.accountview.redirect_uri)  # fmt: skip
    av = AccountViewClient(oauth.api_url, oauth, SqliteTokenStore(store))
    av.company_id = av.companies()[0]["Id"]
    mp = MplusClient(sb.mplus_url, sb.mplus_ident, sb.mplus_secret)
    try:
        return reconcile(sb, store, av, mp, seeded)
    finally:
        av.close()
        mp.close()
        store.close()


def test_sigkilled_runs_converge_to_the_state_of_an_uninterrupted_run(tmp_path, chaos_options):
    kills = chaos_options["chaos_kills"]
    rng = random.Random(chaos_options["chaos_seed"])
    with start_sandboxes(size=SIZE, seed=1) as sb:
        seeded = set(sb.mplus.app.store.article_product)
        latency(sb, LATENCY_MS)
        # The uninterrupted reference.
        ref_cfg = prepare(sb, tmp_path / "reference")
        started = time.monotonic()
        settle(ref_cfg)
        duration = time.monotonic() - started
        reference = entity_counts(sb)
        assert strict_check(sb, ref_cfg, seeded).ok
        # The same world again, killed at random moments.
        reset(sb)
        latency(sb, LATENCY_MS)
        cfg_path = prepare(sb, tmp_path / "killed")
        moments = []
        for _ in range(kills):
            proc = cli(cfg_path, "run", "all")
            moment = rng.uniform(0.3, max(0.6, duration * 0.8))
            try:
                proc.wait(moment)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                moments.append(round(moment, 2))
            proc.stdout.close()
        assert moments, "no run was killed: the runs ended too quickly"
        outputs = settle(cfg_path)
        counts = entity_counts(sb)
        report = strict_check(sb, cfg_path, seeded)
        print(
            f"\nkilled at {moments} s (uninterrupted run: {duration:.1f} s); then {len(outputs)} runs; {dict(counts)}"
        )
        assert counts == reference, (counts - reference, reference - counts)
        assert report.ok, report.summary()
        with SqliteStore(config_mod.load(cfg_path).store_path, "sandbox") as store:
            runs = store.log.list_runs(limit=1000)
            # The next run of a flow marks the run that died with its process as aborted (it holds the flow lock);
            # a kill during start-up (imports, WSDL) leaves no run at all.
            assert not [r for r in runs if r.state == "running"]
            print(f"aborted runs in the log: {sum(r.state == 'aborted' for r in runs)}")
            assert all(store.lock_holder(flow) is None for flow in ("products", "customers", "stock", "orders"))


@pytest.mark.parametrize("flow", ["products", "orders"])
def test_two_processes_running_one_flow_write_like_one(tmp_path, flow):
    with start_sandboxes(size=SIZE, seed=1) as sb:
        latency(sb, 15)
        code, out = run_to_end(prepare(sb, tmp_path / "single"), "run", flow)
        assert code == 0, out
        single = writes(sb)
        assert single, "the single run wrote nothing"
        reset(sb)
        latency(sb, 15)
        cfg_path = prepare(sb, tmp_path / "twice")
        procs = [cli(cfg_path, "run", flow) for _ in range(2)]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        both = writes(sb)
        print(f"\n{flow}: single run {dict(single)}; two concurrent processes {dict(both)}")
        assert both == single
        locked = [o for o in outs if f"another run of {flow} is in progress" in o]
        assert len(locked) == 1, outs  # they overlapped, and exactly one of them did the work
