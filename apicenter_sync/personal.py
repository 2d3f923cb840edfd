"""Which fields can hold a person's data, decided from the field names and types of the APIs' own descriptions.

Support captures (:mod:`.capture`) pseudonymise every such field. The decision is not a hand list of fields: it is
made for every element of the MplusKASSA WSDL (its complex types, element names and XSD types) and for every field
of an AccountView row (the field names the data dictionary gives each table, and the value's type), by the words
in the name:

- a **value word** makes a text field personal wherever it is: e-mail, phone, street, postcode, IBAN, birth date,
  VAT or chamber-of-commerce number, user name… (a business e-mail field, ``phoneMobile``, ``relationVatNumber``);
- a **context word** (name, text, comment, company…) makes a text field personal in a record about a person: an
  MplusKASSA type with a value word among its elements (Relation, Employee, an address), an AccountView row with a
  value word among its fields (a debtor), or a name that says whose it is (``employeeName``, ``relationName``);
- everything below an element that is personal by its name is personal (an address's parts, a date of birth's
  day, month and year, the old and new value of a changed ``employeeName``).

Identifiers (numbers, codes, sync markers) and enumerations are never personal: the capture keeps its shape and a
sandbox can be seeded from it (``apicenter-sandbox --from-capture``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lxml import etree

from .mplus_wsdl import safe_parser, wsdl_path

# Words of a field name that make it a personal value, and those that make it personal about a person.
VALUE_WORDS = frozenset({
    "mail", "email", "tel", "telephone", "phone", "mobile", "mob", "fax", "street", "zip", "zipcode", "postcode",
    "postal", "pobox", "address", "addres", "adress", "addr", "city", "iban", "bank", "giro", "birth", "birthdate",
    "birthday", "coc", "commerce", "website", "www", "username", "usr", "password", "initials", "firstname",
    "lastname", "surname", "dear", "contact", "cont", "vatnumber", "vatnr", "card", "giftcard", "eft",
})  # fmt: skip
CONTEXT_WORDS = frozenset({"name", "company", "text", "extra", "comment", "remark", "note", "memo", "label",
                           "region", "prop", "info", "title", "description", "desc"})  # fmt: skip
# A staff member's account (who entered or changed a record, a cashier's login): personal, but it does not make the
# record it is in one about a person (every AccountView table has INP_USR and CNG_USR).
ACCOUNT_WORDS = frozenset({"usr", "username", "password"})
PERSON_WORDS = frozenset({"relation", "employee", "customer", "person", "debtor", "creditor", "cashier", "contact"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
XSD = "http://www.w3.org/2001/XMLSchema"
TEXT_TYPES = frozenset({"string", "normalizedString", "token"})


def words(name: str) -> set[str]:
    """The words of a field name, lower-cased, with each pair of neighbours joined too: ``relationVatNumber`` ->
    relation, vat, number, relationvat, vatnumber; ``ZIP_CODE`` -> zip, code, zipcode."""
    parts = [w.lower() for w in _WORD.findall(name or "") if not w.isdigit()]
    return set(parts) | {a + b for a, b in zip(parts, parts[1:], strict=False)}


def personal_by_name(name: str, *, person_record: bool = False) -> bool:
    """A text field called ``name`` holds a person's data (in a record about a person: ``person_record``)."""
    found = words(name)
    if found & VALUE_WORDS:
        return True
    return bool(found & CONTEXT_WORDS) and (person_record or bool(found & PERSON_WORDS))


def person_record(field_names) -> bool:
    """A record with these fields is about a person: one of them is a personal value by its name (a staff account
    aside)."""
    return any(words(n) & VALUE_WORDS - ACCOUNT_WORDS for n in field_names)


# --- MplusKASSA: the WSDL's types ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MplusRules:
    """The WSDL, read once: the elements of every complex type (each with its type, and whether that is text: not a
    number, a date, an enumeration or a record), the types of the top-level elements, and the types that describe a
    person. An element of a reply or request is typed by walking down from the operation's element."""

    children: dict[str, dict[str, tuple[str, bool]]]  # complex type -> {element name: (its type, is text)}
    top: dict[str, str]  # top-level element name -> its type
    person_types: frozenset[str]

    def personal(self, name: str, ancestors: list[str]) -> bool:
        """Is the leaf element ``name`` a person's data? ``ancestors``: the names of the elements around it,
        innermost first (up to the SOAP envelope)."""
        path = list(reversed(ancestors))
        if "Body" in path:
            path = path[path.index("Body") + 1 :]
        types = self._types(path)
        parents = [None, *types]  # the type each element of the path is declared in
        for element, owner in zip(path, parents, strict=False):
            # Inside an element that is personal by its name: an address's parts, the old and new value of a
            # changed employeeName, the day, month and year of a birth date.
            if owner is not None and personal_by_name(element, person_record=owner in self.person_types):
                return True
        owner = types[-1] if types else None
        declared = self.children.get(owner or "", {}).get(name)
        if declared is not None and not declared[1]:
            return False  # a number, a date, an enumeration: never a person's data by itself
        return personal_by_name(name, person_record=owner in self.person_types if owner else False)

    def _types(self, path: list[str]) -> list[str | None]:
        """The complex type of each element of ``path`` (None from where the WSDL does not say)."""
        types: list[str | None] = []
        current = self.top.get(path[0]) if path else None
        for element in path:
            if types:
                current = self.children.get(current or "", {}).get(element, (None, False))[0]
            types.append(current)
        return types


@cache
def mplus_rules() -> MplusRules:
    root = etree.parse(str(wsdl_path()), safe_parser()).getroot()
    free_text = TEXT_TYPES | {  # simple types that restrict a text type without enumerating its values
        t.get("name") for t in root.iter(f"{{{XSD}}}simpleType") if t.get("name")
        and (r := t.find(f"{{{XSD}}}restriction")) is not None and _local(r.get("base")) in TEXT_TYPES
        and r.find(f"{{{XSD}}}enumeration") is None
    }  # fmt: skip
    children: dict[str, dict[str, tuple[str, bool]]] = {}
    top: dict[str, str] = {}
    for element in root.iter(f"{{{XSD}}}element"):
        name = element.get("name")
        if not name:
            continue
        inline = element.find(f"{{{XSD}}}complexType") is not None
        declared = "@" + name if inline else _local(element.get("type"))
        owner = _owner(element)
        if owner:
            children.setdefault(owner, {})[name] = (declared, declared in free_text)
        elif element.getparent().tag == f"{{{XSD}}}schema":
            top[name] = declared
    person_types = frozenset(t for t, names in children.items()
                             if person_record(n for n, (_, text) in names.items() if text)
                             or words(t.lstrip("@")) & PERSON_WORDS)  # fmt: skip
    return MplusRules(children, top, person_types)


def _local(qname: str | None) -> str:
    return (qname or "").rsplit(":", 1)[-1]


def _owner(element) -> str:
    """The complex type an element declaration belongs to (``@Name`` for an element's anonymous type)."""
    for ancestor in element.iterancestors():
        if ancestor.tag == f"{{{XSD}}}complexType":
            if ancestor.get("name"):
                return ancestor.get("name")
            holder = ancestor.getparent()
            return "@" + holder.get("name") if holder is not None and holder.get("name") else ""
    return ""
