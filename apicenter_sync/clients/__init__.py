"""Clients of the two external systems. Each maps its failures onto :mod:`apicenter_sync.errors`."""

from .http_logs import quiet_http_logs
from .mplus import MplusClient, money
from .mplus_errors import AlreadyExistsError, MplusResultError, NotFoundError, OutcomeUnknown

__all__ = ["AlreadyExistsError", "MplusClient", "MplusResultError", "NotFoundError", "OutcomeUnknown", "money"]

from .accountview import AccountViewClient  # noqa: E402
from .accountview_errors import AccountViewError, AccountViewRecordError, WriteOutcomeUnknown  # noqa: E402
from .accountview_filters import Filter  # noqa: E402
from .accountview_oauth import AccountViewOAuth, MemoryTokenStore, Tokens, TokenStore  # noqa: E402

__all__ += ["AccountViewClient", "AccountViewError", "AccountViewOAuth", "AccountViewRecordError", "Filter",
            "MemoryTokenStore", "TokenStore", "Tokens", "WriteOutcomeUnknown"]  # fmt: skip

quiet_http_logs()  # from the first import on: the HTTP libraries' request lines carry URLs with filter values
