"""Finding a tenant's own names in its data dictionary: which field, which table is ours under another name.

Pure functions over what the doctor read (no I/O). A profile field is compared with a dictionary field by

- **description**: the dictionary's words for the field (Dutch, as AccountView gives it) against the
  words the profile expects (:attr:`FieldSpec.label`), word by word, tolerant of compounds and abbreviations
  ("Voorraadartikel" / "Voorraad bijhouden", "incl." / "inclusief");
- **type and length**: the Visual FoxPro type family must agree; the same length counts;
- **name**: shared letter groups of the two names (a warehouse code named ``MAG_CODE`` or ``LOC_CODE``);
- **role**: the fields every table has (change tracking: who and when) are never another field; the fields that
  link a document's lines to its header have one name in both tables.

Fields of one table are placed together, best pair first, so two candidates never get one field and each proposal
knows its runner-up: the margin between them is part of its confidence. A table is placed by how well the object's
fields fit it. What no candidate fits well enough, or two fit alike, is a question, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ..profile import FieldSpec

TEXT, NUMBER, LOGICAL, MOMENT = frozenset("CMVW"), frozenset("NYBIFQG"), frozenset("L"), frozenset("DT")
FAMILIES = (TEXT, NUMBER, LOGICAL, MOMENT)
# Words that say nothing about a field (Dutch and English).
STOP = frozenset({"van", "de", "het", "een", "en", "in", "op", "per", "via", "voor", "the", "of", "a", "an", "and",
                  "to", "by", "for"})  # fmt: skip
HOUSEKEEPING_SHARE = 0.8  # a field name in at least this share of the tables is housekeeping (who/when changed)
# Confidence: high needs a strong fit and a clear lead over the runner-up; medium a fair fit, or a weaker one that
# nothing else comes near (the only unplaced field of its type and length); anything else is a question.
HIGH, MEDIUM, CLEAR_LEAD, WEAK, LEAD_OF_WEAK = 0.75, 0.55, 0.1, 0.4, 0.25


def family(vfp_type: str) -> frozenset[str] | None:
    return next((f for f in FAMILIES if vfp_type.upper()[:1] in f), None)


@dataclass(frozen=True)
class DictField:
    """One row of the tenant's data dictionary."""

    table: str
    name: str
    type: str
    length: int
    label: str = ""

    @property
    def shown(self) -> str:
        return f"{self.table}.{self.name} ({self.type}{self.length}" + (f", “{self.label}”)" if self.label else ")")


class Dictionary:
    """The tenant's data dictionary: table -> field name -> :class:`DictField` (upper-case names)."""

    def __init__(self, fields: Iterable[DictField]):
        self.tables: dict[str, dict[str, DictField]] = {}
        for f in fields:
            self.tables.setdefault(f.table.upper(), {})[f.name.upper()] = f
        counts: dict[str, int] = {}
        for names in self.tables.values():
            for name in names:
                counts[name] = counts.get(name, 0) + 1
        enough = max(3, int(HOUSEKEEPING_SHARE * len(self.tables)))
        self.housekeeping = frozenset(n for n, c in counts.items() if len(self.tables) >= 3 and c >= enough)

    def __contains__(self, table: str) -> bool:
        return table.upper() in self.tables

    def get(self, table: str) -> dict[str, DictField] | None:
        return self.tables.get(table.upper())

    def field(self, table: str, name: str) -> DictField | None:
        return self.tables.get(table.upper(), {}).get(name.upper())


# --- similarity ------------------------------------------------------------------------------------------------------
def words(text: str) -> tuple[str, ...]:
    return tuple(w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if w not in STOP)


@lru_cache(maxsize=20000)
def trigrams(text: str) -> frozenset[str]:
    text = text.lower()
    return frozenset(text[i : i + 3] for i in range(max(len(text) - 2, 1)))


def dice(a: str, b: str) -> float:
    ta, tb = trigrams(a), trigrams(b)
    return 2 * len(ta & tb) / (len(ta) + len(tb)) if ta and tb else 0.0


@lru_cache(maxsize=50000)
def word_similarity(a: str, b: str) -> float:
    """1 for the same word; a shared start of four letters or more (compounds, abbreviations) counts by how much of
    both words it covers; otherwise shared letter groups."""
    if a == b:
        return 1.0
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    by_prefix = (prefix / min(len(a), len(b)) + prefix / max(len(a), len(b))) / 2 if prefix >= 4 else 0.0
    return max(by_prefix, dice(a, b) if min(len(a), len(b)) >= 3 else 0.0)


def label_similarity(a: str, b: str) -> float:
    """How alike two descriptions are, 0..1: each word's best match on the other side, both ways."""
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    if wa == wb:
        return 1.0
    forth = sum(max(word_similarity(x, y) for y in wb) for x in wa)
    back = sum(max(word_similarity(x, y) for x in wa) for y in wb)
    return (forth + back) / (len(wa) + len(wb))


