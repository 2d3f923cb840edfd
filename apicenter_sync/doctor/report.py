"""The doctor's report: one line per check, confirmed / refuted / could not check, and an exit status for scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal

Status = Literal["confirmed", "refuted", "unchecked"]
LABEL = {"confirmed": "CONFIRMED", "refuted": "REFUTED", "unchecked": "NOT CHECKED"}
# Exit status of `apicenter-sync doctor`: 0 everything confirmed, 1 something refuted, 3 nothing refuted but something
# could not be checked (2 is the command line's configuration/connection error).
EXIT_REFUTED, EXIT_UNCHECKED = 1, 3


@dataclass
class Check:
    system: str  # accountview | mplus
    id: str  # stable: the profile key it checks (accountview.stock.code) or a named check (mplus.branch.2)
    subject: str  # what was checked, in words
    status: Status
    detail: str = ""  # what the server answered, or why it could not be checked
    profile_key: str = ""  # the API-profile entry (or setting / mapping table) to look at when refuted
    hint: str = ""  # what to do about a refuted check

    def line(self) -> str:
        text = f"{LABEL[self.status]:<12} {self.system:<11} {self.subject}"
        if self.detail:
            text += f" — {self.detail}"
        if self.status == "refuted" and self.hint:
            text += f" → {self.hint}"
        return text


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

    def text(self) -> str:
        counts = self.counts()
        head = (f"apicenter-sync doctor, {self.started_at:%Y-%m-%d %H:%M:%S} UTC, {self.seconds:.1f} s, profile "
                f"{self.profile_digest}: {counts['confirmed']} confirmed, {counts['refuted']} refuted, "
                f"{counts['unchecked']} not checked")  # fmt: skip
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        lines = [head] + ([f"versions: {versions}"] if versions else [])
        return "\n".join(lines + [c.line() for c in self.checks]) + "\n"

    def to_dict(self) -> dict:
        return {
            "started_at": self.started_at.isoformat(), "seconds": round(self.seconds, 2),
            "profile_digest": self.profile_digest, "versions": self.versions, "state": self.state,
            "counts": self.counts(), "checks": [asdict(c) for c in self.checks],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        report = cls(
            checks=[Check(**c) for c in data.get("checks", [])],
            started_at=datetime.fromisoformat(data["started_at"]) if data.get("started_at") else datetime.now(UTC),
            seconds=float(data.get("seconds") or 0), profile_digest=data.get("profile_digest", ""),
            versions=dict(data.get("versions") or {}),
        )  # fmt: skip
        return report
