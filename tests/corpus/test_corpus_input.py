"""Admin input: identifiers typed into the configuration or the backend, and API-profile files. Each bad value is a
ConfigError naming the field and the problem, never the value itself (it may be a secret) and never a raw
exception; nothing is sent. Cases: README.md ("Admin input")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth, MemoryTokenStore, Tokens
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.errors import ConfigError
from apicenter_sync.profile import ApiProfile
from apicenter_sync.profile.model import parse_profile_text
from apicenter_sync.retry import RetryPolicy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_corpus_limits import JSON_OK, answer, server_fixture  # noqa: E402, F401 - fixture "server"

ONCE = RetryPolicy(attempts=1)


@pytest.mark.parametrize(("company", "words"), [
    ("Bedrijf-ü", "the AccountView company id contains a character outside plain ASCII (an accent, a symbol) at "
                  "position 9"),
    ("1\r\nX-Evil: 1", "the AccountView company id contains a control character (a line break, tab or similar) at "
                       "position 2"),
    ("x" * 5000, "the AccountView company id is 5000 characters long; at most 200 are accepted"),
    (" 1", "the AccountView company id starts or ends with a blank"),
])  # fmt: skip
def test_a_bad_company_id_is_a_message_and_nothing_is_sent(server, company, words):
    # Before: a non-ASCII id raised a raw UnicodeEncodeError while httpx built the header.
    srv = server(answer(JSON_OK))
    oauth = AccountViewOAuth(srv.url, "client", "client-secret", "http://localhost/cb")
    client = AccountViewClient(oauth.api_url, oauth, MemoryTokenStore(Tokens("a" * 20, "r" * 20, None)), company,
                               retry=ONCE)  # fmt: skip
    with pytest.raises(ConfigError) as err:
        client.get_one("AR1", "CONTACT", [])
    assert words in str(err.value)
    assert len(company.strip()) < 4 or company.strip() not in str(err.value)  # the value is not repeated
    assert srv.requests == []
    client.close()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("client_id", "client-é", "the AccountView client id contains a character outside plain ASCII"),
    ("client_secret", "s3cr3t\n", "the AccountView client secret contains a control character"),
    ("client_secret", "geheim-ß-42", "the AccountView client secret contains a character outside plain ASCII"),
])  # fmt: skip
def test_bad_oauth_credentials_are_refused_before_any_request(field, value, words):
    kwargs = {"client_id": "client", "client_secret": "secret", field: value}
    with pytest.raises(ConfigError, match=words) as err:
        AccountViewOAuth("http://127.0.0.1:9", redirect_uri="http://localhost/cb", **kwargs)
    assert value.strip() not in str(err.value)  # a secret is never repeated


@pytest.mark.parametrize(("ident", "secret", "words"), [
    ("ident\x00", "secret", "the MplusKASSA ident contains a control character"),
    ("ident", "x" * 300, "the MplusKASSA secret is 300 characters long; at most 200 are accepted"),
])  # fmt: skip
def test_bad_mplus_credentials_are_refused_before_any_request(ident, secret, words):
    with pytest.raises(ConfigError, match=words):
        MplusClient("http://127.0.0.1:9", ident, secret, retry=ONCE)


# --- API-profile files ------------------------------------------------------------------------------------------
def test_a_deeply_nested_profile_file_is_a_clear_error():
    # Before: a raw RecursionError from the JSON parser (the Odoo import wizard showed it as it was).
    for text in ('{"p": ' * 50_000 + "{}" + "}" * 50_000,
                 "[profile]\nx = " + "[" * 100_000 + "]" * 100_000,
                 json.dumps({"profile": {"accountview": {"stock": {"fields": {"sku": {"a": {"b": {"c": {"d": {"e": 1}}}}}}}}}})):
        with pytest.raises(ConfigError, match="the profile file is nested more than 8 levels deep"):
            parse_profile_text(text)


def test_a_huge_profile_file_or_name_is_refused():
    with pytest.raises(ConfigError, match=r"the profile file is \d+ bytes; a profile file is at most 1048576 bytes"):
        parse_profile_text('[profile.accountview.stock]\ncode = "' + "A" * (30 * 1024 * 1024) + '"')
    # A 30 MB name arrived through the Odoo profile lines (flat keys) too: bounded there as well.
    with pytest.raises(ConfigError, match="accountview.stock.code is 300000 characters long; at most 200"):
        ApiProfile.from_flat({"accountview.stock.code": "A" * 300_000})
    with pytest.raises(ConfigError, match=r"\(accountview.stock.code\) is 150 characters long; AccountView names are at "
                                          "most 128"):  # fmt: skip
        ApiProfile.from_flat({"accountview.stock.code": "A" * 150})
    with pytest.raises(ConfigError, match="at most 200 are accepted"):
        parse_profile_text(json.dumps({"profile": {"mplus": {"attribute_fields": ["x" * 500 + "=colour"]}}}))


def test_a_normal_profile_file_still_reads():
    assert parse_profile_text('[profile.accountview.stock]\ncode = "VRD2"').accountview.stock.code == "VRD2"
    assert parse_profile_text(ApiProfile.default().to_toml()) == ApiProfile.default()
