"""The shared HTTP layer of both sandboxes, over real sockets with a tiny app."""

import time

import httpx
import pytest

from apicenter_sandbox.http import Call, Response, SandboxApp, SandboxServer


class CounterApp(SandboxApp):
    name = "counter"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.reset()

    def reset(self):
        self.items = []

    def route(self, request):
        if request.method == "POST" and request.path == "/items":
            def create():
                with self.lock:
                    self.items.append(request.body.decode())
                    self.stats.write("item")
                return Response.json({"id": len(self.items)}, 201)

            return Call("createItem", True, create)
        if request.method == "GET" and request.path == "/items":
            return Call("getItems", False, lambda: Response.json(self.items))
        return Response.json({"error": "not found"}, 404)

    def error_response(self, status, message, with_http_200=False):
        return Response.json({"error": message}, 200 if with_http_200 else status)


@pytest.fixture
def server():
    with SandboxServer(CounterApp()) as srv:
        yield srv


def faults(url, **cfg):
    r = httpx.post(f"{url}/_sandbox/faults", json=cfg)
    assert r.status_code == 200, r.text
    return r.json()


def test_calls_and_writes_are_counted(server):
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/items", content=b"a").json() == {"id": 1}
        c.get("/items")
        c.get("/items")
        stats = c.get("/_sandbox/stats").json()
    assert stats["calls"] == {"createItem": 1, "getItems": 2}
    assert stats["writes"] == {"item": 1}


def test_reset_restores_seed_and_clears_stats_and_faults(server):
    with httpx.Client(base_url=server.url) as c:
        c.post("/items", content=b"a")
        faults(server.url, rate=1, kinds=["http503"])
        assert c.post("/_sandbox/reset").json() == {"reset": True}
        assert c.get("/items").json() == []
        assert c.get("/_sandbox/stats").json()["total_calls"] == 1


def test_reset_fault_drops_the_connection(server):
    faults(server.url, rate=1, kinds=["reset"])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        httpx.get(f"{server.url}/items")


def test_timeout_fault_outlives_the_client_timeout(server):
    faults(server.url, rate=1, kinds=["timeout"], timeout_s=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/items", timeout=0.3)


def test_http_faults_use_the_apps_error_shape(server):
    faults(server.url, rate=1, kinds=["http429"])
    r = httpx.get(f"{server.url}/items")
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    faults(server.url, rate=1, kinds=["error200"])
    r = httpx.get(f"{server.url}/items")
    assert r.status_code == 200 and "error" in r.json()


def test_lost_reply_applies_the_write_but_the_client_sees_an_error(server):
    faults(server.url, rate=1, kinds=["lost_reply"])
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/items", content=b"paid order")
    faults(server.url, rate=0)
    assert httpx.get(f"{server.url}/items").json() == ["paid order"]
    assert httpx.get(f"{server.url}/_sandbox/stats").json()["faults_injected"] == {"lost_reply_after_write": 1}


def test_slow_fault_and_latency_delay_but_answer(server):
    faults(server.url, rate=1, kinds=["slow"], slow_s=0.3)
    t = time.monotonic()
    assert httpx.get(f"{server.url}/items").status_code == 200
    assert time.monotonic() - t >= 0.3
    faults(server.url, rate=0)
    httpx.post(f"{server.url}/_sandbox/latency", json={"latency_ms": 200})
    t = time.monotonic()
    httpx.get(f"{server.url}/items")
    assert time.monotonic() - t >= 0.2


def test_bad_fault_config_is_a_400_with_the_reason(server):
    r = httpx.post(f"{server.url}/_sandbox/faults", json={"rate": 5})
    assert r.status_code == 400 and "rate must be between 0 and 1" in r.json()["error"]


def test_unknown_route_is_not_counted(server):
    assert httpx.get(f"{server.url}/nope").status_code == 404
    assert httpx.get(f"{server.url}/_sandbox/stats").json()["total_calls"] == 0


def test_raw_reply_answers_the_next_calls_of_one_operation(server):
    with httpx.Client(base_url=server.url) as c:
        r = c.post("/_sandbox/raw-reply", json={"operation": "getItems", "status": 200, "body": "<html>oops",
                                                "content_type": "text/html", "times": 2})  # fmt: skip
        assert r.status_code == 200, r.text
        c.post("/items", content=b"a")  # another operation: untouched
        first, second, third = (c.get("/items") for _ in range(3))
        stats = c.get("/_sandbox/stats").json()
    assert (first.status_code, first.text, first.headers["content-type"]) == (200, "<html>oops", "text/html")
    assert second.text == "<html>oops"
    assert third.json() == ["a"]
    assert stats["calls"] == {"createItem": 1, "getItems": 3}


def test_raw_reply_after_applying_a_write(server):
    with httpx.Client(base_url=server.url) as c:
        c.post("/_sandbox/raw-reply", json={"operation": "createItem", "body": "{trunc", "apply": True})
        assert c.post("/items", content=b"a").text == "{trunc"
        assert c.get("/items").json() == ["a"]  # the write was applied, only its reply was replaced


def test_raw_reply_is_validated_and_cleared(server):
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/_sandbox/raw-reply", json={"body": "x"}).status_code == 400
        assert c.post("/_sandbox/raw-reply", json={"operation": "getItems", "times": 0}).status_code == 400
        assert c.post("/_sandbox/raw-reply", json={"operation": "getItems", "nope": 1}).status_code == 400
        c.post("/_sandbox/raw-reply", json={"operation": "getItems", "body": "x", "times": 5})
        assert c.delete("/_sandbox/raw-reply").status_code == 200
        assert c.get("/items").json() == []
        c.post("/_sandbox/raw-reply", json={"operation": "getItems", "body": "x"})
        c.post("/_sandbox/reset")
        assert c.get("/items").json() == []
