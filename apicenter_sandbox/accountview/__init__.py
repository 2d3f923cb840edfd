"""A local simulator of the AccountView.Net Web API v3 (OAuth2 + REST/JSON). See docs/sandbox-accountview.md."""

from .app import AccountViewSandbox

__all__ = ["AccountViewSandbox"]
