"""The engine: builds the two clients and runs flows against one state store.

The command line (``apicenter-sync``) and the Odoo addon both drive flows
through this class, so a flow behaves the same wherever it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from .clients.accountview import AccountViewClient
from .clients.accountview_oauth import AccountViewOAuth
from .clients.http_logs import QUIET_LOGGERS, quiet_http_logs  # noqa: F401 - QUIET_LOGGERS: the names tests use
from .clients.limits import CallLimits
from .clients.mplus import MplusClient
from .config import Config
from .errors import ConfigError
from .flows.base import NEEDS as BASE_NEEDS
from .flows.base import Flow, RunOptions, RunResult
from .flows.customers import CustomersFlow
from .flows.orders import OrdersFlow
from .flows.prices import PricesFlow
from .flows.products import ProductsFlow
from .flows.stock import StockFlow
from .i18n import msg
from .profile import ApiProfile

FLOWS: dict[str, type[Flow]] = {
    "products": ProductsFlow,
    "customers": CustomersFlow,
    "stock": StockFlow,
    "prices": PricesFlow,
    "orders": OrdersFlow,
}
# "all" runs them in this order: stock needs the articles, prices need articles and relations; stock comes after
# orders, so the figures it sends already show the sales that round booked (flows/stock_sales.py): one round
# converges.
RUN_ORDER = ("products", "customers", "prices", "orders", "stock")
# Flows whose records need those of other flows at the target: a scheduler that runs flows side by side (the
# Odoo jobs) lets them wait while a run of a flow they need is still going on.
# The same table holds across processes on one store: Flow.run does not start such a flow while another process
# holds the flow lock of a flow it needs (flows/base.py NEEDS).
NEEDS: dict[str, tuple[str, ...]] = BASE_NEEDS
def call_limits(store) -> CallLimits:
    """The deadline of one API call and the reply cap, from the settings ``call_deadline_seconds`` and
    ``max_reply_bytes``."""
    return CallLimits(float(store.settings.get("call_deadline_seconds")), int(store.settings.get("max_reply_bytes")))


class Engine:
    def __init__(self, store, accountview: AccountViewClient, mplus: MplusClient, profile: ApiProfile | None = None):
        quiet_http_logs()
        self.store = store
        self.accountview = accountview
        self.mplus = mplus
        self.profile = profile or ApiProfile.default()
        accountview.use_profile(self.profile)

    @classmethod
    def from_config(cls, cfg: Config, store, token_store) -> Engine:
        av_cfg, mp_cfg = cfg.accountview, cfg.mplus
        if not mp_cfg.url:
            raise ConfigError(msg("config.mplus_url"))
        # Before any client exists: a URL off the allow-list (or plain http to another host) never sees a secret.
        cfg.check_endpoints(cfg.allowed_hosts(store))
        limits = call_limits(store)  # one deadline per call, a cap per reply (clients/limits.py)
        oauth = AccountViewOAuth(
            av_cfg.base_url, av_cfg.client_id, av_cfg.client_secret, av_cfg.redirect_uri,
            scopes=av_cfg.scopes, timeout=av_cfg.timeout_seconds, verify_tls=av_cfg.verify_tls, limits=limits,
        )  # fmt: skip
        accountview = AccountViewClient(
            oauth.api_url, oauth, token_store, av_cfg.company_id or None,
            timeout=av_cfg.timeout_seconds, verify_tls=av_cfg.verify_tls, limits=limits,
        )  # fmt: skip
        mplus = MplusClient(
            mp_cfg.url, mp_cfg.ident, mp_cfg.secret,
            timeout=(10.0, mp_cfg.timeout_seconds), verify_tls=mp_cfg.verify_tls, limits=limits,
        )  # fmt: skip
        return cls(store, accountview, mplus, cfg.profile)

    def flow(self, name: str, options: RunOptions | None = None) -> Flow:
        try:
            flow_class = FLOWS[name]
        except KeyError:
            raise ConfigError(msg("config.no_such_flow", flow=name, flows=list(FLOWS))) from None
        return flow_class(self.store, self.accountview, self.mplus, options, profile=self.profile)

    def run(self, name: str, options: RunOptions | None = None) -> RunResult:
        return self.flow(name, options).run()

    def run_all(
        self, options: RunOptions | None = None, *, only_enabled: bool = True, on_result: Callable | None = None
    ) -> list[RunResult]:
        results = []
        for name in RUN_ORDER:
            if name not in FLOWS:
                continue
            if only_enabled and not self.store.settings.get("enabled", name):
                continue
            result = self.run(name, options)
            results.append(result)
            if on_result:
                on_result(result)
        return results

    def start_capture(self, folder, **limits):
        """Write every API call from now on into ``folder``, redacted (apicenter_sync.capture)."""
        from .capture import Capture

        capture = Capture(folder, self.profile, **limits)
        self.accountview.capture = self.accountview.oauth.capture = self.mplus.capture = capture
        return capture

    def stop_capture(self) -> dict | None:
        capture = self.mplus.capture
        self.accountview.capture = self.accountview.oauth.capture = self.mplus.capture = None
        return capture.close() if capture is not None else None

    def close(self) -> None:
        self.stop_capture()
        self.accountview.close()
        self.mplus.close()
