"""Replies to plain dicts, straight from the XML, guided by the WSDL types zeep already parsed.

zeep's own deserialisation builds an object per element (an Article has 74 fields) and is the slowest part of
a big getProducts page; ``serialize_object`` then copies it all again. This reader walks the lxml tree once and
converts leaves by their xsd type, with the same type information. What it returns:

- a dict per complex element, holding only the elements present in the reply (absent optional fields are
  left out instead of being ``None``; repeated elements that are absent are left out too);
- repeated elements (maxOccurs > 1) as lists, even with one item;
- ``SoapMplusDateTime`` as an aware datetime (Europe/Amsterdam), ``SoapMplusDate`` as a date, ``TextList`` as a
  list of strings, xsd:decimal as Decimal, booleans as bool, integers as int, enums as their string;
- money untouched (integer cents).

Elements the WSDL does not know (a newer server) are skipped, so a server upgrade does not break reading.

An ``order`` element that does not parse (a leaf not of its type) does not spoil the page it came in: it is read
as ``{UNREADABLE: reason, "orderId": …, "extOrderId": …, "syncMarker": …}`` (its identifiers as far as they
read), so the orders flow fails that one order with the reason and goes on with the others.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep.xsd.types import builtins as xsd
from zeep.xsd.types.complex import ComplexType

from ..i18n import Msg, Text, msg
from ..mplus_wsdl import MPLUS_NS
from .mplus_errors import clean
from .mplus_values import from_mplus_date, from_mplus_datetime

_DATETIME = f"{{{MPLUS_NS}}}SoapMplusDateTime"
_DATE = f"{{{MPLUS_NS}}}SoapMplusDate"
_TEXTLIST = f"{{{MPLUS_NS}}}TextList"
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

# Kinds of plan entries: how to turn one child element into a value.
_SIMPLE, _COMPLEX, _DATETIME_K, _DATE_K, _TEXTLIST_K = range(5)


class MalformedReply(ValueError):
    """The reply does not fit the WSDL (a leaf that does not parse as its type). ``text``: the message (a Msg)."""

    def __init__(self, text: Msg):
        super().__init__(str(text))
        self.text = text


def _why(exc: Exception) -> Text:
    """Why a leaf does not parse: our own message when the failure carries one, else Python's words."""
    return exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Msg) else str(exc)


UNREADABLE = "__unreadable__"  # key of the stand-in of an element that does not parse (see the module doc)
ISOLATED = frozenset({"order"})  # elements read one by one: the records a flow reads from MplusKASSA
_IDENTIFIERS = {"orderId": str, "extOrderId": str, "syncMarker": int, "orderNumber": int}


def _unreadable(element: etree._Element, name: str, exc: Exception) -> dict:
    # A message: the orders flow puts it into its own as the reason, in the reader's language.
    out: dict[str, Any] = {UNREADABLE: msg("clients.unreadable_element", element=name, error=clean(exc))}
    for child in element:
        if isinstance(child.tag, str):
            local = child.tag[child.tag.rfind("}") + 1 :]
            convert = _IDENTIFIERS.get(local)
            if convert is not None and child.text is not None:
                try:
                    out[local] = convert(child.text.strip())
                except ValueError:
                    pass
    return out


def _bool(text: str) -> bool:
    text = text.strip()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(msg("clients.not_a_boolean", text=text[:100]))


def _converter(xsd_type):
    """A fast text -> value function for a simple type (zeep's ``pythonvalue`` as the fallback)."""
    if isinstance(xsd_type, xsd.Boolean):
        return _bool
    if isinstance(xsd_type, xsd.Integer):
        return int
    if isinstance(xsd_type, xsd.Decimal):
        return lambda text: Decimal(text.strip())
    if isinstance(xsd_type, xsd.String):  # enums are string restrictions too
        return str
    if isinstance(xsd_type, xsd.Double | xsd.Float):
        return float
    return xsd_type.pythonvalue


def _many(element) -> bool:
    occurs = element.max_occurs
    return occurs == "unbounded" or (isinstance(occurs, int) and occurs > 1)


class ReplyReader:
    """Reads reply elements of one WSDL into dicts; plans per type are built once and shared (thread-safe)."""

    def __init__(self):
        self._plans: dict[int, dict] = {}
        self._lock = threading.Lock()

    def read(self, element: etree._Element, zeep_element) -> dict:
        """The dict of a reply body element, read with the type of ``zeep_element`` (the WSDL's output element)."""
        plan = self._plan(zeep_element.type)
        try:
            return self._read(element, plan)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            where = etree.QName(element).localname
            raise MalformedReply(msg("clients.element_unreadable", element=where, detail=_why(exc))) from None

    # --- plans ------------------------------------------------------------
    def _plan(self, complex_type) -> dict:
        plan = self._plans.get(id(complex_type))
        if plan is None:
            with self._lock:
                plan = self._build(complex_type)
        return plan

    def _build(self, complex_type) -> dict:
        key = id(complex_type)
        if key in self._plans:
            return self._plans[key]
        plan: dict[str, tuple[int, Any, bool]] = {}
        self._plans[key] = plan  # registered before filling: types are recursive (ArticleGroup.subGroupList)
        for name, element in complex_type.elements:
            child_type = element.type
            qname = getattr(child_type, "qname", None)
            tag = str(qname) if qname is not None else ""
            if tag == _DATETIME:
                entry = (_DATETIME_K, None, _many(element))
            elif tag == _DATE:
                entry = (_DATE_K, None, _many(element))
            elif tag == _TEXTLIST:
                entry = (_TEXTLIST_K, None, _many(element))
            elif isinstance(child_type, ComplexType) and child_type.elements:
                entry = (_COMPLEX, self._build(child_type), _many(element))
            elif isinstance(child_type, ComplexType):
                entry = (_SIMPLE, str, _many(element))  # simple content or empty: keep the text
            else:
                entry = (_SIMPLE, _converter(child_type), _many(element))
            plan[name] = entry
        return plan

    # --- reading ----------------------------------------------------------
    def _read(self, element: etree._Element, plan: dict) -> dict:
        out: dict[str, Any] = {}
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):  # comments, processing instructions
                continue
            name = tag[tag.rfind("}") + 1 :]
            entry = plan.get(name)
            if entry is None:
                continue  # an element a newer server added; the bundled WSDL does not know it
            kind, sub, many = entry
            if child.get(_XSI_NIL) in ("true", "1"):
                value = None
            elif kind == _SIMPLE:
                text = child.text
                value = (text or "") if sub is str else (None if text is None else sub(text))
            elif kind == _COMPLEX and name in ISOLATED:
                try:
                    value = self._read(child, sub)
                except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
                    value = _unreadable(child, name, exc)
            elif kind == _COMPLEX:
                value = self._read(child, sub)
            elif kind == _TEXTLIST:
                value = [t.findtext(f"{{{MPLUS_NS}}}text") or "" for t in child]
            else:
                fields = {c.tag[c.tag.rfind("}") + 1 :]: c.text for c in child if isinstance(c.tag, str)}
                value = from_mplus_datetime(fields) if kind == _DATETIME_K else from_mplus_date(fields)
            if many:
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
        return out
