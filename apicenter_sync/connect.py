"""Connecting AccountView: the OAuth2 authorization-code flow from a terminal, and choosing the company."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from .clients.accountview import AccountViewClient
from .clients.accountview_oauth import AccountViewOAuth, TokenStore
from .errors import AuthError, ConfigError, TransientError
from .i18n import msg


def authorize(
    oauth: AccountViewOAuth, token_store: TokenStore, *, ask: Callable[[str], str] | None = None, verify_tls=True
) -> None:
    """Run the authorization-code flow and store the tokens.

    The authorize page is requested first, within the call deadline and reply cap of every API call and without
    following redirects (:meth:`AccountViewOAuth.consent_redirect`): a server that consents at once (the sandbox,
    or a session that already consented) answers with the redirect carrying ``code``. Otherwise a person opens the
    URL, logs in, and pastes the address they were sent back to (``ask`` prompts for it). ``verify_tls`` is the
    OAuth client's own setting; the argument stays for callers that pass it."""
    state = secrets.token_urlsafe(16)
    url = oauth.authorization_url(state)
    unreachable = None
    try:
        redirected = oauth.consent_redirect(state)
    except TransientError as exc:  # not reachable from here (or too slow): the person's browser may still reach it
        redirected, unreachable = "", exc.text()
    if not redirected:
        if ask is None:
            raise AuthError(msg("connect.needs_a_person", url=url, why=unreachable or msg("connect.asks_to_log_in")),
                            system="accountview", operation="authorize")  # fmt: skip
        redirected = ask(url).strip()
    query = parse_qs(urlsplit(redirected).query)
    if "error" in query:
        raise AuthError(msg("connect.refused", error=query["error"][0][:200]), system="accountview",
                        operation="authorize")  # fmt: skip
    if query.get("state", [""])[0] != state:
        raise AuthError(msg("connect.other_state"), system="accountview", operation="authorize")
    codes = query.get("code")
    if not codes:
        raise AuthError(msg("connect.no_code"), system="accountview", operation="authorize")
    token_store.save(oauth.exchange_code(codes[0]))


def choose_company(client: AccountViewClient, wanted: str = "") -> dict:
    """The company to work in: the configured one (by Id or Code), or the only one the user can see."""
    companies = client.companies()
    if wanted:
        for company in companies:
            if wanted in (company.get("Id"), company.get("Code")):
                return company
        raise ConfigError(msg("connect.company_unknown", company=wanted[:100], companies=_names(companies)))
    if len(companies) == 1:
        return companies[0]
    raise ConfigError(msg("connect.company_to_choose", companies=_names(companies)))


def _names(companies: list[dict]) -> str | object:
    return ", ".join(f"{c.get('Code')} ({c.get('Id')}: {c.get('Description')})" for c in companies) or msg("connect.none")
