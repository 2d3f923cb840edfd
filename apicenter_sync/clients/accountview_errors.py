"""Every AccountView failure becomes one of the engine's error classes here, and only here.

| what happened                                                     | raised as                                   |
| ----------------------------------------------------------------- | ------------------------------------------- |
| connect refused / connect or pool timeout (nothing was sent)      | TransientError, maybe_applied False         |
| read/write timeout, reset, dropped connection after sending       | TransientError, maybe_applied True*         |
| HTTP 429 (Retry-After honoured)                                   | TransientError, maybe_applied False         |
| HTTP 500, 502, 503, 504 (any body)                                | TransientError, maybe_applied True*         |
| HTTP 401 right after a successful token refresh                   | TransientError, maybe_applied False (status 401) |
| HTTP 401 after 3 successful refreshes in a row, none accepted; 403 | AuthError                                   |
| HTTP 400/404/405/409 with ``{ErrorType, ErrorNumbers, ErrorMessage}`` | AccountViewError (PermanentError); on a write AccountViewRecordError (RecordError) |
| HTTP 200 with an error body that looks like validation            | as the line above                           |
| HTTP 200 with any other error body (server hiccup)                | TransientError, maybe_applied True*         |
| reply is not JSON / has the wrong shape / nested too deeply       | TransientError "malformed reply", maybe_applied True* |
| no complete reply within ``call_deadline_seconds`` (whole call)   | TransientError, maybe_applied True*         |
| reply larger than ``max_reply_bytes`` (stopped while streaming)   | ReplyTooLargeError (PermanentError)         |
| HTTP 3xx (redirects are never followed)                           | AccountViewError (PermanentError) "redirect refused" |
| token endpoint: ``invalid_grant``, ``invalid_client``, …          | AuthError naming the OAuth error code       |

\\* only on a create (POST), raised as :class:`WriteOutcomeUnknown`: the server may have applied it before the
failure. GET and PUT-by-key are safe to repeat, so their transient errors always carry ``maybe_applied = False``.

Why 500 is transient: AccountView.Net proxies to the customer's on-premise AccountView, so a 500 is far more often
"the backend hiccupped" than "this payload always breaks". A payload that really always fails with 500 stays
pending and is retried on the next run; the flow's attempt counter is what turns it into a failed record.

Why an error body on HTTP 200 is split in two: the real service sometimes answers an error with HTTP 200 (research
§5.5). If the body has ``ErrorNumbers`` or names a ``TABLE.FIELD``, it is about the data and retrying cannot help;
anything else is treated as an unknown server error and retried.

Messages never contain secrets: every text from outside passes :func:`clean` (``redact_text``), and mapped errors
are raised without the original exception attached.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from ..errors import AuthError, PermanentError, RecordError, SyncError, TransientError
from ..redact import redact_text
from ..retry import retry_after
from .limits import CallLimits, DeadlineExceeded, HttpReply, ReplyTooLarge, UnreadableBody, send_httpx

SYSTEM = "accountview"
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_FIELD_RE = re.compile(r"\b[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*\b")  # "TABLE.FIELD"


class WriteOutcomeUnknown(TransientError):
    """A create failed after it may have reached the server: it may or may not have been applied.

    Do not send it again blindly: look the record up by its key (e-mail, order reference…) and only then
    decide. The record stays pending, like after any transient failure."""

    maybe_applied = True


class AccountViewError(PermanentError):
    """AccountView refused the request with its error body. ``status`` is the HTTP status (200 for an error body
    on HTTP 200), ``numbers`` the ``ErrorNumbers`` and ``server_message`` the ``ErrorMessage``."""

    def __init__(self, message: str, *, status: int = 0, numbers: list | None = None, server_message: str = "",
                 **kw):  # fmt: skip
        super().__init__(message, **kw)
        self.status = status
        self.numbers = numbers
        self.server_message = server_message


class AccountViewRecordError(AccountViewError, RecordError):
    """A write was refused for its data (validation, unknown reference, duplicate key, missing record):
    this record fails, the batch goes on. ``status`` 409 means the key is taken, 404 that a PUT found nothing."""


class ReplyTooLargeError(PermanentError):
    """The reply was larger than the setting ``max_reply_bytes``; reading stopped at the cap."""


def clean(text: object, limit: int = 500) -> str:
    """Outside text made safe for messages: credentials masked, one line, bounded length."""
    text = redact_text(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transient(message: str, operation: str, *, maybe_applied: bool, retry_after: float | None = None,
              status: int = 0) -> TransientError:  # fmt: skip
    cls = WriteOutcomeUnknown if maybe_applied else TransientError
    err = cls(clean(message), retry_after=retry_after, system=SYSTEM, operation=operation)
    err.maybe_applied = maybe_applied
    err.status = status
    return err


def from_transport(exc: httpx.TransportError, operation: str, *, is_create: bool) -> TransientError:
    """An httpx transport error: was anything sent before it failed?"""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return transient(f"cannot connect: {type(exc).__name__}", operation, maybe_applied=False)
    if isinstance(exc, httpx.ReadTimeout):
        what = "no reply within the read timeout"
    elif isinstance(exc, httpx.WriteTimeout | httpx.WriteError):
        what = "sending the request failed"
    elif isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        what = "connection dropped before the reply"
    else:
        what = "transport error"
    # The exception text is only the class name: httpx texts can carry the URL (harmless here, but no need).
    return transient(f"{what} ({type(exc).__name__})", operation, maybe_applied=is_create)


def send(http: httpx.Client, request: httpx.Request, limits: CallLimits, operation: str, *,
         is_create: bool) -> HttpReply:  # fmt: skip
    """Every AccountView request (data, token, authorize page): sent within ``limits`` (limits.send_httpx), its
    failures raised as the engine's errors, without the original exception attached."""
    error: SyncError | None = None
    try:
        return send_httpx(http, request, limits)
    except httpx.TransportError as exc:
        error = from_transport(exc, operation, is_create=is_create)
    except DeadlineExceeded as exc:
        error = deadline_passed(limits.deadline_s, operation, sent=exc.sent, is_create=is_create)
    except ReplyTooLarge as exc:
        error = too_large(exc, operation)
    except UnreadableBody as exc:
        error = malformed(exc.text, operation, is_create=is_create)
    raise error


