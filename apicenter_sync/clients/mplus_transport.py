"""HTTP for the Mplus client: a requests Session behind a zeep Transport, credentials kept out of logs.

The credentials travel as ``ident``/``secret`` query parameters on every POST (that is how Mplus
authenticates), but they are added by requests at send time from ``params``, never written into the address
zeep knows, so zeep's own debug logging and its objects never hold them. urllib3 still logs the request line
at DEBUG; a filter on its logger masks them there.
"""

from __future__ import annotations

import io
import logging
import threading
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from zeep import Plugin
from zeep.wsdl import Document
from zeep.wsdl.utils import etree_to_string

from ..mplus_wsdl import OfflineTransport, zeep_settings
from ..redact import redact_text

USER_AGENT = "apicenter-sync/mplus-client"


class SoapActionPlugin(Plugin):
    """Sends ``SOAPAction: <operation>`` like the official clients (the WSDL itself declares "")."""

    def egress(self, envelope, http_headers, operation, binding_options):
        http_headers["SOAPAction"] = operation.name
        return envelope, http_headers


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_filter_lock = threading.Lock()
_filter_installed = False


def install_log_redaction() -> None:
    """Mask ident/secret in urllib3's request-line debug log (idempotent)."""
    global _filter_installed
    with _filter_lock:
        if not _filter_installed:
            logging.getLogger("urllib3.connectionpool").addFilter(_RedactingFilter())
            _filter_installed = True


def split_address(url: str) -> str:
    """The service address: scheme://host:port/path without query or fragment; path "/" when empty."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {redact_text(url)!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def make_session(pool_size: int = 10) -> requests.Session:
    session = requests.Session()
    # No urllib3-level retries: a silent retry of a write would hide "may have been applied".
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class MplusTransport(OfflineTransport):
    """zeep Transport for calls: one keep-alive Session, (connect, read) timeouts, TLS verification, auth params.

    Document loading stays offline (inherited); the live WSDL is fetched explicitly by :func:`load_live_document`.
    """

    def __init__(self, session: requests.Session, auth: dict[str, str], timeout, verify_tls: bool = True):
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self._auth = auth
        self.verify_tls = verify_tls
        self._env_settings: dict[str, dict] = {}  # address -> proxies/verify/cert from the environment
        session.headers["User-Agent"] = USER_AGENT

    def post(self, address, message, headers):
        # zeep's own post() logs the address and the body at DEBUG; this one logs nothing and adds the credentials.
        # What Session.post does, minus re-reading the environment (proxies, CA bundle) on every call: that scan
        # of os.environ cost ~0.3 ms per request (bench/README.md). It is read once per address instead.
        settings = self._env_settings.get(address)
        if settings is None:
            settings = self.session.merge_environment_settings(address, {}, None, self.verify_tls, None)
            self._env_settings[address] = settings
        request = requests.Request("POST", address, data=message, headers=headers, params=self._auth)
        prepared = self.session.prepare_request(request)
        return self.session.send(prepared, timeout=self.operation_timeout, allow_redirects=True, **settings)

    def post_xml(self, address, envelope, headers):
        return self.post(address, etree_to_string(envelope), headers)

    def get_wsdl(self, address: str) -> bytes:
        resp = self.session.get(
            address, params={**self._auth, "wsdl": ""}, timeout=self.operation_timeout, verify=self.verify_tls
        )
        resp.raise_for_status()
        return resp.content


def load_live_document(transport: MplusTransport, address: str) -> Document:
    """The WSDL the server itself serves at ``address?wsdl`` (parsed each time; cache it per address)."""
    content = transport.get_wsdl(address)
    # A file-like source: zeep reads it instead of fetching; the SOAP-encoding import still gets the local stub.
    return Document(io.BytesIO(content), transport, base=address, settings=zeep_settings())
