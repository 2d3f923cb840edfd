"""``python -m apicenter_sync.profile``: print the default profile (TOML) or the generated documentation tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .docs import assumptions_markdown, reference_markdown, update_docs
from .model import ApiProfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apicenter_sync.profile", description=__doc__)
    parser.add_argument("--toml", action="store_true", help="print the default profile as a [profile] section")
    parser.add_argument("--markdown", choices=["assumptions", "reference"], help="print a generated table")
    parser.add_argument("--update-docs", nargs="?", const=".", metavar="ROOT",
                        help="rewrite the tables in ROOT/docs/assumptions.md and ROOT/docs/profile.md")  # fmt: skip
    args = parser.parse_args(argv)
    if args.update_docs:
        changed = update_docs(Path(args.update_docs))
        print("updated: " + ", ".join(changed) if changed else "docs are up to date")
    elif args.markdown:
        sys.stdout.write(assumptions_markdown() if args.markdown == "assumptions" else reference_markdown())
    elif args.toml:
        sys.stdout.write(ApiProfile.default().to_toml())
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
