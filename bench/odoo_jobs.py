"""The flows through Odoo jobs: a real Odoo 18 (prefork workers, queue_job's job runner) against the sandboxes.

    .venv/bin/python -m bench.odoo_jobs --size 1000 --orders 1000      # both configurations below
    (bench.run runs it too, unless --skip-odoo)

For every configuration a fresh database with the addon, a backend on sandboxes in their own process, then:

- **one worker**: ``--workers 1``, every channel capacity 1; each flow on its own ("Run now", in the order of
  ``RUN_ORDER``) until its last job is done: records/s = records of the flow's runs ÷ wall time from the click
  to the end of its last job (queueing, the runner's dispatch, one transaction per job included);
- **capacity raised**: ``--workers 2``, channel ``root.apicenter.accountview`` capacity 2 and ``root`` 3; every
  flow clicked at once: records/s of them all together (stock and prices wait for products, see
  ``apicenter_sync.engine.NEEDS``, so the gain is the orders flow on its channel beside the AccountView flows).

Nothing is measured when no Odoo is installed (see ``apicenter_sandbox/odoo_server.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from apicenter_sandbox.odoo_server import OdooServer, find_odoo, why_no_odoo
from apicenter_sandbox.process import SandboxProcess
from apicenter_sync.engine import FLOWS, RUN_ORDER

CONFIGS = {
    "one worker": {"workers": 1, "channels": "root:1,root.apicenter:1,root.apicenter.accountview:1,root.apicenter.mplus:1"},
    "capacity raised": {"workers": 2,
                        "channels": "root:3,root.apicenter:3,root.apicenter.accountview:2,root.apicenter.mplus:1"},
}  # fmt: skip


def _records(server: OdooServer, flow: str, since_id: int) -> tuple[int, int]:
    """(records, runs) of the flow's runs with an id above ``since_id``."""
    runs = server.call("apicenter.run", "search_read", [("flow", "=", flow), ("id", ">", since_id)],
                       fields=["counts", "state"])  # fmt: skip
    return sum(sum(json.loads(r["counts"] or "{}").values()) for r in runs), len(runs)


def _last_run_id(server: OdooServer) -> int:
    found = server.call("apicenter.run", "search_read", [], fields=["id"], order="id desc", limit=1)
    return found[0]["id"] if found else 0


def measure(size: int, orders: int, latency_ms: float, config: str, log=print) -> list[dict]:
    install = find_odoo()
    if install is None:
        raise RuntimeError(why_no_odoo())
    rows = []
    base = {"size": size, "orders": orders, "latency_ms": latency_ms, "config": config}
    with SandboxProcess(size, latency_ms, orders=orders) as sb, OdooServer(install, **CONFIGS[config]) as server:
        server.prepare()
        ids = server.configure(sb.credentials)
        server.start()
        flows = [name for name in RUN_ORDER if name in FLOWS]
        # One worker: each flow on its own; capacity raised: all of them started together.
        groups = [[name] for name in flows] if config == "one worker" else [flows]
        for group in groups:
            since = _last_run_id(server)
            before = sb.stats()
            started = time.monotonic()
            server.call("apicenter.flow", "action_run_now", [ids["flows"][name] for name in group])
            wall = server.wait_idle(timeout=3600, poll=0.1, quiet=0.5, since=started)
            counted = [_records(server, name, since) for name in group]
            records, runs = sum(r for r, _ in counted), sum(n for _, n in counted)
            rows.append({**base, "flow": ", ".join(group), "records": records, "jobs": runs, "wall_s": wall,
                         "calls": _calls(sb.stats(), before)})  # fmt: skip
            log(f"  odoo {config}: {', '.join(group):<9} {records:>7} rec {wall:8.2f} s {runs} jobs")
    for r in rows:
        r["rate"] = r["records"] / r["wall_s"] if r["wall_s"] else None
    return rows


def _calls(after: dict, before: dict) -> int:
    return sum(after[s]["total_calls"] - before[s]["total_calls"] for s in ("accountview", "mplus"))


def render(rows: list[dict], skipped: str | None = None) -> str:
    head = ("| articles | orders | latency | configuration | flow | records | jobs | wall s | records/s | calls/rec |\n"
            "|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    if skipped:
        return f"{head}\n| – | – | – | through Odoo jobs (queue_job) | – | {skipped} | | | | |"
    lines = [head]
    for r in rows:
        per = f"{r['calls'] / r['records']:.2f}" if r["records"] else "–"
        rate = f"{r['rate']:.0f}" if r["rate"] else "–"
        lines.append(f"| {r['size']:,} | {r['orders']:,} | {r['latency_ms']:g} ms | {r['config']} | {r['flow']} "
                     f"| {r['records']:,} | {r['jobs']} | {r['wall_s']:.2f} | {rate} | {per} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.odoo_jobs", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=1000, help="articles of the world (default 1000)")
    p.add_argument("--orders", type=int, default=1000, help="Mplus orders of the world (default 1000)")
    p.add_argument("--latency", type=float, default=0.0, help="sandbox latency per request in ms (default 0)")
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    if find_odoo() is None:
        print(render([], skipped=f"skipped: {why_no_odoo()}"))
        return 0
    rows = []
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        rows += measure(args.size, args.orders, args.latency, config, log=lambda m: print(m, file=sys.stderr))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
