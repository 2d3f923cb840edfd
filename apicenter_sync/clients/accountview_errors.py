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
are raised without the original exception attached. Every message is a catalogue message (``clients.*``,
``apicenter_sync/i18n/catalogue/clients.toml``); the server's own words (an ``ErrorMessage``, an OAuth
``error_description``) stay plain text inside it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from ..errors import AuthError, PermanentError, RecordError, SyncError, TransientError
from ..i18n import Msg, Text, bounded, msg, setting_ref
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


def clean(text: object, limit: int = 500) -> Text:
    """Outside text made safe for messages: credentials masked, one line, bounded length. A catalogue message keeps
    its key (its arguments were cleaned when it was made) and is only bounded."""
    if isinstance(text, Msg):
        return bounded(text, limit)
    text = redact_text(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transient(message: Text, operation: str, *, maybe_applied: bool, retry_after: float | None = None,
              status: int = 0) -> TransientError:  # fmt: skip
    cls = WriteOutcomeUnknown if maybe_applied else TransientError
    err = cls(clean(message), retry_after=retry_after, system=SYSTEM, operation=operation)
    err.maybe_applied = maybe_applied
    err.status = status
    return err


def from_transport(exc: httpx.TransportError, operation: str, *, is_create: bool) -> TransientError:
    """An httpx transport error: was anything sent before it failed?"""
    # The exception text is only the class name: httpx texts can carry the URL (harmless here, but no need).
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return transient(msg("clients.cannot_connect", error=name), operation, maybe_applied=False)
    if isinstance(exc, httpx.ReadTimeout):
        what = msg("clients.read_timeout", error=name)
    elif isinstance(exc, httpx.WriteTimeout | httpx.WriteError):
        what = msg("clients.send_failed", error=name)
    elif isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        what = msg("clients.dropped", error=name)
    else:
        what = msg("clients.transport_error", error=name)
    return transient(what, operation, maybe_applied=is_create)


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
    return transient(deadline_message(seconds), operation, maybe_applied=is_create and sent)


def deadline_message(seconds: float) -> Msg:
    return msg("clients.deadline", seconds=f"{seconds:g}", setting=setting_ref("call_deadline_seconds"))


def too_large(exc: Exception, operation: str) -> PermanentError:
    return ReplyTooLargeError(getattr(exc, "text", None) or clean(str(exc)), system=SYSTEM, operation=operation)


def redirect(status: int, headers, operation: str, address: str = "[accountview] base_url") -> PermanentError:
    """A 3xx: never followed, so the request (and its bearer token) is not sent on to another address."""
    return AccountViewError(redirect_message(status, headers, address), status=status, system=SYSTEM,
                            operation=operation)  # fmt: skip


def redirect_message(status: int, headers, address: str) -> Msg:
    """"redirect refused: HTTP 307 to host; …" (both clients; ``address`` names the URL setting to check)."""
    host = clean(urlsplit(str(headers.get("location") or "")).netloc, 200)
    if host:
        return msg("clients.redirect_refused_to", status=status, host=host, address=address)
    return msg("clients.redirect_refused", status=status, address=address)


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
    server = clean(message)  # the server's own words
    text = msg("clients.http_error", status=status, message=server) if fields else server
    if status == 429:
        return transient(msg("clients.rate_limited", detail=text), operation, maybe_applied=False, status=status,
                         retry_after=retry_after(headers.get("Retry-After")))  # fmt: skip
    if status in TRANSIENT_STATUSES:
        return transient(msg("clients.server_error", detail=text), operation, maybe_applied=is_create,
                         status=status)  # fmt: skip
    if status == 401:
        refused = (msg("clients.refused_after_refresh", detail=text) if refreshes <= 1 else
                   msg("clients.refused_after_refreshes", refreshes=refreshes, detail=text))  # fmt: skip
        return AuthError(refused, system=SYSTEM, operation=operation)
    if status == 403:
        return AuthError(msg("clients.not_allowed", detail=text), system=SYSTEM, operation=operation)
    if status == 200 and not looks_like_validation(message, numbers):
        return transient(msg("clients.error_body_200", message=server), operation, maybe_applied=is_create,
                         status=status)  # fmt: skip
    if status >= 500:  # 501, 505…: not a hiccup a retry would fix
        return AccountViewError(text, status=status, numbers=numbers, server_message=server, system=SYSTEM,
                                operation=operation)  # fmt: skip
    cls = AccountViewRecordError if is_write else AccountViewError
    return cls(text, status=status, numbers=numbers, server_message=server, system=SYSTEM, operation=operation)


def refused_after_refresh(body: object, operation: str) -> TransientError:
    """HTTP 401 on an access token a successful refresh has just issued. Taken as propagation lag (the new token
    not yet known to every API node) and retried with backoff; nothing was written, as a 401 comes first."""
    fields = error_fields(body)
    text = (msg("clients.fresh_token_refused_because", message=clean(fields[0])) if fields else
            msg("clients.fresh_token_refused"))  # fmt: skip
    return transient(text, operation, maybe_applied=False, status=401)


def malformed(detail: Text, operation: str, *, is_create: bool) -> TransientError:
    # The server answered, so a create may well have been applied; reading its answer is what failed.
    return transient(msg("clients.malformed", detail=detail), operation, maybe_applied=is_create)


OAUTH_HINTS = {  # what an OAuth error code means for the person who reads it
    "invalid_grant": "clients.oauth_invalid_grant",
    "invalid_client": "clients.oauth_invalid_client",
    "unauthorized_client": "clients.oauth_unauthorized_client",
    "invalid_scope": "clients.oauth_invalid_scope",
}


def oauth_error(status: int, body: object, what: str) -> SyncError:
    """A failed token request. 5xx/429 are transient; every OAuth error code means a person must act."""
    if status == 429 or status in TRANSIENT_STATUSES:
        # Retrying a refresh is safe even if the lost try rotated the token: see AccountViewOAuth.refresh.
        return transient(msg("clients.token_endpoint_http", status=status), what, maybe_applied=False,
                         status=status, retry_after=None)  # fmt: skip
    code, description = "", ""
    if isinstance(body, dict):
        code, description = str(body.get("error") or ""), str(body.get("error_description") or "")
        if not code and error_fields(body):
            description = error_fields(body)[0]
    hint = msg(OAUTH_HINTS.get(code, "clients.oauth_refused"))
    label = clean(code, 100) or f"HTTP {status}"
    if description:
        return AuthError(msg("clients.oauth_error_because", code=label, hint=hint, detail=clean(description)),
                         system=SYSTEM, operation=what)  # fmt: skip
    return AuthError(msg("clients.oauth_error", code=label, hint=hint), system=SYSTEM, operation=what)
