"""SOAP 1.1 envelopes the way the gSOAP-based Mplus server writes them.

Prefix ``SOAP-ENV`` for the envelope, ``ns`` for ``urn:mplusqapi``.  Requests
are parsed with a parser that resolves no entities and loads nothing from the
network, checked against the WSDL schema, then read into dicts; replies are
written from dicts and checked against the schema before they leave.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from apicenter_sync.mplus_wsdl import MPLUS_NS, SOAP_ENV_NS, SchemaValidator, load_validator, safe_parser

from .codec import CodecError, Writer, read
from .schema import Operation, SchemaModel, load_model

ENV = f"{{{SOAP_ENV_NS}}}"
NSMAP = {"SOAP-ENV": SOAP_ENV_NS, "ns": MPLUS_NS}
CONTENT_TYPE = "text/xml; charset=utf-8"


class SoapFault(Exception):
    """Answer with a SOAP fault.  ``code`` is the part after ``SOAP-ENV:`` (Client, Server, Client.Authentication)."""

    def __init__(self, code: str, message: str, status: int = 500):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class ParsedRequest:
    operation: Operation
    params: dict


def fault_body(code: str, message: str) -> bytes:
    env = etree.Element(ENV + "Envelope", nsmap=NSMAP)
    fault = etree.SubElement(etree.SubElement(env, ENV + "Body"), ENV + "Fault")
    # faultcode/faultstring are unqualified in SOAP 1.1.
    etree.SubElement(fault, "faultcode").text = f"SOAP-ENV:{code}"
    etree.SubElement(fault, "faultstring").text = message
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


class SoapCodec:
    def __init__(self, model: SchemaModel | None = None, validator: SchemaValidator | None = None):
        self.model = model or load_model()
        self.validator = validator or load_validator()
        self.writer = Writer(self.model)
        self._local = threading.local()  # one parser per server thread, so parsing runs in parallel

    def _parser(self) -> etree.XMLParser:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = safe_parser()
        return parser

    def parse(self, body: bytes, known: set[str] | frozenset[str]) -> ParsedRequest:
        """The operation and its parameters; SoapFault for anything a server would reject."""
        try:
            root = etree.fromstring(body, self._parser())
        except etree.XMLSyntaxError as exc:
            raise SoapFault("Client", f"Malformed XML: {exc}") from None
        if root.getroottree().docinfo.doctype:
            # SOAP 1.1 forbids a DTD; refusing it also keeps entity tricks out.
            raise SoapFault("Client", "A SOAP message must not contain a document type declaration")
        if root.tag != ENV + "Envelope":
            raise SoapFault("Client", f"Not a SOAP 1.1 envelope: root element is {root.tag}")
        soap_body = root.find(ENV + "Body")
        element = None if soap_body is None else next((c for c in soap_body if isinstance(c.tag, str)), None)
        if element is None:
            raise SoapFault("Client", "SOAP Body has no request element")
        qname = etree.QName(element)
        operation = self.model.operations.get(qname.localname) if qname.namespace == MPLUS_NS else None
        if operation is None:
            raise SoapFault("Client", f"Unknown operation or element {element.tag}")
        if operation.name not in known:
            raise SoapFault("Server", f"{operation.name} is not implemented in sandbox")
        errors = self.validator.errors(element)
        if errors:
            raise SoapFault("Client", f"Validation constraint violation: {errors[0]}")
        try:
            params = read(self.model, element, self.model.elements[operation.input_element])
        except (CodecError, ValueError) as exc:
            raise SoapFault("Client", f"Validation constraint violation: {exc}") from None
        return ParsedRequest(operation, params)

    def reply(self, operation: Operation, data: dict) -> bytes:
        """The reply envelope for ``data``; CodecError/SoapFault if it would violate the WSDL."""
        env = etree.Element(ENV + "Envelope", nsmap=NSMAP)
        body = etree.SubElement(env, ENV + "Body")
        element = self.writer.element(
            body, operation.output_element, self.model.elements[operation.output_element], data
        )
        errors = self.validator.errors(element)
        if errors:
            raise SoapFault("Server", f"sandbox reply violates the WSDL: {errors[0]}")
        return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
