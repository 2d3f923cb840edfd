"""The API profile: the only home of AccountView names, loadable from TOML, flat keys and files, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apicenter_sync import config as config_mod
from apicenter_sync.errors import ConfigError
from apicenter_sync.profile import ApiProfile, parse_profile_text
from apicenter_sync.profile.docs import (
    ASSUMPTIONS_BEGIN,
    ASSUMPTIONS_END,
    REFERENCE_BEGIN,
    REFERENCE_END,
    assumptions_markdown,
    reference_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "apicenter_sync"
DEFAULTS = PACKAGE / "profile" / "defaults.py"


def known_names(profile: ApiProfile) -> set[str]:
    """Every AccountView object code, table and field name of the profile."""
    av = profile.accountview
    names = {av.change_date.name, av.change_counter.name, av.default_key}
    names |= set(av.dictionary.model_dump().values())
    for obj in av.objects.values():
        names |= {obj.code, obj.table, obj.read_code, obj.detail_table} - {""}
        names |= {f.name for f in obj.fields.values()} | {f.name for f in obj.line_fields.values()}
    return names


def name_hits(text: str, names: set[str]) -> list[str]:
    """Where ``text`` names one of ``names``. A name with a digit or an underscore (``SO1``, ``ART_CODE``) counts
    anywhere, comments included; a plain word (``VAT``, ``ARTICLE``, ``CITY``) only as a whole quoted literal or as
    ``TABLE.FIELD``, so ordinary English ("incl. VAT") is no hit."""
    distinctive = sorted((n for n in names if re.search(r"[\d_]", n)), key=len, reverse=True)
    plain = sorted((n for n in names if not re.search(r"[\d_]", n)), key=len, reverse=True)
    hits = []
    if distinctive:
        pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, distinctive)) + r")(?![A-Za-z0-9_])")
        hits += [m.group(1) for m in pattern.finditer(text)]
    if plain:
        alternation = "|".join(map(re.escape, plain))
        quoted = re.compile(r"""(["'`])(""" + alternation + r""")\1""")
        qualified = re.compile(r"(?<![A-Za-z0-9_])(" + alternation + r")\.[A-Z][A-Z0-9_]*")
        hits += [m.group(2) for m in quoted.finditer(text)] + [m.group(1) for m in qualified.finditer(text)]
    return hits


def test_the_detector_finds_what_it_must():
    names = known_names(ApiProfile.default())
    planted = 'obj = "PRL1"  # reads STK1\nfield = "VAT"\nx = f"{t}.COMMENT1"\nrow["CONTACT.MAIL_BUS"]\n'
    assert sorted(name_hits(planted, names)) == sorted(["PRL1", "STK1", "VAT", "COMMENT1", "CONTACT", "MAIL_BUS"])
    assert name_hits('"prices incl. VAT", "VAT-METHOD-INCLUSIVE", "NEW-ARTICLE-GROUP-RESULT-OK"', names) == []


def test_no_accountview_name_outside_the_profile_defaults():
    """No module, mapping or text of the engine names an AccountView object, table or field: they all come from
    the API profile, so a tenant whose names differ is configured, not coded."""
    names = known_names(ApiProfile.default())
    assert {"PRL1", "PRI1", "DSC1", "STK1", "ART_STOCK", "COMMENT1", "SHIP_MTH", "DISC_CODE", "SO_HDR"} <= names
    found = []
    files = [p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".md", ".toml", ".txt")]
    assert len(files) > 40
    for path in files:
        if path == DEFAULTS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for name in name_hits(line, names):
                found.append(f"{path.relative_to(ROOT)}:{number}: {name}: {line.strip()[:100]}")
    assert not found, "AccountView names outside apicenter_sync/profile/defaults.py:\n" + "\n".join(found)
    assert name_hits(DEFAULTS.read_text(encoding="utf-8"), names), "the defaults hold the names"


