"""`apicenter-sync` end to end against the sandboxes, and its configuration file."""

import argparse
import gettext
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from apicenter_sandbox.demo import sandbox_config_text
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync import config as config_mod
from apicenter_sync.cli import build_parser, main
from apicenter_sync.errors import ConfigError


@pytest.fixture(scope="module")
def sb():
    with start_sandboxes(size=60) as sandboxes:
        yield sandboxes


@pytest.fixture
def cfg_file(sb, tmp_path):
    httpx.post(f"{sb.accountview_url}/_sandbox/reset")
    httpx.post(f"{sb.mplus_url}/_sandbox/reset")
    path = tmp_path / "apicenter.toml"
    path.write_text(sandbox_config_text(sb), encoding="utf-8")
    return str(path)


def writes(sb):
    return httpx.get(f"{sb.mplus_url}/_sandbox/stats").json()["total_writes"]


def test_run_before_connect_says_what_to_do(cfg_file, capsys):
    assert main(["--config", cfg_file, "run", "products"]) == 2
    assert "run `apicenter-sync connect accountview` first" in capsys.readouterr().err


def test_connect_run_status_log(sb, cfg_file, capsys):
    assert main(["--config", cfg_file, "connect", "accountview"]) == 0
    assert "Connected to AccountView company Demo Winkel B.V. (DEMO)" in capsys.readouterr().out

    assert main(["--config", cfg_file, "run", "all"]) == 0
    out = capsys.readouterr().out
    assert "products" in out and "customers" in out and "stock" in out
    assert "SKU 'AB-0023' is not numeric" in out
    first = writes(sb)
    assert first > 0

    assert main(["--config", cfg_file, "run", "all"]) == 0
    capsys.readouterr()
    assert writes(sb) == first, "a second run must write nothing"

    assert main(["--config", cfg_file, "status"]) == 0
    status = capsys.readouterr().out
    assert "products" in status and "done" in status and "article=" in status

    assert main(["--config", cfg_file, "log", "--failed", "--flow", "products", "--payloads"]) == 0
    log = capsys.readouterr().out
    assert "AB-0023" in log and "is not numeric" in log and "from source" in log


def test_dry_run_shows_what_would_be_written_and_writes_nothing(sb, cfg_file, capsys):
    main(["--config", cfg_file, "connect", "accountview"])
    capsys.readouterr()
    assert main(["--config", cfg_file, "run", "customers", "--dry-run", "--show", "3"]) == 0
    out = capsys.readouterr().out
    assert "customers: would write" in out and "extRelationId" in out
    assert writes(sb) == 0


def test_retry_and_ignore_change_failed_lines(sb, cfg_file, capsys):
    main(["--config", cfg_file, "connect", "accountview"])
    main(["--config", cfg_file, "run", "products"])
    store = config_mod.load(cfg_file)
    from apicenter_sync.store import SqliteStore

    failed = SqliteStore(store.store_path, store.backend).log.list_lines(flow="products", failed_only=True)
    assert failed
    capsys.readouterr()
    assert main(["--config", cfg_file, "ignore", str(failed[0].id), "--note", "not for the till"]) == 0
    assert "1 line ignored" in capsys.readouterr().out


def test_demo_runs_every_flow_twice_and_the_second_round_writes_nothing(capsys):
    from apicenter_sandbox.demo import main as demo

    assert demo(["--size", "40"]) == 0
    out = capsys.readouterr().out
    rounds = out.split("== Second run")
    assert "writes this round: AccountView 0, MplusKASSA 0" in rounds[1]
    assert "is not numeric" in rounds[0]


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[mplus]\nurl = 'x'\nsecrett = 'y'\n", "unknown key in [mplus]: secrett"),
        ("[settings]\nbatch_size = 'many'\n", "[settings] setting “Batch Size”: expected a whole number, got 'many'"),
        ("[settings.nonsense]\nbatch_size = 5\n", "[settings.nonsense]: unknown flow"),
        ("[mplus]\nsecret_env = 'APICENTER_TEST_UNSET_VAR'\n", "APICENTER_TEST_UNSET_VAR, which is not set"),
        ("[store\n", "is not valid TOML"),
    ],
)
def test_bad_configuration_is_refused_with_the_reason(tmp_path, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")
    ):
        config_mod.load(path)


def test_a_refused_setting_follows_the_locale(tmp_path, monkeypatch, capsys):
    """The command line says why apicenter.toml is refused in the locale's language, naming the setting as Odoo does."""
    path = tmp_path / "bad.toml"
    path.write_text("[settings.orders]\nbatch_size = 0\n", encoding="utf-8")
    monkeypatch.setenv("APICENTER_LANG", "nl")
    assert main(["--config", str(path), "status"]) == 2
    err = capsys.readouterr().err
    assert "[settings.orders] instelling “Batchgrootte” van de flow Orders: 0 is lager dan het minimum 1" in err


def test_secrets_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_MPLUS_SECRET", "s3cr3t-from-env")
    path = tmp_path / "c.toml"
    path.write_text("[mplus]\nurl = 'http://x'\nsecret_env = 'MY_MPLUS_SECRET'\n", encoding="utf-8")
    cfg = config_mod.load(path)
    assert cfg.mplus.secret == "s3cr3t-from-env"
    assert "s3cr3t-from-env" not in repr(cfg)


def test_help_follows_the_locale_argparse_words_too(monkeypatch, capsys):
    """`apicenter-sync --help` in Polish: the options, the commands and argparse's own words."""
    monkeypatch.setenv("APICENTER_LANG", "pl")
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("użycie: apicenter-sync run")
    assert "pokaż, co zostałoby zapisane, nic nie zapisuj" in out and "opcje:" in out
    assert "show this help" not in out and "usage:" not in out


@pytest.mark.parametrize(
    ("lang", "usage", "missing", "invalid"),
    [
        ("nl", "gebruik: apicenter-sync run", "apicenter-sync run: fout: deze argumenten ontbreken: flow",
         "apicenter-sync run: fout: argument flow: ongeldige keuze: 'nope' (kies uit 'products', 'customers'"),
        ("pl", "użycie: apicenter-sync run", "apicenter-sync run: błąd: brakuje wymaganych argumentów: flow",
         "apicenter-sync run: błąd: argument flow: nieprawidłowy wybór: 'nope' (do wyboru: 'products', 'customers'"),
    ],
)  # fmt: skip
def test_argparse_errors_follow_the_locale(lang, usage, missing, invalid):
    """argparse's own error messages, from the installed command: in the locale's language, exit code 2."""
    command = Path(sys.executable).with_name("apicenter-sync")
    env = {**os.environ, "APICENTER_LANG": lang}
    for argv, expected in ((["run"], missing), (["run", "nope"], invalid)):
        done = subprocess.run([str(command), *argv], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(usage) and expected in done.stderr, done.stderr
        assert not [w for w in ("error:", "required", "invalid choice", "choose from") if w in done.stderr], done.stderr


def test_argparse_s_own_words_are_back_after_parsing():
    """The swap of argparse's gettext function lasts one parse: other parsers in the process keep argparse's words."""
    build_parser().parse_args(["run", "products"])
    assert argparse._ is gettext.gettext
