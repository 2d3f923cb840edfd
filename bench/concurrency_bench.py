"""Does write concurrency pay? Products' first sync at several ``write_concurrency`` values, same world each time.

    .venv/bin/python -m bench.concurrency_bench                        # 2000 articles; 1, 2, 4, 8 writers; 0 and 20 ms
    .venv/bin/python -m bench.concurrency_bench --size 5000 --workers 1,4 --latency 20

Each run starts from reset sandboxes and an empty state store, in a fresh worker process (bench/worker.py), so
the figures are the engine's own: wall time, our CPU per record (the client process alone; the sandboxes run in
their own process) and peak RSS. The question it answers: where more writers in flight stop shortening the wall
time, do they cost more CPU per record (interpreter contention), and by how much.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from apicenter_sandbox.process import SandboxProcess

from .run import run_worker, write_config


def measure(size: int, latency: float, workers: list[int], log) -> list[dict]:
    rows = []
    sb = SandboxProcess(size, latency)
    try:
        for n in workers:
            sb.reset()
            with tempfile.TemporaryDirectory(prefix="apicenter-conc-") as tmp:
                config = write_config(sb, Path(tmp))
                text = config.read_text(encoding="utf-8")
                config.write_text(text.replace("[settings.products]\n", f"[settings.products]\nwrite_concurrency = {n}\n"),
                                  encoding="utf-8")  # fmt: skip
                r = run_worker(config, sb, "products", "full")
            row = {"latency_ms": latency, "workers": n, "records": r["records"], "wall_s": r["wall_s"],
                   "cpu_ms": r["cpu_s"] * 1000 / max(r["records"], 1), "rss_mb": r["rss_peak_mb"],
                   "error": r.get("error")}  # fmt: skip
            rows.append(row)
            log(f"  {latency:g} ms, {n} writers: {row['records']} records, {row['wall_s']:.2f} s, "
                f"{row['cpu_ms']:.3f} ms CPU/record, {row['rss_mb']:.0f} MB")  # fmt: skip
    finally:
        sb.stop()
    return rows


def render(rows: list[dict], size: int) -> str:
    out = [f"Products, first sync of {size:,} articles, by write_concurrency:", "",
           "| latency | writers | records | wall s | wall vs 1 writer | our CPU ms/rec | CPU vs 1 writer | peak RSS MB |",
           "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    first = {}
    for r in rows:
        one = first.setdefault(r["latency_ms"], r)
        out.append(f"| {r['latency_ms']:g} ms | {r['workers']} | {r['records']:,} | {r['wall_s']:.2f} | "
                   f"{r['wall_s'] / one['wall_s']:.2f} | {r['cpu_ms']:.3f} | {r['cpu_ms'] / one['cpu_ms']:.2f} | "
                   f"{r['rss_mb']:.0f} |")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.concurrency_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=2000, help="articles (default 2000)")
    p.add_argument("--workers", default="1,2,4,8", help="write_concurrency values (default 1,2,4,8)")
    p.add_argument("--latency", default="0,20", help="sandbox latency per request in ms (default 0,20)")
    args = p.parse_args(argv)
    rows = []
    for latency in (float(x) for x in args.latency.split(",") if x.strip()):
        rows += measure(args.size, latency, [int(x) for x in args.workers.split(",")], lambda m: print(m, file=sys.stderr))
    print(render(rows, args.size))
    return 0 if not any(r["error"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
