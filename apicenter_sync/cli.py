"""`apicenter-sync`: run the AccountView ↔ MplusKASSA flows from the command line, with a SQLite state store."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import config as config_mod
from .connect import authorize, choose_company
from .doctor import run_doctor
from .doctor.propose import proposed_toml
from .engine import FLOWS, RUN_ORDER, Engine, quiet_http_logs
from .errors import SyncError
from .flows.base import RunOptions, RunResult, counts_text
from .i18n import cli_language, msg, render, steps_in
from .store import SqliteStore
from .store.sqlite_tokens import SqliteTokenStore

DEFAULT_CONFIG = "apicenter.toml"
ACTIONS = ("created", "updated", "unchanged", "skipped", "failed", "dry_run")


def build_parser() -> argparse.ArgumentParser:
    """The commands and options, described in the language of the command line (catalogue keys ``cli.help.*``)."""
    h = _t
    p = _Parser(prog="apicenter-sync", description=h("cli.help.description"))
    p.add_argument(
        "--config", default=os.environ.get("APICENTER_CONFIG", DEFAULT_CONFIG),
        help=h("cli.help.config", default=DEFAULT_CONFIG),
    )  # fmt: skip
    p.add_argument("-v", "--verbose", action="store_true", help=h("cli.help.verbose"))
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("connect", help=h("cli.help.connect"))
    c.add_argument("system", choices=["accountview"])

    r = sub.add_parser("run", help=h("cli.help.run"))
    r.add_argument("flow", choices=[*FLOWS, "all"])
    r.add_argument("--dry-run", action="store_true", help=h("cli.help.dry_run"))
    r.add_argument("--full", action="store_true", help=h("cli.help.full"))
    r.add_argument("--limit", type=int, help=h("cli.help.limit"))
    r.add_argument("--show", type=int, default=20, help=h("cli.help.show"))
    r.add_argument("--capture", metavar="DIR", help=h("cli.help.capture"))

    dr = sub.add_parser("doctor", help=h("cli.help.doctor"))
    dr.add_argument("--only", choices=["accountview", "mplus"], help=h("cli.help.doctor_only"))
    dr.add_argument("--seconds", type=float, default=60.0, help=h("cli.help.doctor_seconds"))
    dr.add_argument("--json", action="store_true", help=h("cli.help.doctor_json"))
    dr.add_argument("--all", action="store_true", help=h("cli.help.doctor_all"))
    dr.add_argument("--capture", metavar="DIR", help=h("cli.help.doctor_capture"))
    dr.add_argument("--propose", metavar="FILE", help=h("cli.help.doctor_propose"))

    sub.add_parser("status", help=h("cli.help.status"))

    lg = sub.add_parser("log", help=h("cli.help.log"))
    lg.add_argument("--failed", action="store_true", help=h("cli.help.log_failed"))
    lg.add_argument("--flow", choices=list(FLOWS))
    lg.add_argument("--source", help=h("cli.help.log_source"))
    lg.add_argument("--limit", type=int, default=30)
    lg.add_argument("--payloads", action="store_true", help=h("cli.help.log_payloads"))

    rt = sub.add_parser("retry", help=h("cli.help.retry"))
    rt.add_argument("line_ids", type=int, nargs="+")
    ig = sub.add_parser("ignore", help=h("cli.help.ignore"))
    ig.add_argument("line_ids", type=int, nargs="+")
    ig.add_argument("--note", help=h("cli.help.ignore_note"))

    for parser in (p, *sub.choices.values()):
        _localise(parser)
    return p


# argparse's own error messages (a missing argument, an invalid choice…) in the language of the command line.
# argparse passes each of its texts through its module's gettext function ``argparse._`` *before* it fills in the
# values, on every Python from 3.11 on; while a _Parser parses, that function is _argparse_text, which looks the
# English template up here and gives the catalogue's text (cli.argparse.*) with argparse's %-specifiers in its
# placeholders. An exact lookup of the template rather than taking the finished English sentence apart in error():
# argparse fills in the names and values itself, the same way in every language and Python version, and a template
# not listed here (a new Python's) stays English instead of coming out garbled.
_ARGPARSE: dict[str, tuple[str, dict[str, str]]] = {
    "%(prog)s: error: %(message)s": ("cli.argparse.error", {"prog": "%(prog)s", "message": "%(message)s"}),
    "argument %(argument_name)s: %(message)s": (
        "cli.argparse.argument", {"argument": "%(argument_name)s", "message": "%(message)s"}),
    "the following arguments are required: %s": ("cli.argparse.required", {"names": "%s"}),
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "cli.argparse.invalid_choice", {"value": "%(value)r", "choices": "%(choices)s"}),
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)": (  # 3.14's suggestion
        "cli.argparse.invalid_choice_closest", {"value": "%(value)r", "closest": "%(closest)r",
                                                "choices": "%(choices)s"}),
    "unrecognized arguments: %s": ("cli.argparse.unrecognized", {"arguments": "%s"}),
    "expected one argument": ("cli.argparse.expected_one", {}),
    "expected at most one argument": ("cli.argparse.expected_at_most_one", {}),
    "expected at least one argument": ("cli.argparse.expected_at_least_one", {}),
    "invalid %(type)s value: %(value)r": ("cli.argparse.invalid_value", {"type": "%(type)s", "value": "%(value)r"}),
    "ambiguous option: %(option)s could match %(matches)s": (
        "cli.argparse.ambiguous", {"option": "%(option)s", "matches": "%(matches)s"}),
    "ignored explicit argument %r": ("cli.argparse.ignored_value", {"value": "%r"}),
}  # fmt: skip


def _argparse_text(template: str) -> str:
    """argparse's template ``template`` in the language of the command line (unknown ones as they are)."""
    body = template.removesuffix("\n")
    found = _ARGPARSE.get(body)
    if found is None:
        return template
    key, specifiers = found
    return _t(key, **specifiers) + template[len(body):]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose error messages follow the command line's language (see _ARGPARSE). The subcommands'
    parsers are of this class too (argparse makes them of the parent's class)."""

    def parse_known_args(self, args=None, namespace=None):
        with _argparse_words():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):  # "unrecognized arguments" is raised here, outside the above
        with _argparse_words():
            return super().parse_args(args, namespace)


