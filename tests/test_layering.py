"""The engine stands alone: production installs of apicenter-sync carry no simulator, and its modules import none."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "apicenter_sync"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included), relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_engine_module_imports_the_sandboxes():
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in ENGINE.rglob("*.py")
        if any(name.split(".")[0] == "apicenter_sandbox" for name in imported_modules(path))
    )
    assert offenders == []


def test_the_sqlite_store_composes_its_log_and_the_log_does_not_import_the_store():
    store, log = ENGINE / "store" / "sqlite.py", ENGINE / "store" / "sqlite_log.py"
    assert "apicenter_sync.store.sqlite_log" in imported_modules(store)
    assert not {"apicenter_sync.store.sqlite", "apicenter_sync.store.sqlite.SqliteStore"} & imported_modules(log)


def _wheel(source: Path, out: Path, pattern: str) -> tuple[list[str], str]:
    """The file names of the wheel built from ``source`` and its console scripts."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob(pattern)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        scripts = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    return names, scripts


def test_the_engine_wheel_holds_no_simulator_and_the_sandbox_wheel_holds_the_simulators(tmp_path):
    engine, engine_scripts = _wheel(ROOT, tmp_path / "engine", "apicenter_sync-*.whl")
    assert "apicenter_sync/wsdl/mplusqapi.wsdl" in engine
    assert [name for name in engine if name.startswith("apicenter_sandbox")] == []
    assert "apicenter-sync =" in engine_scripts and "apicenter-sandbox" not in engine_scripts

    sandbox, sandbox_scripts = _wheel(ROOT / "apicenter_sandbox", tmp_path / "sandbox", "apicenter_sandbox-*.whl")
    assert {"apicenter_sandbox/demo.py", "apicenter_sandbox/mplus/app.py", "apicenter_sandbox/sandbox.toml"} <= set(
        sandbox
    )
    assert [name for name in sandbox if name.startswith("apicenter_sync/")] == []
    assert "apicenter-demo = apicenter_sandbox.demo:main" in sandbox_scripts
