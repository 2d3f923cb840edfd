"""``python -m apicenter_sync.profile``: print the default profile (TOML) or the generated documentation tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..i18n import cli_language, msg, render
from .docs import assumptions_markdown, reference_markdown, update_docs
from .model import ApiProfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apicenter_sync.profile", description=__doc__)
    parser.add_argument("--toml", action="store_true", help=_t("profile.tool.toml"))
    parser.add_argument("--markdown", choices=["assumptions", "reference"], help=_t("profile.tool.markdown"))
    parser.add_argument("--update-docs", nargs="?", const=".", metavar="ROOT", help=_t("profile.tool.update_docs"))
    args = parser.parse_args(argv)
    if args.update_docs:
        changed = update_docs(Path(args.update_docs))
        print(_t("profile.tool.updated", files=changed) if changed else _t("profile.tool.up_to_date"))
    elif args.markdown:
        sys.stdout.write(assumptions_markdown() if args.markdown == "assumptions" else reference_markdown())
    elif args.toml:
        sys.stdout.write(ApiProfile.default().to_toml())
    else:
        parser.print_help()
    return 0


def _t(key: str, **args) -> str:
    """A catalogue text in the language of the command line (the locale, or APICENTER_LANG), as the CLI's."""
    return render(msg(key, **args), cli_language())


if __name__ == "__main__":
    raise SystemExit(main())