@contextmanager
def _argparse_words():
    """argparse's gettext function is _argparse_text for the block. A module global, swapped and restored around
    one parse: the command line parses once, in one thread; nested parses (a subcommand's) restore in order."""
    before = argparse._
    argparse._ = _argparse_text
    try:
        yield
    finally:
        argparse._ = before


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix=_t("cli.help.usage") + " ")


def _localise(parser: argparse.ArgumentParser) -> None:
    """argparse's own words (usage, the groups' titles, -h) in the language of the command line too."""
    parser.formatter_class = _Formatter
    parser._positionals.title = _t("cli.help.positionals")
    parser._optionals.title = _t("cli.help.options")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = _t("cli.help.help")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(message)s")
    quiet_http_logs()  # -v shows our retries, never the HTTP libraries' request lines (URLs carry filter values)
    try:
        cfg = config_mod.load(args.config)
        return COMMANDS[args.command](cfg, args)
    except SyncError as exc:
        print(_t("cli.error", error=exc.text()), file=sys.stderr)
        return 2


def _t(key: str, **args) -> str:
    """A catalogue text in the language of the command line (the locale, or APICENTER_LANG)."""
    return render(msg(key, **args), cli_language())


def _shown(text) -> str:
    """An engine text (a message or plain text) in the language of the command line."""
    return render(text, cli_language())


# --- commands --------------------------------------------------------------------------------------------------
def open_store(cfg: config_mod.Config) -> SqliteStore:
    store = SqliteStore(cfg.store_path, cfg.backend)
    cfg.apply_to(store)
    return store


def open_engine(cfg: config_mod.Config, store: SqliteStore) -> Engine:
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
    if engine.accountview.token_store.get() is None:
        raise SyncError(msg("cli.not_connected"))
    engine.accountview.company_id = choose_company(engine.accountview, cfg.accountview.company_id)["Id"]
    return engine


