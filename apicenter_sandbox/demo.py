"""`apicenter-demo` (what `./dev demo` runs): both sandboxes with seeded data, every flow run twice, the results shown.

The first run syncs everything (the seeded orders, and a few sales rung up at the till: receipts and an
invoice) and shows the clear errors of the seeded bad records; the second run shows that nothing is written
again.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
from importlib import resources
from pathlib import Path

import httpx

from apicenter_sync import config as config_mod
from apicenter_sync.cli import Progress, open_store, print_failures, print_summary
from apicenter_sync.connect import authorize, choose_company
from apicenter_sync.doctor import run_doctor
from apicenter_sync.engine import FLOWS, RUN_ORDER, Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.i18n import cli_language, render
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore

from .runner import (
    DEFAULT_ACCOUNTVIEW_PORT,
    DEFAULT_AV_CLIENT_ID,
    DEFAULT_AV_CLIENT_SECRET,
    DEFAULT_MPLUS_IDENT,
    DEFAULT_MPLUS_PORT,
    DEFAULT_MPLUS_SECRET,
    Sandboxes,
    start_sandboxes,
)


def sandbox_config_text(sb: Sandboxes) -> str:
    """The shipped sandbox configuration, pointed at these sandboxes' ports."""
    text = resources.files("apicenter_sandbox").joinpath("sandbox.toml").read_text(encoding="utf-8")
    text = text.replace(f"http://127.0.0.1:{DEFAULT_ACCOUNTVIEW_PORT}", sb.accountview_url)
    text = text.replace(f'client_id = "{DEFAULT_AV_CLIENT_ID}"', f'client_id = "{sb.av_client_id}"')
    text = text.replace(f'client_secret = "{DEFAULT_AV_CLIENT_SECRET}"', f'client_secret = "{sb.av_client_secret}"')
    text = text.replace(f'ident = "{DEFAULT_MPLUS_IDENT}"', f'ident = "{sb.mplus_ident}"')
    text = text.replace(f'secret = "{DEFAULT_MPLUS_SECRET}"', f'secret = "{sb.mplus_secret}"')
    return text.replace(f"http://127.0.0.1:{DEFAULT_MPLUS_PORT}", sb.mplus_url)


def _writes(sb: Sandboxes) -> dict[str, int]:
    out = {}
    for name, url in (("AccountView", sb.accountview_url), ("MplusKASSA", sb.mplus_url)):
        out[name] = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()["total_writes"]
    return out


ORDER_STORIES = (
    ("order_already_booked", "already in AccountView"),
    ("order_anonymous", "anonymous till sale"),
    ("order_foreign_customer", "foreign customer"),
    ("order_with_return", "order with a return line"),
    ("order_missing_sku", "article missing in AccountView"),
)


def ring_till_sales(sb: Sandboxes) -> list[tuple[str, str]]:
    """A few sales rung up at the till (the sandbox's /_sandbox/till endpoints): (story, the flow's reference)."""
    world = sb.world
    service = {world.edge[k] for k in ("shipping_article", "other_line_article", "cash_rounding_article")}
    sellable = [int(a.sku) for a in world.articles if a.in_mplus and a.in_accountview and a.sku.isdigit()
                and a.sku not in service]  # fmt: skip
    relation = min(n for n, r in sb.mplus.app.store.relations.items() if r.get("email"))
    sales = (
        ("receipt: 2 × 15 % off, paid cash", {"lines": [{"articleNumber": sellable[0], "quantity": "2",
                                                          "discountPercentage": 15}], "payments": [{"method": "CASH"}]}),
        ("receipt: 1.25 kg, gift card + card", {"lines": [{"articleNumber": sellable[1], "quantity": "1.25"}],
                                                "payments": [{"method": "GIFTCARD", "amount": 500},
                                                             {"method": "PIN"}]}),
        ("receipt: repair + deposit lines", {"lines": [
            {"articleNumber": 0, "text": "Reparatie", "price": 1250, "vatCode": 2},
            {"articleNumber": 0, "text": "Statiegeld", "price": 15, "vatCode": 0, "bpeId": "DEP-1", "quantity": "4"}],
            "payments": [{"method": "PIN"}]}),
        ("credit receipt: a return", {"kind": "credit_receipt", "lines": [{"articleNumber": sellable[2],
                                                                          "quantity": "-1"}],
                                      "payments": [{"method": "CASH"}]}),
        ("cash into the drawer", {"kind": "cash_in", "lines": [], "payments": [{"method": "CASH", "amount": 5000}]}),
        ("invoice on account", {"kind": "invoice", "relationNumber": relation,
                                "lines": [{"articleNumber": sellable[3], "quantity": "3"}],
                                "payments": [{"method": "ACCOUNT"}]}),
    )  # fmt: skip
    made = []
    for story, sale in sales:
        stored = httpx.post(f"{sb.mplus_url}/_sandbox/till/sale", json=sale, timeout=10).json()
        made.append((story, stored.get("receiptId") or stored.get("invoiceId")))
    return made


