#!/usr/bin/env python3
"""The addon of one Odoo series from the one source (docs/odoo-series.md), and its package.

The source's manifest version has no series ("1.5.0": Odoo adds the running one). A package needs it: whool derives
the Odoo series, and with it the `odoo` and `odoo-addon-queue_job` requirements, from the version. This copies
apicenter_connector/ with "<series>.0." written in front of the manifest version, and builds the wheel from the copy.

    .ci/build-addon.py 19 dist/          odoo_addon_apicenter_connector-19.0.1.5.0-py3-none-any.whl in dist/
    .ci/build-addon.py 18 dist/ --tree   only the addon tree: dist/apicenter_connector (e.g. for pylint-odoo)
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "apicenter_connector"
SERIES = ("18", "19")
VERSION = re.compile(r'^(\s*"version":\s*")([^"]+)(",)$', re.M)


def emit(series: str, dest: Path) -> Path:
    """dest/apicenter_connector: the addon with the series in its manifest version."""
    if series not in SERIES:
        raise SystemExit(f"unknown Odoo series {series!r} (one of {', '.join(SERIES)})")
    tree = dest / "apicenter_connector"
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(ADDON, tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    manifest = tree / "__manifest__.py"
    text = manifest.read_text(encoding="utf-8")
    (match,) = VERSION.findall(text)
    if match[1].count(".") != 2:
        raise SystemExit(f"the source's manifest version must be x.y.z, without a series: {match[1]!r}")
    text = VERSION.sub(lambda m: f"{m[1]}{series}.0.{m[2]}{m[3]}", text)
    assert ast.literal_eval(text)["version"] == f"{series}.0.{match[1]}"
    manifest.write_text(text, encoding="utf-8")
    return tree


def build(series: str, outdir: Path, python: str = sys.executable) -> Path:
    """The wheel of the series in outdir."""
    outdir.mkdir(parents=True, exist_ok=True)
    work = outdir / f".build-{series}"
    tree = emit(series, work)
    done = subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(outdir), str(tree)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"building the {series}.0 package failed:\n{done.stderr[-3000:]}")
    (wheel,) = outdir.glob(f"odoo_addon_apicenter_connector-{series}.0.*.whl")
    return wheel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("series", choices=SERIES)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--tree", action="store_true", help="only write the addon tree, no package")
    args = parser.parse_args()
    print(emit(args.series, args.outdir) if args.tree else build(args.series, args.outdir))


if __name__ == "__main__":
    main()
