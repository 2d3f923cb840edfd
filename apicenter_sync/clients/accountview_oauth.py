"""OAuth 2.0 of AccountView.Net: authorization-code grant, refresh with rotation, and where tokens are kept.

Facts (research §3): the user consents once at ``/ams/authorize.aspx``; the code is exchanged at
``/api/v3/token`` with a form body that carries ``client_id`` and ``client_secret`` (not HTTP Basic); refresh tokens
are assumed to rotate, so the refresh token of every answer replaces the old one and must be saved at once.

Tokens and the client secret never appear in reprs, messages or logs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable
from urllib.parse import urlencode

import httpx

from ..errors import AuthError
from ..i18n import msg
from ..identifiers import check_identifier
from ..redact import MASK
from . import accountview_errors as errs
from .limits import ACCEPT_ENCODING, CallLimits, bound_httpx_client

PRODUCTION_URL = "https://www.accountview.net"
AUTHORIZE_PATH = "/ams/authorize.aspx"
API_PATH = "/api/v3"
DEFAULT_SCOPES = ("readaccountviewdata", "updateaccountviewdata")
DEFAULT_TIMEOUT = httpx.Timeout(connect=10, read=30, write=30, pool=10)
TOKEN = "token"  # the operation an error of the token endpoint names


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint answered. ``expires_at`` is UNIX time (seconds), None when the server gave no
    ``expires_in`` (the client then refreshes on the first 401 only)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float | None = None
    scope: str = ""

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now if now is not None else time.time()) + seconds >= self.expires_at

    def __repr__(self) -> str:
        return f"Tokens(access_token={MASK!r}, refresh_token={MASK!r}, expires_at={self.expires_at!r}, " \
               f"scope={self.scope!r})"  # fmt: skip


@runtime_checkable
class TokenStore(Protocol):
    """Where the tokens of one connection live. ``save`` must be durable before it returns: a rotated refresh
    token that is lost on a restart locks the connection out (a person then has to reconnect)."""

    def get(self) -> Tokens | None: ...

    def save(self, tokens: Tokens) -> None: ...


class MemoryTokenStore:
    """Tokens in memory: for tests and one-off scripts (nothing survives the process)."""

    def __init__(self, tokens: Tokens | None = None):
        self._tokens = tokens
        self._lock = threading.Lock()
        self.saves = 0  # how often tokens were saved (tests check rotation with it)

    def get(self) -> Tokens | None:
        with self._lock:
            return self._tokens

    def save(self, tokens: Tokens) -> None:
        with self._lock:
            self._tokens = tokens
            self.saves += 1

    def __repr__(self) -> str:
        return f"MemoryTokenStore(tokens={self._tokens!r})"


class AccountViewOAuth:
    """The OAuth side of one registered AccountView.Net application.

    ``base_url`` is the site (production ``https://www.accountview.net``, or a sandbox URL); the authorize page is
    ``<base_url>/ams/authorize.aspx`` and the API (with the token endpoint) ``<base_url>/api/v3`` unless
    ``authorize_url`` / ``api_url`` say otherwise."""

    def __init__(self, base_url: str = PRODUCTION_URL, client_id: str = "", client_secret: str = "",
                 redirect_uri: str = "", *, scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, authorize_url: str | None = None,
                 api_url: str | None = None, verify_tls: bool = True,
                 limits: CallLimits | None = None):  # fmt: skip
        check_identifier(client_id, msg("input.field_client_id"), ascii_only=True)
        check_identifier(client_secret, msg("input.field_client_secret"), ascii_only=True)
        base = base_url.rstrip("/")
        self.authorize_endpoint = authorize_url or base + AUTHORIZE_PATH
        self.api_url = (api_url or base + API_PATH).rstrip("/")
        self.token_url = self.api_url + "/token"
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = tuple(scopes)
        self._http = httpx.Client(timeout=timeout, verify=verify_tls, follow_redirects=False,
                                  headers={"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING})
        self.limits = limits or CallLimits()  # the whole call within a deadline, the reply within a cap
        bound_httpx_client(self._http)
        self.capture = None  # a Capture: token calls are written with every secret and token masked
        self.calls = 0  # token requests sent (the API client counts them as "POST token" too)

    def __repr__(self) -> str:
        return f"AccountViewOAuth(api_url={self.api_url!r}, client_id={self.client_id!r}, client_secret={MASK!r})"

    def close(self) -> None:
        self._http.close()

    # --- the three steps -------------------------------------------------------------------
    def authorization_url(self, state: str) -> str:
        """Where to send the user's browser. ``state`` comes back with the code: check it against the session."""
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": " ".join(self.scopes), "state": state}  # fmt: skip
        sep = "&" if "?" in self.authorize_endpoint else "?"
        return f"{self.authorize_endpoint}{sep}{urlencode(params)}"

    def consent_redirect(self, state: str) -> str:
        """Request the authorize page for ``state`` (within the call deadline and reply cap, never following a
        redirect): the address it sends the browser to when that is our redirect URI, i.e. the user consented at
        once (the sandbox, or a session that already consented); else "" (a person must log in). Transport
        failures raise the client's TransientError."""
        request = self._http.build_request("GET", self.authorization_url(state))
        reply = errs.send(self._http, request, self.limits, "authorize", is_create=False)
        location = str(reply.headers.get("location") or "")
        return location if reply.is_redirect and self.redirect_uri and location.startswith(self.redirect_uri) else ""

    def exchange_code(self, code: str) -> Tokens:
        """Trade the code of the redirect for tokens. Not retried: a code is single-use, and if the answer is
        lost the user simply connects again."""
        if not code:
            raise AuthError(msg("connect.no_code"), system=errs.SYSTEM, operation=TOKEN)
        return self._token_request({"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": self.redirect_uri})  # fmt: skip

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token. The answer's refresh token replaces the old one (rotation).

        Safe to retry after a transient failure: if the lost try had already rotated the token, the server is
        assumed to accept the old refresh token once more within a grace window (the sandbox: 60 s,
        ``refresh_grace_s``). On a real tenant that window is unverified; without it a lost reply means
        reconnecting."""
        if not refresh_token:
            raise AuthError(msg("clients.no_refresh_token"), system=errs.SYSTEM,
                            operation=TOKEN)  # fmt: skip
        tokens = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
        if not tokens.refresh_token:  # a server that does not rotate: the old token stays valid
            tokens = replace(tokens, refresh_token=refresh_token)
        return tokens

    # --- one token request -----------------------------------------------------------------
    def _token_request(self, form: dict[str, str]) -> Tokens:
        # Credentials in the form body, as the real service expects (research §3.2, S1).
        body = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        self.calls += 1
        request = self._http.build_request("POST", self.token_url, data=body)
        response = errs.send(self._http, request, self.limits, TOKEN, is_create=False)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if self.capture is not None:
            self.capture.token(form.get("grant_type", ""), response.status_code, payload)
        if response.is_redirect:
            raise errs.redirect(response.status_code, response.headers, TOKEN)
        if response.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
            if response.status_code == 200 and not isinstance(payload, dict):
                raise errs.malformed(msg("clients.token_not_an_object"), TOKEN, is_create=False)
            raise errs.oauth_error(response.status_code, payload, TOKEN)
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise errs.malformed(msg("clients.token_without_access_token"), TOKEN, is_create=False)
        expires_in = payload.get("expires_in")
        try:
            expires_at = time.time() + float(expires_in) if expires_in not in (None, "") else None
        except (TypeError, ValueError):
            expires_at = None
        return Tokens(access_token=access, refresh_token=str(payload.get("refresh_token") or ""),
                      expires_at=expires_at, scope=str(payload.get("scope") or " ".join(self.scopes)))  # fmt: skip


__all__ = ["AccountViewOAuth", "MemoryTokenStore", "TokenStore", "Tokens"]
