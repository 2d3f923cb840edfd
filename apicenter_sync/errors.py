"""Typed errors of the engine: every failure is transient, permanent or about authentication.

The class decides what happens next: a transient error is retried with backoff
(and at worst leaves the record pending for the next run), a permanent error
fails the record with its message in the activity log, an auth error stops the
flow until a person reconnects. Messages never contain secrets.
"""

from __future__ import annotations

from .i18n import Text, msg


class SyncError(Exception):
    """Base of every error the engine raises on purpose."""

    transient = False

    def __init__(self, message: Text, *, system: str = "", operation: str = "", detail: str = ""):
        super().__init__(str(message))
        self.message = message  # a catalogue message (Msg), or plain text where none is needed (a server's words)
        self.system = system  # "accountview" | "mplus" | ""
        self.operation = operation
        self.detail = detail

    def text(self) -> Text:
        """The error for a person, in any language: the message, after the system and operation it concerns."""
        where = f"{self.system} {self.operation}".strip()
        return msg("core.error_at", where=where, message=self.message) if where else self.message

    def __str__(self) -> str:
        return str(self.text())


class TransientError(SyncError):
    """Timeouts, connection resets, 5xx, 429: worth another try."""

    transient = True

    def __init__(self, message: Text, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class PermanentError(SyncError):
    """The request or the data is wrong; retrying the same thing cannot help."""


class AuthError(PermanentError):
    """Credentials are wrong, revoked or expired beyond refresh: a person has to act."""


class RecordError(PermanentError):
    """One record cannot be synced (bad SKU, missing article…); the batch goes on."""

    def __init__(self, message: Text, *, source_id: str = "", **kw):
        super().__init__(message, **kw)
        self.source_id = source_id


class ConfigError(PermanentError):
    """A setting or mapping is missing or invalid."""
