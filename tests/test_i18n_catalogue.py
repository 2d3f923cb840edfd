"""The engine's message catalogue: every key complete in English, Dutch and Polish with the same placeholders,
every key the code names defined, messages rendered in the reader's language and kept by the store as messages."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from apicenter_sync import i18n
from apicenter_sync.errors import RecordError
from apicenter_sync.i18n import Msg, bounded, catalogue, cli_language, language, msg, placeholders, render
from apicenter_sync.store import LogLine, SqliteStore

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[A-Za-z]{3,}")


def test_every_key_has_every_language_with_the_same_placeholders():
    entries = catalogue()
    assert "store.run_abandoned" in entries
    for key, texts in entries.items():
        assert key.count(".") >= 1, key
        assert set(texts) == set(i18n.LANGUAGES), f"{key}: languages {sorted(texts)}"
        assert all(texts[lang].strip() for lang in i18n.LANGUAGES), f"{key}: an empty text"
        expected = placeholders(texts["en"])
        for lang in ("nl", "pl"):
            assert placeholders(texts[lang]) == expected, f"{key} ({lang}): {placeholders(texts[lang])} != {expected}"


def test_a_text_with_words_is_translated_not_copied():
    """Dutch and Polish differ from English wherever the English has words of its own (not only placeholders)."""
    for key, texts in catalogue().items():
        words = WORD.findall(re.sub(r"\{[^}]*\}", "", texts["en"]))
        if len(words) >= 2:
            assert texts["nl"] != texts["en"], f"{key}: Dutch is the English text"
            assert texts["pl"] != texts["en"], f"{key}: Polish is the English text"


def test_each_key_lives_in_the_file_of_its_area():
    folder = ROOT / "apicenter_sync" / "i18n" / "catalogue"
    for path in folder.glob("*.toml"):
        import tomllib

        for key in tomllib.loads(path.read_text(encoding="utf-8")):
            assert key.split(".")[0] == path.stem, f"{key} is in {path.name}"


def _keys_named_in_code() -> dict[str, str]:
    """Every literal key passed to ``msg(...)`` in the engine and the addon: key -> where."""
    found = {}
    for folder in ("apicenter_sync", "apicenter_connector", "apicenter_sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
                        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "msg"
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):  # fmt: skip
                    found[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_key_the_code_names_exists():
    named = _keys_named_in_code()
    assert "store.run_abandoned" in named
    missing = {key: where for key, where in named.items() if key not in catalogue()}
    assert not missing, missing


def test_render_in_each_language_with_nested_messages_and_lists():
    inner = msg("store.run_abandoned")
    outer = msg("core.error_at", where="mplus getOrders", message=inner)
    assert str(outer) == "mplus getOrders: the process ended without finishing the run"
    assert outer.render("nl_NL") == "mplus getOrders: het proces stopte voordat de run klaar was"
    assert outer.render("pl_PL.UTF-8").endswith("przed ukończeniem przebiegu")
    assert outer.render("de_DE") == str(outer)  # a language the catalogue lacks: English
    assert render([inner, "x", 3], "nl") == "het proces stopte voordat de run klaar was, x, 3"
    assert render(True, "nl") == "ja" and render(False, "pl") == "nie" and render(None) == ""
    assert outer.keys() == {"core.error_at", "store.run_abandoned"}


def test_pseudo_language_marks_every_catalogue_text():
    text = msg("core.error_at", where="x", message=msg("store.run_abandoned")).render(i18n.PSEUDO)
    assert text == "⟦x: ⟦the process ended without finishing the run⟧⟧"


def test_unknown_key_and_missing_argument_never_raise():
    assert msg("nowhere.to_be_found", a=1).render("nl") == "nowhere.to_be_found(a=1)"
    assert msg("core.error_at", where="w").render("en") == "w: {message}"


def test_data_round_trip_keeps_nested_messages_and_decimals():
    original = msg("core.error_at", where=Decimal("1.50"), message=[msg("store.run_abandoned"), "a"])
    data = original.to_data()
    assert data["args"]["where"] == "1.50"
    back = Msg.from_data(data)
    assert back.render("nl") == original.render("nl")


@pytest.mark.parametrize(("value", "expected"), [
    ("nl_NL", "nl"), ("nl-BE", "nl"), ("nl_BE.UTF-8", "nl"), ("pl_PL", "pl"), ("en_US", "en"), ("fr_FR", "en"),
    ("", "en"), (None, "en"),
])  # fmt: skip
def test_language_of_a_locale(value, expected):
    assert language(value) == expected


def test_command_line_language_follows_the_locale():
    assert cli_language({"LANG": "nl_NL.UTF-8"}) == "nl"
    assert cli_language({"LC_ALL": "pl_PL.UTF-8", "LANG": "nl_NL.UTF-8"}) == "pl"
    assert cli_language({"APICENTER_LANG": "en", "LANG": "nl_NL.UTF-8"}) == "en"
    assert cli_language({"LANG": "C.UTF-8"}) == "en"
    assert cli_language({}) == "en"


def test_bounded_cuts_long_arguments_of_a_message():
    long = msg("core.error_at", where="w" * 10_000, message="m")
    cut = bounded(long, 200)
    assert isinstance(cut, Msg) and len(str(cut)) < 200
    assert bounded("x" * 300, 100) == "x" * 99 + "…"


def test_an_error_carries_its_message():
    err = RecordError(msg("store.run_abandoned"), system="mplus", operation="getOrders")
    assert str(err) == "mplus getOrders: the process ended without finishing the run"
    assert err.text().render("nl") == "mplus getOrders: het proces stopte voordat de run klaar was"


def test_the_store_keeps_a_message_and_gives_it_back(tmp_path):
    with SqliteStore(tmp_path / "s.sqlite3", backend="shop") as store:
        run = store.log.start_run("orders")
        error = msg("core.error_at", where="receipt R1", message=msg("store.run_abandoned"))
        store.log.add_lines(run, [LogLine("orders", "receipt", "mplus_to_av", "R1", "failed", error=error)])
        store.log.finish_run(run, state="failed", error=msg("store.run_abandoned"))
        (line,) = store.log.list_lines(flow="orders")
        assert isinstance(line.error, Msg)
        assert line.error.render("nl") == "receipt R1: het proces stopte voordat de run klaar was"
        assert store.log.get_run(run).error.render("pl").startswith("proces zakończył")
        # the English text stays in the error column: searchable, and what support reads
        raw = store.query("SELECT error FROM log_line")[0][0]
        assert raw == "receipt R1: the process ended without finishing the run"
        # plain text (a server's own words) stays plain text
        store.log.add_lines(run, [LogLine("orders", "receipt", "mplus_to_av", "R2", "failed", error="HTTP 500")])
        assert store.log.list_lines(source_id="R2")[0].error == "HTTP 500"


def test_references_name_tables_settings_and_profile_entries():
    from apicenter_sync.i18n import profile_ref, references, setting_ref, table_ref

    text = msg("core.error_at", where=table_ref("vat_code_av_mplus"),
               message=[setting_ref("cash_rounding_article"), profile_ref("accountview.stock.code"),
                        table_ref("vat_code_av_mplus")])  # fmt: skip
    assert references(text) == [("table", "vat_code_av_mplus"), ("setting", "cash_rounding_article"),
                                ("profile", "accountview.stock.code")]  # fmt: skip
    assert references(Msg.from_data(text.to_data())) == references(text)
    assert references("plain text") == []
    # a reference whose name the catalogue lacks shows its id, never a key
    assert table_ref("no_such_table").render("nl") == "no_such_table"


def test_a_message_is_its_english_text():
    import copy
    import json
    import pickle

    m = msg("core.error_at", where="receipt R1", message=msg("store.run_abandoned"))
    assert m == "receipt R1: the process ended without finishing the run" and isinstance(m, str)
    assert "without finishing" in m and m.startswith("receipt R1") and json.dumps([m]) == json.dumps([str(m)])
    for again in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert isinstance(again, Msg) and again.render("nl") == m.render("nl")


def _pseudo_checked(where: str, text) -> None:
    """``text`` is a catalogue message whose every part is in the catalogue: in the pseudo-language it is marked."""
    assert isinstance(text, Msg), f"{where}: plain text, not from the catalogue: {text!r}"
    unknown = {key for key in text.keys() if key not in catalogue()}
    assert not unknown, f"{where}: keys not in the catalogue: {unknown}"
    shown = text.render(i18n.PSEUDO)
    assert shown.startswith("⟦") and shown.endswith("⟧"), f"{where}: {shown!r}"


def test_every_text_of_the_demo_run_is_from_the_catalogue(tmp_path, capsys):
    """The pseudo-locale check: the demo (both sandboxes, every flow twice, the seeded bad records and the till's
    sales) writes to the log only catalogue messages, complete in every language: no English left untranslated."""
    from apicenter_sandbox.demo import main as demo

    assert demo(["--size", "40", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    store = SqliteStore(str(tmp_path / "apicenter.sqlite3"), "sandbox")
    try:
        lines = store.log.list_lines(limit=100_000)
        texts = [ln for ln in lines if ln.error]
        assert len(texts) > 50 and {ln.action for ln in texts} >= {"created", "updated", "skipped", "failed"}
        for ln in texts:
            _pseudo_checked(f"{ln.flow} {ln.action} {ln.source_id}", ln.error)
            for lang in ("nl", "pl"):
                assert ln.error.render(lang) != str(ln.error), f"{ln.flow} {ln.source_id}: not translated ({lang})"
        for run in store.log.list_runs(limit=1000):
            if run.error:
                _pseudo_checked(f"run {run.flow}", run.error)
    finally:
        store.close()


def test_a_table_and_a_setting_have_one_name_on_every_screen():
    """The catalogue's name of a mapping table is the label of the Odoo selection and its translations (nl.po,
    pl.po): the wizard, the lists and the messages call a table the same."""
    from apicenter_sync.mapping_tables import KINDS, TABLES

    for lang in ("nl", "pl"):
        translated = _po(ROOT / "apicenter_connector" / "i18n" / f"{lang}.po")
        for table in TABLES:
            assert catalogue()[f"tables.{table.name}"]["en"] == table.label
            assert catalogue()[f"tables.{table.name}"][lang] == translated[table.label], table.name
            assert f"tables.help.{table.name}" in catalogue()
        for kind in KINDS.values():
            assert catalogue()[f"tables.kind.{kind.name}"][lang] == translated[kind.label], kind.name
    from apicenter_sync.settings import SETTINGS

    assert {f"settings.{s.name}" for s in SETTINGS} <= set(catalogue())
    # A setting too: the catalogue's name is the label Odoo shows (Other Settings' selection, the flow form).
    for lang in ("nl", "pl"):
        translated = _po(ROOT / "apicenter_connector" / "i18n" / f"{lang}.po")
        for flow in ("products", "customers", "stock", "prices", "orders"):  # a flow: the flows' selection
            name = catalogue()[f"runs.flow.{flow}"]
            assert name["en"] == flow.capitalize() and name[lang] == translated[name["en"]], flow
        for setting in SETTINGS:
            name = catalogue()[f"settings.{setting.name}"]
            assert name[lang] == translated[name["en"]], setting.name
    assert i18n.references(msg("flows.refused_after_waiting", days=1, setting=i18n.setting_ref("wait_days"),
                                waits_for="x", error="y")) == [("setting", "wait_days")]
    assert i18n.references(i18n.Msg("tables.help.order_status")) == []


def _po(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    found = {}
    for m in re.finditer(r'msgid ((?:"(?:[^"\\]|\\.)*"\n?)+)msgstr ((?:"(?:[^"\\]|\\.)*"\n?)+)', text):
        join = lambda g: "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', g))  # noqa: E731
        found[join(m.group(1))] = join(m.group(2))
    return found


def test_every_setting_and_table_has_its_help_in_every_language():
    from apicenter_sync.mapping_tables import TABLES
    from apicenter_sync.settings import SETTINGS

    for setting in SETTINGS:
        assert catalogue()[f"settings.help.{setting.name}"]["en"] == setting.help, setting.name
    for table in TABLES:
        assert catalogue()[f"tables.help.{table.name}"]["en"] == table.help, table.name
    assert msg("settings.help.wait_days").render("nl") != str(msg("settings.help.wait_days"))


def _plural_specs(template: str) -> list[tuple[str, list[str]]]:
    import string

    return [(name, spec.split("|")) for _l, name, spec, _c in string.Formatter().parse(template) if spec and "|" in spec]


def test_plural_forms_have_the_language_s_number_of_forms():
    """``{n:minute|minutes}``: two forms in English and Dutch, three in Polish (1 minuta, 2–4 minuty, 5+ minut)."""
    seen = 0
    for key, texts in catalogue().items():
        for lang, count in (("en", 2), ("nl", 2), ("pl", 3)):
            for name, forms in _plural_specs(texts[lang]):
                seen += 1
                assert len(forms) == count, f"{key} ({lang}): {{{name}:…}} has {len(forms)} forms, not {count}"
                assert all(f.strip() for f in forms), f"{key} ({lang}): an empty form"
    assert seen >= 9


@pytest.mark.parametrize(("minutes", "en", "nl", "pl"), [
    (1, "1 minute)", "1 minuut)", "1 minuta)"), (2, "2 minutes)", "2 minuten)", "2 minuty)"),
    (5, "5 minutes)", "5 minuten)", "5 minut)"), (12, "12 minutes)", "12 minuten)", "12 minut)"),
    (22, "22 minutes)", "22 minuten)", "22 minuty)"), (0, "0 minutes)", "0 minuten)", "0 minut)"),
])  # fmt: skip
def test_the_outage_says_minutes_in_the_language_s_plural(minutes, en, nl, pl):
    text = msg("outage.ended_body", system="MplusKASSA", until="10:05", since="10:00", minutes=minutes)
    assert en in text.render("en") and nl in text.render("nl") and pl in text.render("pl")
    assert "|" not in text.render(i18n.PSEUDO)


def test_a_booking_s_steps_are_kept_as_messages_and_shown_in_the_reader_s_language(tmp_path):
    """The steps of a reply are stored as English text (support, the JSON) with their messages beside them."""
    from apicenter_sync.i18n import steps_in, with_step_messages

    steps = [msg("orders.step.articles", count=2), "a server's own words"]
    stored = with_step_messages({"steps": steps, "stored": {"ID": 1}})
    store = SqliteStore(str(tmp_path / "s.db"), "b")
    run = store.log.start_run("orders")
    store.log.add_lines(run, [LogLine("orders", "order", "mplus_to_av", "O1", "created", reply=stored)])
    (line,) = store.log.list_lines(flow="orders")
    assert line.reply["steps"] == ["articles: all 2 exist in AccountView", "a server's own words"]
    shown = steps_in(line.reply, "nl")
    assert shown == {"steps": ["artikelen: alle 2 bestaan in AccountView", "a server's own words"], "stored": {"ID": 1}}
    assert steps_in({"steps": ["plain"]}, "nl") == {"steps": ["plain"]}
