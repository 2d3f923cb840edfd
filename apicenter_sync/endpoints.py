"""Which hosts the engine may send credentials to: the allow-list of API endpoints.

Every call of AccountView carries the bearer token (the token refresh carries the refresh token and the client
secret), every call of MplusKASSA carries the ident and secret in its query string. An endpoint URL is therefore
checked before any client is built from it:

- its host must be on the allow-list (setting ``allowed_hosts``): an exact host name or IP address, or
  ``*.example.com`` for any name below ``example.com`` (not ``example.com`` itself);
- plain ``http://`` only for loopback (``localhost``, ``127.0.0.0/8``, ``::1``): the sandboxes and tests;
- no user name or password in the URL, no characters that parsers disagree on (backslash, blanks).

The default allow-list holds the hosts the vendors document (docs of AccountView.Net and MplusKASSA, see
research/accountview.md §2 and research/mplus.md §1) and loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from .errors import ConfigError
from .i18n import msg, setting_ref

# AccountView.Net: production with and without www, and the test environment; MplusKASSA: the hosted API (each
# administration on its own port); loopback for the sandboxes and tests.
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = (
    "www.accountview.net",
    "accountview.net",
    "test.accountview.net",
    "api.mpluskassa.nl",
    "localhost",
    "127.0.0.1",
    "::1",
)
LOOPBACK_NAMES = ("localhost",)
_BAD_CHARACTERS = frozenset("\\ \t\r\n\x00")


def is_loopback(host: str) -> bool:
    """``localhost`` (or a name below it) or a loopback IP address."""
    host = _normal_host(host)
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normal_host(host: str) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


def check_pattern(pattern: str) -> str:
    """An allow-list entry, normalised; ConfigError when it is not a host name, an IP address or ``*.domain``."""
    text = _normal_host(str(pattern))
    name = text[2:] if text.startswith("*.") else text
    if not name or "*" in name or "/" in name or "@" in name or any(c in _BAD_CHARACTERS for c in name):
        raise ConfigError(msg("endpoints.not_a_host", setting=setting_ref("allowed_hosts"), entry=repr(pattern)[:200]))
    if text.startswith("*.") and "." not in name:
        raise ConfigError(msg("endpoints.too_wide", setting=setting_ref("allowed_hosts"), entry=repr(pattern)[:200]))
    return text


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """``host`` matches an entry of ``allowed_hosts`` (exact, or below the domain of a ``*.domain`` entry)."""
    host = _normal_host(host)
    if not host:
        return False
    for pattern in allowed_hosts:
        entry = _normal_host(str(pattern))
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def check_url(url: str, allowed_hosts: Iterable[str] | None = None, *, what: str = "endpoint") -> str:
    """``url`` without a trailing slash if the engine may send credentials there; else ConfigError saying why.

    ``allowed_hosts`` None means :data:`DEFAULT_ALLOWED_HOSTS`; ``what`` names the URL in the message
    (``"AccountView URL"``)."""
    allowed = tuple(DEFAULT_ALLOWED_HOSTS if allowed_hosts is None else allowed_hosts)
    text = (url or "").strip()
    if not text:
        raise ConfigError(msg("endpoints.not_set", what=what))
    if any(c in _BAD_CHARACTERS for c in text):
        raise ConfigError(msg("endpoints.bad_characters", what=what, url=repr(text)[:300]))
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ConfigError(msg("endpoints.not_a_url", what=what, url=repr(text)[:300], detail=str(exc)[:200])) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(msg("endpoints.not_https", what=what, url=repr(text)[:300]))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ConfigError(msg("endpoints.credentials_in_url", what=what))
    host = _normal_host(parts.hostname)
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(msg("endpoints.plain_http", what=what, host=host))
    if not host_allowed(host, allowed):
        listed = ", ".join(allowed) or msg("connect.none")
        raise ConfigError(msg("endpoints.not_allowed", what=what, host=host, setting=setting_ref("allowed_hosts"),
                              hosts=listed))  # fmt: skip
    return text.rstrip("/")
