"""XML <-> Python dicts, driven by the WSDL's type layouts.

Dicts use the WSDL's own field names; repeated fields are lists, nested types
dicts, xsd integers ``int``, booleans ``bool``, xsd:decimal ``Decimal``,
everything else ``str``.  Writing emits children in WSDL sequence order and
rejects keys the type does not have; the lxml schema then checks the result
(see :class:`.soap.SoapCodec`), so a reply that violates the WSDL is never sent.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from apicenter_sync.mplus_wsdl import MPLUS_NS

from .schema import ComplexType, SchemaModel

Q = f"{{{MPLUS_NS}}}"


class CodecError(Exception):
    """A dict does not fit its WSDL type (a sandbox bug, reported as a Server fault)."""


def _scalar(kind: str, text: str | None):
    text = (text or "").strip() if kind in ("int", "bool", "decimal") else (text or "")
    if kind == "int":
        return int(text)
    if kind == "bool":
        return text in ("true", "1")
    if kind == "decimal":
        return Decimal(text)
    return text


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | str):
        return str(value)
    raise CodecError(f"cannot write {type(value).__name__} value {value!r}")


def read(model: SchemaModel, element: etree._Element, type_name: str) -> dict:
    """The children of ``element`` (already schema-valid) as a dict of ``type_name``."""
    ct = model.types[type_name]
    out: dict = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        f = ct.by_name.get(name)
        if f is None:
            raise CodecError(f"{type_name} has no element {name}")
        value = read(model, child, f.type) if f.type in model.types else _scalar(f.type, child.text)
        if f.many:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


class Writer:
    """Writes dicts as WSDL-ordered elements; field order per type is computed once."""

    def __init__(self, model: SchemaModel):
        self.model = model
        self._order: dict[str, dict[str, int]] = {}

    def _index(self, ct: ComplexType) -> dict[str, int]:
        order = self._order.get(ct.name)
        if order is None:
            order = self._order[ct.name] = {f.name: i for i, f in enumerate(ct.fields)}
        return order

    def element(self, parent: etree._Element, name: str, type_name: str, data: dict) -> etree._Element:
        el = etree.SubElement(parent, Q + name)
        self.fill(el, type_name, data)
        return el

    def fill(self, el: etree._Element, type_name: str, data: dict) -> None:
        if not isinstance(data, dict):
            raise CodecError(f"{type_name} needs a dict, got {type(data).__name__}")
        ct = self.model.types[type_name]
        order = self._index(ct)
        try:
            names = sorted((k for k, v in data.items() if v is not None), key=order.__getitem__)
        except KeyError as exc:
            raise CodecError(f"{type_name} has no element {exc.args[0]}") from None
        types = self.model.types
        for name in names:
            f = ct.fields[order[name]]
            value = data[name]
            if f.many:
                if not isinstance(value, list | tuple):
                    raise CodecError(f"{type_name}.{name} is repeated and needs a list")
                items = value
            else:
                items = (value,)
            nested = f.type in types
            tag = Q + name
            for item in items:
                child = etree.SubElement(el, tag)
                if nested:
                    self.fill(child, f.type, item)
                else:
                    child.text = _text(item)
