"""The HTTP libraries' own logging, kept below INFO from the moment the clients are imported.

Their INFO and DEBUG lines carry request URLs, and AccountView filters put values such as e-mail addresses into
the query string: an Odoo server logging at INFO would keep them in its log file. This is done when
``apicenter_sync.clients`` is imported (so in Odoo when the addon's models load), not only once an engine is built.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "requests", "zeep", "hpack", "h2")


def quiet_http_logs() -> None:
    """Keep the HTTP libraries' request logging (every URL, query strings with e-mail filters included) below
    INFO; our own loggers are left as they are."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # a level someone set on purpose (a debugging session) is kept
            logger.setLevel(logging.WARNING)
