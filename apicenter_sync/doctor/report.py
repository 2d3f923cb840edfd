"""The doctor's report: one line per check, confirmed / refuted / could not check, and an exit status for scripts.

Every text of a check (its subject, what the server answered, what to do) is a catalogue message, rendered in the
reader's language: :meth:`Report.text` takes a language, :meth:`Report.to_dict` keeps each text's English
rendering beside its message data (``subject_data``…), and :meth:`Report.from_dict` gives the messages back. Plain
strings are accepted too (a server's own words, a check added by code that has no message yet).

A refuted check may carry :class:`Proposal` s: the tenant's own name of the entry it names, found in the tenant's
business-object list and data dictionary, with the evidence and a confidence; a proposal without a value is a
question (the doctor could not place the entry and says what came nearest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..i18n import Text, from_stored, msg, render, to_data

Status = Literal["confirmed", "refuted", "unchecked"]
Confidence = Literal["high", "medium", "low"]
LABEL = {"confirmed": "CONFIRMED", "refuted": "REFUTED", "unchecked": "NOT CHECKED"}  # the English column, for scripts
# Exit status of `apicenter-sync doctor`: 0 everything confirmed, 1 something refuted, 3 nothing refuted but something
# could not be checked (2 is the command line's configuration/connection error).
EXIT_REFUTED, EXIT_UNCHECKED = 1, 3
_TEXTS = ("subject", "detail", "hint")


def _stored(value: Text) -> tuple[str, dict | None]:
    return render(value, "en"), to_data(value)


@dataclass
class Proposal:
    """A proposed value of one API-profile entry (``value`` None: a question, the entry could not be placed)."""

    key: str  # the flat profile key, e.g. accountview.stock.table
    value: Any  # str, int or bool as the profile takes it; None for a question
    current: Any = None
    confidence: Confidence = "medium"
    evidence: Text = ""
    candidates: list[str] = field(default_factory=list)  # a question: the names that came nearest

    @property
    def question(self) -> bool:
        return self.value is None

    def to_dict(self) -> dict:
        evidence, data = _stored(self.evidence)
        return {"key": self.key, "value": self.value, "current": self.current, "confidence": self.confidence,
                "evidence": evidence, "evidence_data": data, "candidates": list(self.candidates)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Proposal:
        return cls(data["key"], data.get("value"), data.get("current"), data.get("confidence") or "medium",
                   from_stored(data.get("evidence"), data.get("evidence_data")) or "",
                   list(data.get("candidates") or []))  # fmt: skip


@dataclass
class Check:
    system: str  # accountview | mplus
    id: str  # stable: the profile key it checks (accountview.stock.code) or a named check (mplus.branch.2)
    subject: Text  # what was checked, in words
    status: Status
    detail: Text = ""  # what the server answered, or why it could not be checked
    profile_key: str = ""  # the API-profile entry (or setting / mapping table) to look at when refuted
    hint: Text = ""  # what to do about a refuted check
    proposals: list[Proposal] = field(default_factory=list)  # refuted: the tenant's names found for it

    def line(self, lang: str | None = None) -> str:
        status = render(msg(f"doctor.status.{self.status}"), lang)
        text = f"{status:<12} {self.system:<11} {render(self.subject, lang)}"
        if self.detail:
            text += f" — {render(self.detail, lang)}"
        if self.status == "refuted" and self.hint:
            text += f" → {render(self.hint, lang)}"
        for p in self.proposals if self.status == "refuted" else ():
            text += "\n" + " " * 25 + render(proposal_line(p), lang)
        return text

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"system": self.system, "id": self.id, "status": self.status,
                               "profile_key": self.profile_key}  # fmt: skip
        for name in _TEXTS:
            out[name], out[f"{name}_data"] = _stored(getattr(self, name))
        out["proposals"] = [p.to_dict() for p in self.proposals]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Check:
        texts = {n: from_stored(data.get(n), data.get(f"{n}_data")) or "" for n in _TEXTS}
        return cls(data["system"], data["id"], texts["subject"], data["status"], texts["detail"],
                   data.get("profile_key") or "", texts["hint"],
                   [Proposal.from_dict(p) for p in data.get("proposals") or []])  # fmt: skip


def proposal_line(p: Proposal) -> Text:
    """One proposal (or question) in words, for the command line and the report's text."""
    if p.question:
        return msg("doctor.proposal.question_line", key=p.key, evidence=p.evidence)
    return msg("doctor.proposal.line", key=p.key, value=value_text(p.value), confidence=msg(f"doctor.confidence."
                                                                                           f"{p.confidence}"),
               evidence=p.evidence)  # fmt: skip


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    profile_digest: str = ""
    versions: dict[str, str] = field(default_factory=dict)  # what the systems said they run

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(LABEL, 0)
        for check in self.checks:
            out[check.status] += 1
        return out

    @property
    def refuted(self) -> list[Check]:
        return [c for c in self.checks if c.status == "refuted"]

    @property
    def state(self) -> str:
        """confirmed (everything), refuted (something), unchecked (nothing refuted, something not checked)."""
        counts = self.counts()
        if counts["refuted"]:
            return "refuted"
        return "unchecked" if counts["unchecked"] else "confirmed"

    def exit_status(self) -> int:
        return {"confirmed": 0, "refuted": EXIT_REFUTED, "unchecked": EXIT_UNCHECKED}[self.state]

    # --- proposals -------------------------------------------------------------------------------------------------
    def proposals(self) -> list[Proposal]:
        """Every proposed value of the refuted checks (questions left out), one per profile entry."""
        seen: dict[str, Proposal] = {}
        for check in self.refuted:
            for p in check.proposals:
                if not p.question:
                    seen.setdefault(p.key, p)
        return list(seen.values())

    def questions(self) -> list[Proposal]:
        """The entries the doctor could not place: a person decides them."""
        placed = {p.key for p in self.proposals()}
        seen: dict[str, Proposal] = {}
        for check in self.refuted:
            for p in check.proposals:
                if p.question and p.key not in placed:
                    seen.setdefault(p.key, p)
        return list(seen.values())

    def proposed_profile(self, profile, keys: set[str] | None = None):
        """``profile`` (an ApiProfile) with the proposals applied (all, or those of ``keys``)."""
        values = {p.key: p.value for p in self.proposals() if keys is None or p.key in keys}
        return profile.from_flat({**profile.flat(), **values})

    # --- text ------------------------------------------------------------------------------------------------------
    def text(self, lang: str | None = None, statuses: tuple[str, ...] | None = None) -> str:
        """The report in ``lang``: a head line, then one line per check (of ``statuses``, default every check)."""
        counts = self.counts()
        head = msg("doctor.report.head", at=f"{self.started_at:%Y-%m-%d %H:%M:%S}", seconds=f"{self.seconds:.1f}",
                   digest=self.profile_digest, confirmed=counts["confirmed"], refuted=counts["refuted"],
                   unchecked=counts["unchecked"])  # fmt: skip
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        lines = [render(head, lang)] + ([render(msg("doctor.report.versions", versions=versions), lang)]
                                        if versions else [])  # fmt: skip
        shown = [c.line(lang) for c in self.checks if statuses is None or c.status in statuses]
        return "\n".join(lines + shown) + "\n"

    def to_dict(self) -> dict:
        return {
            "started_at": self.started_at.isoformat(), "seconds": round(self.seconds, 2),
            "profile_digest": self.profile_digest, "versions": self.versions, "state": self.state,
            "counts": self.counts(), "checks": [c.to_dict() for c in self.checks],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        report = cls(
            checks=[Check.from_dict(c) for c in data.get("checks", [])],
            started_at=datetime.fromisoformat(data["started_at"]) if data.get("started_at") else datetime.now(UTC),
            seconds=float(data.get("seconds") or 0), profile_digest=data.get("profile_digest", ""),
            versions=dict(data.get("versions") or {}),
        )  # fmt: skip
        return report
