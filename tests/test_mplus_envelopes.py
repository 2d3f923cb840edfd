"""Envelopes from the compiled plans (clients/mplus_envelopes.py) are the envelopes zeep builds.

Payloads are generated from the schema itself (seeded): every element of each operation's request type, optional
ones present or absent, lists of 0..3 items, nested types to a few levels, strings full of XML specials and
non-ASCII text, enumeration values from the WSDL. Both envelopes are compared after C14N (and byte for byte).
"""

from __future__ import annotations

import random
import string
from decimal import Decimal

import pytest
from lxml import etree
from zeep import Client
from zeep.xsd import ComplexType
from zeep.xsd.types import builtins as xsd

from apicenter_sync.clients.mplus import BINDING, OPERATIONS_USED, MplusClient
from apicenter_sync.clients.mplus_envelopes import Unsupported, builder_for
from apicenter_sync.clients.mplus_transport import SoapActionPlugin
from apicenter_sync.errors import PermanentError
from apicenter_sync.mplus_wsdl import XSD_NS, load_document, schema_root, zeep_settings

PER_OPERATION = 100
MAX_DEPTH = 4  # Relation and LineList contain themselves; deeper optional parts are left out
OPTIONS = {"address": "http://127.0.0.1:9/"}
TRICKY = ["<", "&", ">", '"', "'", "]]>", "&amp;", "é", "€", "ß", "日本", "🙂", " ", "\t", "\n", "<a/>", "\u00a0"]


@pytest.fixture(scope="module")
def zeep_client():
    return Client(load_document(), settings=zeep_settings())


@pytest.fixture(scope="module")
def binding():
    return load_document().bindings[BINDING]


@pytest.fixture(scope="module")
def enumerations() -> dict[str, list[str]]:
    """Enumeration values of each named simple type, read from the WSDL's schema."""
    found = {}
    for simple in schema_root().iter(f"{{{XSD_NS}}}simpleType"):
        values = [e.get("value") for e in simple.iter(f"{{{XSD_NS}}}enumeration")]
        if values:
            found[simple.get("name")] = values
    return found


def _text(rng: random.Random) -> str:
    pieces = [rng.choice(TRICKY) if rng.random() < 0.4 else rng.choice(string.ascii_letters + string.digits)
              for _ in range(rng.randint(0, 12))]  # fmt: skip
    return "".join(pieces)


def _simple(rng: random.Random, xsd_type, enums: dict) -> object:
    if isinstance(xsd_type, xsd.Boolean):
        return rng.random() < 0.5
    if isinstance(xsd_type, xsd.Short):
        return rng.randint(-(2**15), 2**15 - 1)
    if isinstance(xsd_type, xsd.Integer):
        low = 0 if "nsigned" in type(xsd_type).__name__ else -(2**31)
        return rng.choice([0, 1, rng.randint(low, 2**31 - 1)])
    if isinstance(xsd_type, xsd.Decimal):
        return rng.choice([Decimal(rng.randint(-99999, 99999)).scaleb(-rng.randint(0, 4)), Decimal("1E+3"),
                           Decimal("0.000"), rng.randint(-5, 5), 2.5])  # fmt: skip
    if isinstance(xsd_type, xsd.DateTime):
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:07:09"
    if isinstance(xsd_type, xsd.Date):
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if isinstance(xsd_type, xsd.Base64Binary):
        return rng.choice(["", "aGVsbG8=", "AAEC"])
    assert isinstance(xsd_type, xsd.String), type(xsd_type)
    name = xsd_type.qname.localname if xsd_type.qname is not None else ""
    if name in enums:
        return rng.choice(enums[name])
    return rng.choice([_text(rng), _text(rng), str(rng.randint(0, 10**6)), rng.randint(0, 10**6), ""])


def _payload(rng: random.Random, xsd_type: ComplexType, enums: dict, depth: int = 0) -> dict:
    """A valid value for a complex type: each required element, each optional one about half of the time."""
    value = {}
    for key, element in xsd_type.elements:
        complex_type = isinstance(element.type, ComplexType)
        if element.is_optional and (rng.random() < 0.4 or (complex_type and depth >= MAX_DEPTH)):
            if rng.random() < 0.3:
                value[key] = None  # an explicit None is left out, like an absent key
            continue

        count = rng.randint(element.min_occurs, 3) if element.accepts_multiple else 1
        items = [_payload(rng, element.type, enums, depth + 1) if complex_type else _simple(rng, element.type, enums)
                 for _ in range(count)]  # fmt: skip
        value[key] = items if element.accepts_multiple else items[0]
    return value


