"""Every MplusKASSA failure becomes one of the engine's error classes here, and only here.

| what happened                                         | raised as                                 |
| ----------------------------------------------------- | ----------------------------------------- |
| request violates the WSDL before sending (zeep)       | PermanentError naming the field           |
| connect refused / connect timeout (nothing was sent)  | TransientError, maybe_applied False       |
| read timeout, reset, dropped connection after sending | TransientError, maybe_applied True*       |
| HTTP 429 (any body)                                   | TransientError with retry_after           |
| fault ``Client.Authentication…`` / HTTP 401, 403      | AuthError                                 |
| other ``Client…`` fault (any HTTP status)             | PermanentError with the fault string      |
| ``Server…`` fault, HTTP 5xx without a Client fault    | TransientError, maybe_applied True*       |
| reply is not XML / does not fit the WSDL / too deep   | TransientError "malformed reply"          |
| no complete reply within ``call_deadline_seconds``    | TransientError, maybe_applied True*       |
| reply larger than ``max_reply_bytes`` (streamed)      | ReplyTooLargeError (PermanentError)       |
| HTTP 3xx (redirects are never followed)               | PermanentError "redirect refused"         |
| result enum not OK                                    | MplusResultError (a RecordError) & kin    |

\\* maybe_applied only matters for writes: the server may have applied the request before it failed.

Messages never contain the ident/secret: every text from outside (exception strings, fault strings) goes
through :func:`~apicenter_sync.redact.redact_text`, and mapped errors are raised without the original
exception attached (its text can carry the URL with the credentials). Every message is a catalogue message
(``clients.*``); a fault string and a result message are the server's own words, plain text inside it.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from zeep.exceptions import ValidationError

from ..errors import AuthError, PermanentError, RecordError, SyncError, TransientError
from ..i18n import Msg, Text, bounded, msg
from ..redact import redact_text
from ..retry import retry_after
from .accountview_errors import deadline_message, redirect_message

SYSTEM = "mplus"
_AUTH_HINTS = ("authentic", "credential")  # some servers put the reason in the text, not the code


class OutcomeUnknown(TransientError):
    """A write failed after it may have reached the server: it may or may not have been applied.

    Do not send it again blindly; look the record up by its key (find_relation, find_order, get_products…)
    and only then decide. The record stays pending, like any transient failure."""

    maybe_applied = True


class MplusResultError(RecordError):
    """A business outcome other than OK (HTTP 200 with a result enum). ``result`` is the enum."""

    def __init__(self, message: str, *, result: str = "", server_message: str = "", **kw):
        super().__init__(message, **kw)
        self.result = result
        self.server_message = server_message


class NotFoundError(MplusResultError):
    """…-NOT-FOUND on a write (update of a record that does not exist)."""


class AlreadyExistsError(MplusResultError):
    """…-ALREADY-TAKEN / …-ALREADY-EXISTS. ``existing_id`` is the existing record's id when the server says it."""

    def __init__(self, message: str, *, existing_id: str | int | None = None, **kw):
        super().__init__(message, **kw)
        self.existing_id = existing_id


class ReplyTooLargeError(PermanentError):
    """The reply was larger than the setting ``max_reply_bytes``; reading stopped at the cap."""


def deadline_passed(seconds: float, operation: str, *, sent: bool = True) -> TransientError:
    """The whole call (connect, send, headers, body) did not finish within the call deadline."""
    return transient(deadline_message(seconds), operation, maybe_applied=sent)


def too_large(exc: Exception, operation: str) -> PermanentError:
    return ReplyTooLargeError(getattr(exc, "text", None) or clean(str(exc)), system=SYSTEM, operation=operation)


def redirect(status: int, headers, operation: str) -> PermanentError:
    """A 3xx: never followed, so the SOAP body and the credentials are not sent on to another address."""
    return PermanentError(redirect_message(status, headers, "[mplus] url"), system=SYSTEM, operation=operation)


