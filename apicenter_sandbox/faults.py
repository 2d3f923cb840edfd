"""Fault injection shared by both sandboxes.

A fault is drawn per request from a seeded RNG, so a run with the same seed and
the same request sequence injects the same faults.  Writes can be hit *after*
they were applied (the reply is lost), which is how duplicates happen in real
life; the ``after_write`` share decides how often that happens.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

# Kinds a client has to survive.  "lost_reply" is the explicit form of
# "applied, then the connection dropped"; timeout/reset/http5xx may also hit
# after a write, by ``after_write``.
KINDS = (
    "timeout",  # hold the connection open without answering for timeout_s, then drop it
    "reset",  # TCP reset without any reply
    "http500",
    "http502",
    "http503",
    "http504",
    "http429",  # with a Retry-After header
    "slow",  # answer correctly, but only after slow_s
    "error200",  # an error body with HTTP 200 (AccountView does this; Mplus: a fault with 200)
    "lost_reply",  # apply the write, then reset the connection
    "expired_token",  # AccountView: 401 as if the access token expired (ignored by Mplus)
)
DEFAULT_KINDS = ("timeout", "reset", "http500", "http503", "http429", "slow", "error200")
# Kinds that may strike after a write was applied.
POST_WRITE_KINDS = frozenset({"timeout", "reset", "http500", "http502", "http503", "http504", "lost_reply"})


@dataclass(frozen=True)
class Fault:
    kind: str
    after_write: bool = False


@dataclass
class FaultConfig:
    rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    seed: int = 0
    after_write: float = 0.5  # share of faults on a write that strike after it was applied
    timeout_s: float = 3.0
    slow_s: float = 1.5
    operations: tuple[str, ...] = ()  # empty: every operation can be hit

    @classmethod
    def from_json(cls, data: dict) -> FaultConfig:
        if not isinstance(data, dict):
            raise ValueError("fault config must be a JSON object")
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        cfg = cls(
            rate=float(data.get("rate", 0.0)),
            kinds=tuple(data.get("kinds") or DEFAULT_KINDS),
            seed=int(data.get("seed", 0)),
            after_write=float(data.get("after_write", 0.5)),
            timeout_s=float(data.get("timeout_s", 3.0)),
            slow_s=float(data.get("slow_s", 1.5)),
            operations=tuple(data.get("operations") or ()),
        )
        if not 0.0 <= cfg.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not 0.0 <= cfg.after_write <= 1.0:
            raise ValueError("after_write must be between 0 and 1")
        bad = [k for k in cfg.kinds if k not in KINDS]
        if bad:
            raise ValueError(f"unknown fault kind(s): {', '.join(bad)}; known: {', '.join(KINDS)}")
        return cfg

    def as_json(self) -> dict:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "after_write": self.after_write,
            "timeout_s": self.timeout_s,
            "slow_s": self.slow_s,
            "operations": list(self.operations),
        }


@dataclass
class FaultInjector:
    config: FaultConfig = field(default_factory=FaultConfig)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    injected: dict[str, int] = field(default_factory=dict)

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def draw(self, operation: str, is_write: bool, allowed: frozenset[str] | None = None) -> Fault | None:
        """Decide whether this request fails, and how.

        ``allowed`` limits the kinds to those the sandbox can express (e.g. Mplus
        has no access tokens to expire)."""
        cfg = self.config
        if cfg.rate <= 0.0 or (cfg.operations and operation not in cfg.operations):
            return None
        with self._lock:
            if self._rng.random() >= cfg.rate:
                return None
            kinds = [k for k in cfg.kinds if allowed is None or k in allowed]
            if not is_write:
                kinds = [k for k in kinds if k != "lost_reply"] or kinds
            if not kinds:
                return None
            kind = self._rng.choice(kinds)
            after = is_write and (
                kind == "lost_reply" or (kind in POST_WRITE_KINDS and self._rng.random() < cfg.after_write)
            )
            if kind == "lost_reply" and not is_write:
                kind = "reset"
            label = f"{kind}{'_after_write' if after else ''}"
            self.injected[label] = self.injected.get(label, 0) + 1
        return Fault(kind, after)
