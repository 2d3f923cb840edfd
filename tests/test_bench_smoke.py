"""Smoke test of the end-to-end benchmark (bench/run.py): a tiny world, no timing assertions.

Runs the documented command at 200 articles and 0 ms latency in subprocesses (sandboxes in their own process,
one worker per scenario) and checks the table is produced with sane figures: every flow ran without stopping,
nothing is written on an unchanged re-run or re-read, the incremental run touches only the changed records,
and calls per record are finite.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("products", "customers", "stock")


def test_bench_run_tiny(tmp_path):
    out = tmp_path / "latest.md"
    cmd = [sys.executable, "-m", "bench.run", "--quick", "--sizes", "200", "--naive-limit", "40", "--out", str(out),
           "-q"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "| articles | latency | flow | scenario |" in text
    assert "through Odoo jobs" in text
    assert "Targets:" in text
    # --quick: the key ratios, ours against the naive baseline for every flow that has one.
    ratios = out.with_name("quick-ratios.md").read_text(encoding="utf-8")
    assert ratios in done.stdout
    for flow in CHECKED:
        line = next(ln for ln in ratios.splitlines() if ln.startswith(f"| {flow} | full initial sync |"))
        assert line.split("|")[4].strip().endswith("×"), line
    rows = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))

    def row(flow, scenario):
        found = [r for r in rows if r["flow"] == flow and r["scenario"] == scenario]
        assert found, f"no {scenario} row for {flow}"
        return found[0]

    for flow in CHECKED:
        full, rerun, reread, inc, naive = (row(flow, s) for s in ("full", "rerun", "reread", "incremental", "naive"))
        for r in (full, rerun, reread, inc):
            assert r["error"] is None, f"{flow} {r['scenario']}: {r['error']}"
        assert full["records"] > 0 and full["writes_total"] > 0
        assert math.isfinite(full["calls_per_record"]) and 0 < full["calls_per_record"] < 10
        assert full["cpu_s"] > 0 and full["rss_peak_mb"] > 0
        assert rerun["writes_total"] == 0, f"{flow}: an unchanged re-run wrote {rerun['writes']}"
        assert reread["writes_total"] == 0, f"{flow}: an unchanged re-read wrote {reread['writes']}"
        assert reread["records"] == full["records"]
        # 1 % changed: the run handles the changed records, not the catalogue.
        assert 0 < inc["records"] < full["records"] / 4
        assert 0 < inc["sandbox_calls_total"] < full["sandbox_calls_total"]
        assert naive["records"] > 0 and math.isfinite(naive["calls_per_record"])
        assert full["x_calls"] is not None and full["x_calls"] > 0


def test_the_committed_table_is_read_back_for_the_comparison():
    sys.path.insert(0, str(ROOT))
    from bench.run import committed_rows, key_ratios

    rows = committed_rows()
    full = [r for r in rows if r["scenario"] == "full" and r["flow"] == "products"]
    assert full and all(r["cpu_ms_per_record"] > 0 and r["wall_s"] > 0 for r in full)
    now = [{**full[0], "cpu_ms_per_record": full[0]["cpu_ms_per_record"] / 2, "wall_s": full[0]["wall_s"] * 2}]
    line = key_ratios(now, rows).splitlines()[-1]
    assert line.endswith("| 0.50 | 2.00 |"), line