def clean(text: object, limit: int = 500) -> Text:
    """Outside text made safe for messages: credentials masked, one line, bounded length (a catalogue message is
    only bounded: its arguments were cleaned when it was made). An exception that carries a catalogue message (the
    transport's own) gives that message, so it is read in the reader's language."""
    if isinstance(text, BaseException) and len(text.args) == 1 and isinstance(text.args[0], Msg):
        text = text.args[0]
    if isinstance(text, Msg):
        return bounded(text, limit)
    text = redact_text(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transient(message: Text, operation: str, *, maybe_applied: bool, retry_after: float | None = None) -> TransientError:
    cls = OutcomeUnknown if maybe_applied else TransientError
    err = cls(clean(message), retry_after=retry_after, system=SYSTEM, operation=operation)
    err.maybe_applied = maybe_applied
    return err


def from_request_build(exc: Exception, operation: str) -> PermanentError:
    """zeep refused to build the request (missing/unknown/badly typed field): nothing was sent."""
    if isinstance(exc, ValidationError):
        path = ".".join(str(p) for p in (exc.path or ()))
        detail = clean(exc.message)
        text = (msg("clients.wsdl_violation_in", detail=detail, field=path) if path and path not in exc.message else
                msg("clients.wsdl_violation", detail=detail))  # fmt: skip
    else:  # TypeError/ValueError from zeep: the signature it prints is long, the first sentence names the field
        text = msg("clients.wsdl_violation", detail=clean(str(exc).split(". Signature")[0]))
    return PermanentError(text, system=SYSTEM, operation=operation)


def from_transport(exc: requests.RequestException, operation: str) -> TransientError:
    """A requests exception: was anything sent before it failed?"""
    reason = exc.args[0] if exc.args else None
    never_sent = isinstance(exc, requests.ConnectTimeout) or (
        isinstance(reason, MaxRetryError) and isinstance(reason.reason, ConnectTimeoutError)
    )
    if never_sent:
        return transient(msg("clients.cannot_connect", error=type(exc).__name__), operation, maybe_applied=False)
    detail = clean(exc, 300)
    if isinstance(exc, requests.ReadTimeout):
        what = msg("clients.read_timeout_because", detail=detail)
    elif isinstance(exc, requests.ConnectionError):
        what = msg("clients.dropped_because", detail=detail)
    else:
        what = msg("clients.transport_error_because", error=type(exc).__name__, detail=detail)
    return transient(what, operation, maybe_applied=True)


def from_fault(code: str, message: str, status: int, headers, operation: str) -> SyncError:
    """A SOAP fault (``code`` like ``SOAP-ENV:Client.Authentication``) with its HTTP status."""
    local = (code or "").split(":")[-1]
    # The fault is the server's own words: "Client: Validation constraint violation".
    text: Text = (clean(f"{local or 'fault'}: {message}") if message else
                  msg("clients.fault_without_string", code=clean(local or "fault", 100)))  # fmt: skip
    if status == 429:
        return transient(msg("clients.mplus_rate_limited_fault", fault=text), operation, maybe_applied=False,
                         retry_after=retry_after(headers.get("Retry-After")))  # fmt: skip
    if local.startswith("Client"):
        lowered = f"{local} {message}".lower()
        if local.startswith("Client.Authentication") or any(h in lowered for h in _AUTH_HINTS):
            return AuthError(msg("clients.credentials_refused_fault", fault=text), system=SYSTEM, operation=operation)
        return PermanentError(text, system=SYSTEM, operation=operation)
    if local.startswith("Server") or status >= 500:
        return transient(msg("clients.server_fault", status=status, fault=text), operation, maybe_applied=True)
    # VersionMismatch, MustUnderstand or a code nobody documented: retrying the same request cannot help.
    return PermanentError(msg("clients.unexpected_fault", status=status, fault=text), system=SYSTEM,
                          operation=operation)  # fmt: skip


def from_http_status(status: int, headers, operation: str) -> SyncError:
    """A non-200 reply without a SOAP fault in it (a proxy's HTML page, an empty body)."""
    if status == 429:
        return transient(msg("clients.mplus_rate_limited"), operation, maybe_applied=False,
                         retry_after=retry_after(headers.get("Retry-After")))  # fmt: skip
    if status in (401, 403):
        return AuthError(msg("clients.credentials_refused", status=status), system=SYSTEM, operation=operation)
    if status >= 500:
        return transient(msg("clients.http_without_fault", status=status), operation, maybe_applied=True)
    return PermanentError(msg("clients.unexpected_http", status=status), system=SYSTEM, operation=operation)


def malformed(detail: Text, operation: str) -> TransientError:
    # The server answered, so a write may well have been applied; reading its answer is what failed.
    return transient(msg("clients.malformed", detail=detail), operation, maybe_applied=True)


def result_error(operation: str, result: str, server_message: str = "", *, subject: str = "",
                 existing_id: str | int | None = None) -> MplusResultError:  # fmt: skip
    """The error for a result enum that is not OK; the class follows the enum's meaning. The enum and the server's
    message are its own words."""
    said, about, message = clean(result, 200), clean(subject, 200), clean(server_message)
    text: Text
    if about and message:
        text = msg("clients.result_for_because", result=said, subject=about, message=message)
    elif about:
        text = msg("clients.result_for", result=said, subject=about)
    else:
        text = f"{said}: {message}" if message else said
    kw = dict(result=result, server_message=clean(server_message), system=SYSTEM, operation=operation,
              source_id=str(subject))  # fmt: skip
    if "ALREADY-TAKEN" in result or "ALREADY-EXISTS" in result:
        return AlreadyExistsError(text, existing_id=existing_id, **kw)
    if "NOT-FOUND" in result or "NOTFOUND" in result:
        return NotFoundError(text, **kw)
    return MplusResultError(text, **kw)
