"""The doctor's proposals as a ``[profile]`` section: the profile it checked, changed by every proposal, each
proposed value commented with its confidence and evidence, and the questions it could not decide at the end.

    text = proposed_toml(report, profile, lang="nl")    # apicenter-sync doctor --propose FILE writes this

The section replaces the ``[profile]`` of apicenter.toml as it is (no hand edit); a question stays a comment
until a person decides it.
"""

from __future__ import annotations

from ..i18n import msg, render
from ..profile import ApiProfile, dump_toml, unflatten
from .report import Report, value_text


def _path(key: str) -> str:
    """Where a flat key's value lands in the dumped TOML: a field's length is part of the field's inline value."""
    parts = key.split(".")
    if len(parts) == 5 and parts[2] in ("fields", "line_fields") and parts[4] == "length":
        parts = parts[:4]
    return "profile." + ".".join(parts)


def proposed_toml(report: Report, profile: ApiProfile, lang: str | None = None) -> str:
    """``profile`` with the report's proposals applied, as the ``[profile]`` section of apicenter.toml."""
    proposals = report.proposals()
    questions = report.questions()
    proposed = report.proposed_profile(profile)
    default = ApiProfile.default().flat()
    keys = {p.key for p in proposals}  # written even where they are the default: the evidence goes with them
    changes = {k: v for k, v in proposed.flat().items() if default.get(k) != v or k in keys}
    comments: dict[str, list[str]] = {}
    for p in proposals:
        line = msg("doctor.propose.comment", confidence=msg(f"doctor.confidence.{p.confidence}"), evidence=p.evidence)
        comments.setdefault(_path(p.key), []).append(render(line, lang))
    head = [render(msg("doctor.propose.head", at=f"{report.started_at:%Y-%m-%d %H:%M}", proposals=len(proposals),
                       questions=len(questions)), lang)]  # fmt: skip
    if not proposals:
        head.append(render(msg("doctor.propose.nothing"), lang))
    text = "\n".join(f"# {line}" for line in head) + "\n\n"
    text += dump_toml(unflatten(changes), prefix="profile", comments=comments) if changes else "[profile]\n"
    for q in questions:
        question = msg("doctor.propose.question", key=q.key, current=value_text(q.current), evidence=q.evidence)
        text += f"\n# {render(question, lang)}"
    return text + ("\n" if questions else "")
