"""cProfile of one flow run against sandboxes in another process (the profile covers our process only).

    .venv/bin/python -m bench.profile --size 3000 --flow customers [--mode full|reread] [--top 30]

Runs the flows that come before ``--flow`` first (without profiling) so it finds what it depends on, then the
flow itself under cProfile in a fresh worker; prints the top functions by own time and by cumulative time and
keeps the profile in ``bench/results/profiles/`` (open it with ``python -m pstats`` or snakeviz).
"""

from __future__ import annotations

import argparse
import pstats
import sys
import tempfile
from pathlib import Path

from apicenter_sandbox.process import SandboxProcess
from apicenter_sync.engine import FLOWS, RUN_ORDER

from .run import RESULTS, run_worker, write_config


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--size", type=int, default=3000)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--flow", default="products", choices=list(FLOWS))
    p.add_argument("--mode", default="full", choices=["full", "reread", "naive"])
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)
    out = RESULTS / "profiles" / f"{args.flow}-{args.mode}-{args.size}-{args.latency:g}ms.prof"
    out.parent.mkdir(parents=True, exist_ok=True)
    sb = SandboxProcess(args.size, args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="apicenter-profile-") as tmp:
            config = write_config(sb, Path(tmp))
            before = [f for f in RUN_ORDER[: RUN_ORDER.index(args.flow)] if f in FLOWS and f != "orders"]
            if args.mode == "reread":
                before.append(args.flow)
            for flow in before if args.mode != "naive" else []:
                run_worker(config, sb, flow, "full")
            r = run_worker(config, sb, args.flow, args.mode, profile=out, limit=1000 if args.mode == "naive" else None)
    finally:
        sb.stop()
    n = r["records"] or 1
    print(f"{args.flow} {args.mode}: {r['records']} records, wall {r['wall_s']:.2f} s (profiled), "
          f"CPU {r['cpu_s'] * 1000 / n:.3f} ms/record, calls {r['sandbox_calls_total']}, writes {r['writes_total']}")  # fmt: skip
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
