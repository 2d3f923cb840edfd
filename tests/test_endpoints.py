"""The allow-list of API hosts: credentials go only to the hosts an administrator allowed, over TLS."""

import pytest

from apicenter_sync import config as config_mod
from apicenter_sync import endpoints
from apicenter_sync import settings as registry
from apicenter_sync.engine import Engine
from apicenter_sync.errors import ConfigError
from apicenter_sync.store.sqlite import SqliteStore
from apicenter_sync.store.sqlite_tokens import SqliteTokenStore


@pytest.mark.parametrize(
    "url",
    [
        "https://www.accountview.net",
        "https://accountview.net/",
        "https://test.accountview.net",
        "https://WWW.AccountView.net.",
        "https://api.mpluskassa.nl:45166",
        "https://api.mpluskassa.nl:45166/",
        "http://127.0.0.1:8069",
        "http://localhost:8765",
        "http://[::1]:9000",
        "https://127.0.0.1",
    ],
)
def test_default_allow_list_accepts_vendor_hosts_and_loopback(url):
    assert endpoints.check_url(url) == url.strip().rstrip("/")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://evil.example.com", "not on the allow-list"),
        ("https://api.mpluskassa.nl.evil.com:45166", "not on the allow-list"),
        ("https://evilaccountview.net", "not on the allow-list"),
        ("http://api.mpluskassa.nl:45166", "plain http://"),
        ("http://www.accountview.net", "plain http://"),
        ("http://10.0.0.5:8080", "plain http://"),
        ("https://user:pw@api.mpluskassa.nl:45166", "user name or password"),
        ("https://api.mpluskassa.nl@evil.com", "user name or password"),
        ("https://evil.com\\@api.mpluskassa.nl", "backslash"),
        ("ftp://api.mpluskassa.nl", "https:// address"),
        ("api.mpluskassa.nl:45166", "https:// address"),
        ("https://api.mpluskassa.nl:port", "not a valid URL"),
        ("", "not set"),
    ],
)
def test_refused_urls_say_why(url, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace("/", "/")) as caught:
        endpoints.check_url(url, what="MplusKASSA URL")
    assert "MplusKASSA URL" in str(caught.value) or not url


def test_wildcards_match_names_below_the_domain_only():
    allowed = ["*.mpluskassa.nl", "erp.example.org"]
    assert endpoints.check_url("https://api2.mpluskassa.nl:1", allowed)
    assert endpoints.check_url("https://a.b.mpluskassa.nl", allowed)
    assert endpoints.check_url("https://ERP.example.org", allowed)
    for url in ("https://mpluskassa.nl", "https://xmpluskassa.nl", "https://www.example.org", "http://127.0.0.1"):
        with pytest.raises(ConfigError):
            endpoints.check_url(url, allowed)


def test_loopback_needs_the_allow_list_too_but_may_use_http():
    with pytest.raises(ConfigError, match="not on the allow-list"):
        endpoints.check_url("http://127.0.0.1:9", ["api.mpluskassa.nl"])
    assert endpoints.is_loopback("127.0.0.1") and endpoints.is_loopback("::1") and endpoints.is_loopback("localhost")
    assert not endpoints.is_loopback("10.0.0.1") and not endpoints.is_loopback("localhost.evil.com")


def test_patterns_are_checked():
    assert endpoints.check_pattern(" *.Example.com ") == "*.example.com"
    assert endpoints.check_pattern("[::1]") == "::1"
    for bad in ("*", "*.com", "https://x.nl/", "a b", "*.*.x.nl", "user@x.nl", ""):
        with pytest.raises(ConfigError, match="Allowed API Hosts"):
            endpoints.check_pattern(bad)


def test_registry_setting_defaults_to_the_documented_hosts():
    setting = registry.get_setting("allowed_hosts")
    assert setting.is_global and setting.type is list
    assert setting.default_value() == list(endpoints.DEFAULT_ALLOWED_HOSTS)
    assert {"www.accountview.net", "api.mpluskassa.nl", "127.0.0.1", "localhost"} <= set(setting.default_value())


def _config(tmp_path, av="https://www.accountview.net", mplus="https://api.mpluskassa.nl:45166", extra=""):
    path = tmp_path / "apicenter.toml"
    path.write_text(
        f"[store]\npath = 'state.sqlite3'\n[accountview]\nbase_url = '{av}'\nclient_id = 'id'\nclient_secret = 'cs'\n"
        f"[mplus]\nurl = '{mplus}'\nident = 'ident'\nsecret = 'ms'\n{extra}",
        encoding="utf-8",
    )
    return config_mod.load(path)


@pytest.mark.parametrize(
    ("av", "mplus", "words"),
    [
        ("https://www.accountview.net", "https://mplus.evil.com:1", r"\[mplus\] url host mplus.evil.com"),
        ("https://av.evil.com", "https://api.mpluskassa.nl:1", r"\[accountview\] base_url host av.evil.com"),
        ("http://www.accountview.net", "https://api.mpluskassa.nl:1", "plain http://"),
    ],
)
def test_engine_refuses_a_bad_endpoint_before_building_clients(tmp_path, monkeypatch, av, mplus, words):
    cfg = _config(tmp_path, av, mplus)
    built = []
    monkeypatch.setattr("apicenter_sync.engine.AccountViewOAuth", lambda *a, **k: built.append(a))
    monkeypatch.setattr("apicenter_sync.engine.MplusClient", lambda *a, **k: built.append(a))
    store = SqliteStore(cfg.store_path, cfg.backend)
    cfg.apply_to(store)
    with pytest.raises(ConfigError, match=words):
        Engine.from_config(cfg, store, SqliteTokenStore(store))
    assert not built, "no client (and so no secret) may be created for a refused endpoint"


def test_the_allow_list_setting_of_the_file_widens_it(tmp_path):
    extra = "[settings]\nallowed_hosts = ['*.example.org', 'www.accountview.net']\n"
    cfg = _config(tmp_path, mplus="https://kassa.example.org:443", extra=extra)
    assert cfg.allowed_hosts() == ["*.example.org", "www.accountview.net"]
    store = SqliteStore(cfg.store_path, cfg.backend)
    cfg.apply_to(store)
    engine = Engine.from_config(cfg, store, SqliteTokenStore(store))
    engine.close()
    cfg.check_endpoints()
    with pytest.raises(ConfigError, match="api.mpluskassa.nl is not on the allow-list"):
        cfg.mplus.url = "https://api.mpluskassa.nl:45166"
        cfg.check_endpoints()
