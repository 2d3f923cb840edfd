"""One backend per pair: an AccountView company and a MplusKASSA administration are served by one backend only.

Two backends on the same pair would each read the till and write the books (and the other way round): every
record twice. The store says which other backends serve the pair (``Store.pair_served_elsewhere``: the Odoo
backends, or the backends of one SQLite file); a store that cannot tell is not asked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..i18n import msg
from .report import Check, Report

CHECK_ID = "mplus.one_backend_per_pair"


def _address(url: str | None) -> str:
    parts = urlsplit((url or "").strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}" if parts.netloc else ""


def pair_key(av_url: str | None, av_company: str | None, mplus_url: str | None) -> str:
    """The pair as one text: AccountView address and company, MplusKASSA address (case and a final / ignored)."""
    return f"{_address(av_url)}|{(av_company or '').strip()}|{_address(mplus_url)}"


def check_pair(engine, report: Report) -> None:
    served = getattr(engine.store, "pair_served_elsewhere", None)
    if served is None:
        return
    av, mplus = engine.accountview, engine.mplus
    pair = pair_key(getattr(av, "api_url", ""), getattr(av, "company_id", ""), getattr(mplus, "url", ""))
    subject = msg("doctor.pair.subject")
    others = served(pair)
    if others:
        report.add(Check("mplus", CHECK_ID, subject, "refuted", msg("doctor.pair.served", backends=others),
                         hint=msg("doctor.pair.hint")))  # fmt: skip
    else:
        report.add(Check("mplus", CHECK_ID, subject, "confirmed", msg("doctor.pair.alone")))
