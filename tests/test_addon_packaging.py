"""The addon as OCA ships addons: a pip package built from its manifest, a generated README.rst, pylint-odoo clean."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build_addon():
    spec = importlib.util.spec_from_file_location("build_addon", ROOT / ".ci" / "build-addon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("series", ["18", "19"])
def test_the_addon_builds_as_odoo_addon_apicenter_connector(tmp_path, series):
    # One source, a package per series: the build writes the series in front of the manifest version.
    wheel = _build_addon().build(series, tmp_path)
    assert wheel.name.startswith(f"odoo_addon_apicenter_connector-{series}.0.1.")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        manifest = ast.literal_eval(archive.read("odoo/addons/apicenter_connector/__manifest__.py").decode())
    assert manifest["version"].startswith(f"{series}.0.")
    assert "odoo/addons/apicenter_connector/security/ir.model.access.csv" in names
    assert f"odoo/addons/apicenter_connector/data/series/{series}/apicenter_groups.xml" in names
    requires = {line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")}
    assert {"apicenter-sync", f"odoo-addon-queue_job=={series}.0.*", f"odoo=={series}.0.*"} <= requires
    assert "License: LGPL-3" in metadata


def test_the_source_manifest_version_has_no_series():
    # Odoo adds the running series to an x.y.z version; one with 18.0 in front does not install on 19.
    manifest = ast.literal_eval((ROOT / "apicenter_connector" / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["version"].count(".") == 2, manifest["version"]


def test_readme_rst_is_generated_from_the_fragments():
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "gen_addon_readme.py"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import docutils.core
    import docutils.utils

    text = (ROOT / "apicenter_connector" / "README.rst").read_text(encoding="utf-8")
    docutils.core.publish_doctree(text, settings_overrides={"halt_level": docutils.utils.Reporter.WARNING_LEVEL})


@pytest.mark.parametrize("series", ["18", "19"])
def test_pylint_odoo_mandatory_checks_are_clean(tmp_path, series):
    # On the addon as each series' package holds it (its manifest version checked against that series).
    tree = _build_addon().emit(series, tmp_path)
    done = subprocess.run([sys.executable, "-m", "pylint", "--rcfile", str(ROOT / ".pylintrc-mandatory"),
                           f"--valid-odoo-versions={series}.0", str(tree)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout[-4000:]
