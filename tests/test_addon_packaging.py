"""The addon as OCA ships addons: a pip package built from its manifest, a generated README.rst, pylint-odoo clean."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_addon_builds_as_odoo_addon_apicenter_connector(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                           str(ROOT / "apicenter_connector")], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("odoo_addon_apicenter_connector-18.0.*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "odoo/addons/apicenter_connector/__manifest__.py" in names
    assert "odoo/addons/apicenter_connector/security/ir.model.access.csv" in names
    requires = {line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")}
    assert {"apicenter-sync", "odoo-addon-queue_job==18.0.*", "odoo==18.0.*"} <= requires
    assert "License: LGPL-3" in metadata


def test_readme_rst_is_generated_from_the_fragments():
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "gen_addon_readme.py"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import docutils.core
    import docutils.utils

    text = (ROOT / "apicenter_connector" / "README.rst").read_text(encoding="utf-8")
    docutils.core.publish_doctree(text, settings_overrides={"halt_level": docutils.utils.Reporter.WARNING_LEVEL})


def test_pylint_odoo_mandatory_checks_are_clean():
    done = subprocess.run([sys.executable, "-m", "pylint", "--rcfile", str(ROOT / ".pylintrc-mandatory"),
                           "apicenter_connector"], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout[-4000:]
