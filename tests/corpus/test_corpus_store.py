"""A damaged, foreign or newer state store: refused at open with a clear message and exit status 2, never used.
Cases: README.md ("State store")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from apicenter_sync.cli import main
from apicenter_sync.store import SqliteStore
from apicenter_sync.store.sqlite import SchemaError, StoreError


def _store_with_data(path: Path) -> None:
    with SqliteStore(path) as store:
        for n in range(400):
            store.bindings.upsert("product", str(n), target_id=str(10_000 + n), payload_hash="h" * 64)
        store.checkpoint()  # everything in the main file, none in the WAL


def _config(tmp_path: Path, store: Path) -> str:
    cfg = tmp_path / "apicenter.toml"
    cfg.write_text(f'[store]\npath = "{store.name}"\n[mplus]\nurl = "http://127.0.0.1:9"\n', encoding="utf-8")
    return str(cfg)


def _damage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for at in range(2 * page + 8, min(len(data), 6 * page), 97):  # b-tree pages, past the file header
        data[at : at + 13] = b"\xde\xad\xbe\xef" * 3 + b"\x00"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_damage_pages, "is damaged (integrity check: "),
        (lambda p: p.write_bytes(b"this is no database " * 500), "file is not a database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000), "cannot be used"),
    ],
    ids=["damaged-pages", "not-sqlite", "damaged-header"],
)
def test_a_damaged_store_is_refused_with_exit_status_2(tmp_path, capsys, damage, expected):
    path = tmp_path / "state.sqlite3"
    _store_with_data(path)
    damage(path)
    with pytest.raises(StoreError, match="restore a backup or move it away"):
        SqliteStore(path)
    assert main(["--config", _config(tmp_path, path), "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the state store {path}") and expected in err
    assert "Traceback" not in err


def test_a_newer_store_is_refused_with_exit_status_2(tmp_path, capsys):
    path = tmp_path / "state.sqlite3"
    _store_with_data(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(SchemaError):
        SqliteStore(path)
    assert main(["--config", _config(tmp_path, path), "run", "products"]) == 2
    err = capsys.readouterr().err
    assert "has schema version 999, newer than this version of apicenter-sync supports" in err
    assert "Traceback" not in err
    with sqlite3.connect(path) as conn:  # refused means untouched
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (999,)


def test_a_newer_store_is_refused_in_the_language_of_the_command_line(tmp_path, capsys, monkeypatch):
    """The refusal is a catalogue message: a Dutch locale reads it in Dutch (store.toml), a Polish one in Polish."""
    path = tmp_path / "state.sqlite3"
    _store_with_data(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(SchemaError) as err:
        SqliteStore(path)
    assert err.value.message.key == "store.newer_schema"
    monkeypatch.setenv("APICENTER_LANG", "nl_NL.UTF-8")
    assert main(["--config", _config(tmp_path, path), "run", "products"]) == 2
    dutch = capsys.readouterr().err
    assert "fout: de statusopslag" in dutch and "heeft schemaversie 999, nieuwer dan deze versie" in dutch
    assert "newer than" not in dutch
    monkeypatch.setenv("APICENTER_LANG", "pl")
    assert main(["--config", _config(tmp_path, path), "run", "products"]) == 2
    assert "ma wersję schematu 999, nowszą niż obsługuje" in capsys.readouterr().err