def cmd_doctor(cfg, args) -> int:
    store = open_store(cfg)
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
    try:
        if engine.accountview.token_store.get() is not None:
            try:
                engine.accountview.company_id = choose_company(engine.accountview, cfg.accountview.company_id)["Id"]
            except SyncError:
                engine.accountview.company_id = cfg.accountview.company_id or None  # the doctor says what is wrong
        systems = (args.only,) if args.only else ("accountview", "mplus")
        if args.capture:
            engine.start_capture(args.capture)
        report = run_doctor(engine, seconds=args.seconds, systems=systems)
    finally:
        engine.close()  # closes the capture too
    lang = cli_language()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.text(lang, statuses=None if args.all else ("refuted", "unchecked")), end="")
        if report.refuted:
            print("\n" + render(msg("doctor.cli.change"), lang))
    if args.propose:
        write_file(Path(args.propose), proposed_toml(report, engine.profile, lang))
        print(render(msg("doctor.cli.proposed", file=args.propose, proposals=len(report.proposals()),
                         questions=len(report.questions())), lang), file=sys.stderr if args.json else sys.stdout)  # fmt: skip
    return report.exit_status()


def cmd_connect(cfg, args) -> int:
    store = open_store(cfg)
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))

    def ask(url: str) -> str:
        print(_t("cli.connect.open", url=url) + "\n")
        return input(_t("cli.connect.paste") + " ")

    authorize(engine.accountview.oauth, engine.accountview.token_store, ask=ask, verify_tls=cfg.accountview.verify_tls)
    company = choose_company(engine.accountview, cfg.accountview.company_id)
    print(_t("cli.connect.done", company=company.get("Description"), code=company.get("Code")))
    return 0


def cmd_run(cfg, args) -> int:
    store = open_store(cfg)
    engine = open_engine(cfg, store)
    options = RunOptions(dry_run=args.dry_run, full=args.full, limit=args.limit, progress=Progress())
    names = [n for n in RUN_ORDER if n in FLOWS] if args.flow == "all" else [args.flow]
    if args.capture:
        engine.start_capture(args.capture)
    try:
        results = [engine.run(name, options) for name in names]
    finally:
        manifest = engine.stop_capture()
    if manifest:
        key = "cli.capture_stopped" if manifest["stopped"] else "cli.capture"
        print(_t(key, calls=manifest["calls"], folder=args.capture, reason=manifest["stopped"] or ""), file=sys.stderr)
    print_summary(results)
    for result in results:
        print_failures(result)
        if args.dry_run:
            print_planned(result, args.show)
    return 0 if all(r.ok for r in results) else 1


def cmd_status(cfg, args) -> int:
    store = open_store(cfg)
    print(f"{_t('cli.col.flow'):<10} {_t('cli.col.enabled'):<8} {_t('cli.col.last_run'):<26} {_t('cli.col.state'):<8} "
          f"{_t('cli.col.open_failures'):>13}  {_t('cli.col.watermark')}")  # fmt: skip
    for name in FLOWS:
        runs = store.log.list_runs(name, limit=1)
        last = runs[0] if runs else None
        failures = len(store.log.list_lines(flow=name, failed_only=True, limit=10_000))
        marks = store.watermarks.list(name)
        mark = ", ".join(f"{stream}={wm.value}" for stream, wm in marks.items()) or "-"
        started = last.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if last else _t("cli.never")
        enabled = _t("core.yes") if store.settings.get("enabled", name) else _t("cli.paused")
        state = _t(f"runs.state.{last.state}") if last else "-"
        print(f"{name:<10} {enabled:<8} {started:<26} {state:<8} {failures:>13}  {mark}")
        if last and last.counts:
            print(f"{'':<10} " + _t("cli.last_counts", counts=counts_text(last.counts, cli_language())))
    return 0


