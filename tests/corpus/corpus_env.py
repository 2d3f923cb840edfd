"""Helpers of the bad-input corpus: put hostile rows and raw replies into the sandboxes, read the outcome back.

Rows go straight into the AccountView sandbox's tables, past its validation (that is the point: the engine must
survive what a broken or hostile server sends). Whole replies go through ``SandboxApp.add_raw_reply`` (the
in-process form of ``POST /_sandbox/raw-reply``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: flow_fixtures, test_flow_orders

from flow_fixtures import FAST_RETRY, Env  # noqa: E402

from apicenter_sandbox.http import RawReply  # noqa: E402

ATTEMPTS = FAST_RETRY.attempts  # a raw reply served this often outlasts every retry of one call


def now_text(env: Env) -> str:
    """The sandbox's clock as a CNG_DATE: a row with it counts as changed since the last run."""
    return env.av_app.clock().strftime("%Y-%m-%dT%H:%M:%S")


def inject_rows(env: Env, table: str, rows: dict[str, dict], *, changed: str | None = None) -> None:
    """Store ``rows`` (key -> row) in an AccountView table as they are, dated ``changed`` (default: now)."""
    t = env.av_app.tables[table]
    stamp = changed or now_text(env)
    with env.av_app.lock:
        for key, row in rows.items():
            t.rows[key] = {**row, "CNG_DATE": stamp, "CNG_NR": row.get("CNG_NR") or 1}
            t.ext_keys[key] = t.next_ext_key
            t.next_ext_key += 1
        t._queries.clear()  # the sandbox caches ordered keys per table version


def raw_reply(app, operation: str, body: str | bytes, *, status: int = 200, content_type: str = "",
              times: int = ATTEMPTS + 1) -> None:  # fmt: skip
    """Answer the next ``times`` calls of ``operation`` with ``body`` (default: more than every retry)."""
    data = body.encode() if isinstance(body, str) else body
    ctype = content_type or ("text/xml; charset=utf-8" if data.lstrip().startswith(b"<") else "application/json")
    app.add_raw_reply(RawReply(operation, data, status, ctype, times))


def lines_by_source(env: Env, flow: str, run_id: int) -> dict[str, object]:
    """The run's log lines by source id (the last line wins when a record has several)."""
    return {ln.source_id: ln for ln in env.store.log.list_lines(flow=flow, run_id=run_id, limit=10_000)}


def mismatches(lines: dict, expected: dict[str, tuple[str, str | None]]) -> list[str]:
    """Each source id's (action, text in its error) against its log line; the problems, empty when all match."""
    problems = []
    for sid, (action, text) in expected.items():
        line = lines.get(sid)
        if line is None:
            problems.append(f"{sid!r}: no log line")
            continue
        if line.action != action:
            problems.append(f"{sid!r}: {line.action} ({line.error}), expected {action}")
        elif text is not None and text not in (line.error or ""):
            problems.append(f"{sid!r}: error {line.error!r} does not contain {text!r}")
    return problems
