"""MplusKASSA client: the SOAP API (MplusQapi) as plain-dict methods with typed errors and safe retries.

Requests are built from plans compiled once per process from the bundled WSDL (:mod:`.mplus_envelopes`; zeep
builds, and refuses, whatever a plan does not cover); replies are read straight from the XML into dicts
(:mod:`.mplus_reader`). All failures are mapped in :mod:`.mplus_errors`. See docs/clients.md for the contract
(errors, retries, ``maybe_applied``).

Retry rule: reads and idempotent writes go through :func:`~apicenter_sync.retry.call_with_retry`.
A non-idempotent write (createRelation, createProduct, createOrder, newArticleGroup, updateStock, and
updateProduct adding articles without a number) is retried only when the request certainly never got
to the server (connect failure, HTTP 429); any other transient failure raises
:class:`~.mplus_errors.OutcomeUnknown` (``maybe_applied = True``) at once, and the caller verifies by key.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import ValidationError

from ..errors import PermanentError, SyncError, TransientError
from ..i18n import msg
from ..identifiers import check_identifier
from ..mplus_wsdl import SOAP_ENV_NS, load_document, safe_parser, zeep_settings
from ..redact import MASK, redact_text
from ..retry import RetryPolicy, call_with_retry
from . import mplus_errors as errs
from .counters import CallCounters
from .limits import CallLimits, DeadlineExceeded, ReplyTooLarge, UnreadableBody
from .mplus_envelopes import Unsupported, builder_for
from .mplus_reader import MalformedReply, ReplyReader
from .mplus_transport import (
    ConnectionPool,
    MplusTransport,
    SoapActionPlugin,
    install_log_redaction,
    load_live_document,
    make_session,
    split_address,
)
from .mplus_values import from_cents, quantity_fields, quantity_of, text_list, to_wire

log = logging.getLogger(__name__)
# What the transport raises for a call that got no usable reply; _transport_error maps each to our error classes.
_TRANSPORT_ERRORS = (requests.RequestException, DeadlineExceeded, ReplyTooLarge, UnreadableBody)

BINDING = "{urn:mplusqapi}MplusQapi"
# Every operation this client calls (the doctor checks that a live server's WSDL still offers each, with every
# element of its request; a test keeps the list complete).
OPERATIONS_USED = (
    "getApiVersion", "getCurrentSyncMarkers", "getBranches", "getVatGroupList", "getEmployees", "getPriceGroupList",
    "getPaymentMethods", "getDeliveryMethods", "getTurnoverGroups", "getProducts", "createProduct", "updateProduct",
    "getArticleGroups", "newArticleGroup", "updateArticleGroup", "getRelations", "getRelation", "findRelation",
    "createRelation", "updateRelation", "getStock", "setStock", "updateStock", "getOrders", "getOrder", "findOrder",
    "createOrder", "createOrderV3", "getReceipts", "getReceipt", "getInvoices", "getInvoice", "findInvoice",
    "getCashCountList", "getReceiptsByCashCount", "getCustomFieldLists",
)  # fmt: skip
_FAULT = f"{{{SOAP_ENV_NS}}}Fault"
_BODY = f"{{{SOAP_ENV_NS}}}Body"
# A DTD in the prolog (after an optional BOM, XML declaration, comments and processing instructions).
_DOCTYPE = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE", re.S)
# findRelation answers one relation; getProducts filters and getRelations pages are chunked to these sizes.
LOOKUP_CHUNK = 500
MAX_RELATION_PAGE = 1000  # DEV-REL: getRelations returns at most 1000 per call

Timeout = float | tuple[float, float]
OnRetry = Callable[[int, TransientError, float], None]

_readers: dict[int, ReplyReader] = {}
_live_documents: dict[str, Any] = {}
_module_lock = threading.Lock()
_parsers = threading.local()


def money(cents: int | None) -> Decimal | None:
    """Cents from a reply (``995``) as a Decimal in units (``9.95``); None stays None."""
    return None if cents is None else from_cents(cents)


def _reader_for(document) -> ReplyReader:
    with _module_lock:
        return _readers.setdefault(id(document), ReplyReader())


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = safe_parser(huge=True)
    return parser


class _Stop(Exception):
    """Carries an error out of call_with_retry without it being retried."""

    def __init__(self, error: SyncError):
        super().__init__(error.message)
        self.error = error


# sales_between: the operation, the path to its items and what keeps the reply small, per kind of sale.
_SALES = {
    "order": ("getOrders", ("orderList", "order"), {"includeLineList": False}),
    "receipt": ("getReceipts", ("receiptList", "receipt"), {}),
    "invoice": ("getInvoices", ("invoiceList", "invoice"), {"includeLineList": False}),
}


def _items(reply: dict, *path: str) -> list:
    node: Any = reply
    for key in path:
        if not isinstance(node, dict):
            return []
        node = node.get(key)
    return node or []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return a == b


class MplusClient(CallCounters):
    """One MplusKASSA administration (one URL + ident/secret). Cheap to create; thread-safe for calls."""

    def __init__(
        self,
        url: str,
        ident: str,
        secret: str,
        *,
        timeout: Timeout = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        verify_tls: bool = True,
        wsdl: str = "bundled",
        on_retry: OnRetry | None = None,
        session: ConnectionPool | None = None,
        soap_action: bool = False,
        pool_size: int = 10,
        limits: CallLimits | None = None,
    ):
        check_identifier(ident, msg("input.field_mplus_ident"))
        check_identifier(secret, msg("input.field_mplus_secret"))
        if wsdl not in ("bundled", "live"):  # a wrong call (TypeError: a programmer's mistake)
            raise TypeError('wsdl must be "bundled" or "live"')
        install_log_redaction()
        self.url = split_address(url)  # no query: credentials never live in the address
        self._ident = ident
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self._own_session = session is None
        self.session = session or make_session(pool_size)
        self.transport = MplusTransport(
            self.session, {"ident": ident, "secret": secret}, timeout=timeout, verify_tls=verify_tls,
            limits=limits,
        )  # fmt: skip
        document = load_document() if wsdl == "bundled" else self._live_document()
        self._zeep = Client(document, transport=self.transport, settings=zeep_settings())
        if soap_action:
            self._zeep.plugins.append(SoapActionPlugin())
        self._binding = document.bindings[BINDING]
        self._options = {"address": self.url}
        self._envelopes = builder_for(self._binding)
        self._reader = _reader_for(document)
        CallCounters.__init__(self)
        self.capture = None  # a Capture (apicenter_sync.capture): every request/reply pair, redacted

    def _live_document(self):
        with _module_lock:
            document = _live_documents.get(self.url)
        if document is None:
            try:
                document = load_live_document(self.transport, self.url)
            except _TRANSPORT_ERRORS as exc:
                err = self._transport_error(exc, "?wsdl") if not isinstance(exc, requests.HTTPError) else None
                raise (err or PermanentError(msg("clients.wsdl_unloadable", detail=errs.clean(exc, 300)),
                                             system=errs.SYSTEM)) from None  # fmt: skip
            with _module_lock:
                _live_documents[self.url] = document
        return document

    def __repr__(self) -> str:
        return f"MplusClient(url={redact_text(self.url)!r}, ident={MASK!r})"

    # --- lifecycle and counters ------------------------------------------------------------
    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> MplusClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


    # --- the one call path -----------------------------------------------------------------
    def call(self, operation: str, *, idempotent: bool = True, **params) -> dict:
        """Any WSDL operation with its parameters; the reply element as a dict. Errors mapped, retries applied.

        ``idempotent=False`` for writes that must not be repeated once they may have reached the server."""
        params = to_wire(params)

        def attempt() -> dict:
            try:
                return self._once(operation, params)
            except TransientError as err:
                if not idempotent and getattr(err, "maybe_applied", True):
                    raise _Stop(err) from None
                raise

        def retried(n: int, err: TransientError, delay: float) -> None:
            self._count_retry(operation)
            log.info("mplus %s: try %d failed (%s), retrying in %.2fs", operation, n, err.message, delay)
            if self.on_retry:
                self.on_retry(n, err, delay)

        try:
            return call_with_retry(attempt, self.retry, on_retry=retried)
        except _Stop as stop:
            error = stop.error
        raise error  # raised outside the handler: no chained exception that could carry the URL

    def _once(self, operation: str, params: dict) -> dict:
        error: SyncError | None = None
        try:
            envelope, headers = self._envelope(operation, params)
        except (ValidationError, TypeError, ValueError) as exc:
            error = errs.from_request_build(exc, operation)
        if error:
            raise error
        self._count(operation)
        try:
            response = self.transport.post_xml(self.url, envelope, headers)
        except _TRANSPORT_ERRORS as exc:
            error = self._transport_error(exc, operation)
        if error:
            raise error
        if self.capture is not None:
            self.capture.mplus(operation, etree.tostring(envelope), response.status_code, response.content)
        return self._reply(operation, response)

    def _envelope(self, operation: str, params: dict):
        """The request envelope and HTTP headers: from the operation's compiled plan (:mod:`.mplus_envelopes`, 5-10x
        less CPU), else by zeep. zeep also gets every request the plan does not render exactly, which includes each
        one that violates the WSDL: its ValidationError/TypeError/ValueError is the refusal, as before."""
        try:
            return self._envelopes.build(operation, params, self._zeep, self._options)
        except Unsupported:
            return self._binding._create(operation, (), params, client=self._zeep, options=self._options)

    def _transport_error(self, exc: Exception, operation: str) -> SyncError:
        if isinstance(exc, DeadlineExceeded):
            return errs.deadline_passed(self.transport.limits.deadline_s, operation, sent=exc.sent)
        if isinstance(exc, ReplyTooLarge):
            return errs.too_large(exc, operation)
        if isinstance(exc, UnreadableBody):
            return errs.malformed(exc.text, operation)
        return errs.from_transport(exc, operation)

    def _reply(self, operation: str, response: requests.Response) -> dict:
        status, content = response.status_code, response.content
        root, syntax = None, ""
        if 300 <= status < 400:  # never followed: the body and the credentials stay with the configured address
            raise errs.redirect(status, response.headers, operation)
        if _DOCTYPE.match(content):  # before parsing: an entity bomb must not even start to expand
            raise errs.malformed(msg("clients.dtd_refused"), operation)
        if content:
            try:
                root = etree.fromstring(content, _parser())
            except etree.XMLSyntaxError as exc:
                root, syntax = None, msg("clients.not_well_formed", detail=errs.clean(exc, 200))
            except (RecursionError, ValueError, etree.LxmlError) as exc:  # any other parser failure
                root, syntax = None, msg("clients.xml_unparsable", error=type(exc).__name__)
        if root is not None and root.getroottree().docinfo.doctype:
            # SOAP 1.1 forbids a DTD. The parser resolves no entities and loads nothing, but a reply that brings
            # one (entity expansion, an external entity naming a file) is refused whole, never read around.
            raise errs.malformed(msg("clients.dtd_refused"), operation)
        body = root.find(_BODY) if root is not None else None
        element = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
        if element is not None and element.tag == _FAULT:
            raise errs.from_fault(
                element.findtext("faultcode") or "", element.findtext("faultstring") or "", status,
                response.headers, operation,
            )  # fmt: skip
        if status != 200:
            raise errs.from_http_status(status, response.headers, operation)
        if element is None:
            raise errs.malformed(syntax or msg("clients.not_soap"), operation)
        expected = self._binding.get(operation).output.body
        if element.tag != str(expected.qname):
            got = etree.QName(element).localname[:100]
            raise errs.malformed(msg("clients.wrong_element", expected=expected.qname.localname, got=got), operation)
        try:
            return self._reader.read(element, expected)
        except MalformedReply as exc:
            raise errs.malformed(exc.text, operation) from None
        except RecursionError:
            error = errs.malformed(msg("clients.xml_too_deep"), operation)
        raise error

    def _ok(self, operation: str, reply: dict, ok: str, subject: object = "", existing_id=None) -> dict:
        result = reply.get("result", "")
        if result != ok:
            raise errs.result_error(
                operation, result, reply.get("errorMessage") or reply.get("message") or "", subject=str(subject),
                existing_id=existing_id,
            )  # fmt: skip
        return reply

    def _iter_by_marker(self, operation: str, build: Callable[[int, int], dict], path: tuple[str, ...],
                        since_marker: int, page_size: int) -> Iterator[dict]:  # fmt: skip
        """Items of every page, requesting max(syncMarker)+1 until a page comes back empty."""
        if page_size <= 0:  # a wrong call (TypeError: a programmer's mistake; flows pass a setting with a minimum)
            raise TypeError("page_size must be positive")
        marker = since_marker
        while True:
            items = _items(self.call(operation, request=build(marker, page_size)), *path)
            if not items:
                return
            markers = [item.get("syncMarker") for item in items]
            if None in markers or max(markers) < marker:
                raise errs.malformed(msg("clients.no_sync_markers", marker=marker), operation)
            yield from items
            marker = max(markers) + 1

    def live_wsdl(self) -> bytes:
        """The WSDL the server serves at ``?wsdl`` (the doctor compares it with the bundled one)."""
        error: SyncError | None = None
        try:
            return self.transport.get_wsdl(self.url)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            error = PermanentError(msg("clients.wsdl_http", status=status), system=errs.SYSTEM, operation="?wsdl")
        except _TRANSPORT_ERRORS as exc:
            error = self._transport_error(exc, "?wsdl")
        raise error

    # --- system and reference data -----------------------------------------------------------
    def api_version(self) -> dict:
        """getApiVersion: majorNumber/minorNumber/revisionNumber, service numbers, ``version`` "67.1.3"."""
        reply = self.call("getApiVersion")
        reply["version"] = f"{reply.get('majorNumber')}.{reply.get('minorNumber')}.{reply.get('revisionNumber')}"
        return reply

    def sync_markers(self) -> dict:
        """getCurrentSyncMarkers: articleSyncMarker, relationSyncMarker, orderSyncMarker, stockId, …"""
        return self.call("getCurrentSyncMarkers")

    def branches(self) -> list[dict]:
        """getBranches (branches are the stock locations)."""
        return _items(self.call("getBranches"), "branches", "branch")

    def vat_groups(self) -> list[dict]:
        """getVatGroupList: vatCode -> vatPercentage (whole percent) per branch."""
        return _items(self.call("getVatGroupList"), "vatGroup")

    def employees(self) -> list[dict]:
        """getEmployees (all of them)."""
        return _items(self.call("getEmployees"), "employeeList", "employee")

    def turnover_groups(self) -> list[dict]:
        """getTurnoverGroups: turnoverGroup (number), turnoverGroupName, turnoverGroupType, defaultVatCode…"""
        return _items(self.call("getTurnoverGroups", request={}), "turnoverGroupList", "turnoverGroup")

    def price_groups(self) -> list[dict]:
        """getPriceGroupList (prices in cents)."""
        return _items(self.call("getPriceGroupList"), "priceGroup")

    def payment_methods(self) -> list[dict]:
        """getPaymentMethods: the ``method`` codes a Payment may use."""
        return _items(self.call("getPaymentMethods"), "paymentMethodList", "paymentMethod")

    def delivery_methods(self) -> list[dict]:
        """getDeliveryMethods."""
        return _items(self.call("getDeliveryMethods"), "deliveryMethodList", "deliveryMethod")

    def article_custom_fields(self) -> dict[str, str]:
        """getCustomFieldLists: the custom fields the till defines for articles, fieldName -> dataType."""
        fields = _items(self.call("getCustomFieldLists"), "articleCustomFieldList", "customField")
        return {str(f.get("fieldName")): str(f.get("dataType") or "DATA-TYPE-STRING") for f in fields}

    # --- products and articles ---------------------------------------------------------------
    def iter_products(self, since_marker: int = 0, page_size: int = 500, *, only_active: bool | None = None,
                      only_webshop: bool | None = None) -> Iterator[dict]:  # fmt: skip
        """getProducts paged by syncMarker; ``page_size`` counts articles (a big product still comes whole)."""

        def build(marker: int, limit: int) -> dict:
            req = {"pluNumbers": text_list(()), "syncMarker": marker, "syncMarkerLimit": limit}
            if only_active is not None:
                req["onlyActive"] = only_active
            if only_webshop is not None:
                req["onlyWebshop"] = only_webshop
            return req

        return self._iter_by_marker("getProducts", build, ("productList", "product"), since_marker, page_size)

    def get_products(self, article_numbers: Iterable[int] = (), *, plu_numbers: Iterable[str] = (),
                     include_all_articles: bool = False) -> list[dict]:  # fmt: skip
        """getProducts filtered by article (or PLU) numbers, in chunks of 500; only matching articles unless
        ``include_all_articles``. A product is returned once even if several chunks hit it."""
        numbers, plus = list(dict.fromkeys(article_numbers)), list(dict.fromkeys(plu_numbers))
        found: dict[int, dict] = {}
        for start in range(0, max(len(numbers), len(plus), 1), LOOKUP_CHUNK):
            a, p = numbers[start : start + LOOKUP_CHUNK], plus[start : start + LOOKUP_CHUNK]
            if not a and not p:
                break
            req = {"articleNumbers": a, "pluNumbers": text_list(p)}
            if include_all_articles:
                req["includeAllArticlesOfSelectedProducts"] = True
            for product in _items(self.call("getProducts", request=req), "productList", "product"):
                known = found.get(product["productNumber"])
                if known is None:
                    found[product["productNumber"]] = product
                else:  # merge the articles a later chunk found
                    have = {x["articleNumber"] for x in known["articleList"]["article"]}
                    known["articleList"]["article"].extend(
                        x for x in product["articleList"]["article"] if x["articleNumber"] not in have
                    )
        return list(found.values())

    def get_articles(self, article_numbers: Iterable[int]) -> dict[int, dict]:
        """articleNumber -> article (with ``productNumber`` added) for the numbers that exist (getProducts)."""
        out = {}
        for product in self.get_products(article_numbers):
            for article in product.get("articleList", {}).get("article", []):
                out[article["articleNumber"]] = {**article, "productNumber": product["productNumber"]}
        return out

    def create_product(self, product: dict) -> dict:
        """createProduct (not idempotent): {productNumber, articleNumbers, syncMarker, changeTimestamp}."""
        reply = self.call("createProduct", idempotent=False, product=product)
        self._ok("createProduct", reply, "CREATE-PRODUCT-RESULT-OK", subject=product.get("productNumber") or "")
        return {k: reply.get(k) for k in ("productNumber", "articleNumbers", "syncMarker", "changeTimestamp")}

    def update_product(self, product: dict) -> dict:
        """updateProduct (partial; by productNumber): {existingArticleNumbers, newArticleNumbers, syncMarker}.

        Retried like a read when every article sent carries its articleNumber (then a repeat changes nothing
        more); an article without a number would be added again, so that case is not retried after sending."""
        articles = (product.get("articleList") or {}).get("article") or []
        safe = all(a.get("articleNumber") for a in articles)
        reply = self.call("updateProduct", idempotent=safe, product=product)
        self._ok("updateProduct", reply, "UPDATE-PRODUCT-RESULT-OK", subject=product.get("productNumber", ""))
        return {
            k: reply.get(k) for k in ("existingArticleNumbers", "newArticleNumbers", "syncMarker", "changeTimestamp")
        }

    def set_article_price_group_prices(self, product_number: int, article_number: int, prices: list[dict]) -> dict:
        """updateProduct with ``Article.priceGroupList`` (B2B prices, cents); the list replaces the stored one.

        ``prices``: ``[{"priceGroupNumber": 2, "priceExcl": 9000}, …]``."""
        return self.update_product({
            "productNumber": product_number,
            "articleList": {"article": [{"articleNumber": article_number, "priceGroupList": {"priceGroup": prices}}]},
        })  # fmt: skip

    # --- article groups ------------------------------------------------------------------------
    def article_groups(self) -> list[dict]:
        """getArticleGroups without a marker: the tree from the top (``subGroupList.articleGroups``)."""
        return _items(self.call("getArticleGroups", request={}), "articleGroupList", "articleGroups")

    def iter_article_groups(self, since_marker: int = 0, page_size: int = 500) -> Iterator[dict]:
        """getArticleGroups paged by syncMarker: changed groups flat, in marker order."""
        return self._iter_by_marker(
            "getArticleGroups", lambda m, n: {"syncMarker": m, "syncMarkerLimit": n},
            ("articleGroupList", "articleGroups"), since_marker, page_size,
        )  # fmt: skip

    def create_article_group(self, name: str, *, parent_group_number: int = 0, text: str = "",
                             sort_order: int | None = None) -> int:  # fmt: skip
        """newArticleGroup (not idempotent); the new groupNumber."""
        req = {"parentGroupNumber": parent_group_number, "name": name, "text": text}
        if sort_order is not None:
            req["sortOrder"] = sort_order
        reply = self.call("newArticleGroup", idempotent=False, request=req)
        return self._ok("newArticleGroup", reply, "NEW-ARTICLE-GROUP-RESULT-OK", subject=name)["groupNumber"]

    def update_article_group(self, group_number: int, **fields) -> None:
        """updateArticleGroup (by groupNumber; name, text, sortOrder, parentGroupNumber, imageId)."""
        reply = self.call("updateArticleGroup", request={"groupNumber": group_number, **fields})
        self._ok("updateArticleGroup", reply, "SAVE-ARTICLE-GROUP-RESULT-OK", subject=group_number)

    # --- relations ---------------------------------------------------------------------------
    def iter_relations(self, since_marker: int = 0, page_size: int = MAX_RELATION_PAGE) -> Iterator[dict]:
        """getRelations paged by syncMarker (the server sends at most 1000 per call)."""
        return self._iter_by_marker(
            "getRelations", lambda m, n: {"syncMarker": m, "syncMarkerLimit": n}, ("relationList", "relation"),
            since_marker, min(page_size, MAX_RELATION_PAGE),
        )  # fmt: skip

    def get_relation(self, relation_number: int) -> dict | None:
        """getRelation; None when not found."""
        reply = self.call("getRelation", relationNumber=relation_number)
        if reply.get("result") == "GET-RELATION-RESULT-NOT-FOUND":
            return None
        return self._ok("getRelation", reply, "GET-RELATION-RESULT-OK", subject=relation_number)["relation"]

    def find_relation(self, email: str | None = None, *, scan_on_partial: bool = True, **fields) -> dict | None:
        """findRelation, keeping only an *exact* match (strings compared trimmed and case-insensitively).

        findRelation matches partially and answers a single relation, so "jan@x.nl" may come back as
        "dejan@x.nl" while the exact one exists too. Then, with ``scan_on_partial``, all relations are paged
        (getRelations) and the exact match with the lowest number is returned: slower, but never a false
        "not found" that would make the caller create a duplicate."""
        probe = {**fields, **({"email": email} if email is not None else {})}
        probe = {k: v.strip() if isinstance(v, str) else v for k, v in probe.items()}
        if not probe:  # a wrong call (TypeError: a programmer's mistake)
            raise TypeError("find_relation needs at least one field")
        reply = self.call("findRelation", relation=probe)
        if reply.get("result") != "FIND-RELATION-RESULT-OK":
            return None
        found = reply.get("relation") or {}
        if all(_same(found.get(k), v) for k, v in probe.items()):
            return found
        if not scan_on_partial:
            return None
        return next((r for r in self.iter_relations() if all(_same(r.get(k), v) for k, v in probe.items())), None)

    def create_relation(self, relation: dict) -> dict:
        """createRelation (not idempotent): {relationNumber, syncMarker, changeTimestamp}."""
        reply = self.call("createRelation", idempotent=False, relation=relation)
        self._ok("createRelation", reply, "CREATE-RELATION-RESULT-OK", subject=relation.get("relationNumber") or "")
        return {k: reply.get(k) for k in ("relationNumber", "syncMarker", "changeTimestamp")}

    def update_relation(self, relation: dict) -> dict:
        """updateRelation (partial, by relationNumber; idempotent): {syncMarker, changeTimestamp}."""
        if not relation.get("relationNumber"):  # a wrong call (TypeError: a programmer's mistake)
            raise TypeError("update_relation needs relationNumber")
        reply = self.call("updateRelation", relation=relation)
        self._ok("updateRelation", reply, "UPDATE-RELATION-RESULT-OK", subject=relation["relationNumber"])
        return {k: reply.get(k) for k in ("syncMarker", "changeTimestamp")}

    def set_relation_pricing(self, relation_number: int, *, price_group_number: int | None = None,
                             discount_percentage: int | None = None) -> dict:  # fmt: skip
        """updateRelation with the relation's price group and/or blanket discount (whole percent)."""
        relation: dict[str, Any] = {"relationNumber": relation_number}
        if price_group_number is not None:
            relation["priceGroupNumber"] = price_group_number
        if discount_percentage is not None:
            relation["discountPercentage"] = discount_percentage
        return self.update_relation(relation)

    def set_relation_article_discounts(self, relation_number: int, discounts: list[dict]) -> dict:
        """updateRelation with ``relationArticleDiscountList`` (replaces the stored list whole).

        ``discounts``: ``[{"articleNumber": 1001, "discountPercentage": 10}, {"articleNumber": 1002,
        "priceIncl": 995}, …]`` (prices in cents)."""
        return self.update_relation({
            "relationNumber": relation_number,
            "relationArticleDiscountList": {"relationArticleDiscount": discounts},
        })  # fmt: skip

    # --- stock -------------------------------------------------------------------------------
    def get_stock(self, article_numbers: Iterable[int] | None = None, branch: int = 1, *,
                  since_stock_id: int | None = None) -> list[dict]:  # fmt: skip
        """getStock of one branch (all articles when ``article_numbers`` is None), in chunks of 500.

        Each row also gets ``free``, ``reserved`` and ``incoming`` as Decimals (from the mantissa pairs)."""
        numbers = None if article_numbers is None else list(dict.fromkeys(article_numbers))
        chunks = (
            [[]] if numbers is None else [numbers[i : i + LOOKUP_CHUNK] for i in range(0, len(numbers), LOOKUP_CHUNK)]
        )
        rows = []
        for chunk in chunks:
            req: dict[str, Any] = {"branchNumber": branch, "articleNumbers": {"articleNumbers": chunk}}
            if since_stock_id is not None:
                req["stockId"] = since_stock_id
            rows.extend(_items(self.call("getStock", request=req), "articleStocks"))
        for row in rows:
            row["free"] = quantity_of(row, "amountFree", "decimalPlacesFree")
            row["reserved"] = quantity_of(row, "amountReserved", "decimalPlacesReserved")
            row["incoming"] = quantity_of(row, "amountIncoming", "decimalPlacesIncoming")
        return rows

    def set_stock(self, article_number: int, branch: int, quantity: Decimal | int | str, *,
                  employee_number: int | None = None, reference: str | None = None) -> int:  # fmt: skip
        """setStock: absolute free stock (idempotent, retried); the new stockId."""
        req = {"branchNumber": branch, "articleNumber": article_number, **quantity_fields(quantity, "amount")}
        return self._stock("setStock", "SET-STOCK-RESULT-OK", req, employee_number, reference, idempotent=True)

    def update_stock(self, article_number: int, branch: int, delta: Decimal | int | str, *,
                     employee_number: int | None = None, reference: str | None = None) -> int:  # fmt: skip
        """updateStock: relative change (NOT idempotent: never blindly retried once sent); the new stockId."""
        req = {"branchNumber": branch, "articleNumber": article_number, **quantity_fields(delta, "amountChanged")}
        return self._stock("updateStock", "UPDATE-STOCK-RESULT-OK", req, employee_number, reference, idempotent=False)

    def _stock(self, operation, ok, req, employee_number, reference, *, idempotent) -> int:
        if employee_number is not None:
            req["employeeNumber"] = employee_number
        if reference is not None:
            req["reference"] = reference
        reply = self.call(operation, idempotent=idempotent, request=req)
        return self._ok(operation, reply, ok, subject=req["articleNumber"]).get("stockId")

    # --- orders ------------------------------------------------------------------------------
    def iter_orders(self, since_marker: int = 0, page_size: int = 200, *, include_lines: bool = True,
                    branch_numbers: Iterable[int] = (), order_types: Iterable[str] = ()) -> Iterator[dict]:  # fmt: skip
        """getOrders paged by syncMarker (sales order types unless ``order_types`` says otherwise)."""
        branches, types = list(branch_numbers), list(order_types)

        def build(marker: int, limit: int) -> dict:
            req: dict[str, Any] = {
                "syncMarker": marker, "syncMarkerLimit": limit, "branchNumbers": branches,
                "articlePluNumbers": text_list(()), "articleBarcodes": text_list(()), "includeLineList": include_lines,
            }  # fmt: skip
            if types:
                req["orderTypeList"] = {"orderType": types}
            return req

        return self._iter_by_marker("getOrders", build, ("orderList", "order"), since_marker, page_size)

    def iter_receipts(self, since_marker: int = 0, page_size: int = 200, *,
                      branch_numbers: Iterable[int] = ()) -> Iterator[dict]:  # fmt: skip
        """getReceipts paged by syncMarker (till tickets, credit receipts and cash in/out)."""
        branches = list(branch_numbers)

        def build(marker: int, limit: int) -> dict:
            return {"syncMarker": marker, "syncMarkerLimit": limit, "branchNumbers": branches,
                    "articlePluNumbers": text_list(()), "articleBarcodes": text_list(()),
                    "includeOrderReferences": True}  # fmt: skip

        return self._iter_by_marker("getReceipts", build, ("receiptList", "receipt"), since_marker, page_size)

    def get_receipt(self, receipt_id: str) -> dict | None:
        reply = self.call("getReceipt", receiptId=receipt_id)
        return reply.get("receipt") if reply.get("result") == "GET-RECEIPT-RESULT-OK" else None

    def iter_invoices(self, since_marker: int = 0, page_size: int = 200, *,
                      branch_numbers: Iterable[int] = ()) -> Iterator[dict]:  # fmt: skip
        """getInvoices paged by syncMarker, with their lines."""
        branches = list(branch_numbers)

        def build(marker: int, limit: int) -> dict:
            return {"syncMarker": marker, "syncMarkerLimit": limit, "branchNumbers": branches,
                    "articlePluNumbers": text_list(()), "articleBarcodes": text_list(()), "includeLineList": True}

        return self._iter_by_marker("getInvoices", build, ("invoiceList", "invoice"), since_marker, page_size)

    def get_invoice(self, invoice_id: str) -> dict | None:
        reply = self.call("getInvoice", invoiceId=invoice_id)
        return reply.get("invoice") if reply.get("result") == "GET-INVOICE-RESULT-OK" else None

    def find_invoice(self, ext_invoice_id: str) -> dict | None:
        reply = self.call("findInvoice", extInvoiceId=ext_invoice_id)
        return reply.get("invoice") if reply.get("result") == "GET-INVOICE-RESULT-OK" else None

    def cash_counts(self, since: date | None = None, through: date | None = None) -> list[dict]:
        """getCashCountList: the till closings with a financial date in [since, through] (both optional)."""
        req: dict[str, Any] = {}
        if since is not None:
            req["fromFinancialDate"] = since
        if through is not None:
            req["throughFinancialDate"] = through
        return _items(self.call("getCashCountList", request=req), "cashCountList", "cashCount")

    def sales_between(self, kind: str, since: date, through: date, limit: int = 50) -> list[dict]:
        """The first ``limit`` orders, receipts or invoices (``kind``) with a financial date in [since, through],
        without their lines (orders and invoices; a receipt has them anyway): a look at what the till holds."""
        operation, path, extra = _SALES[kind]
        request = {"syncMarker": 0, "syncMarkerLimit": limit, "fromFinancialDate": since, "throughFinancialDate": through,
                   "branchNumbers": [], "articlePluNumbers": text_list(()), "articleBarcodes": text_list(()), **extra}  # fmt: skip
        return _items(self.call(operation, request=request), *path)

    def receipts_by_cash_count(self, cash_count_id: str) -> list[dict] | None:
        """getReceiptsByCashCount: the receipts a closing counted; None when the closing is not found."""
        reply = self.call("getReceiptsByCashCount", request={"cashCountId": cash_count_id})
        if reply.get("result") != "GET-RECEIPTS-BY-CASH-COUNT-RESULT-OK":
            return None
        return _items(reply, "receiptList", "receipt")

    def get_order(self, order_id: str) -> dict | None:
        """getOrder; None when not found."""
        reply = self.call("getOrder", orderId=order_id)
        return reply.get("order") if reply.get("result") == "GET-ORDER-RESULT-OK" else None

    def find_order(self, ext_order_id: str) -> dict | None:
        """findOrder by extOrderId (exact); None when not found."""
        reply = self.call("findOrder", extOrderId=ext_order_id)
        return reply.get("order") if reply.get("result") == "GET-ORDER-RESULT-OK" else None

    def create_order(self, order: dict, idempotency_key: str | None, *, payments: list[dict] | None = None,
                     apply_price_groups: bool | None = None) -> dict:  # fmt: skip
        """createOrderV3 with ``idempotency_key`` (retried safely: a replay returns the first answer), or the
        non-idempotent createOrder when the key is None.

        ``order`` is an Order dict; ``orderId`` '' is added, and a line quantity given as Decimal/str (units)
        becomes quantity + decimalPlaces. Returns {orderId, orderString, order, payResult, replayed}.
        A duplicate extOrderId raises AlreadyExistsError with ``existing_id`` = the existing orderId."""
        order = self._order_to_wire(order)
        if idempotency_key is None:
            reply = self.call("createOrder", idempotent=False, order=order)
            operation = "createOrder"
        else:
            req: dict[str, Any] = {"idempotencyKey": idempotency_key, "order": order}
            if payments:
                req["paymentList"] = {"payment": payments}
            if apply_price_groups is not None:
                req["applyPriceGroups"] = apply_price_groups
            reply = self.call("createOrderV3", request=req)
            operation = "createOrderV3"
        info = reply.get("info") or {}
        self._ok(operation, reply, "CREATE-ORDER-RESULT-OK", subject=order.get("extOrderId", ""),
                 existing_id=info.get("orderId") or None)  # fmt: skip
        return {
            "orderId": info.get("orderId"), "orderString": info.get("orderString"), "order": reply.get("order"),
            "payResult": reply.get("payResult"),
            "replayed": reply.get("idempotencyResult") == "IDEMPOTENCY-RESULT-REPLAY-RESPONSE",
        }  # fmt: skip

    @staticmethod
    def _order_to_wire(order: dict) -> dict:
        order = {"orderId": "", **order}  # required even on create (zeep: "Missing element orderId")
        lines = (order.get("lineList") or {}).get("line")
        if lines:
            fixed = []
            for line in lines:
                data = dict(line.get("data") or {})
                qty = data.get("quantity")
                if qty is not None and not isinstance(qty, int):
                    if "decimalPlaces" in data:  # a wrong call (TypeError: a programmer's mistake)
                        raise TypeError("give a line quantity either in units or as quantity + decimalPlaces")
                    data.update(quantity_fields(qty))
                fixed.append({**line, "data": data} if data else line)
            order["lineList"] = {**order["lineList"], "line": fixed}
        return order
