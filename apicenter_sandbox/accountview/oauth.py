"""OAuth 2.0 of AccountView.Net as the sandbox plays it (research §3, §9).

- ``GET /ams/authorize.aspx``: consent is automatic; answers 302 to ``redirect_uri``
  with ``code`` and the caller's ``state`` [C S3, S6].
- ``POST /api/v3/token``: form-encoded, client id and secret in the body [C S1]; grants
  ``authorization_code`` and ``refresh_token``.
- Refresh tokens rotate [C S3; I].  ASSUMPTION: a rotated refresh token is accepted
  once more within ``refresh_grace_s``, so a client whose reply with the new token was
  lost is not locked out; after that it is dead.  Refresh tokens do not expire otherwise.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..http import Response
from . import assumptions as A


@dataclass
class _Code:
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    scope: str
    expires_at: float

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


@dataclass
class _Refresh:
    scope: str
    rotated_at: float | None = None
    grace_used: bool = False


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json({"error": error, "error_description": description}, status, {"Cache-Control": "no-store"})


class OAuthServer:
    def __init__(self, client_id: str, client_secret: str, access_token_ttl_s: int, refresh_grace_s: float,
                 now: Callable[[], float] = time.monotonic):  # fmt: skip
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl_s = access_token_ttl_s
        self.refresh_grace_s = refresh_grace_s
        self.code_ttl_s = A.AUTH_CODE_TTL_S
        self.now = now
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, _Refresh] = {}

    # --- authorize ---------------------------------------------------------------------
    def authorize(self, params: dict[str, str]) -> Response:
        if params.get("client_id") != self.client_id:
            return oauth_error("invalid_client", "unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return oauth_error("invalid_request", "redirect_uri must be an absolute http(s) URL")
        if params.get("response_type") != "code":
            return oauth_error("unsupported_response_type", "the sandbox supports response_type=code only")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                redirect_uri, params.get("scope") or A.DEFAULT_SCOPE, self.now() + self.code_ttl_s
            )
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        query = urlencode(list(parse_qsl(parts.query, keep_blank_values=True)) + list(answer.items()))
        location = parts._replace(query=query).geturl()
        return Response(302, b"", "text/html; charset=utf-8", {"Location": location})

    # --- token -------------------------------------------------------------------------
    def token(self, content_type: str, body: bytes) -> Response:
        if "application/x-www-form-urlencoded" not in content_type.lower():
            return oauth_error("invalid_request", "the token endpoint takes an application/x-www-form-urlencoded body")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not form.get("client_id") or not form.get("client_secret"):
            return oauth_error("invalid_client", "client_id and client_secret belong in the form body")
        if form["client_id"] != self.client_id or not secrets.compare_digest(form["client_secret"], self.client_secret):
            return oauth_error("invalid_client", "client authentication failed")
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            return self._exchange_code(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _exchange_code(self, form: dict[str, str]) -> Response:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None:
                return oauth_error("invalid_grant", "unknown authorization code")
            if code.used:
                return oauth_error("invalid_grant", "authorization code already used")
            if self.now() > code.expires_at:
                return oauth_error("invalid_grant", "authorization code expired")
            if form.get("redirect_uri") != code.redirect_uri:
                return oauth_error("invalid_grant", "redirect_uri does not match the one of the authorization request")
            code.used = True
            return self._issue(code.scope)

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        with self._lock:
            refresh = self._refresh.get(form.get("refresh_token", ""))
            if refresh is None:
                return oauth_error("invalid_grant", "unknown refresh token")
            now = self.now()
            if refresh.rotated_at is not None:
                in_grace = now - refresh.rotated_at <= self.refresh_grace_s
                if refresh.grace_used or not in_grace:
                    return oauth_error("invalid_grant", "refresh token already used (refresh tokens rotate)")
                refresh.grace_used = True
            else:
                refresh.rotated_at = now
            return self._issue(refresh.scope)

    def _issue(self, scope: str) -> Response:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = AccessToken(access, scope, self.now() + self.access_token_ttl_s)
        self._refresh[refresh] = _Refresh(scope)
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_token_ttl_s,
            "refresh_token": refresh,
            "scope": scope,
        }
        return Response.json(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- bearer check ------------------------------------------------------------------
    def check(self, authorization: str | None) -> AccessToken | str:
        """The access token of an ``Authorization`` header, or why it is refused."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Authorization: Bearer <access token> is missing"
        with self._lock:
            access = self._access.get(token.strip())
        if access is None:
            return "access token is invalid"
        if self.now() >= access.expires_at:
            return "access token has expired"
        return access

    def expire_access_tokens(self) -> int:
        with self._lock:
            now = self.now()
            live = [t for t in self._access.values() if t.expires_at > now]
            for t in live:
                t.expires_at = now
            return len(live)