def deadline_passed(seconds: float, operation: str, *, sent: bool, is_create: bool) -> TransientError:
    """The whole call (connect, send, headers, body) did not finish within the call deadline."""
    return transient(f"no complete reply within the call deadline of {seconds:g} s (setting call_deadline_seconds)",
                     operation, maybe_applied=is_create and sent)  # fmt: skip


def too_large(exc: Exception, operation: str) -> PermanentError:
    return ReplyTooLargeError(clean(str(exc)), system=SYSTEM, operation=operation)


def redirect(status: int, headers, operation: str) -> PermanentError:
    """A 3xx: never followed, so the request (and its bearer token) is not sent on to another address."""
    host = urlsplit(str(headers.get("location") or "")).netloc
    to = f" to {host}" if host else ""
    return AccountViewError(clean(f"redirect refused: HTTP {status}{to}; API calls never follow redirects "
                                  "(check [accountview] base_url)"), status=status, system=SYSTEM,
                            operation=operation)  # fmt: skip


def error_fields(body: object) -> tuple[str, list | None] | None:
    """(ErrorMessage, ErrorNumbers) when ``body`` is an AccountView error body, else None.

    Members are matched case-insensitively, like the server matches ours."""
    if not isinstance(body, dict):
        return None
    ci = {str(k).lower(): v for k, v in body.items()}
    if not (ci.get("errortype") or ci.get("errormessage")):
        return None
    numbers = ci.get("errornumbers")
    message = ci.get("errormessage") or ci.get("errortype") or "(no ErrorMessage)"
    return str(message), numbers if isinstance(numbers, list) and numbers else None


