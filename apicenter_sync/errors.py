"""Typed errors of the engine: every failure is transient, permanent or about authentication.

The class decides what happens next: a transient error is retried with backoff
(and at worst leaves the record pending for the next run), a permanent error
fails the record with its message in the activity log, an auth error stops the
flow until a person reconnects. Messages never contain secrets.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the engine raises on purpose."""

    transient = False

    def __init__(self, message: str, *, system: str = "", operation: str = "", detail: str = ""):
        super().__init__(message)
        self.message = message
        self.system = system  # "accountview" | "mplus" | ""
        self.operation = operation
        self.detail = detail

    def __str__(self) -> str:
        where = f"{self.system} {self.operation}".strip()
        return f"{where}: {self.message}" if where else self.message


class TransientError(SyncError):
    """Timeouts, connection resets, 5xx, 429: worth another try."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class PermanentError(SyncError):
    """The request or the data is wrong; retrying the same thing cannot help."""


class AuthError(PermanentError):
    """Credentials are wrong, revoked or expired beyond refresh: a person has to act."""


class RecordError(PermanentError):
    """One record cannot be synced (bad SKU, missing article…); the batch goes on."""

    def __init__(self, message: str, *, source_id: str = "", **kw):
        super().__init__(message, **kw)
        self.source_id = source_id


class ConfigError(PermanentError):
    """A setting or mapping is missing or invalid."""
