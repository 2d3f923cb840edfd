"""Compare a live server's WSDL with the bundled one, for the operations the engine calls.

For each operation: is it in the live port type, and does its request still have every element (by path) the
bundled WSDL gives it? Types are followed through named types, inline types and extensions; a type already on
the path is not entered again (recursive types), and paths stop at a fixed depth.
"""

from __future__ import annotations

from lxml import etree

from ..i18n import Msg, msg
from ..mplus_wsdl import XSD_NS, safe_parser

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
MAX_DEPTH = 6
_X = f"{{{XSD_NS}}}"
_W = f"{{{WSDL_NS}}}"


class WsdlShape:
    """The request elements of each operation of one WSDL document."""

    def __init__(self, content: bytes):
        self.root = etree.fromstring(content, safe_parser(huge=True))
        schemas = self.root.iter(f"{_X}schema")
        self.types: dict[str, etree._Element] = {}
        self.elements: dict[str, etree._Element] = {}
        for schema in schemas:
            for child in schema:
                name = child.get("name")
                if child.tag == f"{_X}complexType" and name:
                    self.types[name] = child
                elif child.tag == f"{_X}element" and name:
                    self.elements[name] = child
        self.messages = {m.get("name"): m for m in self.root.iter(f"{_W}message")}
        self.operations: dict[str, str] = {}  # operation -> element name of its input message
        for port_type in self.root.iter(f"{_W}portType"):
            for op in port_type.iter(f"{_W}operation"):
                inp = op.find(f"{_W}input")
                message = self.messages.get(_local(inp.get("message"))) if inp is not None else None
                part = message.find(f"{_W}part") if message is not None else None
                if part is not None and part.get("element"):
                    self.operations[op.get("name")] = _local(part.get("element"))

    def request_paths(self, operation: str) -> set[str] | None:
        """Every element path of the operation's request (None: no such operation)."""
        element = self.operations.get(operation)
        if element is None:
            return None
        node = self.elements.get(element)
        paths: set[str] = set()
        if node is not None:
            self._walk(node, "", paths, (), 0)
        return paths

    def _walk(self, element: etree._Element, prefix: str, paths: set[str], seen: tuple[str, ...], depth: int) -> None:
        type_name = _local(element.get("type") or "")
        inline = element.find(f"{_X}complexType")
        if depth > MAX_DEPTH:
            return
        if inline is not None:
            self._type(inline, prefix, paths, seen, depth)
        elif type_name in self.types and type_name not in seen:
            self._type(self.types[type_name], prefix, paths, (*seen, type_name), depth)

    def _type(self, ctype: etree._Element, prefix: str, paths: set[str], seen: tuple[str, ...], depth: int) -> None:
        for ext in ctype.iter(f"{_X}extension"):
            base = _local(ext.get("base") or "")
            if base in self.types and base not in seen:
                self._type(self.types[base], prefix, paths, (*seen, base), depth)
        for child in ctype.iter(f"{_X}element"):
            if child.getparent() is None or _owner(child) is not ctype:
                continue
            name = child.get("name") or _local(child.get("ref") or "")
            path = f"{prefix}/{name}" if prefix else name
            paths.add(path)
            self._walk(child, path, paths, seen, depth + 1)


def _owner(element: etree._Element) -> etree._Element | None:
    """The complexType an element declaration belongs to (not one nested deeper)."""
    node = element.getparent()
    while node is not None and node.tag != f"{_X}complexType":
        node = node.getparent()
    return node


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1] if qname else ""


def compare(bundled: WsdlShape, live: WsdlShape, operation: str) -> tuple[bool, Msg]:
    """(the live WSDL offers it as we call it, what differs)."""
    want = bundled.request_paths(operation)
    have = live.request_paths(operation)
    if have is None:
        return False, msg("doctor.wsdl.no_operation", operation=operation)
    missing = sorted(want - have) if want is not None else []
    if missing:
        if len(missing) > 5:
            return False, msg("doctor.wsdl.lacks_more", operation=operation, elements=missing[:5],
                              more=len(missing) - 5)  # fmt: skip
        return False, msg("doctor.wsdl.lacks", operation=operation, elements=missing)
    return True, msg("doctor.wsdl.offered", elements=len(want or ()))
