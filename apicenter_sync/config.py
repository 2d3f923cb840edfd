"""The TOML configuration of `apicenter-sync` (every key is documented in README.md).

Secrets can stay out of the file: every secret key has an ``*_env`` twin naming
an environment variable to read it from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import endpoints
from . import settings as registry
from .errors import ConfigError
from .i18n import msg
from .profile import ApiProfile

PRODUCTION_ACCOUNTVIEW = "https://www.accountview.net"


@dataclass
class AccountViewConfig:
    base_url: str = PRODUCTION_ACCOUNTVIEW  # authorize at <base_url>/ams/authorize.aspx, API at <base_url>/api/v3
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = "http://localhost:8765/apicenter/oauth/callback"
    company_id: str = ""  # the x-company Id; empty = the only company the user can see
    scopes: tuple[str, ...] = ("readaccountviewdata", "updateaccountviewdata")
    timeout_seconds: float = 60.0
    verify_tls: bool = True


@dataclass
class MplusConfig:
    url: str = ""  # https://api.mpluskassa.nl:<port>
    ident: str = field(default="", repr=False)  # half of the credential pair: kept out of reprs like the secret
    secret: str = field(default="", repr=False)
    timeout_seconds: float = 60.0
    verify_tls: bool = True


@dataclass
class Config:
    store_path: str = "apicenter.sqlite3"
    backend: str = "default"
    accountview: AccountViewConfig = field(default_factory=AccountViewConfig)
    mplus: MplusConfig = field(default_factory=MplusConfig)
    settings: dict[str | None, dict[str, Any]] = field(default_factory=dict)  # scope (None = backend) -> values
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    datamapper: dict[str, list[dict]] = field(default_factory=dict)  # flow -> lines replacing the defaults
    profile: ApiProfile = field(default_factory=ApiProfile.default)  # [profile]: the tenant's names and choices
    source: str = ""  # the file it came from, for messages

    def allowed_hosts(self, store=None) -> list[str]:
        """The allow-list of API hosts: the store's value (which ``apply_to`` fills from the file), else the
        file's ``[settings] allowed_hosts``, else the default."""
        if store is not None:
            return list(store.settings.get("allowed_hosts"))
        value = self.settings.get(None, {}).get("allowed_hosts")
        return list(value) if value is not None else registry.get_setting("allowed_hosts").default_value()

    def check_endpoints(self, allowed_hosts=None) -> None:
        """ConfigError unless both API URLs may receive credentials (:mod:`apicenter_sync.endpoints`): called
        before any client is built, so a bad URL never sees a token, a client secret or the MplusKASSA ident."""
        allowed = self.allowed_hosts() if allowed_hosts is None else allowed_hosts
        endpoints.check_url(self.accountview.base_url, allowed, what="[accountview] base_url")
        endpoints.check_url(self.mplus.url, allowed, what="[mplus] url")

    def apply_to(self, store) -> None:
        """Write settings, mapping tables and datamapper lines into the store (the file is the source of truth)."""
        with store.transaction():
            for scope, values in self.settings.items():
                for name, value in values.items():
                    store.settings.set(name, value, scope)
            for name, rows in self.mappings.items():
                store.mappings.set_table(name, rows)
            for flow, lines in self.datamapper.items():
                store.mappings.set_datamapper(flow, lines)


def _secret(section: dict, key: str, where: str) -> str:
    env = section.get(f"{key}_env")
    if env:
        value = os.environ.get(str(env))
        if value is None:
            raise ConfigError(msg("config.env_not_set", key=f"{where}.{key}_env", variable=env))
        return value
    return str(section.get(key, ""))


def _known(section: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(msg("config.unknown_keys", section=f"[{where}]", keys=list(unknown), count=len(unknown)))


def parse(data: dict, source: str = "") -> Config:
    _known(data, {"store", "accountview", "mplus", "settings", "mappings", "datamapper", "profile"}, "top level")
    cfg_profile = ApiProfile.from_overrides(data.get("profile"))
    cfg = Config(source=source, profile=cfg_profile)
    store = data.get("store", {})
    _known(store, {"path", "backend"}, "store")
    cfg.store_path = str(store.get("path", cfg.store_path))
    cfg.backend = str(store.get("backend", cfg.backend))

    av = data.get("accountview", {})
    _known(av, {*AccountViewConfig.__dataclass_fields__, "client_secret_env"}, "accountview")
    cfg.accountview = AccountViewConfig(
        base_url=str(av.get("base_url", PRODUCTION_ACCOUNTVIEW)).rstrip("/"),
        client_id=str(av.get("client_id", "")),
        client_secret=_secret(av, "client_secret", "accountview"),
        redirect_uri=str(av.get("redirect_uri", AccountViewConfig.redirect_uri)),
        company_id=str(av.get("company_id", "")),
        scopes=tuple(av.get("scopes", AccountViewConfig.scopes)),
        timeout_seconds=float(av.get("timeout_seconds", 60)),
        verify_tls=bool(av.get("verify_tls", True)),
    )
    mp = data.get("mplus", {})
    _known(mp, {*MplusConfig.__dataclass_fields__, "secret_env"}, "mplus")
    cfg.mplus = MplusConfig(
        url=str(mp.get("url", "")).rstrip("/"),
        ident=str(mp.get("ident", "")),
        secret=_secret(mp, "secret", "mplus"),
        timeout_seconds=float(mp.get("timeout_seconds", 60)),
        verify_tls=bool(mp.get("verify_tls", True)),
    )

    for key, value in data.get("settings", {}).items():
        if isinstance(value, dict):  # [settings.<flow>]
            if key not in registry.FLOWS:
                raise ConfigError(msg("config.unknown_flow", section=f"[settings.{key}]", flows=list(registry.FLOWS)))
            for name, v in value.items():
                cfg.settings.setdefault(key, {})[name] = _validated(name, v, key)
        else:
            cfg.settings.setdefault(None, {})[key] = _validated(key, value, None)

    for name, rows in data.get("mappings", {}).items():
        if not isinstance(rows, dict):
            raise ConfigError(msg("config.mapping_not_table", section=f"[mappings.{name}]"))
        cfg.mappings[name] = {str(k): str(v) for k, v in rows.items()}
    for flow, block in data.get("datamapper", {}).items():
        lines = block.get("lines") if isinstance(block, dict) else block
        if not isinstance(lines, list):
            raise ConfigError(msg("config.datamapper_lines", section=f"[datamapper.{flow}]"))
        cfg.datamapper[flow] = lines
    return cfg


def _validated(name: str, value: Any, flow: str | None) -> Any:
    try:
        return registry.validate(name, value, flow)
    except registry.SettingError as exc:
        section = f"[settings.{flow}]" if flow else "[settings]"  # the file's own section names
        raise ConfigError(msg("config.in_section", section=section, error=exc.args[0] if exc.args else str(exc))) from exc


def load(path: str | os.PathLike[str]) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(msg("config.not_found", path=str(path))) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(msg("config.not_toml", path=str(path), error=str(exc))) from None
    cfg = parse(data, str(path))
    if not Path(cfg.store_path).is_absolute():
        cfg.store_path = str(path.parent / cfg.store_path)
    return cfg
