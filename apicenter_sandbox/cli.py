"""`apicenter-sandbox`: run the AccountView and MplusKASSA sandboxes until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from . import runner
from .accountview.variant import VARIANTS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="apicenter-sandbox",
        description="Local simulators of the AccountView REST API and the MplusKASSA SOAP API, seeded with a "
        "deterministic Dutch shop. Runs until interrupted (Ctrl-C).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--accountview-port", type=int, default=runner.DEFAULT_ACCOUNTVIEW_PORT,
        help=f"AccountView port (default {runner.DEFAULT_ACCOUNTVIEW_PORT}; 0 = any free port)",
    )  # fmt: skip
    p.add_argument(
        "--mplus-port", type=int, default=runner.DEFAULT_MPLUS_PORT,
        help=f"MplusKASSA port (default {runner.DEFAULT_MPLUS_PORT}; 0 = any free port)",
    )  # fmt: skip
    p.add_argument("--size", type=int, default=1000, help="number of seeded articles (default 1000, minimum 30)")
    p.add_argument("--orders", type=int, default=None, help="number of seeded Mplus orders (default size/10)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated data (default 1)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="fixed latency added to every API request")
    p.add_argument("--mplus-ident", default=runner.DEFAULT_MPLUS_IDENT, help="MplusKASSA API ident (default %(default)s)")
    p.add_argument("--mplus-secret", default=runner.DEFAULT_MPLUS_SECRET, help="MplusKASSA API secret")
    p.add_argument("--av-client-id", default=runner.DEFAULT_AV_CLIENT_ID, help="AccountView OAuth2 client id")
    p.add_argument("--av-client-secret", default=runner.DEFAULT_AV_CLIENT_SECRET, help="AccountView OAuth2 secret")
    p.add_argument(
        "--variant", default="default", choices=["default", *VARIANTS],
        help="AccountView tenant names: default (our assumptions), renamed (every assumed object, table and field "
        "renamed, no group discounts; apicenter_sandbox/variants/renamed.toml configures the engine for it) or "
        "reshaped (other names and descriptions, renamed keys, shorter fields, no payment conditions or shipping "
        "methods) or discounts (our names, and discounts per debtor and article: variants/discounts.toml); "
        "`apicenter-sync doctor --propose FILE` writes the profile of either",
    )  # fmt: skip
    p.add_argument(
        "--from-capture", metavar="DIR",
        help="serve what a support capture (apicenter-sync run --capture DIR) read: the tenant's names and shape, "
        "pseudonymised, instead of the generated shop",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the endpoints and credentials as JSON")
    p.add_argument(
        "--exercise", action="store_true",
        help="instead of serving until interrupted: call both APIs as a client would, print what came back, exit",
    )  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    sandboxes = runner.start_sandboxes(
        size=args.size,
        seed=args.seed,
        orders=args.orders,
        host=args.host,
        accountview_port=args.accountview_port,
        mplus_port=args.mplus_port,
        latency_ms=args.latency_ms,
        mplus_ident=args.mplus_ident,
        mplus_secret=args.mplus_secret,
        av_client_id=args.av_client_id,
        av_client_secret=args.av_client_secret,
        variant=args.variant,
        from_capture=args.from_capture,
    )
    ready_s = time.monotonic() - started
    with sandboxes:
        info = sandboxes.describe()
        info["ready_seconds"] = round(ready_s, 2)
        if args.json:
            print(json.dumps(info, indent=2), flush=True)
        else:
            _print_banner(info)
        if args.exercise:
            from .exercise import exercise

            return exercise(sandboxes)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        print("stopping sandboxes", file=sys.stderr)
    return 0


def _print_banner(info: dict) -> None:
    av, mp = info["accountview"], info["mplus"]
    print(f"Sandboxes ready in {info['ready_seconds']} s (world size {info['world']['size']}, seed {info['world']['seed']})")
    print(f"  AccountView  {av['api_url']}")
    print(f"    authorize  {av['authorize_url']}")
    print(f"    token      {av['token_url']}")
    print(f"    client id  {av['client_id']}   client secret {av['client_secret']}")
    print(f"  MplusKASSA   {mp['url']}/   (WSDL {mp['wsdl_url']})")
    print(f"    ident      {mp['ident']}   secret {mp['secret']}")
    print("  control      POST /_sandbox/faults, POST /_sandbox/reset, GET /_sandbox/stats on either port", flush=True)


if __name__ == "__main__":
    sys.exit(main())
