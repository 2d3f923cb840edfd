"""The MplusKASSA client over real sockets against the sandbox: every method, paging, errors, retries."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from zeep.helpers import serialize_object

from apicenter_sandbox import world as world_mod
from apicenter_sandbox.http import SandboxServer
from apicenter_sandbox.mplus import MplusSandbox
from apicenter_sync.clients import AlreadyExistsError, MplusClient, MplusResultError, NotFoundError, OutcomeUnknown
from apicenter_sync.clients import mplus as mplus_mod
from apicenter_sync.clients.mplus_values import AMSTERDAM, from_mplus_datetime, text_list, to_mplus_datetime
from apicenter_sync.errors import AuthError, PermanentError, RecordError, TransientError
from apicenter_sync.retry import NO_RETRY, RetryPolicy

IDENT, SECRET = "sandbox", "sandbox-secret"
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, jitter=0)


@pytest.fixture(scope="module")
def world():
    return world_mod.generate(200)


@pytest.fixture(scope="module")
def server(world):
    with SandboxServer(MplusSandbox(world, ident=IDENT, secret=SECRET)) as srv:
        yield srv


@pytest.fixture
def app(server) -> MplusSandbox:
    return server.app


@pytest.fixture(autouse=True)
def fresh(server):
    httpx.post(f"{server.url}/_sandbox/reset").raise_for_status()


@pytest.fixture
def retries():
    return []


@pytest.fixture
def client(server, retries):
    with MplusClient(server.url, IDENT, SECRET, timeout=(2, 2), retry=FAST, on_retry=lambda *a: retries.append(a)) as c:
        yield c


def set_faults(server, **cfg):
    httpx.post(f"{server.url}/_sandbox/faults", json=cfg).raise_for_status()


def writes(server) -> dict:
    return httpx.get(f"{server.url}/_sandbox/stats").json()["writes"]


def stock_article(world) -> int:
    return int(next(a for a in world.articles if a.in_mplus and a.stock and a.sku.isdigit()).sku)


def assert_no_secret(exc: BaseException, secret: str) -> None:
    seen = exc
    while seen is not None:
        assert secret not in str(seen) and secret not in repr(seen) and secret not in repr(seen.args)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


# --- reference data -------------------------------------------------------------------------------


def test_reference_data(client, app):
    version = client.api_version()
    assert version["version"] == "67.1.3" and version["inDebugMode"] is False
    markers = client.sync_markers()
    assert markers["articleSyncMarker"] == app.store.markers["article"]
    assert markers["stockId"] == app.store.markers["stock"]
    assert [b["branchNumber"] for b in client.branches()] == sorted(app.store.branches)
    assert {(g["vatCode"], g["vatPercentage"]) for g in client.vat_groups()} == set(app.store.vat_pct.items())
    assert [e["employeeNumber"] for e in client.employees()] == list(app.store.employees)
    assert [g["priceGroupNumber"] for g in client.price_groups()] == list(app.store.price_groups)
    assert [m["method"] for m in client.payment_methods()] == [m["method"] for m in app.store.payment_methods]
    assert [d["deliveryMethod"] for d in client.delivery_methods()] == [
        d["deliveryMethod"] for d in app.store.delivery_methods
    ]
    assert client.calls["getApiVersion"] == 1 and client.call_count == 8


# --- paging ----------------------------------------------------------------------------------------


def test_iter_products_returns_every_article_once(client, app):
    seen = [a["articleNumber"] for p in client.iter_products(page_size=7) for a in p["articleList"]["article"]]
    assert sorted(seen) == sorted(app.store.article_product) and len(seen) == len(set(seen))
    assert client.calls["getProducts"] >= len(seen) // 7 + 1  # one page at a time, then one empty page
    last = app.store.markers["article"]
    assert [p["syncMarker"] for p in client.iter_products(since_marker=last)] == [last]


def test_iter_relations_orders_and_groups_return_everything_once(client, app):
    relations = [r["relationNumber"] for r in client.iter_relations(page_size=9)]
    assert sorted(relations) == sorted(app.store.relations) and len(relations) == len(set(relations))
    orders = [o["orderId"] for o in client.iter_orders(page_size=4)]
    assert sorted(orders) == sorted(app.store.orders) and len(orders) == len(set(orders))
    assert client.calls["getOrders"] == -(-len(orders) // 4) + 1
    headers = list(client.iter_orders(page_size=50, include_lines=False, branch_numbers=[1]))
    assert headers and all("lineList" not in o for o in headers)
    groups = [g["groupNumber"] for g in client.iter_article_groups(page_size=3)]
    assert sorted(groups) == sorted(app.store.article_groups)


def test_reply_dicts_match_zeep(client, server):
    """The fast reader gives what zeep + serialize_object give, minus the None fields, dates as datetimes."""
    from apicenter_sync.mplus_wsdl import bind_service, make_client

    zeep_service = bind_service(make_client(), f"{server.url}/?ident={IDENT}&secret={SECRET}")

    def normal(value):
        if isinstance(value, dict):
            if set(value) == {"sec", "min", "hour", "day", "mon", "year", "isdst", "timezone"}:
                return from_mplus_datetime(value)
            if set(value) == {"day", "mon", "year"}:
                return date(value["year"], value["mon"], value["day"])
            return {k: normal(v) for k, v in value.items() if v is not None and v != []}
        if isinstance(value, list):
            return [normal(v) for v in value]
        return value

    request = {"pluNumbers": {}, "syncMarker": 0, "syncMarkerLimit": 30}
    theirs = normal(serialize_object(zeep_service.getProducts(request=request), dict))
    ours = client.call("getProducts", request=request)["productList"]["product"]
    assert ours == theirs
    order = next(client.iter_orders(page_size=1))
    assert normal(serialize_object(zeep_service.getOrder(orderId=order["orderId"]).order, dict)) == order


# --- products, groups ---------------------------------------------------------------------------------


def test_get_products_by_article_numbers_in_chunks(client, app, monkeypatch):
    monkeypatch.setattr(mplus_mod, "LOOKUP_CHUNK", 4)
    wanted = sorted(app.store.article_product)[:10] + [31337]
    products = client.get_products(wanted)
    got = sorted(a["articleNumber"] for p in products for a in p["articleList"]["article"])
    assert got == sorted(wanted[:10])
    assert client.calls["getProducts"] == 3
    articles = client.get_articles(wanted)
    assert set(articles) == set(wanted[:10])
    assert all(app.store.article_product[n] == a["productNumber"] for n, a in articles.items())
    assert client.get_products([]) == []


def test_create_and_update_product(client, app, server):
    created = client.create_product({
        "description": "Client mok",
        "articleList": {"article": [{"articleNumber": 880101, "description": "Mok", "vatCode": 2, "priceIncl": 1210}]},
    })  # fmt: skip
    assert created["articleNumbers"] == [880101] and created["syncMarker"] == app.store.markers["article"]
    assert created["changeTimestamp"].tzinfo is not None
    updated = client.update_product({
        "productNumber": created["productNumber"],
        "articleList": {"article": [{"articleNumber": 880101, "priceIncl": 1452}]},
    })  # fmt: skip
    assert updated["existingArticleNumbers"] == [880101]
    client.set_article_price_group_prices(created["productNumber"], 880101, [{"priceGroupNumber": 2, "priceExcl": 900}])
    article = app.store.article(880101)
    assert article["priceIncl"] == 1452 and article["priceGroupList"]["priceGroup"][0]["priceExcl"] == 900
    with pytest.raises(AlreadyExistsError) as err:
        client.create_product({"articleList": {"article": [{"articleNumber": 880101, "description": "x"}]}})
    assert err.value.result == "CREATE-PRODUCT-RESULT-FAILED-ARTICLE-NUMBER-ALREADY-TAKEN"
    assert isinstance(err.value, RecordError) and "880101" in str(err.value)
    with pytest.raises(NotFoundError) as missing:
        client.update_product({"productNumber": 987654})
    # The result enum and the server's message are its own words; what the client adds is in the reader's language.
    assert missing.value.message.key == "clients.result_for_because"
    assert missing.value.text().render("nl") == (
        "mplus updateProduct: UPDATE-PRODUCT-RESULT-NOT-FOUND voor 987654: product 987654 not found")
    with pytest.raises(MplusResultError) as err:
        client.create_product({"articleList": {"article": [{"description": "x", "vatCode": 77}]}})
    assert "vatCode" in err.value.server_message


def test_article_groups(client, app):
    tree = client.article_groups()
    assert {g["groupNumber"] for g in tree} == {g for g, parent in app.store.group_parent.items() if parent == 0}
    number = client.create_article_group("Client groep", parent_group_number=tree[0]["groupNumber"], sort_order=5)
    assert app.store.group_parent[number] == tree[0]["groupNumber"]
    client.update_article_group(number, name="Hernoemd")
    assert app.store.article_groups[number]["name"] == "Hernoemd"
    with pytest.raises(NotFoundError):
        client.update_article_group(424242, name="x")
    with pytest.raises(MplusResultError, match="PARENT-NOTFOUND"):
        client.create_article_group("Wees", parent_group_number=424242)


# --- relations ----------------------------------------------------------------------------------


def test_relation_crud_and_pricing(client, app, world):
    created = client.create_relation({"name": "Client Test BV", "email": "client.test@example.nl"})
    number = created["relationNumber"]
    assert client.get_relation(number)["name"] == "Client Test BV"
    assert client.get_relation(987654) is None
    client.update_relation({"relationNumber": number, "city": "Utrecht"})
    client.set_relation_pricing(number, price_group_number=2, discount_percentage=5)
    article = stock_article(world)
    client.set_relation_article_discounts(number, [{"articleNumber": article, "discountPercentage": 10}])
    stored = app.store.relations[number]
    assert (stored["city"], stored["priceGroupNumber"], stored["discountPercentage"]) == ("Utrecht", 2, 5)
    assert stored["relationArticleDiscountList"]["relationArticleDiscount"][0]["articleNumber"] == article
    with pytest.raises(MplusResultError, match="discountPercentage"):
        client.set_relation_pricing(number, discount_percentage=150)
    with pytest.raises(NotFoundError):
        client.update_relation({"relationNumber": 987654, "city": "x"})
    with pytest.raises(AlreadyExistsError):
        client.create_relation({"relationNumber": number, "name": "dubbel"})


def test_relation_article_discounts_are_kept_as_the_wsdl_describes_them(client, world):
    """What getRelation returns after set_relation_article_discounts (WSDL RelationArticleDiscount): each entry with
    the relation's number and an id of the till's own, which an unchanged entry keeps; a list sent again replaces
    the stored one whole (no duplicates), an empty one removes every entry, a partial update leaves it alone."""
    number = client.create_relation({"name": "Korting BV", "email": "korting@example.nl"})["relationNumber"]
    first, second = sorted({int(a.sku) for a in world.articles if a.in_mplus and a.sku.isdigit()})[:2]

    def held() -> list[dict]:
        return (client.get_relation(number).get("relationArticleDiscountList") or {}).get("relationArticleDiscount") or []

    client.set_relation_article_discounts(number, [{"articleNumber": first, "discountPercentage": 10},
                                                   {"articleNumber": second, "discountPercentage": 15}])  # fmt: skip
    stored = held()
    assert [(d["articleNumber"], d["discountPercentage"], d["relationNumber"]) for d in stored] == [
        (first, 10, number), (second, 15, number)]
    ids = {d["articleNumber"]: d["relationArticleDiscountId"] for d in stored}
    assert len(set(ids.values())) == 2 and all(ids.values())
    client.set_relation_article_discounts(number, [{"articleNumber": first, "discountPercentage": 12}])
    again = held()
    assert [(d["articleNumber"], d["discountPercentage"], d["relationArticleDiscountId"]) for d in again] == [
        (first, 12, ids[first])]
    client.update_relation({"relationNumber": number, "city": "Gouda"})
    assert len(held()) == 1
    client.set_relation_article_discounts(number, [])
    assert held() == []
    with pytest.raises(MplusResultError, match="articleNumber or an articleDiscountGroupNumber"):
        client.set_relation_article_discounts(number, [{"discountPercentage": 5}])
    with pytest.raises(MplusResultError, match="discountPercentage"):
        client.set_relation_article_discounts(number, [{"articleNumber": first, "discountPercentage": 101}])


def test_find_relation_returns_only_exact_email_matches(client):
    partial = client.create_relation({"name": "Dejan", "email": "dejan@probe.example"})["relationNumber"]
    exact = client.create_relation({"name": "Jan", "email": "jan@probe.example"})["relationNumber"]
    # findRelation answers the lowest partial match ("dejan@…"); the client must still find "jan@…".
    assert client.find_relation("jan@probe.example")["relationNumber"] == exact
    assert client.find_relation(" JAN@Probe.example")["relationNumber"] == exact
    assert client.find_relation("jan@probe.example", scan_on_partial=False) is None
    assert client.find_relation("dejan@probe.example")["relationNumber"] == partial
    assert client.find_relation("an@probe.example") is None
    assert client.find_relation("nobody@nowhere.example") is None


# --- stock -------------------------------------------------------------------------------------


def test_stock(client, app, world):
    number = stock_article(world)
    rows = client.get_stock([number], branch=1)
    assert [r["articleNumber"] for r in rows] == [number]
    assert rows[0]["free"] == Decimal(rows[0]["amountFree"]).scaleb(-rows[0]["decimalPlacesFree"])
    stock_id = client.set_stock(number, 1, Decimal("12.50"), reference="telling")
    row = app.store.stock[(1, number)]
    assert (row["amountFree"], row["decimalPlacesFree"], row["stockId"]) == (125, 1, stock_id)
    client.update_stock(number, 1, Decimal("-0.25"))
    assert client.get_stock([number], branch=1)[0]["free"] == Decimal("12.25")
    assert len(client.get_stock(None, branch=1)) == sum(1 for b, _ in app.store.stock if b == 1)
    assert [r["stockId"] for r in client.get_stock(branch=1, since_stock_id=stock_id)] == [stock_id + 1]
    with pytest.raises(MplusResultError, match="SET-STOCK-RESULT-BRANCH-NOT-FOUND"):
        client.set_stock(number, 99, 1)
    with pytest.raises(MplusResultError, match="NO-STOCK-ARTICLE"):
        client.update_stock(int(world.edge["missing_sku"]), 1, 1)


# --- orders ------------------------------------------------------------------------------------


def new_order(world, ext: str, **extra) -> dict:
    return {
        "extOrderId": ext, "relationNumber": 1, "entryBranchNumber": 1, "employeeNumber": 999999,
        "lineList": {"line": [{"articleNumber": stock_article(world), "data": {"quantity": Decimal("2.5")}}]},
        **extra,
    }  # fmt: skip


def test_get_and_find_order(client, world):
    ext = world.orders[3].ext_order_id
    found = client.find_order(ext)
    assert found["extOrderId"] == ext and isinstance(found["financialDate"], date)
    assert client.get_order(found["orderId"])["extOrderId"] == ext
    assert client.get_order("nope") is None and client.find_order("nope") is None


def test_create_order_v3_and_replay(client, world, app, server):
    first = client.create_order(new_order(world, "CL-1001"), "key-cl-1", payments=[{"method": "IDEAL", "amount": 1}])
    assert first["replayed"] is False and first["payResult"] == "PAY-ORDER-RESULT-OK"
    line = app.store.orders[first["orderId"]]["lineList"]["line"][0]["data"]
    assert (line["quantity"], line["decimalPlaces"]) == (25, 1)
    replay = client.create_order(new_order(world, "CL-1001"), "key-cl-1")
    assert replay["replayed"] is True and replay["orderId"] == first["orderId"]
    assert writes(server) == {"order": 1}
    with pytest.raises(AlreadyExistsError) as err:
        client.create_order(new_order(world, "CL-1001"), "key-cl-2")
    assert err.value.existing_id == first["orderId"]
    assert err.value.result == "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS"
    legacy = client.create_order(new_order(world, "CL-1002", financialDate=date(2026, 3, 1)), None)
    stored = app.store.orders[legacy["orderId"]]
    assert stored["financialDate"] == {"day": 1, "mon": 3, "year": 2026}
    with pytest.raises(MplusResultError, match="relation"):
        client.create_order(new_order(world, "CL-1003", relationNumber=None), "key-cl-3")


# --- errors --------------------------------------------------------------------------------------


def test_wrong_secret_is_an_auth_error_without_the_secret(server, caplog):
    secret = "Wr0ng-S3cret-Value"
    bad = MplusClient(server.url + "/?ident=sandbox&secret=" + secret, IDENT, secret, retry=FAST)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as err:
        bad.api_version()
    assert "Authentication" in str(err.value) and err.value.operation == "getApiVersion"
    assert_no_secret(err.value, secret)
    assert secret not in repr(bad) and secret not in caplog.text
    assert bad.call_count == 1  # never retried


def test_connection_errors_never_leak_the_secret_and_a_refused_write_is_retried():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "Dead-Port-S3cret"
    dead = MplusClient(f"http://127.0.0.1:{port}/", IDENT, secret, retry=RetryPolicy(3, 0.01, 0.01, 0))
    with pytest.raises(TransientError) as err:
        dead.create_relation({"name": "nooit"})
    assert err.value.maybe_applied is False  # nothing was sent: safe to retry, and it was
    assert dead.calls["createRelation"] == 3
    assert_no_secret(err.value, secret)


def test_schema_violations_are_permanent_and_name_the_field(client):
    with pytest.raises(PermanentError, match="relationNumber"):  # the server's Client fault
        client.create_relation({"relationNumber": "AB-12", "name": "x"})
    with pytest.raises(PermanentError, match="pluNumbers"):  # zeep refuses before sending
        client.call("getProducts", request={})
    with pytest.raises(PermanentError, match="colour_of_the_sky"):
        client.create_relation({"colour_of_the_sky": "blue"})
    assert client.calls["createRelation"] == 1 and client.calls["getProducts"] == 0


def test_server_faults_are_transient_and_retried(client, server, retries):
    set_faults(server, rate=1, kinds=["error200"], operations=["getBranches"])
    with pytest.raises(TransientError, match="Server"):
        client.branches()
    assert client.calls["getBranches"] == FAST.attempts and len(retries) == FAST.attempts - 1
    set_faults(server, rate=0.5, kinds=["http503", "http500", "reset"], operations=["getBranches"], seed=1)
    for _ in range(8):
        assert client.branches()
    assert client.retries["getBranches"] > FAST.attempts - 1


def test_http429_honours_retry_after(server):
    with MplusClient(server.url, IDENT, SECRET, retry=NO_RETRY) as once:
        set_faults(server, rate=1, kinds=["http429"], operations=["getApiVersion"])
        with pytest.raises(TransientError) as err:
            once.api_version()
    assert err.value.retry_after == 1.0 and err.value.maybe_applied is False


def test_timeouts_are_retried(server, retries):
    # The sandbox holds the connection 0.3 s and drops it, well inside the client's read timeout.
    with MplusClient(server.url, IDENT, SECRET, timeout=(2, 2), retry=FAST, on_retry=lambda *a: retries.append(a)) as c:
        set_faults(server, rate=0.5, kinds=["timeout"], timeout_s=0.3, operations=["getBranches"], seed=3)
        for _ in range(3):
            assert c.branches()
    assert retries
    # A reply slower than the client's read timeout: ReadTimeout, transient, retried until faults stop.
    with MplusClient(server.url, IDENT, SECRET, timeout=(2, 0.2), retry=NO_RETRY) as impatient:
        set_faults(server, rate=1, kinds=["slow"], slow_s=0.5, operations=["getVatGroupList"])
        with pytest.raises(TransientError, match="read timeout"):
            impatient.vat_groups()


def test_lost_reply_on_create_relation_is_outcome_unknown(client, server, app, retries):
    set_faults(server, rate=1, kinds=["lost_reply"], operations=["createRelation"], timeout_s=0.2)
    with pytest.raises(OutcomeUnknown) as err:
        client.create_relation({"name": "Verloren", "email": "lost@client.example"})
    assert err.value.maybe_applied is True and err.value.transient
    assert client.calls["createRelation"] == 1 and not retries  # never blindly repeated
    set_faults(server, rate=0)
    found = client.find_relation("lost@client.example")  # the flow verifies by key
    assert found["name"] == "Verloren"
    assert sum(r.get("email") == "lost@client.example" for r in app.store.relations.values()) == 1


def test_server_error_after_a_write_is_outcome_unknown(client, server, world, app):
    number = stock_article(world)
    before = app.store.stock[(1, number)]["stockId"]
    set_faults(server, rate=1, kinds=["http503"], after_write=1, operations=["updateStock"])
    with pytest.raises(OutcomeUnknown):
        client.update_stock(number, 1, 1)
    assert client.calls["updateStock"] == 1  # a relative change is never repeated blindly
    after = app.store.stock[(1, number)]["stockId"]
    assert after > before and after == app.store.markers["stock"]  # ...and indeed it had been applied


def test_lost_reply_on_create_order_v3_is_retried_by_key(client, server, world, app, retries):
    set_faults(server, rate=1, kinds=["lost_reply"], operations=["createOrderV3"], timeout_s=0.2)
    threading.Timer(0.05, lambda: set_faults(server, rate=0)).start()  # faults stop while the client backs off
    client.retry = RetryPolicy(attempts=4, base_delay=0.3, max_delay=0.3, jitter=0)
    result = client.create_order(new_order(world, "CL-LOST"), "key-lost")
    assert result["replayed"] is True and retries
    assert [o for o in app.store.orders.values() if o["extOrderId"] == "CL-LOST"][0]["orderId"] == result["orderId"]
    assert writes(server) == {"order": 1}


# --- options -------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """A fake server answering every POST with a fixed body, remembering the request headers."""

    reply: tuple[int, bytes] = (200, b"<html>not soap</html>")
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - stdlib name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(dict(self.headers))
        status, body = type(self).reply
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_malformed_replies_and_soap_action(fake):
    httpd, url = fake
    with MplusClient(url, IDENT, SECRET, retry=NO_RETRY, soap_action=True) as c:
        _Recorder.reply = (200, b"<html>not soap</html>")
        with pytest.raises(TransientError, match="malformed reply"):
            c.branches()
        assert _Recorder.seen[-1]["SOAPAction"] == "getBranches"
        _Recorder.reply = (502, b"<html>Bad gateway</html>")
        with pytest.raises(TransientError, match="HTTP 502"):
            c.branches()
        _Recorder.reply = (404, b"")
        with pytest.raises(PermanentError, match="HTTP 404"):
            c.branches()
        # A fault with no words of its own: the client says so, in the reader's language.
        _Recorder.reply = (500, b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault>'
                                b"<faultcode>e:Client</faultcode><faultstring/></e:Fault></e:Body></e:Envelope>")
        with pytest.raises(PermanentError) as fault:
            c.branches()
        assert fault.value.text().render("nl") == "mplus getBranches: Client (de foutmelding zegt verder niets)"


def test_live_wsdl_and_defaults(server):
    with MplusClient(server.url, IDENT, SECRET, wsdl="live") as live:
        assert live.api_version()["version"] == "67.1.3"
    default = MplusClient(server.url, IDENT, SECRET)
    assert default.transport.verify_tls is True and default.transport.operation_timeout == (10.0, 60.0)
    assert "secret" not in repr(default).lower().replace("ident='***'", "")
    with pytest.raises(TypeError):
        MplusClient(server.url, IDENT, SECRET, wsdl="elsewhere")


def test_value_conversions():
    summer = datetime(2026, 7, 1, 12, 30, 5, tzinfo=AMSTERDAM)
    struct = to_mplus_datetime(summer)
    assert struct["timezone"] == 120 and struct["hour"] == 12 and struct["isdst"] is False
    assert from_mplus_datetime(struct) == summer
    assert to_mplus_datetime(datetime(2026, 1, 1, 9))["timezone"] == 60
    assert from_mplus_datetime({**struct, "timezone": 0, "hour": 10}).hour == 12  # UTC 10:30 is 12:30 in July
    assert text_list(["A", "B"]) == {"text": [{"text": "A"}, {"text": "B"}]} and text_list(None) == {"text": []}
    assert mplus_mod.money(995) == Decimal("9.95") and mplus_mod.money(None) is None