def looks_like_validation(message: str, numbers: list | None) -> bool:
    """The rule for an error body on HTTP 200: numbered errors and messages naming a field are about the data."""
    return bool(numbers) or bool(_FIELD_RE.search(message))


def from_response(status: int, headers: httpx.Headers, body: object, operation: str, *, is_write: bool,
                  is_create: bool, refreshes: int = 1) -> SyncError:  # fmt: skip
    """The error for a reply that is not a success. ``body`` is the parsed JSON (or None). For a 401,
    ``refreshes`` says how many token refreshes in a row it has survived."""
    if 300 <= status < 400:
        return redirect(status, headers, operation)
    fields = error_fields(body)
    message, numbers = fields if fields else (f"HTTP {status}", None)
    text = f"HTTP {status}: {message}" if fields else message
    if status == 429:
        return transient(f"rate limited ({text})", operation, maybe_applied=False, status=status,
                         retry_after=retry_after(headers.get("Retry-After")))  # fmt: skip
    if status in TRANSIENT_STATUSES:
        return transient(f"server error ({text})", operation, maybe_applied=is_create, status=status)
    if status == 401:
        after = "a token refresh" if refreshes <= 1 else f"{refreshes} token refreshes in a row"
        return AuthError(clean(f"access refused after {after} ({text}); reconnect AccountView"),
                         system=SYSTEM, operation=operation)  # fmt: skip
    if status == 403:
        return AuthError(clean(f"not allowed ({text}): check the company and the granted scopes"),
                         system=SYSTEM, operation=operation)  # fmt: skip
    if status == 200 and not looks_like_validation(message, numbers):
        return transient(f"error body with HTTP 200: {message}", operation, maybe_applied=is_create, status=status)
    if status >= 500:  # 501, 505…: not a hiccup a retry would fix
        return AccountViewError(clean(text), status=status, numbers=numbers, server_message=clean(message),
                                system=SYSTEM, operation=operation)  # fmt: skip
    cls = AccountViewRecordError if is_write else AccountViewError
    return cls(clean(text), status=status, numbers=numbers, server_message=clean(message), system=SYSTEM,
               operation=operation)  # fmt: skip


def refused_after_refresh(body: object, operation: str) -> TransientError:
    """HTTP 401 on an access token a successful refresh has just issued. Taken as propagation lag (the new token
    not yet known to every API node) and retried with backoff; nothing was written, as a 401 comes first."""
    fields = error_fields(body)
    detail = f": {fields[0]}" if fields else ""
    return transient(f"HTTP 401 on a freshly refreshed access token{detail}", operation, maybe_applied=False,
                     status=401)  # fmt: skip


def malformed(detail: str, operation: str, *, is_create: bool) -> TransientError:
    # The server answered, so a create may well have been applied; reading its answer is what failed.
    return transient(f"malformed reply: {detail}", operation, maybe_applied=is_create)


def oauth_error(status: int, body: object, what: str) -> SyncError:
    """A failed token request. 5xx/429 are transient; every OAuth error code means a person must act."""
    if status == 429 or status in TRANSIENT_STATUSES:
        # Retrying a refresh is safe even if the lost try rotated the token: see AccountViewOAuth.refresh.
        return transient(
            f"token endpoint answered HTTP {status}", what, maybe_applied=False, status=status, retry_after=None
        )
    code, description = "", ""
    if isinstance(body, dict):
        code, description = str(body.get("error") or ""), str(body.get("error_description") or "")
        if not code and error_fields(body):
            description = error_fields(body)[0]
    hint = {
        "invalid_grant": "the authorization code or refresh token is invalid, used or expired; reconnect AccountView",
        "invalid_client": "client id or client secret is wrong",
        "unauthorized_client": "this application may not use this grant",
        "invalid_scope": "a requested scope is not allowed",
    }.get(code, "token request refused")
    label = code or f"HTTP {status}"
    return AuthError(clean(f"{label}: {hint}" + (f" ({description})" if description else "")),
                     system=SYSTEM, operation=what)  # fmt: skip