def _between(path: Path, begin: str, end: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert begin in text and end in text, f"{path}: generated-table markers missing"
    return text.split(begin, 1)[1].split(end, 1)[0]


def test_docs_are_generated_from_the_profile():
    hint = "stale: run python -m apicenter_sync.profile --update-docs"
    assert _between(ROOT / "docs" / "assumptions.md", ASSUMPTIONS_BEGIN, ASSUMPTIONS_END) == (
        "\n" + assumptions_markdown()
    ), f"docs/assumptions.md is {hint}"
    assert _between(ROOT / "docs" / "profile.md", REFERENCE_BEGIN, REFERENCE_END) == "\n" + reference_markdown(), (
        f"docs/profile.md is {hint}"
    )
    # every assumed entry is in the assumptions list, every entry in the reference
    profile = ApiProfile.default()
    assumed = [e for e in profile.entries() if e.evidence == "assumed" and e.system == "accountview"]
    table = assumptions_markdown()
    for entry in assumed:
        if (".fields." in entry.key or ".line_fields." in entry.key) and not entry.key.endswith(".length"):
            assert f"`{entry.key}`" in table, entry.key


def test_overrides_rename_and_switch_off():
    profile = ApiProfile.from_overrides({
        "accountview": {
            "stock": {"code": "VRD1", "table": "VOORRAAD", "fields": {"sku": "ARTCODE", "warehouse": {"name": "MAG",
                                                                                                      "length": 6}}},
            "group_discount": {"available": False},
            "change_date": "MUT_DATUM",
        },
        "mplus": {"sku_field": "pluNumber", "branches": [2, 3]},
    })  # fmt: skip
    stock = profile.accountview.stock
    assert (stock.code, stock.table, stock["sku"], stock.fields["warehouse"].length) == ("VRD1", "VOORRAAD", "ARTCODE", 6)
    assert stock.fields["warehouse"].meaning == ApiProfile.default().accountview.stock.fields["warehouse"].meaning
    assert profile.accountview.change_date.name == "MUT_DATUM"
    assert profile.optional_off() == ["group_discount", "debtor_article_discount"]  # the latter absent by default
    assert profile.accountview.table_keys()["VOORRAAD"] == "REC_ID"
    assert profile.mplus.branches == [2, 3]
    # the same profile through flat keys, TOML and JSON files
    assert ApiProfile.from_flat({k: v for k, v in profile.flat().items()}) == profile
    assert parse_profile_text(profile.to_toml(only_changes=True)) == profile
    assert parse_profile_text(profile.to_toml()) == profile
    changed = dict(profile.flat())
    assert parse_profile_text(__import__("json").dumps(changed)) == profile
    assert ApiProfile.from_overrides(profile.overrides()) == profile
    assert ApiProfile.default().overrides() == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accountview": {"stok": {}}}, "unknown entry accountview.stok"),
        ({"accountview": {"stock": {"fields": {"skuu": "X"}}}}, "unknown field accountview.stock.fields.skuu"),
        ({"accountview": {"article": {"available": False}}}, "accountview.article.available: the flows cannot do"),
        ({"accountview": {"article": {"fields": {"ean": "EAN-CODE"}}}}, "letters, digits and underscores only"),
        ({"accountview": {"article": {"code": ""}}}, "(accountview.article.code) is empty"),
        ({"accountview": {"stock": {"fields": {"sku": {"length": -1}}}}}, "(accountview.stock.fields.sku.length) must be a whole number"),
        ({"mplus": {"sku_field": "barcode"}}, "mplus.sku_field"),
        ({"mplus": {"colour": 1}}, "unknown entry mplus.colour"),
        ({"elsewhere": {}}, "unknown section profile.elsewhere"),
    ],
)
def test_bad_profiles_are_refused_with_the_entry_named(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ApiProfile.from_overrides(overrides)


def test_a_refused_profile_is_worded_in_the_readers_language():
    """The refusal is a catalogue message (profile.toml): the Odoo tab and the command line show it in their
    reader's language, naming the entry in words with its key beside them, every problem of the profile."""
    with pytest.raises(ConfigError) as err:
        ApiProfile.from_overrides({"accountview": {"article": {"code": "", "fields": {"ean": "EAN-CODE"}}},
                                   "mplus": {"sku_field": "barcode"}})  # fmt: skip
    refusal = err.value.message
    assert refusal.key == "profile.invalid"
    assert "profile.problem.not_one_of" in refusal.keys()  # a choice outside its Literal: pydantic's words are not shown
    dutch = refusal.render("nl")
    assert dutch == ("API-profiel: MplusKASSA: veld van de SKU (mplus.sku_field) moet een van articleNumber, pluNumber zijn, "
                     "niet 'barcode'"), dutch
    with pytest.raises(ConfigError) as err:
        ApiProfile.from_overrides({"accountview": {"article": {"code": "", "fields": {"ean": "EAN-CODE"}}}})
    dutch = err.value.message.render("nl")
    assert dutch == ("API-profiel: Artikelen: code bedrijfsobject (accountview.article.code) is leeg; Artikelen: "
                     "EAN-barcode (accountview.article.fields.ean) = 'EAN-CODE': namen in AccountView bestaan alleen "
                     "uit letters, cijfers en liggende streepjes"), dutch
    assert err.value.message.render("pl").startswith("Profil API: Artykuły: kod obiektu biznesowego "
                                                     "(accountview.article.code): wartość jest pusta; ")
    assert "(accountview.article.code) is empty" in str(err.value)  # English: what the store and support read
    with pytest.raises(ConfigError) as err:
        ApiProfile.from_overrides({"accountview": {"stok": {}}})
    assert err.value.message.render("nl").startswith("API-profiel: onbekend onderdeel accountview.stok (objecten: ")


def test_the_command_line_refuses_a_profile_in_the_locales_language(tmp_path, capsys, monkeypatch):
    from apicenter_sync.cli import main

    path = tmp_path / "apicenter.toml"
    path.write_text('[mplus]\nurl = "http://127.0.0.1:1"\n[profile.mplus]\nbranches = "all"\n', encoding="utf-8")
    monkeypatch.setenv("APICENTER_LANG", "pl_PL.UTF-8")
    assert main(["--config", str(path), "run", "products"]) == 2
    err = capsys.readouterr().err
    assert "błąd: Profil API: MplusKASSA: " in err and "(mplus.branches) musi być listą, np. [1, 2], a nie 'all'" in err, err


def test_the_toml_configuration_carries_the_profile(tmp_path):
    path = tmp_path / "apicenter.toml"
    path.write_text(
        '[mplus]\nurl = "http://127.0.0.1:1"\n'
        '[profile.accountview.article.fields]\nean = "BARCODE"\n'
        '[profile.mplus]\norder_reference = "orderId"\n',
        encoding="utf-8",
    )
    cfg = config_mod.load(path)
    assert cfg.profile.accountview.article["ean"] == "BARCODE"
    assert cfg.profile.mplus.order_reference == "orderId"
    path.write_text('[profile.accountview.article.fields]\neaan = "X"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown field accountview.article.fields.eaan"):
        config_mod.load(path)


def test_every_entry_is_described():
    for entry in ApiProfile.default().entries():
        assert str(entry.meaning).strip(), entry.key
        assert entry.evidence in ("documented", "observed", "assumed", "choice"), entry.key


def test_every_entry_has_a_name_and_a_meaning_in_every_language():
    """The screens, the doctor and the log name an entry by its words (profile.toml), never by a key that the
    catalogue lacks; the Dutch and Polish words are their own."""
    from apicenter_sync.i18n import LANGUAGES, Msg, catalogue

    entries = catalogue()
    for entry in ApiProfile.default().entries():
        assert f"profile.{entry.key}" in entries, entry.key
        for message in (entry.name, entry.meaning):
            assert isinstance(message, Msg) and message.keys() <= set(entries), (entry.key, message.keys() - set(entries))
        texts = {lang: entry.name.render(lang) for lang in LANGUAGES}
        assert len(set(texts.values())) > 1 or entry.key.startswith("mplus."), texts
    for name in ApiProfile.default().accountview.objects:
        assert f"profile.accountview.{name}" in entries and f"profile.meaning.accountview.{name}" in entries
