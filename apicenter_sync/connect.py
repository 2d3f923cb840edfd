"""Connecting AccountView: the OAuth2 authorization-code flow from a terminal, and choosing the company."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from .clients.accountview import AccountViewClient
from .clients.accountview_oauth import AccountViewOAuth, TokenStore
from .errors import AuthError, ConfigError


def authorize(
    oauth: AccountViewOAuth, token_store: TokenStore, *, ask: Callable[[str], str] | None = None, verify_tls=True
) -> None:
    """Run the authorization-code flow and store the tokens.

    The authorize page is requested first without following redirects: a
    server that consents at once (the sandbox, or a session that already
    consented) answers with the redirect carrying ``code``. Otherwise a person
    opens the URL, logs in, and pastes the address they were sent back to
    (``ask`` prompts for it)."""
    state = secrets.token_urlsafe(16)
    url = oauth.authorization_url(state)
    redirected = ""
    try:
        reply = httpx.get(url, follow_redirects=False, timeout=30, verify=verify_tls)
        location = reply.headers.get("location", "")
        if reply.is_redirect and location.startswith(oauth.redirect_uri):
            redirected = location
    except httpx.HTTPError:
        pass  # not reachable from here: the person's browser may still reach it
    if not redirected:
        if ask is None:
            raise AuthError(f"AccountView needs a person to log in: open {url} and run connect interactively")
        redirected = ask(url).strip()
    query = parse_qs(urlsplit(redirected).query)
    if "error" in query:
        raise AuthError(f"AccountView refused the authorization: {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise AuthError("the redirect carries another state than the one sent: start connect again")
    codes = query.get("code")
    if not codes:
        raise AuthError("the redirect has no authorization code")
    token_store.save(oauth.exchange_code(codes[0]))


def choose_company(client: AccountViewClient, wanted: str = "") -> dict:
    """The company to work in: the configured one (by Id or Code), or the only one the user can see."""
    companies = client.companies()
    if wanted:
        for company in companies:
            if wanted in (company.get("Id"), company.get("Code")):
                return company
        raise ConfigError(f"company '{wanted}' is not among the AccountView companies: {_names(companies)}")
    if len(companies) == 1:
        return companies[0]
    raise ConfigError(f"set [accountview] company_id to one of: {_names(companies)}")


def _names(companies: list[dict]) -> str:
    return ", ".join(f"{c.get('Code')} ({c.get('Id')}: {c.get('Description')})" for c in companies) or "none"