def _child_type(xsd_type: ComplexType, *path: str) -> ComplexType:
    for name in path:
        xsd_type = dict(xsd_type.elements)[name].type
    return xsd_type


def _same_envelope(ours: etree._Element, theirs: etree._Element) -> None:
    assert etree.tostring(ours, method="c14n") == etree.tostring(theirs, method="c14n")
    assert etree.tostring(ours) == etree.tostring(theirs)  # stronger: same prefixes, same serialisation


@pytest.mark.parametrize("operation", OPERATIONS_USED)
def test_random_payloads_give_zeeps_envelope(operation, binding, zeep_client, enumerations):
    builder = builder_for(binding)
    assert builder.compiled(operation), "every operation the engine sends has a plan"
    rng = random.Random(f"mplus-envelopes-{operation}")
    request_type = binding.get(operation).input.body.type
    for _ in range(PER_OPERATION):
        params = _payload(rng, request_type, enumerations)
        ours, our_headers = builder.build(operation, params, zeep_client, OPTIONS)
        theirs, their_headers = binding._create(operation, (), params, client=zeep_client, options=OPTIONS)
        _same_envelope(ours, theirs)
        assert our_headers == their_headers


def test_a_typical_order_and_the_soap_action_plugin(binding, enumerations):
    zeep_client = Client(load_document(), settings=zeep_settings())
    zeep_client.plugins.append(SoapActionPlugin())
    rng = random.Random(7)
    order_type = binding.get("createOrderV3").input.body.type
    line_type = _child_type(order_type, "request", "order", "lineList", "line")
    for _ in range(10):
        params = _payload(rng, order_type, enumerations)
        params["request"]["order"]["lineList"] = {"line": [_payload(rng, line_type, enumerations, 2) for _ in range(3)]}
        ours, our_headers = builder_for(binding).build("createOrderV3", params, zeep_client, OPTIONS)
        theirs, their_headers = binding._create("createOrderV3", (), params, client=zeep_client, options=OPTIONS)
        _same_envelope(ours, theirs)
        assert our_headers == their_headers and our_headers["SOAPAction"] == "createOrderV3"


@pytest.mark.parametrize(
    "operation, params",
    [
        ("getProducts", {"request": {}}),  # required pluNumbers missing
        ("getProducts", {"request": {"pluNumbers": None}}),
        ("createRelation", {"relation": {"colour_of_the_sky": "blue"}}),  # unknown element
        ("getRelation", {"relationNumber": 1, "extra": 2}),
        ("getRelation", {"relationNumber": [1, 2]}),  # a list where one value belongs
        ("getRelation", {"relationNumber": {"x": 1}}),
        ("findRelation", {"relation": {"name": "nul\x00byte"}}),  # not representable in XML
        ("getOrders", {"request": {"syncMarker": 1, "branchNumbers": 5}}),  # a lone value for a list: zeep decides
        ("getOrders", {"request": "not a dict"}),
    ],
)
def test_what_the_plan_does_not_render_exactly_goes_to_zeep(operation, params, binding, zeep_client):
    with pytest.raises(Unsupported):
        builder_for(binding).build(operation, params, zeep_client, OPTIONS)


@pytest.fixture
def offline_client():
    client = MplusClient("http://127.0.0.1:9/", "ident", "secret")  # port 9: nothing is sent in these tests
    yield client
    client.close()


def test_a_missing_required_element_is_refused_clearly_before_sending(offline_client):
    with pytest.raises(PermanentError, match=r"request violates the WSDL: Missing element pluNumbers") as err:
        offline_client.call("getProducts", request={"syncMarker": 0})
    assert err.value.operation == "getProducts"
    with pytest.raises(PermanentError, match="colour_of_the_sky"):
        offline_client.call("createRelation", relation={"colour_of_the_sky": "blue"})
    with pytest.raises(PermanentError, match="XML compatible"):
        offline_client.call("findRelation", relation={"name": "nul\x00byte"})
    assert not offline_client.calls  # refused before anything was counted or sent


def test_the_client_builds_from_the_plan_not_from_zeep(offline_client, monkeypatch):
    def no_zeep(*args, **kwargs):
        raise AssertionError("zeep built the request")

    monkeypatch.setattr(offline_client._binding, "_create", no_zeep)
    envelope, headers = offline_client._envelope("updateStock", {"request": {
        "branchNumber": 1, "articleNumber": 1001, "amountChanged": 5, "decimalPlaces": 0, "reference": "R&D <1>"}})  # fmt: skip
    assert b"R&amp;D &lt;1&gt;" in etree.tostring(envelope)
    assert headers == {"SOAPAction": '""', "Content-Type": "text/xml; charset=utf-8"}
