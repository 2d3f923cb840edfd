"""One benchmark scenario in a fresh process: one flow run (engine or naive baseline), measured from inside.

    python -m bench.worker --config DIR/apicenter.toml --sandbox-pid PID --flow products --mode full

Modes: ``full`` (first sync, or whatever the store holds), ``rerun`` (watermark kept), ``reread`` (watermark
reset first: every record is read again and compared by hash), ``naive`` (bench/naive.py). Prints one line
``RESULT {json}``: wall and CPU seconds of the run alone, CPU of the sandbox process over the same span (from
/proc), calls per operation from both clients' counters and from the sandboxes' ``/_sandbox/stats``, writes the
sandboxes counted, the run's counts, and the peak RSS of this process (``ru_maxrss``) before and after the run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import time
from collections import Counter

import httpx

from apicenter_sync import config as config_mod
from apicenter_sync.cli import open_store
from apicenter_sync.connect import authorize, choose_company
from apicenter_sync.engine import Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

CLK_TCK = os.sysconf("SC_CLK_TCK")
SETUP_OPERATIONS = {"GET authorize", "POST token", "GET companies"}


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15 of the line)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sandbox_stats(cfg) -> dict[str, dict]:
    out = {}
    for name, url in (("accountview", cfg.accountview.base_url), ("mplus", cfg.mplus.url)):
        out[name] = httpx.get(f"{url}/_sandbox/stats", timeout=30).json()
    return out


def _diff(after: dict, before: dict) -> dict[str, int]:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(keys) if after.get(k, 0) != before.get(k, 0)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.worker")
    p.add_argument("--config", required=True)
    p.add_argument("--sandbox-pid", type=int, required=True)
    p.add_argument("--flow", required=True)
    p.add_argument("--mode", choices=["full", "rerun", "reread", "naive"], default="full")
    p.add_argument("--limit", type=int, default=None, help="naive: at most this many records")
    p.add_argument("--profile", help="write a cProfile of the run to this file")
    args = p.parse_args(argv)

    cfg = config_mod.load(args.config)
    store = open_store(cfg)
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
    if engine.accountview.token_store.get() is None:
        authorize(engine.accountview.oauth, engine.accountview.token_store)
    engine.accountview.company_id = choose_company(engine.accountview, cfg.accountview.company_id)["Id"]
    if args.mode == "reread":
        store.watermarks.reset(args.flow)
    rss_before = max_rss_mb()

    stats0 = sandbox_stats(cfg)
    engine.accountview.reset_counters()
    engine.mplus.reset_counters()
    profiler = cProfile.Profile() if args.profile else None
    sb_cpu0 = proc_cpu(args.sandbox_pid)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    if args.mode == "naive":
        from .naive import naive_run

        out = naive_run(engine, args.flow, limit=args.limit)
        counts, failures, error = out["counts"], out["failures"], None
    else:
        result = engine.run(args.flow, RunOptions())
        counts, failures, error = result.counts, result.failures, result.error
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    sb_cpu = proc_cpu(args.sandbox_pid) - sb_cpu0
    stats1 = sandbox_stats(cfg)
    if profiler:
        profiler.dump_stats(args.profile)

    client_calls = Counter(engine.accountview.calls) + Counter(engine.mplus.calls)
    calls = {}
    writes = {}
    for name in ("accountview", "mplus"):
        for op, n in _diff(stats1[name]["calls"], stats0[name]["calls"]).items():
            calls[f"{name}:{op}"] = n
        for entity, n in _diff(stats1[name]["writes"], stats0[name]["writes"]).items():
            writes[f"{name}:{entity}"] = n
    report = {
        "flow": args.flow,
        "mode": args.mode,
        "records": sum(counts.values()),
        "counts": dict(counts),
        "failures": len(failures),
        "first_failures": failures[:3],
        "error": error,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_user_s": ru1.ru_utime - ru0.ru_utime,
        "cpu_sys_s": ru1.ru_stime - ru0.ru_stime,
        "sandbox_cpu_s": sb_cpu,
        "client_calls": dict(client_calls),
        "client_calls_total": sum(n for op, n in client_calls.items() if op not in SETUP_OPERATIONS),
        "sandbox_calls": calls,
        "sandbox_calls_total": sum(n for op, n in calls.items() if op.split(":", 1)[1] not in SETUP_OPERATIONS),
        "writes": writes,
        "writes_total": sum(n for op, n in writes.items() if op != "accountview:token"),
        "rss_before_mb": rss_before,
        "rss_peak_mb": max_rss_mb(),
    }
    engine.close()
    store.close()
    print("RESULT " + json.dumps(report, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
