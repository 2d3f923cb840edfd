"""Outages: a run that stopped because a system cannot be reached, or refuses our access, rather than on its data.

A scheduler (the Odoo addon) records such a run even when the job that made it is rolled back for a retry, tells
the responsible people once when an outage starts and once when it ends, and shows how long a flow has gone
without a success. What counts (docs/reliability.md, "Outages"):

- **unreachable**: the run stopped on a transient error of AccountView or MplusKASSA (no connection, timeouts,
  5xx, the call deadline) after the client's own retries;
- **access**: it stopped on an authentication error (an expired refresh token, refused credentials, a missing
  connection): a person must reconnect;
- **runner**: the job runner did not start a due job within the delay (seen by the scheduler, not by a run).

A run another run locked out, or one stopped by configuration or data, is no outage.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import Msg, Text, msg

SYSTEMS = ("accountview", "mplus")
KINDS = ("unreachable", "access", "runner")


@dataclass(frozen=True)
class Outage:
    system: str  # "accountview", "mplus" or "runner"
    kind: str  # one of KINDS
    reason: Text  # why the run stopped (the client's error), for the run and the notice

    def headline(self) -> Msg:
        """What is wrong, in a few words: "AccountView cannot be reached"."""
        return msg(f"outage.{self.kind}", system=system_name(self.system))


def outage_of(result) -> Outage | None:
    """The outage a :class:`~apicenter_sync.flows.base.RunResult` stopped on, or None."""
    if result.ok or result.locked_out or result.system not in SYSTEMS:
        return None
    if result.auth:
        return Outage(result.system, "access", result.error)
    if result.transient:
        return Outage(result.system, "unreachable", result.error)
    return None


def system_name(system: str) -> Msg:
    return msg(f"outage.system_{system}")
