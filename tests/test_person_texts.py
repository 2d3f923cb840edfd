"""No English-only text for a person anywhere in the engine: every one goes through the catalogue.

An AST scan of every module of apicenter_sync: a text given to ``raise``, ``print``, ``input``, a stream's ``write`` or argparse's
``help=``/``description=`` must come from the catalogue (``msg(...)``, ``_t(...)``), not be a literal with words.
Literals without words (``"-"``, ``f"{name:<10}"``) are layout and pass."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADDON = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "apicenter_connector").rglob("*.py") if "tests" not in p.parts
)
ENGINE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "apicenter_sync").rglob("*.py"))
# An exception that only a programmer can cause (a wrong call, never a user's data or settings) may keep English.
PROGRAMMERS_ONLY = {"TypeError", "NotImplementedError", "AssertionError"}
WORD = re.compile(r"[A-Za-z]{3,}")
OUTPUT_CALLS = {"print", "input", "write"}
TEXT_KEYWORDS = {"help", "description", "epilog"}


def _literal_words(node: ast.AST) -> list[str]:
    """The words of a literal text (a string constant, or the constant parts of an f-string)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return WORD.findall(node.value)
    if isinstance(node, ast.JoinedStr):
        return [w for part in node.values if isinstance(part, ast.Constant) for w in WORD.findall(str(part.value))]
    if isinstance(node, ast.BinOp):  # "a" + "b", "x" * n
        return _literal_words(node.left) + _literal_words(node.right)
    return []


def _call_name(call: ast.Call) -> str:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None) or ""


def english_literals(source: str, keywords: set[str] = TEXT_KEYWORDS) -> list[tuple[int, str]]:
    """(line, words) of every literal text that reaches a person directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        texts: list[ast.AST] = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            if _call_name(node.exc) not in PROGRAMMERS_ONLY:
                texts = list(node.exc.args)
        elif isinstance(node, ast.Call) and _call_name(node) in OUTPUT_CALLS:
            texts = list(node.args)
        if isinstance(node, ast.Call):
            texts += [kw.value for kw in node.keywords if kw.arg in keywords]
        for text in texts:
            words = _literal_words(text)
            if words:
                found.append((text.lineno, " ".join(words)))
    return found


@pytest.mark.parametrize("module", ENGINE)
def test_no_english_literal_reaches_a_person(module):
    found = english_literals((ROOT / module).read_text(encoding="utf-8"))
    assert not found, f"{module}: texts outside the catalogue (use msg()/_t()): {found}"



@pytest.mark.parametrize("module", ADDON)
def test_the_addon_raises_no_english_literal(module):
    """In Odoo a text goes through ``self.env._`` (the .po files); a field's ``help=`` is translated by Odoo itself."""
    found = english_literals((ROOT / module).read_text(encoding="utf-8"), keywords=set())
    assert not found, f"{module}: texts outside the translations (use self.env._ or msg()): {found}"

def test_the_scan_finds_what_it_must():
    """The scan itself: a raise, a print, an f-string, an argparse help and a concatenation are each caught."""
    source = '''
raise ValueError(f"{x} is not a number")
print("done")
raise TypeError("a programmer's mistake")
parser.add_argument("--x", help="what it does")
stream.write("  " + "records")
raise UnitsError(msg("units.not_a_number", what=w, value=v))
print(f"{name:<10} {count:>5}")
print("-" * 10)
'''
    assert [line for line, _ in english_literals(source)] == [2, 3, 5, 6]

