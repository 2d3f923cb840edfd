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
