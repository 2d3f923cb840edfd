"""MplusKASSA request envelopes without zeep's object model: a plan per operation, compiled once from the WSDL.

zeep builds a request by turning every dict into a typed value object, checking its signature and rendering it,
which costs 1-2 ms of CPU per call. The same envelope comes from a *plan*: for each complex type, its elements
in sequence order (tag, dict key, min/maxOccurs, the simple type's text form or the nested type's plan). The plan
is derived from zeep's own parsed schema (the WSDL stays the single source of truth) once per process and
operation; a call then only walks the params dict and creates lxml elements.

The plan renders only what it understands exactly: dicts for complex types, lists for repeated elements, and
plain scalars (str, int, bool, float, Decimal) for simple ones, written the way zeep writes them. Anything else,
including every request zeep would refuse (a missing required element, an unknown key, too many items, a string
with characters XML cannot hold), raises :class:`Unsupported`, and the caller lets zeep build that request
instead: zeep then sends it or raises its own ValidationError/TypeError/ValueError, so the refusal and its
message stay exactly what they were. The envelope is equal to zeep's, byte for byte (tests/test_mplus_envelopes.py).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep import plugins
from zeep.wsdl.messages import DocumentMessage
from zeep.wsdl.messages.base import SerializedMessage
from zeep.xsd import ComplexType, Element, Sequence
from zeep.xsd.types import builtins as xsd
from zeep.xsd.types.simple import AnySimpleType

# Python types whose text zeep derives with plain str()/truthiness/format; everything else goes to zeep.
_SCALARS = frozenset({str, int, bool, float, Decimal})


class Unsupported(Exception):
    """This request (or operation) is outside what a plan renders exactly: zeep builds it, or refuses it. Never
    reaches a person (the caller hands the request to zeep): it carries the name of what is outside, and the
    comment at each raise says why."""


# --- text of a simple value, as zeep's xmlvalue() writes it (zeep/xsd/types/builtins.py) ------------------------
def _text_str(value: Any) -> str:  # xsd:string and its enumerations, every integer type
    if type(value) not in _SCALARS:
        raise Unsupported
    return str(value)


def _text_bool(value: Any) -> str:
    if type(value) not in _SCALARS:
        raise Unsupported
    return "true" if value and value not in ("false", "0") else "false"


def _text_decimal(value: Any) -> str:
    if type(value) not in _SCALARS:
        raise Unsupported
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _text_verbatim(value: Any) -> str:
    # date, dateTime, base64: zeep writes a str unchanged and formats objects (date, datetime, bytes) itself; the
    # engine sends strings here (to_wire turns dates into Mplus structs, which are complex types).
    if type(value) is not str:
        raise Unsupported
    return value


def _text_of(xsd_type: AnySimpleType):
    if isinstance(xsd_type, xsd.Boolean):
        return _text_bool
    if isinstance(xsd_type, xsd.Integer | xsd.String):  # Integer before Decimal: it is a subclass of it
        return _text_str
    if isinstance(xsd_type, xsd.Decimal):
        return _text_decimal
    if isinstance(xsd_type, xsd.Date | xsd.DateTime | xsd.Base64Binary):
        return _text_verbatim
    raise Unsupported(type(xsd_type).__name__)  # a simple type whose text form a plan does not know


# --- the plan ------------------------------------------------------------------------------------------------------
class _Field:
    """One element of a sequence. ``plan`` for a complex type, else ``text`` turns the value into its text."""

    __slots__ = ("key", "tag", "required", "multiple", "min", "max", "plan", "text")

    def __init__(self, key: str, element: Element):
        self.key = key
        self.tag = element.qname.text
        self.required = not element.is_optional
        self.multiple = element.accepts_multiple
        self.min = element.min_occurs
        self.max = None if element.max_occurs == "unbounded" else element.max_occurs
        self.plan: _Plan | None = None
        self.text = None


class _Plan:
    """A complex type: its fields in document order and the set of keys a dict for it may have."""

    __slots__ = ("fields", "keys")

    def __init__(self):
        self.fields: tuple[_Field, ...] = ()
        self.keys: frozenset[str] = frozenset()


def _compile(xsd_type: ComplexType, plans: dict[int, _Plan]) -> _Plan:
    plan = plans.get(id(xsd_type))
    if plan is not None:  # seen before, or being compiled higher up (Relation and LineList contain themselves)
        return plan
    plan = plans[id(xsd_type)] = _Plan()
    if xsd_type.attributes:  # attributes: zeep renders them, a plan does not
        raise Unsupported(xsd_type.name)
    # Only plain sequences (an extension's base elements come first, as zeep renders them); a choice, xsd:any, a
    # group or a repeated sequence would need zeep's matching rules.
    for name, part in xsd_type.elements_nested:
        if isinstance(part, Sequence) and not part.accepts_multiple:
            if not all(isinstance(element, Element) for _, element in part.elements_nested):
                raise Unsupported(xsd_type.name)  # a sequence that nests an indicator
        elif not (isinstance(part, Element) and name):
            raise Unsupported(xsd_type.name, type(part).__name__)  # a choice, a group, xsd:any…
    fields = []
    for key, element in xsd_type.elements:
        if element.nillable or element.default is not None:  # zeep's handling of those is its own
            raise Unsupported(element.name)
        field = _Field(key, element)
        if isinstance(element.type, ComplexType):
            field.plan = _compile(element.type, plans)
        elif isinstance(element.type, AnySimpleType):
            field.text = _text_of(element.type)
        else:
            raise Unsupported(element.name, type(element.type).__name__)  # neither a complex nor a simple type
        fields.append(field)
    plan.fields, plan.keys = tuple(fields), frozenset(f.key for f in fields)
    return plan


def _fill(parent: etree._Element, plan: _Plan, value: Any) -> None:
    """The elements of ``value`` (a dict) under ``parent``, or Unsupported where zeep may do something else."""
    if not isinstance(value, dict) or not plan.keys.issuperset(value):
        raise Unsupported  # zeep: "got an unexpected keyword argument", or its handling of non-dict values
    for field in plan.fields:
        item = value.get(field.key)
        if item is None:  # absent or None: zeep leaves it out, or refuses a required one ("Missing element")
            if field.required:
                raise Unsupported
            continue
        if field.multiple:
            if not isinstance(item, list) or len(item) < field.min or (field.max is not None and len(item) > field.max):
                raise Unsupported  # zeep renders a lone value once and refuses a count out of bounds
            items = item
        else:
            items = (item,)
        for one in items:
            if one is None:
                raise Unsupported
            child = etree.SubElement(parent, field.tag)
            if field.plan is not None:
                _fill(child, field.plan, one)
            else:
                child.text = field.text(one)  # lxml escapes it, or raises ValueError for characters XML forbids


class _Operation:
    __slots__ = ("zeep_operation", "body_tag", "plan", "headers")

    def __init__(self, zeep_operation, plans: dict[int, _Plan]):
        message = zeep_operation.input
        if not isinstance(message, DocumentMessage) or message._is_body_wrapped or message.body is None:
            raise Unsupported(zeep_operation.name)  # not a document/literal message with a body element
        if message.header.type.elements or zeep_operation.abstract.wsa_action:
            raise Unsupported(zeep_operation.name)  # SOAP headers or WS-Addressing
        self.zeep_operation = zeep_operation
        self.body_tag = message.body.qname.text
        self.plan = _compile(message.body.type, plans)
        # The HTTP headers zeep's DocumentMessage.serialize and the binding set (SOAPAction, Content-Type).
        soapaction = zeep_operation.soapaction
        serialized = SerializedMessage(path=None, headers={"SOAPAction": f'"{soapaction}"' if soapaction else '""'},
                                       content=None)  # fmt: skip
        zeep_operation.binding._set_http_headers(serialized, zeep_operation)
        self.headers = serialized.headers


class EnvelopeBuilder:
    """Request envelopes for one WSDL binding; each operation's plan is compiled on its first call."""

    def __init__(self, binding):
        self._binding = binding
        self._envelope_tag = etree.QName(binding.nsmap["soap-env"], "Envelope").text
        self._body_tag = etree.QName(binding.nsmap["soap-env"], "Body").text
        self._nsmap = {"soap-env": binding.nsmap["soap-env"], **binding.wsdl.types._prefix_map_custom}
        self._operations: dict[str, _Operation | None] = {}
        self._plans: dict[int, _Plan] = {}  # shared by the operations: a type is compiled once
        self._lock = threading.Lock()

    def _operation(self, name: str) -> _Operation | None:
        try:
            return self._operations[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._operations:
                zeep_operation = self._binding.get(name)
                try:
                    # A failed compile leaves half-filled plans behind: compile into a copy, keep it on success.
                    plans = dict(self._plans)
                    self._operations[name] = _Operation(zeep_operation, plans) if zeep_operation else None
                    self._plans = plans
                except Unsupported:
                    self._operations[name] = None  # some construct the plans do not cover: zeep builds every call
            return self._operations[name]

    def compiled(self, name: str) -> bool:
        """Whether ``name`` has a plan (False: zeep builds every request of it)."""
        return self._operation(name) is not None

    def build(self, name: str, params: dict, client, options: dict) -> tuple[etree._Element, dict]:
        """The envelope and HTTP headers for ``name(**params)``, as ``binding._create`` gives them.

        Raises Unsupported when zeep must build (or refuse) this request."""
        operation = self._operation(name)
        if operation is None:
            raise Unsupported(name)
        # The tree zeep builds: the Envelope carries the soap-env prefix, the body element gets lxml's "ns0".
        envelope = etree.Element(self._envelope_tag, nsmap=self._nsmap)
        body = etree.SubElement(envelope, self._body_tag)
        try:
            _fill(etree.SubElement(body, operation.body_tag), operation.plan, params)
        except (TypeError, ValueError):
            raise Unsupported(name) from None
        headers = dict(operation.headers)
        # What binding._create does after serialising: plugins (SoapActionPlugin), WS-Security, extra headers.
        envelope, headers = plugins.apply_egress(client, envelope, headers, operation.zeep_operation, options)
        if client.wsse:
            for wsse in client.wsse if isinstance(client.wsse, list) else [client.wsse]:
                envelope, headers = wsse.apply(envelope, headers)
        if client.settings.extra_http_headers:
            headers.update(client.settings.extra_http_headers)
        return envelope, headers


_builders: dict[int, EnvelopeBuilder] = {}
_builders_lock = threading.Lock()


def builder_for(binding) -> EnvelopeBuilder:
    """The one builder of a binding (the bundled WSDL's, or a live one's): plans are compiled once per process."""
    with _builders_lock:
        builder = _builders.get(id(binding))
        if builder is None:
            builder = _builders[id(binding)] = EnvelopeBuilder(binding)
        return builder
