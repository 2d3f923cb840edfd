"""A light model of the WSDL: operations, element and type layouts.

Built once per process from the bundled WSDL with lxml (about 0.1 s).  It
drives both directions of the sandbox's XML codec (:mod:`.codec`): requests are
read by their declared types, replies are written in WSDL sequence order.  The
schema itself (lxml ``XMLSchema``) is the final judge of both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from lxml import etree

from apicenter_sync.mplus_wsdl import XSD_NS, safe_parser, schema_root, wsdl_bytes

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS = f"{{{XSD_NS}}}"
UNBOUNDED = -1


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a complex type name, or a simple kind: "int", "bool", "decimal", "str", or an enum type name
    min: int
    max: int  # UNBOUNDED for maxOccurs="unbounded"

    @property
    def many(self) -> bool:
        return self.max == UNBOUNDED or self.max > 1


@dataclass
class ComplexType:
    name: str
    fields: list[Field] = field(default_factory=list)
    by_name: dict[str, Field] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    name: str  # also the request body element
    input_element: str
    output_element: str


# xsd built-ins by how the codec converts them.
_XSD_KINDS = {
    "long": "int", "int": "int", "short": "int", "unsignedByte": "int", "unsignedInt": "int",
    "unsignedLong": "int", "unsignedShort": "int", "boolean": "bool", "decimal": "decimal",
    "string": "str", "date": "str", "dateTime": "str",
}  # fmt: skip


class SchemaModel:
    def __init__(self, wsdl: etree._Element):
        self.types: dict[str, ComplexType] = {}
        self.enums: dict[str, frozenset[str]] = {}
        self.elements: dict[str, str] = {}  # global element -> its (possibly synthesised) complex type
        self.operations: dict[str, Operation] = {}
        self.schema_root = schema_root(wsdl)
        self._read_schema(self.schema_root)
        self._read_operations(wsdl)

    # --- schema -------------------------------------------------------
    def _kind(self, qname: str, scope: etree._Element) -> str:
        prefix, _, local = qname.rpartition(":")
        ns = scope.nsmap.get(prefix or None)
        if ns == XSD_NS:
            return _XSD_KINDS[local]
        if local == "base64":  # SOAP-ENC:base64
            return "str"
        return local

    def _read_schema(self, root: etree._Element) -> None:
        for st in root.iterfind(f"{XS}simpleType"):
            self.enums[st.get("name")] = frozenset(e.get("value") for e in st.iter(f"{XS}enumeration"))
        pending: list[tuple[ComplexType, etree._Element]] = []
        for ct in root.iterfind(f"{XS}complexType"):
            pending.append((self._complex(ct.get("name"), ct), ct))
        for el in root.iterfind(f"{XS}element"):
            name = el.get("name")
            if el.get("type"):
                self.elements[name] = self._kind(el.get("type"), el)
            else:
                # Anonymous wrapper (operation request/reply); element and type share the name.
                type_name = f"{name}#element"
                self.elements[name] = type_name
                pending.append((self._complex(type_name, el.find(f"{XS}complexType")), el))
        # Extensions copy the base's fields first, as XSD orders them.
        done: set[str] = set()

        def resolve(ct: ComplexType) -> None:
            if ct.name in done:
                return
            done.add(ct.name)
            base = getattr(ct, "_base", None)
            if base:
                resolve(self.types[base])
                ct.fields[:0] = self.types[base].fields
                ct.by_name = {f.name: f for f in ct.fields}

        for ct, _ in pending:
            resolve(ct)

    def _complex(self, name: str, node: etree._Element) -> ComplexType:
        ct = ComplexType(name)
        ext = node.find(f"{XS}complexContent/{XS}extension")
        container = ext if ext is not None else node
        if ext is not None:
            ct._base = self._kind(ext.get("base"), ext)  # type: ignore[attr-defined]
        seq = container.find(f"{XS}sequence")
        for el in seq.iterfind(f"{XS}element") if seq is not None else ():
            if el.get("type"):
                kind = self._kind(el.get("type"), el)
            else:  # inline anonymous complex type of a local element
                kind = f"{name}.{el.get('name')}"
                self.types[kind] = self._complex(kind, el.find(f"{XS}complexType"))
            max_occurs = el.get("maxOccurs", "1")
            ct.fields.append(
                Field(
                    el.get("name"),
                    kind,
                    int(el.get("minOccurs", "1")),
                    UNBOUNDED if max_occurs == "unbounded" else int(max_occurs),
                )
            )
        ct.by_name = {f.name: f for f in ct.fields}
        self.types[name] = ct
        return ct

    # --- operations ----------------------------------------------------
    def _read_operations(self, wsdl: etree._Element) -> None:
        w = f"{{{WSDL_NS}}}"
        message_element = {}
        for msg in wsdl.iterfind(f"{w}message"):
            part = msg.find(f"{w}part")
            if part is not None and part.get("element"):
                message_element[msg.get("name")] = part.get("element").rpartition(":")[2]
        port_type = wsdl.find(f"{w}portType")
        for op in port_type.iterfind(f"{w}operation"):
            inp = message_element[op.find(f"{w}input").get("message").rpartition(":")[2]]
            out = message_element[op.find(f"{w}output").get("message").rpartition(":")[2]]
            self.operations[inp] = Operation(op.get("name"), inp, out)

    def complex_type(self, name: str) -> ComplexType | None:
        return self.types.get(name)

    def describe(self, type_name: str) -> str:
        """Human-readable layout of a type, for debugging and docs."""
        ct = self.types[type_name]
        parts = [f"{f.name}:{f.type}[{f.min}..{'n' if f.max == UNBOUNDED else f.max}]" for f in ct.fields]
        return f"{type_name}(" + ", ".join(parts) + ")"


@functools.cache
def load_model() -> SchemaModel:
    return SchemaModel(etree.fromstring(wsdl_bytes(), safe_parser(huge=True)))
