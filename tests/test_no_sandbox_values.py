"""The engine knows no sandbox: no article number, code or name seeded by the sandboxes appears in
``apicenter_sync/`` (code, catalogue, profile, bundled files). What the sandbox needs — its shipping article, its
service articles — lives in its configuration (``apicenter_sandbox/sandbox.toml``), as a tenant's would.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from apicenter_sandbox.mplus.seed import seed
from apicenter_sandbox.world import generate

ENGINE = Path(__file__).resolve().parents[1] / "apicenter_sync"
TEXT_FILES = ("*.toml", "*.json", "*.md", "*.wsdl", "*.xsd")


def seeded() -> tuple[set[str], set[str]]:
    """(article numbers and codes, article names) that the sandboxes seed: AccountView's articles of the
    largest world the tests use, and every article the till is seeded with (its own shipping article too)."""
    world = generate(size=200, seed=1)
    numbers = {a.sku for a in world.articles} | {a.model for a in world.articles if a.model}
    names = {a.description for a in world.articles}
    till = seed(world)
    for product in till.products.values():
        names.add(str(product.get("description") or ""))
        for article in product["articleList"]["article"]:
            numbers.add(str(article["articleNumber"]))
            names |= {str(article.get(k) or "") for k in ("description", "invoiceText", "receiptText")}
    return numbers, {n for n in names if len(n) >= 6}


def engine_strings() -> list[tuple[str, str]]:
    """(where, text) of every string and number constant in the engine's Python code and every line of its
    bundled text files."""
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str | int)
                and not isinstance(node.value, bool)
            ):
                found.append((f"{path.relative_to(ENGINE.parent)}:{node.lineno}", str(node.value)))
    for pattern in TEXT_FILES:
        for path in sorted(ENGINE.rglob(pattern)):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                found.append((f"{path.relative_to(ENGINE.parent)}:{n}", line))
    return found


def test_seeded_articles_are_known():
    numbers, names = seeded()
    assert {"999000", "999001", "999100", "999200"} <= numbers
    assert {"Verzendkosten", "Kassa-only cadeaubon", "Kasafronding"} <= names


def test_no_seeded_article_number_code_or_name_in_the_engine():
    numbers, names = seeded()
    number_re = re.compile(
        r"(?<![\w-])(" + "|".join(map(re.escape, sorted(numbers, key=len, reverse=True))) + r")(?![\w-])"
    )
    name_re = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?!\w)")
    hits = []
    for where, text in engine_strings():
        for match in number_re.finditer(text):
            hits.append(f"{where}: article number/code {match.group(1)!r}")
        for match in name_re.finditer(text):
            hits.append(f"{where}: article name {match.group(1)!r}")
    assert not hits, "sandbox values in the engine:\n" + "\n".join(hits)


def test_the_check_finds_a_planted_value(tmp_path, monkeypatch):
    """The scan itself works: a constant with the till's shipping article is found."""
    (tmp_path / "apicenter_sync").mkdir()
    (tmp_path / "apicenter_sync" / "planted.py").write_text('SHIPPING = {"999000": ""}\nNAME = "Verzendkosten"\n')
    monkeypatch.setattr(__import__(__name__), "ENGINE", tmp_path / "apicenter_sync")
    found = [text for _, text in engine_strings()]
    assert "999000" in found and "Verzendkosten" in found
