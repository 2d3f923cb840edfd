"""The doctor: checks, read-only and bounded in time, every assumption the engine makes about a live tenant.

    report = run_doctor(engine)                 # both systems, under a minute on a normal tenant
    print(report.text()); sys.exit(report.exit_status())

AccountView (:mod:`.accountview`): token refresh, the administration, every object, table and field of the API
profile (type and length from the tenant's data dictionary), the filters the flows use, the numeric-SKU rule.
MplusKASSA (:mod:`.mplus`): credentials, the live WSDL against the bundled one, and that the branches, warehouses,
employee, VAT codes, payment methods, turnover groups and price groups the flows use are configured. Each check
is confirmed, refuted (with what the server answered and what to change) or not checked (and why).
"""

from __future__ import annotations

import time

from .accountview import AccountViewDoctor
from .mplus import MplusDoctor
from .pair import check_pair
from .report import EXIT_REFUTED, EXIT_UNCHECKED, Check, Report

DEFAULT_SECONDS = 60.0


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end


def run_doctor(engine, *, seconds: float = DEFAULT_SECONDS, systems: tuple[str, ...] = ("accountview", "mplus"),
               ) -> Report:  # fmt: skip
    """Check both systems of ``engine`` (its clients, profile and store). Nothing is written to either system."""
    report = Report(profile_digest=engine.profile.digest())
    started = time.monotonic()
    deadline = Deadline(seconds)
    objects = None
    if "accountview" in systems:
        av = AccountViewDoctor(engine.accountview, engine.profile, engine.store, report, deadline)
        av.run()
        objects = {n: o for n, o in av.effective.items() if n not in av.gone}
    if "mplus" in systems:  # its mapping checks read AccountView's VAT codes and warehouses too (as found above)
        MplusDoctor(engine.mplus, engine.accountview, engine.profile, engine.store, report, deadline, objects).run()
        check_pair(engine, report)  # the administration is served by this backend alone
    report.seconds = time.monotonic() - started
    return report


__all__ = ["EXIT_REFUTED", "EXIT_UNCHECKED", "Check", "Deadline", "Report", "run_doctor"]