def cmd_log(cfg, args) -> int:
    store = open_store(cfg)
    lines = store.log.list_lines(flow=args.flow, failed_only=args.failed, source_id=args.source, limit=args.limit)
    for ln in lines:
        when = ln.created_at.strftime("%Y-%m-%d %H:%M:%S") if ln.created_at else ""
        print(f"#{ln.id:<6} {when} {ln.flow:<9} {ln.entity:<8} {ln.source_id or '-':<16} {ln.action:<9} "
              f"{ln.state or '':<9} -> {ln.target_id or '-':<14} {_t('cli.tries', count=ln.attempts)}"
              + (f"\n        {_shown(ln.error)}" if ln.error else ""))  # fmt: skip
        if args.payloads:
            reply = steps_in(ln.reply, cli_language())  # the steps in the language of the command line
            for label, value in (("source", ln.source_payload), ("sent", ln.target_payload), ("reply", reply)):
                if value is not None:
                    print(f"        {_t(f'cli.payload.{label}')}: {json.dumps(value, ensure_ascii=False, default=str)[:2000]}")
    if not lines:
        print(_t("cli.no_lines"))
    return 0


def cmd_retry(cfg, args) -> int:
    n = open_store(cfg).log.mark_retry(args.line_ids)
    print(_t("cli.retried", count=n))
    return 0


def cmd_ignore(cfg, args) -> int:
    n = open_store(cfg).log.mark_ignored(args.line_ids, args.note)
    print(_t("cli.ignored", count=n))
    return 0


COMMANDS = {
    "connect": cmd_connect,
    "doctor": cmd_doctor,
    "run": cmd_run,
    "status": cmd_status,
    "log": cmd_log,
    "retry": cmd_retry,
    "ignore": cmd_ignore,
}


# --- output ----------------------------------------------------------------------------------------------------
class Progress:
    """A one-line progress counter on stderr (rewritten in place on a terminal, every 1000 records otherwise)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0
        self._started: dict[str, float] = {}

    def __call__(self, flow: str, done: int, total: int | None) -> None:
        started = self._started.setdefault(flow, time.monotonic())
        rate = done / max(time.monotonic() - started, 1e-6)
        if self.tty:
            # AccountView gives no row counts, so the total is usually unknown: a counter with its rate then.
            if total:
                filled = int(30 * min(done / total, 1))
                bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
            else:
                bar = _t("cli.progress.records", count=done)
            self.stream.write(f"\r\033[K  {flow}: {bar}  {rate:,.0f}/s")
            self.stream.flush()
        elif done - self._last >= 1000:
            self._last = done
            self.stream.write(f"  {flow}: {_t('cli.progress.records', count=done)}, {rate:,.0f}/s\n")

    def end(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")



def print_summary(results: list[RunResult]) -> None:
    head = (f"{_t('cli.col.flow'):<10}" + "".join(f"{_t(f'runs.count.{a}')[:9]:>10}" for a in ACTIONS)
            + f"{_t('cli.col.seconds'):>9}  {_t('cli.col.result')}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in results:
        cells = "".join(f"{r.counts.get(a, 0):>10}" for a in ACTIONS)
        result = _t("cli.ok") if r.ok else _t("cli.stopped", error=_shown(r.error))
        print(f"{r.flow:<10}{cells}{r.seconds:>9.2f}  {result}")


def print_failures(result: RunResult, limit: int = 20) -> None:
    if not result.failures:
        return
    print("\n" + _t("cli.failures", flow=result.flow, count=len(result.failures)))
    for source_id, error in result.failures[:limit]:
        print(f"  {source_id:<18} {_shown(error)}")
    if len(result.failures) > limit:
        print("  " + _t("cli.more", count=len(result.failures) - limit))


def print_planned(result: RunResult, limit: int) -> None:
    if not result.planned:
        return
    print("\n" + _t("cli.planned", flow=result.flow, count=len(result.planned), shown=min(limit, len(result.planned))))
    for out in result.planned[:limit]:
        payload = json.dumps(out.target_payload, ensure_ascii=False, default=str)
        print(f"  {out.source_id:<18} {_shown(out.message):<7} {payload[:300]}")


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
