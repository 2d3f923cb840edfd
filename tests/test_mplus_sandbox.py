"""The MplusKASSA SOAP sandbox, driven over real sockets by a zeep client built from the bundled WSDL.

Every reply zeep receives is checked against the WSDL's own schema (lxml
XMLSchema of the inline <types>), independently of the sandbox's own check.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
import requests
from lxml import etree
from zeep import Plugin
from zeep.exceptions import Fault, TransportError

from apicenter_sandbox import world as world_mod
from apicenter_sandbox.http import SandboxServer
from apicenter_sandbox.mplus import SHIPPING_ARTICLE_NUMBER, MplusSandbox
from apicenter_sandbox.mplus.values import AMSTERDAM
from apicenter_sync.mplus_wsdl import (
    MPLUS_NS,
    SOAP_ENV_NS,
    OfflineTransport,
    bind_service,
    make_client,
    schema_root,
    wsdl_bytes,
)

CREDS = "ident=sandbox&secret=sandbox-secret"
PINNED_NOW = datetime(2026, 3, 2, 14, 30, 0, tzinfo=AMSTERDAM)


class SchemaCheck(Plugin):
    """Validates every non-fault reply body element against the WSDL schema."""

    def __init__(self):
        self.schema = etree.XMLSchema(etree.ElementTree(schema_root()))
        self.checked: list[str] = []

    def ingress(self, envelope, http_headers, operation):
        body = envelope.find(f"{{{SOAP_ENV_NS}}}Body")
        element = next(c for c in body if isinstance(c.tag, str))
        if element.tag != f"{{{SOAP_ENV_NS}}}Fault":
            assert self.schema.validate(element), f"{element.tag} violates the WSDL: {self.schema.error_log}"
            self.checked.append(etree.QName(element).localname)
        return envelope, http_headers


@pytest.fixture(scope="module")
def world():
    return world_mod.generate(200)


@pytest.fixture(scope="module")
def server(world):
    app = MplusSandbox(world)
    app.clock = lambda: PINNED_NOW
    with SandboxServer(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def schema_check():
    return SchemaCheck()


@pytest.fixture(scope="module")
def mplus(server, schema_check):
    client = make_client(OfflineTransport(timeout=5, operation_timeout=5))
    client.plugins.append(schema_check)
    return bind_service(client, f"{server.url}/?{CREDS}")


@pytest.fixture(autouse=True)
def fresh(server):
    """Every test starts from the seeded state, without faults and with empty stats."""
    httpx.post(f"{server.url}/_sandbox/reset").raise_for_status()


@pytest.fixture
def app(server) -> MplusSandbox:
    return server.app


def set_faults(server, **cfg):
    httpx.post(f"{server.url}/_sandbox/faults", json=cfg).raise_for_status()


def stats(server) -> dict:
    return httpx.get(f"{server.url}/_sandbox/stats").json()


def raw(server, inner: str, query: str = CREDS) -> httpx.Response:
    body = (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:ns1="{MPLUS_NS}">'
        f"<SOAP-ENV:Body>{inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    return httpx.post(f"{server.url}/?{query}", content=body.encode(), headers={"Content-Type": "text/xml"})


def fault_of(resp: httpx.Response) -> tuple[str, str]:
    root = etree.fromstring(resp.content)
    fault = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{SOAP_ENV_NS}}}Fault")
    assert fault is not None, resp.text
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def in_mplus(world):
    return [a for a in world.articles if a.in_mplus]


def products(mplus, **request) -> list:
    # zeep unwraps GetProductsResponse/productList/product, and gives None for an empty list.
    return mplus.getProducts(request={"pluNumbers": {}, **request}) or []


def articles_of(product_list) -> list:
    return [a for p in product_list for a in p.articleList.article]


def cents(amount: Decimal) -> int:
    return int(amount * 100)


# --- offline WSDL helper ---------------------------------------------------------------------


def test_offline_transport_serves_the_stub_and_refuses_the_network():
    transport = OfflineTransport()
    assert b'name="base64"' in transport.load("http://schemas.xmlsoap.org/soap/encoding/")
    with pytest.raises(TransportError):
        transport.load("http://example.com/other.xsd")
    client = make_client()
    assert len(client.wsdl.bindings["{urn:mplusqapi}MplusQapi"]._operations) == 374


# --- transport, WSDL, authentication, faults --------------------------------------------------


def test_wsdl_is_served_with_the_sandbox_address(server):
    for key in ("wsdl", "WSDL"):
        resp = httpx.get(f"{server.url}/?{key}")
        assert resp.status_code == 200
        assert f'location="{server.url}/"'.encode() in resp.content
        assert b"127.0.0.1:18083" not in resp.content
        assert resp.content.replace(f"{server.url}/".encode(), b"http://127.0.0.1:18083/") == wsdl_bytes()


def test_plain_get_is_405(server):
    resp = httpx.get(f"{server.url}/")
    assert resp.status_code == 405
    assert resp.headers["allow"] == "POST"


@pytest.mark.parametrize("query", ["ident=sandbox&secret=wrong", "ident=other&secret=sandbox-secret", ""])
def test_wrong_or_missing_credentials_fault(server, query):
    resp = raw(server, "<ns1:getApiVersion/>", query=query)
    assert resp.status_code == 500
    code, message = fault_of(resp)
    assert code == "SOAP-ENV:Client.Authentication"
    assert "Authentication" in message


def test_wrong_credentials_seen_by_zeep(server):
    service = bind_service(make_client(), f"{server.url}/?ident=sandbox&secret=nope")
    with pytest.raises(Fault) as err:
        service.getApiVersion()
    assert err.value.code == "SOAP-ENV:Client.Authentication"


def test_unimplemented_operation_is_a_server_fault(mplus):
    with pytest.raises(Fault) as err:
        mplus.getProposal(proposalId="00000000-0000-0000-0000-000000000000")
    assert err.value.code == "SOAP-ENV:Server"
    assert err.value.message == "getProposal is not implemented in sandbox"


def test_unknown_body_element_is_a_client_fault(server):
    resp = raw(server, "<ns1:stealAllTheMoney/>")
    assert resp.status_code == 500
    code, message = fault_of(resp)
    assert code == "SOAP-ENV:Client"
    assert "stealAllTheMoney" in message


def test_malformed_xml_is_a_client_fault(server):
    resp = httpx.post(
        f"{server.url}/?{CREDS}", content=b"<SOAP-ENV:Envelope><oops", headers={"Content-Type": "text/xml"}
    )
    assert resp.status_code == 500
    code, message = fault_of(resp)
    assert code == "SOAP-ENV:Client"
    assert "Malformed XML" in message


def test_entities_are_never_resolved(server):
    body = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:ns1="{MPLUS_NS}"><SOAP-ENV:Body>'
        "<ns1:findOrder><ns1:extOrderId>&e;</ns1:extOrderId></ns1:findOrder></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    resp = httpx.post(f"{server.url}/?{CREDS}", content=body.encode())
    assert b"root:" not in resp.content
    assert resp.status_code == 500
    assert fault_of(resp) == ("SOAP-ENV:Client", "A SOAP message must not contain a document type declaration")


def test_schema_invalid_request_names_the_problem(server):
    # getStock needs a branchNumber before articleNumbers.
    resp = raw(server, "<ns1:getStock><ns1:request><ns1:articleNumbers/></ns1:request></ns1:getStock>")
    assert resp.status_code == 500
    code, message = fault_of(resp)
    assert code == "SOAP-ENV:Client"
    assert "articleNumbers" in message and "branchNumber" in message


@pytest.mark.parametrize("number", ["AB-12", "9223372036854775808", "12.5"])
def test_article_numbers_must_be_64_bit_integers(server, app, number):
    resp = raw(
        server,
        "<ns1:createProduct><ns1:product><ns1:articleList><ns1:article>"
        f"<ns1:articleNumber>{number}</ns1:articleNumber><ns1:description>x</ns1:description>"
        "</ns1:article></ns1:articleList></ns1:product></ns1:createProduct>",
    )
    assert resp.status_code == 500
    code, message = fault_of(resp)
    assert code == "SOAP-ENV:Client"
    assert "articleNumber" in message and number in message
    assert app.store.markers["article"] == len(app.store.products)  # nothing was written


def test_replies_use_gsoap_prefixes_and_version_header(server):
    resp = raw(server, "<ns1:getApiVersion/>")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/xml")
    assert resp.headers["mplus-service-version"] == "67.1.3"
    assert b"<SOAP-ENV:Envelope" in resp.content and b"<ns:getApiVersionResponse>" in resp.content


def test_soapaction_is_ignored(server):
    resp = httpx.post(
        f"{server.url}/?{CREDS}",
        content=(
            f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:ns1="{MPLUS_NS}"><SOAP-ENV:Body>'
            "<ns1:getBranches/></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        ).encode(),
        headers={"SOAPAction": "getApiVersion"},
    )
    assert b"getBranchesResponse" in resp.content


def test_every_reply_is_checked_against_the_schema(mplus, schema_check):
    before = len(schema_check.checked)
    mplus.getBranches()
    mplus.getPaymentMethods()
    assert schema_check.checked[before:] == ["getBranchesResponse", "GetPaymentMethodsResponse"]


# --- fault injection --------------------------------------------------------------------------


def test_injected_reset_is_a_connection_error(server, mplus):
    set_faults(server, rate=1, kinds=["reset"], operations=["getApiVersion"], timeout_s=0.2)
    with pytest.raises(requests.exceptions.ConnectionError):
        mplus.getApiVersion()
    assert mplus.getBranches()  # other operations still answer
    assert stats(server)["faults_injected"] == {"reset": 1}


def test_injected_http503_is_a_fault_with_status_503(server, mplus):
    set_faults(server, rate=1, kinds=["http503"], operations=["getApiVersion"])
    with pytest.raises(Fault) as err:
        mplus.getApiVersion()
    assert err.value.code == "SOAP-ENV:Server"
    resp = raw(server, "<ns1:getApiVersion/>")
    assert resp.status_code == 503
    assert fault_of(resp)[0] == "SOAP-ENV:Server"


def test_injected_error200_is_a_fault_with_status_200(server, mplus):
    set_faults(server, rate=1, kinds=["error200"], operations=["getBranches"])
    resp = raw(server, "<ns1:getBranches/>")
    assert resp.status_code == 200
    assert fault_of(resp)[0] == "SOAP-ENV:Server"
    with pytest.raises(Fault):
        mplus.getBranches()


def test_lost_reply_on_create_relation_still_creates_it(server, mplus, app):
    set_faults(server, rate=1, kinds=["lost_reply"], operations=["createRelation"], timeout_s=0.2)
    with pytest.raises(requests.exceptions.ConnectionError):
        mplus.createRelation(relation={"name": "Verloren Antwoord", "email": "lost.reply@example.nl"})
    set_faults(server, rate=0)
    found = mplus.findRelation(relation={"email": "lost.reply@example.nl"})
    assert found.result == "FIND-RELATION-RESULT-OK"
    assert found.relation.name == "Verloren Antwoord"
    assert stats(server)["faults_injected"] == {"lost_reply_after_write": 1}


def test_expired_token_is_not_an_mplus_fault_kind(app):
    assert "expired_token" not in app.fault_kinds
    assert {"reset", "timeout", "http503", "error200", "lost_reply"} <= app.fault_kinds


# --- control endpoints ---------------------------------------------------------------------------


def test_stats_count_calls_writes_and_markers(server, mplus, world):
    mplus.getApiVersion()
    mplus.getApiVersion()
    mplus.createRelation(relation={"name": "Stats Test"})
    mplus.setStock(request={"branchNumber": 1, "articleNumber": int(in_mplus(world)[0].sku), "amount": 7})
    data = stats(server)
    assert data["calls"] == {"getApiVersion": 2, "createRelation": 1, "setStock": 1}
    assert data["writes"] == {"relation": 1, "stock": 1}
    assert data["total_calls"] == 4
    counts, markers = data["counts"], data["sync_markers"]
    assert counts["articles"] == len(in_mplus(world)) + 1  # + the shipping article
    assert counts["orders"] == len(world.orders)
    assert markers["relation"] == counts["relations"]  # seeded 1..n, then one create


def test_reset_restores_the_seeded_state(server, mplus, app):
    seeded_markers = dict(app.store.markers)
    seeded_relations = len(app.store.relations)
    number = mplus.createRelation(relation={"name": "Weg Na Reset"}).relationNumber
    assert app.store.markers["relation"] == seeded_markers["relation"] + 1
    assert httpx.post(f"{server.url}/_sandbox/reset").json() == {"reset": True}
    assert app.store.markers == seeded_markers
    assert len(app.store.relations) == seeded_relations
    assert stats(server)["total_calls"] == 0
    assert mplus.getRelation(relationNumber=number).result == "GET-RELATION-RESULT-NOT-FOUND"


# --- reference data ------------------------------------------------------------------------------


def test_api_version_and_sync_markers(mplus, app):
    version = mplus.getApiVersion()
    assert (version.majorNumber, version.minorNumber, version.revisionNumber) == (67, 1, 3)
    assert version.inDebugMode is False
    markers = mplus.getCurrentSyncMarkers()
    m = app.store.markers
    assert markers.articleSyncMarker == m["article"] == len(app.store.products)
    assert markers.relationSyncMarker == m["relation"]
    assert markers.orderSyncMarker == m["order"]
    assert markers.employeeSyncMarker == m["employee"]
    assert markers.articleGroupSyncMarker == m["articleGroup"]
    assert markers.stockId == m["stock"] == len(app.store.stock)


def test_branches_from_warehouses(mplus, world):
    branches = mplus.getBranches()
    assert [(b.branchNumber, b.branchName, b.abbreviation) for b in branches] == [
        (w.branch, w.name, w.code) for w in world.warehouses
    ]
    assert all(b.countryIso3 == "NLD" for b in branches)


def test_vat_groups_from_vat_codes(mplus, world):
    groups = mplus.getVatGroupList()
    per_branch = {(g.vatCode, g.vatPercentage) for g in groups if g.branchNumber == 1}
    assert per_branch == {(v.mplus_code, int(v.pct)) for v in world.vat_codes}
    assert {g.branchNumber for g in groups} == {w.branch for w in world.warehouses}


def test_employees_and_employee(mplus, world):
    employees = mplus.getEmployees()
    assert [(e.employeeNumber, e.name) for e in employees] == [(e.number, e.name) for e in world.employees]
    assert [e.syncMarker for e in employees] == sorted(e.syncMarker for e in employees)
    page = mplus.getEmployees(request={"syncMarker": 2, "syncMarkerLimit": 1})
    assert [e.syncMarker for e in page] == [2]
    found = mplus.getEmployee(employeeNumber=999999)
    assert found.result == "GET-EMPLOYEE-RESULT-OK" and found.employee.name == "Webshop / API"
    assert mplus.getEmployee(employeeNumber=4242).result == "GET-EMPLOYEE-RESULT-NOT-FOUND"


def test_price_groups_payment_and_delivery_methods(mplus, world):
    groups = {g.priceGroupNumber: g.description for g in mplus.getPriceGroupList()}
    assert groups[1] == "Standaard"
    assert {pl.mplus_price_group: pl.description for pl in world.price_lists}.items() <= groups.items()
    methods = mplus.getPaymentMethods()
    assert [m.method for m in methods] == [p.code for p in world.payment_methods]
    assert all(m.buttonText and isinstance(m.allowNegativeAmount, bool) for m in methods)
    delivery = mplus.getDeliveryMethods()
    assert [(d.deliveryMethod, d.description) for d in delivery] == [
        (d.code, d.description) for d in world.delivery_methods
    ]


# --- products -------------------------------------------------------------------------------------


def test_products_hold_the_tills_articles(mplus, world):
    everything = products(mplus)
    arts = {a.articleNumber: a for a in articles_of(everything)}
    assert set(arts) == {int(a.sku) for a in in_mplus(world)} | {SHIPPING_ARTICLE_NUMBER}
    sample = next(a for a in in_mplus(world) if a.ean and not a.model)
    got = arts[int(sample.sku)]
    assert got.priceIncl == cents(sample.price_incl)
    assert got.priceExcl == cents(sample.price_excl)
    assert got.barcode == sample.ean
    assert got.description == sample.description
    assert got.vatPercentage == (9 if sample.vat_code == "1" else 21)
    assert arts[int(world.edge["unicode_article"])].description == "Crème brûlée bakje — Ærø ™ 🍮"
    assert arts[int(world.edge["missing_sku"])].stockArticle is False
    assert not any(a.sku == world.edge["non_numeric_sku"] for a in in_mplus(world))


def test_variants_of_a_model_form_one_product(mplus, world):
    model = next(m for m in dict.fromkeys(a.model for a in in_mplus(world) if a.model)
                 if sum(a.model == m for a in in_mplus(world)) >= 2)  # fmt: skip
    skus = [int(a.sku) for a in in_mplus(world) if a.model == model]
    found = products(mplus, articleNumbers=[skus[0]], includeAllArticlesOfSelectedProducts=True)
    assert len(found) == 1
    assert [a.articleNumber for a in found[0].articleList.article] == skus
    only_hit = products(mplus, articleNumbers=[skus[0]])
    assert [a.articleNumber for a in only_hit[0].articleList.article] == [skus[0]]


def test_product_paging_counts_articles_and_keeps_products_whole(mplus, app):
    seen, marker, pages = [], 0, 0
    while True:
        page = products(mplus, syncMarker=marker, syncMarkerLimit=5)
        if not page:
            break
        pages += 1
        markers = [p.syncMarker for p in page]
        assert markers == sorted(markers) and markers[0] >= marker
        n_articles = len(articles_of(page))
        assert n_articles <= 5 or len(page) == 1
        seen.extend(a.articleNumber for a in articles_of(page))
        marker = markers[-1] + 1
    assert sorted(seen) == sorted(app.store.article_product)
    assert len(seen) == len(set(seen))
    assert pages >= len(seen) // 5


def test_first_product_comes_whole_even_above_the_limit(mplus, app):
    multi = next(p for p in app.store.products.values() if len(p["articleList"]["article"]) >= 2)
    page = products(mplus, syncMarker=multi["syncMarker"], syncMarkerLimit=1)
    assert len(page) == 1
    assert page[0].productNumber == multi["productNumber"]
    assert len(page[0].articleList.article) == len(multi["articleList"]["article"])


def test_sync_marker_is_an_inclusive_lower_bound(mplus, app):
    last = app.store.markers["article"]
    page = products(mplus, syncMarker=last)
    assert [p.syncMarker for p in page] == [last]
    assert products(mplus, syncMarker=last + 1) == []


def test_create_product_assigns_markers_and_completes_prices(mplus, app):
    before = app.store.markers["article"]
    reply = mplus.createProduct(product={
        "description": "Koffiemok sandbox",
        "articleList": {"article": [
            {"articleNumber": 880001, "description": "Mok rood", "vatCode": 2, "priceIncl": 1210, "barcode": "8712345678906"},
            {"description": "Mok blauw", "vatCode": 1, "priceExcl": 1000},
        ]},
        "groupNumbers": [100],
    })  # fmt: skip
    assert reply.result == "CREATE-PRODUCT-RESULT-OK", reply.errorMessage
    assert reply.syncMarker == before + 1
    assert reply.articleNumbers[0] == 880001 and len(reply.articleNumbers) == 2
    assert reply.changeTimestamp.year == 2026 and reply.changeTimestamp.timezone == 60
    page = products(mplus, syncMarker=before + 1)
    assert [p.productNumber for p in page] == [reply.productNumber]
    red, blue = page[0].articleList.article
    assert (red.priceIncl, red.priceExcl, red.vatPercentage) == (1210, 1000, 21)
    assert (blue.priceIncl, blue.priceExcl, blue.vatPercentage) == (1090, 1000, 9)
    assert blue.articleNumber == reply.articleNumbers[1] and blue.syncMarker == before + 1
    assert page[0].groupNumbers == [100]


def test_create_product_rejections(mplus, world):
    taken = int(in_mplus(world)[0].sku)
    dup = mplus.createProduct(product={"articleList": {"article": [{"articleNumber": taken, "description": "x"}]}})
    assert dup.result == "CREATE-PRODUCT-RESULT-FAILED-ARTICLE-NUMBER-ALREADY-TAKEN"
    assert str(taken) in dup.errorMessage
    same = mplus.createProduct(product={"productNumber": 1, "articleList": {"article": [{"description": "x"}]}})
    assert same.result == "CREATE-PRODUCT-RESULT-FAILED-PRODUCT-NUMBER-ALREADY-TAKEN"
    empty = mplus.createProduct(product={"description": "no articles"})
    assert empty.result == "CREATE-PRODUCT-RESULT-FAILED"
    bad_vat = mplus.createProduct(product={"articleList": {"article": [{"description": "x", "vatCode": 77}]}})
    assert bad_vat.result == "CREATE-PRODUCT-RESULT-FAILED" and "vatCode" in bad_vat.errorMessage


def test_update_product_is_partial_and_bumps_the_marker(mplus, app, world):
    art = next(a for a in in_mplus(world) if not a.model)
    number = int(art.sku)
    product_number = app.store.article_product[number]
    before = app.store.markers["article"]
    reply = mplus.updateProduct(product={
        "productNumber": product_number,
        "articleList": {"article": [
            {"articleNumber": number, "priceIncl": 12100,
             "priceGroupList": {"priceGroup": [{"priceGroupNumber": 2, "priceExcl": 9000}]}},
            {"articleNumber": 880002, "description": "Nieuwe variant", "vatCode": 2, "priceIncl": 500},
        ]},
    })  # fmt: skip
    assert reply.result == "UPDATE-PRODUCT-RESULT-OK", reply.errorMessage
    assert reply.existingArticleNumbers == [number] and reply.newArticleNumbers == [880002]
    assert reply.syncMarker == before + 1
    page = products(mplus, syncMarker=before + 1)
    assert [p.productNumber for p in page] == [product_number]
    got = {a.articleNumber: a for a in page[0].articleList.article}
    assert got[number].description == art.description  # omitted: kept
    assert got[number].priceIncl == 12100
    assert got[number].priceExcl == round(Decimal(12100) * 100 / (100 + got[number].vatPercentage))
    assert got[number].priceGroupList.priceGroup[0].priceExcl == 9000
    assert got[880002].priceExcl == 413
    assert app.store.article_product[880002] == product_number


def test_update_product_rejections(mplus, world, app):
    assert mplus.updateProduct(product={"productNumber": 987654}).result == "UPDATE-PRODUCT-RESULT-NOT-FOUND"
    a, b = [int(x.sku) for x in in_mplus(world) if not x.model][:2]
    reply = mplus.updateProduct(product={
        "productNumber": app.store.article_product[a], "articleList": {"article": [{"articleNumber": b}]},
    })  # fmt: skip
    assert reply.result == "UPDATE-PRODUCT-RESULT-FAILED-ARTICLE-NUMBER-ALREADY-TAKEN"
    bad_group = mplus.updateProduct(product={
        "productNumber": app.store.article_product[a],
        "articleList": {"article": [{"articleNumber": a, "priceGroupList": {"priceGroup": [{"priceGroupNumber": 99}]}}]},
    })  # fmt: skip
    assert bad_group.result == "UPDATE-PRODUCT-RESULT-FAILED"


# --- article groups ---------------------------------------------------------------------------


def test_article_groups_tree_and_writes(mplus, world, app):
    tree = mplus.getArticleGroups(request={})
    assert [(g.groupNumber, g.name) for g in tree] == [(g.mplus_number, g.description) for g in world.groups]
    before = app.store.markers["articleGroup"]
    parent = world.groups[0].mplus_number
    new = mplus.newArticleGroup(request={"parentGroupNumber": parent, "name": "Sub", "text": "Subgroep"})
    assert new.result == "NEW-ARTICLE-GROUP-RESULT-OK"
    missing = mplus.newArticleGroup(request={"parentGroupNumber": 4444, "name": "x", "text": "x"})
    assert missing.result == "NEW-ARTICLE-GROUP-RESULT-PARENT-NOTFOUND"
    tree = mplus.getArticleGroups(request={"groupNumbers": [parent]})
    assert [g.groupNumber for g in tree[0].subGroupList.articleGroups] == [new.groupNumber]
    upd = mplus.updateArticleGroup(request={"groupNumber": parent, "name": "Hernoemd"})
    assert upd == "SAVE-ARTICLE-GROUP-RESULT-OK"
    assert mplus.updateArticleGroup(request={"groupNumber": 4444}) == "SAVE-ARTICLE-GROUP-RESULT-NOT-FOUND"
    cycle = mplus.updateArticleGroup(request={"groupNumber": parent, "parentGroupNumber": new.groupNumber})
    assert cycle == "SAVE-ARTICLE-GROUP-RESULT-FAILED"
    changed = mplus.getArticleGroups(request={"syncMarker": before + 1})
    assert [(g.groupNumber, g.syncMarker) for g in changed] == [(new.groupNumber, before + 1), (parent, before + 2)]
    assert changed[1].name == "Hernoemd" and changed[1].text == world.groups[0].description


def test_article_groups_with_members(mplus, app):
    group = next(iter(app.store.article_groups))
    tree = mplus.getArticleGroups(request={"groupNumbers": [group], "retrieveArticleNumbers": True})
    expected = [p["productNumber"] for p in app.store.products.values() if group in p["groupNumbers"]]
    assert tree[0].productNumbers.number == expected


# --- relations ---------------------------------------------------------------------------------


def test_relations_seeded_from_customers(server, mplus, world, app):
    numbered = {c.number for c in world.customers if c.in_mplus} | {o.customer for o in world.orders if o.customer}
    assert len(app.store.relations) == len(numbered)
    cust = next(c for c in world.customers if c.in_mplus and c.company and c.price_list)
    rel = mplus.getRelation(relationNumber=cust.mplus_relation)
    assert rel.result == "GET-RELATION-RESULT-OK"
    assert (rel.relation.name, rel.relation.email, rel.relation.zipcode) == (
        cust.company,
        cust.email,
        cust.address.postcode,
    )
    assert rel.relation.priceGroupNumber == {pl.code: pl.mplus_price_group for pl in world.price_lists}[cust.price_list]
    missing = raw(server, "<ns1:getRelation><ns1:relationNumber>999999</ns1:relationNumber></ns1:getRelation>")
    assert b"<ns:result>GET-RELATION-RESULT-NOT-FOUND</ns:result><ns:relation/>" in missing.content


def test_relation_paging_by_marker(mplus, app):
    seen, marker = [], 0
    while page := mplus.getRelations(request={"syncMarker": marker, "syncMarkerLimit": 7}):
        assert len(page) <= 7
        seen.extend(r.relationNumber for r in page)
        marker = page[-1].syncMarker + 1
    assert sorted(seen) == sorted(app.store.relations)
    picked = mplus.getRelations(request={"relationNumbers": [1, 2]})
    assert [r.relationNumber for r in picked] == [1, 2]


def test_find_relation_is_partial_and_case_insensitive(mplus, world):
    cust = next(c for c in world.customers if c.in_mplus and c.email)
    found = mplus.findRelation(relation={"email": cust.email.upper()})
    assert found.result == "FIND-RELATION-RESULT-OK" and found.relation.relationNumber == cust.mplus_relation
    part = mplus.findRelation(relation={"email": cust.email.split("@")[0][:-1], "city": cust.address.city.lower()})
    assert part.result == "FIND-RELATION-RESULT-OK"
    assert mplus.findRelation(relation={"email": "nobody@nowhere.test"}).result == "FIND-RELATION-RESULT-NOT-FOUND"


def test_create_and_update_relation(mplus, app):
    before = app.store.markers["relation"]
    created = mplus.createRelation(relation={"name": "Nieuwe Klant", "email": "nieuw@example.nl", "city": "Zwolle"})
    assert created.result == "CREATE-RELATION-RESULT-OK"
    assert created.relationNumber == max(n for n in app.store.relations if n != created.relationNumber) + 1
    assert created.syncMarker == before + 1
    taken = mplus.createRelation(relation={"relationNumber": created.relationNumber, "name": "Dubbel"})
    assert taken.result == "CREATE-RELATION-RESULT-FAILED-RELATION-NUMBER-ALREADY-TAKEN"
    upd = mplus.updateRelation(relation={"relationNumber": created.relationNumber, "priceGroupNumber": 3,
                                         "discountPercentage": 5, "relationArticleDiscountList": {
                                             "relationArticleDiscount": [{"articleDiscountGroupNumber": 1,
                                                                          "discountPercentage": 10}]}})  # fmt: skip
    assert upd.result == "UPDATE-RELATION-RESULT-OK" and upd.syncMarker == before + 2
    rel = mplus.getRelation(relationNumber=created.relationNumber).relation
    assert (rel.priceGroupNumber, rel.discountPercentage, rel.city, rel.email) == (3, 5, "Zwolle", "nieuw@example.nl")
    assert rel.relationArticleDiscountList.relationArticleDiscount[0].discountPercentage == 10
    changed = mplus.getRelations(request={"syncMarker": before + 1})
    assert [r.relationNumber for r in changed] == [created.relationNumber]
    bad = mplus.updateRelation(relation={"relationNumber": created.relationNumber, "priceGroupNumber": 42})
    assert bad.result == "UPDATE-RELATION-RESULT-FAILED" and "42" in bad.errorMessage
    assert mplus.updateRelation(relation={"relationNumber": 77777}).result == "UPDATE-RELATION-RESULT-NOT-FOUND"


def test_concurrent_creates_get_distinct_numbers(server, app):
    numbers, errors = [], []

    def create(i):
        body = (
            f"<ns1:createRelation><ns1:relation><ns1:name>Parallel {i}</ns1:name></ns1:relation></ns1:createRelation>"
        )
        try:
            resp = raw(server, body)
            numbers.append(int(etree.fromstring(resp.content).findtext(f".//{{{MPLUS_NS}}}relationNumber")))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(numbers)) == 8
    markers = sorted(app.store.relations[n]["syncMarker"] for n in numbers)
    assert markers == list(range(markers[0], markers[0] + 8))


# --- stock -------------------------------------------------------------------------------------


def test_stock_rows_from_the_world(mplus, world):
    edge = [int(world.edge[k]) for k in ("zero_stock", "negative_stock", "fractional_stock")]
    rows = mplus.getStock(request={"branchNumber": 1, "articleNumbers": {"articleNumbers": edge}})
    by_article = {r.articleNumber: r for r in rows}
    assert (by_article[edge[0]].amountFree, by_article[edge[0]].decimalPlacesFree) == (0, 0)
    assert (by_article[edge[1]].amountFree, by_article[edge[1]].decimalPlacesFree) == (-3, 0)
    assert (by_article[edge[2]].amountFree, by_article[edge[2]].decimalPlacesFree) == (125, 1)
    art = next(a for a in world.articles if a.sku == world.edge["fractional_stock"])
    assert by_article[edge[2]].amountReserved == int(art.stock[0].reserved)
    assert all(r.branchNumber == 1 and r.decimalPlacesReserved == 0 for r in rows)
    everything = mplus.getStock(request={"branchNumber": 2, "articleNumbers": {}})
    assert len(everything) == sum(1 for a in in_mplus(world) if a.stock)
    assert [r.stockId for r in everything] == sorted(r.stockId for r in everything)


def test_set_and_update_stock(mplus, world, app):
    number = int(world.edge["zero_stock"])
    before = app.store.markers["stock"]
    r1 = mplus.setStock(request={"branchNumber": 2, "articleNumber": number, "amount": 40, "reference": "telling"})
    assert (r1.result, r1.stockId) == ("SET-STOCK-RESULT-OK", before + 1)
    r2 = mplus.updateStock(
        request={"branchNumber": 2, "articleNumber": number, "amountChanged": -25, "decimalPlaces": 1}
    )
    assert (r2.result, r2.stockId) == ("UPDATE-STOCK-RESULT-OK", before + 2)
    changed = mplus.getStock(request={"branchNumber": 2, "articleNumbers": {}, "stockId": before + 1})
    assert [(r.articleNumber, r.stockId, r.amountFree, r.decimalPlacesFree) for r in changed] == [
        (number, before + 2, 375, 1)
    ]
    assert [h["reference"] for h in app.store.stock_history] == ["telling", None]


def test_stock_result_enums(mplus, world):
    number = int(in_mplus(world)[0].sku)
    assert mplus.setStock(request={"branchNumber": 9, "articleNumber": number, "amount": 1}).result == (
        "SET-STOCK-RESULT-BRANCH-NOT-FOUND"
    )
    assert mplus.setStock(request={"branchNumber": 1, "articleNumber": 1, "amount": 1}).result == (
        "SET-STOCK-RESULT-ARTICLE-NOT-FOUND"
    )
    gift = int(world.edge["missing_sku"])
    assert mplus.updateStock(request={"branchNumber": 1, "articleNumber": gift, "amountChanged": 1}).result == (
        "UPDATE-STOCK-RESULT-NO-STOCK-ARTICLE"
    )


# --- orders ------------------------------------------------------------------------------------


def order_request(**extra):
    return {"articlePluNumbers": {}, "articleBarcodes": {}, **extra}


def test_orders_seeded_from_the_world(mplus, world):
    orders = mplus.getOrders(request=order_request())
    assert [o.extOrderId for o in orders] == [o.ext_order_id for o in world.orders]
    by_ext = {o.extOrderId: o for o in orders}
    w = world.orders[4]
    got = by_ext[w.ext_order_id]
    assert uuid.UUID(got.orderId)
    assert got.totalInclAmount == cents(w.total_incl)
    assert sum(ln.data.totalInclAmount for ln in got.lineList.line) == got.totalInclAmount
    assert all(ln.data.decimalPlaces is not None for ln in got.lineList.line)
    assert got.orderNumber.year == 2026 and got.orderNumber.number == 5
    anonymous = by_ext[world.edge["order_anonymous"]]
    assert anonymous.relationNumber is None
    ret = by_ext[world.edge["order_with_return"]]
    assert any(ln.data.quantity < 0 for ln in ret.lineList.line)
    shipped = next(o for o in world.orders if o.shipping_cost_incl)
    ship_line = [ln for ln in by_ext[shipped.ext_order_id].lineList.line if ln.articleNumber == SHIPPING_ARTICLE_NUMBER]
    assert ship_line[0].data.price == cents(shipped.shipping_cost_incl)
    open_order = next(o for o in world.orders if o.status == "OPEN")
    assert by_ext[open_order.ext_order_id].completeState == "ORDER-COMPLETE-STATE-NOTHING"
    assert by_ext[world.orders[0].ext_order_id].deliveryState == "ORDER-DELIVERY-STATE-COMPLETE"
    assert by_ext[world.orders[0].ext_order_id].fullyPaid is True


def test_order_paging_and_filters(mplus, world):
    seen, marker = [], 0
    while page := mplus.getOrders(request=order_request(syncMarker=marker, syncMarkerLimit=6)):
        assert len(page) <= 6
        seen.extend(o.extOrderId for o in page)
        marker = page[-1].syncMarker + 1
    assert seen == [o.ext_order_id for o in world.orders]
    headers = mplus.getOrders(request=order_request(includeLineList=False, branchNumbers=[2]))
    assert headers and all(o.lineList is None and o.entryBranchNumber == 2 for o in headers)
    assert len(headers) == sum(1 for o in world.orders if o.branch == 2)


def test_get_and_find_order(mplus, world):
    ext = world.edge["order_missing_sku"]
    found = mplus.findOrder(extOrderId=ext)
    assert found.result == "GET-ORDER-RESULT-OK" and found.order.extOrderId == ext
    assert any(ln.articleNumber == int(world.edge["missing_sku"]) for ln in found.order.lineList.line)
    again = mplus.getOrder(orderId=found.order.orderId)
    assert again.result == "GET-ORDER-RESULT-OK" and again.order.extOrderId == ext
    assert mplus.getOrder(orderId="nope").result == "GET-ORDER-RESULT-NOT-FOUND"
    assert mplus.findOrder(extOrderId="nope").result == "GET-ORDER-RESULT-NOT-FOUND"


def new_order(world, ext: str, **extra) -> dict:
    art = in_mplus(world)[0]
    return {
        "orderId": "", "extOrderId": ext, "relationNumber": 1, "entryBranchNumber": 1, "employeeNumber": 999999,
        "lineList": {"line": [{"articleNumber": int(art.sku), "data": {"quantity": 25, "decimalPlaces": 1}}]},
        **extra,
    }  # fmt: skip


def test_create_order(mplus, world, app):
    before = app.store.markers["order"]
    reply = mplus.createOrder(order=new_order(world, "WEB-1001"))
    assert reply.result == "CREATE-ORDER-RESULT-OK", reply.errorMessage
    assert uuid.UUID(reply.info.orderId)
    stored = mplus.getOrder(orderId=reply.info.orderId).order
    art = in_mplus(world)[0]
    assert stored.syncMarker == before + 1
    assert (stored.orderNumber.year, stored.orderNumber.number) == (2026, len(world.orders) + 1)
    assert stored.totalInclAmount == int(cents(art.price_incl) * Decimal("2.5") + Decimal("0.5"))
    assert (stored.deliveryState, stored.cancelState, stored.completeState) == (
        "ORDER-DELIVERY-STATE-NOTHING", "ORDER-CANCEL-STATE-NOTHING", "ORDER-COMPLETE-STATE-NOTHING",
    )  # fmt: skip
    assert stored.relationName == app.store.relations[1]["name"]
    dup = mplus.createOrder(order=new_order(world, "WEB-1001"))
    assert dup.result == "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS"
    seeded = mplus.createOrder(order=new_order(world, world.orders[0].ext_order_id))
    assert seeded.result == "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS"
    assert app.store.markers["order"] == before + 1


def test_create_order_failures(mplus, world):
    no_relation = mplus.createOrder(order=new_order(world, "WEB-2001", relationNumber=None))
    assert no_relation.result == "CREATE-ORDER-RESULT-FAILED" and "relation" in no_relation.errorMessage
    bad_line = new_order(world, "WEB-2002", lineList={"line": [{"articleNumber": 31337}]})
    assert mplus.createOrder(order=bad_line).result == "CREATE-ORDER-RESULT-FAILED"
    bad_pay = new_order(world, "WEB-2003", paymentList={"payment": [{"method": "BITCOIN", "amount": 100}]})
    assert mplus.createOrder(order=bad_pay).result == "CREATE-ORDER-RESULT-PAYMENT-FAILED"
    assert mplus.findOrder(extOrderId="WEB-2001").result == "GET-ORDER-RESULT-NOT-FOUND"


def test_create_order_v3_replays_by_idempotency_key(server, mplus, world, app):
    request = {"idempotencyKey": "key-1", "order": new_order(world, "WEB-3001"),
               "paymentList": {"payment": [{"method": "IDEAL", "amount": 100000}]}}  # fmt: skip
    first = mplus.createOrderV3(request=request)
    assert first.idempotencyResult == "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE"
    assert first.result == "CREATE-ORDER-RESULT-OK" and first.payResult == "PAY-ORDER-RESULT-OK"
    assert first.order.fullyPaid is True and first.order.orderId == first.info.orderId
    replay = mplus.createOrderV3(request=request)
    assert replay.idempotencyResult == "IDEMPOTENCY-RESULT-REPLAY-RESPONSE"
    assert replay.info.orderId == first.info.orderId and replay.result == first.result
    assert stats(server)["writes"] == {"order": 1}
    other = mplus.createOrderV3(request={**request, "idempotencyKey": "key-2"})
    assert other.idempotencyResult == "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE"
    assert other.result == "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS"


def test_create_order_v3_survives_a_lost_reply(server, mplus, world):
    request = {"idempotencyKey": "lost-1", "order": new_order(world, "WEB-4001")}
    set_faults(server, rate=1, kinds=["lost_reply"], operations=["createOrderV3"], timeout_s=0.2)
    with pytest.raises(requests.exceptions.ConnectionError):
        mplus.createOrderV3(request=request)
    set_faults(server, rate=0)
    retry = mplus.createOrderV3(request=request)
    assert retry.idempotencyResult == "IDEMPOTENCY-RESULT-REPLAY-RESPONSE"
    assert retry.result == "CREATE-ORDER-RESULT-OK"
    assert mplus.findOrder(extOrderId="WEB-4001").order.orderId == retry.info.orderId


def test_product_and_group_filters(mplus, app):
    assert [p.productNumber for p in products(mplus, productNumbers=[2, 1])] == [1, 2]
    group = next(iter(app.store.article_groups))
    in_group = products(mplus, groupNumbers=[group])
    assert in_group and all(group in p.groupNumbers for p in in_group)
    assert len(in_group) == sum(group in p["groupNumbers"] for p in app.store.products.values())
    assert not products(mplus, productNumbers=[1], articleNumbers=[SHIPPING_ARTICLE_NUMBER])