def _words(text) -> str:
    """An engine text in the reader's language (the locale, as the CLI does)."""
    return render(text, cli_language()) if text else ""


def print_till_stories(store, till: list[tuple[str, str]]) -> None:
    print("\nSales rung up at the till (receipts and invoices are read too: source_document_type):")
    for story, ref in till:
        lines = store.log.list_lines(flow="orders", source_id=ref, limit=1)
        if lines:
            ln = lines[0]
            print(f"  {story:<38} {ln.action:<9} {_words(ln.error)}"[:200])


def print_order_stories(store, sb: Sandboxes) -> None:
    """What happened to the seeded orders that exercise the order rules."""
    print("\nSeeded orders that exercise the order rules:")
    for edge, story in ORDER_STORIES:
        ref = sb.world.edge.get(edge)
        lines = store.log.list_lines(flow="orders", source_id=ref, limit=1) if ref else []
        if lines:
            ln = lines[0]
            detail = _words(ln.error) or (f"-> {ln.target_id}" if ln.target_id else "")
            print(f"  {ref:<18} {story:<32} {ln.action:<9} {detail}"[:200])


def run_demo(size: int = 300, orders: int | None = None, folder: str | None = None) -> int:
    print(f"Starting the AccountView and MplusKASSA sandboxes (size {size}) …", flush=True)
    with start_sandboxes(size=size, orders=orders) as sb, tempfile.TemporaryDirectory() as tmp:
        where = Path(folder or tmp)
        where.mkdir(parents=True, exist_ok=True)
        cfg_path = where / "apicenter.toml"
        # The demo reads the till's receipts and invoices too (the shipped sandbox configuration: orders only).
        text = re.sub(r'(?m)^source_document_type = "[^"]*"', 'source_document_type = "order, receipt, invoice"',
                      sandbox_config_text(sb))  # fmt: skip
        cfg_path.write_text(text, encoding="utf-8")
        print(f"  AccountView {sb.accountview_url}   MplusKASSA {sb.mplus_url}")
        print(f"  configuration {cfg_path}")
        cfg = config_mod.load(cfg_path)
        store = open_store(cfg)
        engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
        try:
            print("\nConnecting AccountView (OAuth2 authorization code; the sandbox consents at once) …")
            authorize(engine.accountview.oauth, engine.accountview.token_store)
            company = choose_company(engine.accountview, cfg.accountview.company_id)
            engine.accountview.company_id = company["Id"]
            print(f"  connected to {company['Description']} ({company['Code']})")
            report = run_doctor(engine)
            counts = report.counts()
            print(f"\n== Doctor (apicenter-sync doctor): {counts['confirmed']} checks confirmed, {counts['refuted']} "
                  f"refuted, {counts['unchecked']} not checked in {report.seconds:.1f} s")  # fmt: skip
            for check in report.refuted:
                print(f"  {check.line()}")
            till = ring_till_sales(sb)
            names = [n for n in RUN_ORDER if n in FLOWS]
            for round_no, title in ((1, "First run: everything is new"), (2, "Second run: nothing changed")):
                before = _writes(sb)
                print(f"\n== {title}")
                progress = Progress()
                results = [engine.run(name, RunOptions(progress=progress)) for name in names]
                progress.end()
                print_summary(results)
                after = _writes(sb)
                writes = ", ".join(f"{k} {after[k] - before[k]}" for k in after)
                print(f"writes this round: {writes}")
                if round_no == 1:
                    print("\nThe seeded bad records fail with a clear error each (the rest went on):")
                    for result in results:
                        print_failures(result, limit=6)
                    if "orders" in names:
                        print_order_stories(store, sb)
                        print_till_stories(store, till)
        finally:
            engine.close()
            store.close()
        if folder:
            print(f"\nState kept in {where}: `apicenter-sync --config {cfg_path} log --failed` shows the failures "
                  "(the sandboxes stop with the demo, so `run` needs `apicenter-sandbox` running).")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="apicenter-demo",
        description="Start both sandboxes with seeded data, run every flow twice through the engine, show the results.",
    )
    p.add_argument("--size", type=int, default=300, help="seeded articles (default 300)")
    p.add_argument("--orders", type=int, default=None, help="seeded Mplus orders (default size/10)")
    p.add_argument("--dir", help="keep the demo's config and SQLite store in this folder")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    return run_demo(size=args.size, orders=args.orders, folder=args.dir)


if __name__ == "__main__":
    sys.exit(main())
