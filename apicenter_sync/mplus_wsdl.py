"""The bundled MplusKASSA WSDL, loadable without any network access.

``mplusqapi.wsdl`` imports the SOAP-encoding namespace without a
``schemaLocation``; zeep (and libxml2) would try to download it.  Both loaders
here serve a tiny local stub for it instead, and zeep's loader refuses every
other remote load, so a broken setup fails loudly instead of phoning home.

Used by the real Mplus client and by the sandbox/tests; imports nothing from
the sandbox.
"""

from __future__ import annotations

import copy
import functools
import threading
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import TransportError
from zeep.transports import Transport
from zeep.wsdl import Document

from .i18n import msg
from .redact import redact_text

MPLUS_NS = "urn:mplusqapi"
SOAP_ENC_NS = "http://schemas.xmlsoap.org/soap/encoding/"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SERVICE_QNAME = "{urn:mplusqapi}MplusQapi"
# The WSDL's own <soap:address>; a placeholder every client must override.
WSDL_PLACEHOLDER_ADDRESS = "http://127.0.0.1:18083/"


def _bundled(name: str) -> Path:
    # The package is installed as plain files (editable or wheel), never zipped.
    return Path(str(resources.files("apicenter_sync") / "wsdl" / name))


def wsdl_path() -> Path:
    return _bundled("mplusqapi.wsdl")


def soap_encoding_stub_path() -> Path:
    return _bundled("soap-encoding.xsd")


@functools.cache
def wsdl_bytes() -> bytes:
    return wsdl_path().read_bytes()


def safe_parser(huge: bool = False) -> etree.XMLParser:
    """An XML parser that never resolves entities nor touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=huge, load_dtd=False)


class OfflineTransport(Transport):
    """A zeep transport that loads documents from disk only.

    The SOAP-encoding namespace is answered with the bundled stub; any other
    http(s) document load is refused.  SOAP calls themselves (``post_xml``) are
    untouched, so the same transport talks to a live server or the sandbox.
    """

    def load(self, url):
        if not url:  # a wrong call (TypeError: a programmer's mistake; zeep's own loader says the same)
            raise TypeError("No url given to load")
        if url.rstrip("/") == SOAP_ENC_NS.rstrip("/"):
            return soap_encoding_stub_path().read_bytes()
        parsed = urlparse(url)
        if parsed.scheme == "file":
            return Path(parsed.path).read_bytes()
        if parsed.scheme == "" or len(parsed.scheme) == 1:  # a plain path (or a Windows drive letter)
            return Path(url).expanduser().read_bytes()
        raise TransportError(msg("clients.wsdl_fetch_refused", url=redact_text(url)[:200]))


def zeep_settings() -> Settings:
    return Settings(strict=False, xml_huge_tree=True)


@functools.cache
def load_document() -> Document:
    """The parsed WSDL as a zeep Document, loaded once per process (about half a second)."""
    return Document(str(wsdl_path()), OfflineTransport(), settings=zeep_settings())


def make_client(transport: Transport | None = None) -> Client:
    """A zeep Client on the bundled (cached) WSDL; calls go through ``transport``."""
    return Client(load_document(), transport=transport or OfflineTransport(), settings=zeep_settings())


def bind_service(client: Client, address: str):
    """The service proxy of ``client`` at ``address`` instead of the WSDL's placeholder.

    Mplus wants ``ident``/``secret`` in the query string, e.g.
    ``https://api.mpluskassa.nl:50123/?ident=…&secret=…``.
    """
    return client.create_service(SERVICE_QNAME, address)


def schema_root(wsdl: etree._Element | None = None) -> etree._Element:
    """The WSDL's inline <xsd:schema> as a standalone document root.

    QName-valued attributes (``type="tns:Product"``) need the prefixes declared
    on the WSDL's <definitions>, so the schema element is rebuilt with its full
    in-scope namespace map; the SOAP-encoding import gets the local stub.
    """
    if wsdl is None:
        wsdl = etree.fromstring(wsdl_bytes(), safe_parser(huge=True))
    inline = wsdl.find(f".//{{{XSD_NS}}}schema")
    root = etree.Element(inline.tag, attrib=dict(inline.attrib), nsmap=inline.nsmap)
    for child in inline:
        root.append(copy.deepcopy(child))
    for imp in root.iterfind(f"{{{XSD_NS}}}import"):
        if imp.get("namespace") == SOAP_ENC_NS:
            imp.set("schemaLocation", soap_encoding_stub_path().as_uri())
    return root


class SchemaValidator:
    """lxml XMLSchema of the WSDL's types, safe to share between threads.

    An lxml validator keeps its error log on the instance, so concurrent
    validations are serialised (each takes milliseconds).
    """

    def __init__(self, root: etree._Element | None = None):
        self.schema = etree.XMLSchema(etree.ElementTree(root if root is not None else schema_root()))
        self._lock = threading.Lock()

    def errors(self, element: etree._Element) -> list[str]:
        """Validation errors of ``element`` (a global element of the schema), empty when valid."""
        with self._lock:
            try:
                if self.schema.validate(element):
                    return []
            except etree.XMLSchemaValidateError as exc:  # e.g. unresolved entity references in the tree
                return [f"cannot validate: {exc}"]
            return [f"{e.message} (line {e.line})" if e.line else e.message for e in self.schema.error_log]


@functools.cache
def load_validator() -> SchemaValidator:
    return SchemaValidator()
