"""The addon's .po files are complete against its .pot (exported by Odoo) and keep every placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

I18N = Path(__file__).resolve().parents[1] / "apicenter_connector" / "i18n"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_0-9]*\}")


def entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po/.pot file (enough of the format for Odoo's exports: quoted, continued lines)."""
    out: dict[str, str] = {}
    key = current = None
    parts: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("msgid "):
            if key is not None:
                out["".join(parts["msgid"])] = "".join(parts["msgstr"])
            key, current, parts = "msgid", "msgid", {"msgid": [], "msgstr": []}
            parts["msgid"].append(_unquote(line[6:]))
        elif line.startswith("msgstr "):
            current = "msgstr"
            parts["msgstr"].append(_unquote(line[7:]))
        elif line.startswith('"') and current:
            parts[current].append(_unquote(line))
        elif not line.strip() and key is not None:
            out["".join(parts["msgid"])] = "".join(parts["msgstr"])
            key = current = None
    out.pop("", None)
    return out


def _unquote(text: str) -> str:
    return text.strip()[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


@pytest.mark.parametrize("language", ["nl", "pl"])
def test_po_file_is_complete(language):
    pot = entries(I18N / "apicenter_connector.pot")
    po = entries(I18N / f"{language}.po")
    assert len(pot) > 500
    assert set(po) == set(pot), sorted(set(pot) ^ set(po))[:10]
    empty = [msgid for msgid, msgstr in po.items() if not msgstr]
    assert not empty, f"{len(empty)} untranslated, e.g. {empty[:5]}"
    broken = [m for m, s in po.items() if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(s))]
    assert not broken, broken[:5]


# Translated fields of the records the addon's data files create (the menus and views are exported by Odoo 18).
DATA_FIELDS = {
    "ir.module.category": ("name", "description"),
    "res.groups": ("name", "comment"),
    "res.groups.privilege": ("name",),  # Odoo 19 only: Odoo 18's export does not list it, so it is kept by hand
}


def test_every_series_data_record_is_in_the_pot():
    """The groups' records of both series (data/series/18, data/series/19) are translated, a record that exists on
    one series only too: the .pot names each translated field of each of them (Odoo 18 ignores a model it lacks)."""
    import xml.etree.ElementTree as ET

    pot = (I18N / "apicenter_connector.pot").read_text(encoding="utf-8")
    addon = I18N.parent
    found = []
    for path in sorted(addon.glob("data/**/*.xml")) + sorted(addon.glob("security/*.xml")):
        for record in ET.parse(path).iter("record"):
            names = DATA_FIELDS.get(record.get("model"), ())
            for field in record.iter("field"):
                if field.get("name") in names and (field.text or "").strip():
                    xmlid = record.get("id")
                    xmlid = xmlid if "." in xmlid else f"apicenter_connector.{xmlid}"
                    found.append(f"#: model:{record.get('model')},{field.get('name')}:{xmlid}")
    assert any("res.groups.privilege" in occurrence for occurrence in found)
    missing = [occurrence for occurrence in found if occurrence + "\n" not in pot]
    assert not missing, missing