def name_similarity(a: str, b: str) -> float:
    return 1.0 if a.upper() == b.upper() else dice(a, b)


def field_score(spec: FieldSpec, candidate: DictField) -> float:
    """How well ``candidate`` fits the profile field ``spec``, 0..1 (0: another type family)."""
    if family(candidate.type) is not family(spec.type):
        return 0.0
    label = label_similarity(spec.label, candidate.label)
    same_label = 0.1 if label == 1.0 else 0.0
    length = 1.0 if not spec.length or candidate.length == spec.length else 0.3
    return min(1.0, 0.55 * label + same_label + 0.2 * name_similarity(spec.name, candidate.name) + 0.25 * length)


def confidence(score: float, runner_up: float) -> str | None:
    """high / medium, or None: not placed (a question)."""
    lead = score - runner_up
    if score >= HIGH and lead >= 2 * CLEAR_LEAD:
        return "high"
    if (score >= MEDIUM and lead >= CLEAR_LEAD) or (score >= WEAK and lead >= LEAD_OF_WEAK):
        return "medium"
    return None


# --- placing ---------------------------------------------------------------------------------------------------------
@dataclass
class Placed:
    """Where one profile field was found (``found`` None: not placed; ``candidates``: what came nearest)."""

    logical: str
    spec: FieldSpec
    found: DictField | None
    score: float = 0.0
    runner_up: float = 0.0
    confidence: str | None = None
    candidates: list[tuple[DictField, float]] = field(default_factory=list)


def assign(scores: dict[str, dict[str, float]]) -> dict[str, tuple[str, float, float, str]]:
    """Each wanted thing (``scores``: wanted -> candidate -> score) its candidate, best pair first, a candidate to
    one wanted thing: ``{wanted: (candidate, score, runner_up, confidence)}``. The runner-up is the wanted thing's
    next best free candidate or another wanted thing that wants this candidate as much; a pair without a clear
    enough lead is left out (a question)."""
    pairs = sorted(((s, want, cand) for want, row in scores.items() for cand, s in row.items()), reverse=True)
    placed: dict[str, tuple[str, float, float, str]] = {}
    taken: set[str] = set()
    for score, want, cand in pairs:
        if want in placed or cand in taken:
            continue
        others = [s for c, s in scores[want].items() if c != cand and c not in taken]
        rivals = [scores[w].get(cand, 0.0) for w in scores if w != want and w not in placed]
        runner_up = max(others + rivals + [0.0])
        level = confidence(score, runner_up)
        if level is not None:
            placed[want] = (cand, score, runner_up, level)
            taken.add(cand)
    return placed


def place_fields(specs: dict[str, FieldSpec], candidates: dict[str, DictField],
                 bonus: dict[tuple[str, str], float] | None = None) -> dict[str, Placed]:  # fmt: skip
    """Place each of ``specs`` (logical name -> spec) on one of ``candidates`` (name -> field), best pair first; a
    candidate takes one field. ``bonus``: (logical, candidate name) -> extra score for a role that fits (a link
    field between header and lines)."""
    scores: dict[str, dict[str, float]] = {}
    for logical, spec in specs.items():
        row = {}
        for name, cand in candidates.items():
            score = field_score(spec, cand)
            if score > 0:
                row[name] = min(1.0, score + (bonus or {}).get((logical, name), 0.0))
        scores[logical] = row
    assigned = assign(scores)
    taken = {name for name, *_rest in assigned.values()}
    placed: dict[str, Placed] = {}
    for logical, spec in specs.items():
        if logical in assigned:
            name, score, runner_up, level = assigned[logical]
            placed[logical] = Placed(logical, spec, candidates[name], score, runner_up, level)
        else:
            near = sorted(((candidates[n], s) for n, s in scores[logical].items() if n not in taken),
                          key=lambda c: -c[1])[:3]  # fmt: skip
            placed[logical] = Placed(logical, spec, None, near[0][1] if near else 0.0, candidates=near)
    return placed


def table_fit(specs: dict[str, FieldSpec], key: str, fields: dict[str, DictField]) -> float:
    """How well a table with ``fields`` fits an object with ``specs`` (its key ``key``), 0..1: the mean score of
    its fields placed there, halved when its key finds no place."""
    if not specs:
        return 0.0
    scores = {}
    for logical, spec in specs.items():
        scores[logical] = max((field_score(spec, f) for f in fields.values()), default=0.0)
    fit = sum(scores.values()) / len(specs)
    return fit / 2 if key in scores and scores[key] < WEAK else fit


def candidate_fields(dictionary: Dictionary, table: str, claimed: Iterable[str] = ()) -> dict[str, DictField]:
    """The fields of ``table`` that can still be another field: not housekeeping, not already a profile field."""
    taken = {c.upper() for c in claimed} | dictionary.housekeeping
    return {n: f for n, f in (dictionary.get(table) or {}).items() if n not in taken}
