"""Start both sandboxes on one seeded world, in this process."""

from __future__ import annotations

from dataclasses import dataclass

from .http import SandboxServer
from .world import World, generate

# Documented defaults of `apicenter-sandbox` (README, docs/sandboxes.md).
DEFAULT_ACCOUNTVIEW_PORT = 18080
DEFAULT_MPLUS_PORT = 18083  # the port of the WSDL's placeholder address
DEFAULT_MPLUS_IDENT = "sandbox"
DEFAULT_MPLUS_SECRET = "sandbox-secret"
DEFAULT_AV_CLIENT_ID = "sandbox-client"
DEFAULT_AV_CLIENT_SECRET = "sandbox-client-secret"


@dataclass
class Sandboxes:
    world: World
    accountview: SandboxServer
    mplus: SandboxServer
    mplus_ident: str
    mplus_secret: str
    av_client_id: str
    av_client_secret: str

    @property
    def accountview_url(self) -> str:
        return self.accountview.url

    @property
    def mplus_url(self) -> str:
        return self.mplus.url

    def describe(self) -> dict:
        return {
            "accountview": {
                "url": self.accountview.url,
                "authorize_url": f"{self.accountview.url}/ams/authorize.aspx",
                "token_url": f"{self.accountview.url}/api/v3/token",
                "api_url": f"{self.accountview.url}/api/v3",
                "client_id": self.av_client_id,
                "client_secret": self.av_client_secret,
            },
            "mplus": {
                "url": self.mplus.url,
                "wsdl_url": f"{self.mplus.url}/?wsdl",
                "ident": self.mplus_ident,
                "secret": self.mplus_secret,
            },
            "world": {"size": self.world.size, "seed": self.world.seed},
        }

    def stop(self) -> None:
        self.accountview.stop()
        self.mplus.stop()

    def __enter__(self) -> Sandboxes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sandboxes(
    size: int = 100,
    seed: int = 1,
    *,
    orders: int | None = None,
    world: World | None = None,
    host: str = "127.0.0.1",
    accountview_port: int = 0,
    mplus_port: int = 0,
    latency_ms: float = 0.0,
    mplus_ident: str = DEFAULT_MPLUS_IDENT,
    mplus_secret: str = DEFAULT_MPLUS_SECRET,
    av_client_id: str = DEFAULT_AV_CLIENT_ID,
    av_client_secret: str = DEFAULT_AV_CLIENT_SECRET,
    variant: str | None = None,
    from_capture: str | None = None,
) -> Sandboxes:
    """Seed a world and serve it from both sandboxes (port 0 = a free port). ``variant``: AccountView shows the
    world under another tenant's names (``accountview/variant.py``). ``from_capture``: the sandboxes hold what a
    support capture read instead (``from_capture.py``; the world then only names the company)."""
    from .accountview import AccountViewSandbox
    from .mplus import MplusSandbox

    world = world or generate(size, seed, orders=orders)
    av_options: dict = {"variant": variant}
    mplus_options: dict = {}
    if from_capture:
        from . import from_capture as captured

        tenant = captured.load(from_capture)
        av_options = {"variant": tenant.variant, "seeder": lambda store: captured.seed_accountview(store, tenant),
                      "not_before": captured.clock_after(tenant)}  # fmt: skip
        mplus_options = {"seeder": lambda store: captured.seed_mplus(store, tenant)}
    av_app = AccountViewSandbox(world, client_id=av_client_id, client_secret=av_client_secret, latency_ms=latency_ms,
                                **av_options)  # fmt: skip
    mplus_app = MplusSandbox(world, ident=mplus_ident, secret=mplus_secret, latency_ms=latency_ms, **mplus_options)
    av = SandboxServer(av_app, host, accountview_port).start()
    try:
        mplus = SandboxServer(mplus_app, host, mplus_port).start()
    except BaseException:
        av.stop()
        raise
    return Sandboxes(world, av, mplus, mplus_ident, mplus_secret, av_client_id, av_client_secret)
