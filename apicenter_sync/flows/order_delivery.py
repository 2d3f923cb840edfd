"""Delivery addresses: an order's delivery address onto its AccountView sales order, a debtor's onto its relation.

A sales order names its delivery address by the record id of one of the debtor's delivery addresses (the API
profile's ``delivery_address`` object, ``sales_order.delivery_address``). The orders flow looks the debtor's
addresses up and reuses the one with the same name, street line, postcode, city and country (compared trimmed,
case- and space-insensitively), else creates it. A create whose reply was lost is found by that comparison on the
next attempt, so an address is never created twice. An order delivered to its billing address, an anonymous sale
and a booking (which has no delivery address) send none.

The customers flow reads the delivery addresses of the debtors it syncs (one request per 50 debtors) and gives
a relation the first one (lowest record id) as its delivery address.

Both steps are switched off when the API profile says the administration has no delivery addresses
(``accountview.delivery_address.available = false``).
"""

from __future__ import annotations

import re

from ..clients.accountview import Filter
from ..clients.accountview_filters import rows_in
from ..errors import TransientError
from ..i18n import msg, profile_ref
from ..models import Address, Order
from .base import record_error

COMPARED = ("name", "address", "postcode", "city", "country")


def address_values(address: Address, name: str | None) -> dict[str, str]:
    """The logical delivery-address fields of ``address`` (the profile's ``delivery_address`` field names)."""
    return {
        "name": name or address.name or address.company_name or "",
        "address": " ".join(p for p in (address.street, address.house_number, address.house_number_addition) if p),
        "street": address.street or "",
        "house_number": address.house_number or "",
        "house_number_extra": address.house_number_addition or "",
        "postcode": address.postcode or "",
        "city": address.city or "",
        "country": address.country or "",
    }


def _norm(value) -> str:
    return re.sub(r"\s+", "", str(value or "")).lower()


class DeliveryAddresses:
    """Per run of the orders flow: finds or creates the delivery address of a sales order."""

    def __init__(self, flow):
        self.flow = flow
        self.spec = flow.names.objects["delivery_address"]
        self._rows: dict[str, list[dict]] = {}  # debtor -> its delivery addresses, read once per run

    def resolve(self, debtor: str | None, order: Order, label: str, steps: list[str]) -> str | None:
        """The record id of the order's delivery address at ``debtor``, or None when the order needs none."""
        address = order.delivery_address
        if address is None or not (address.street or address.postcode or address.city):
            return None
        if order.billing_address is not None and _same(address_values(address, None),
                                                       address_values(order.billing_address, None)):  # fmt: skip
            steps.append(msg("orders.step.delivery_is_billing"))
            return None
        if not debtor:
            return None  # a dry run of a debtor that would be created: nothing to look in
        if not self.flow.available("delivery_address"):
            steps.append(msg("orders.step.delivery_off", entry=profile_ref("accountview.delivery_address.available")))
            return None
        wanted = self._row(debtor, address_values(address, None))
        for row in self.of(debtor):
            if _same({k: row.get(self.spec[k]) for k in COMPARED}, {k: wanted.get(self.spec[k]) for k in COMPARED}):
                record_id = str(row.get(self.spec.key_field) or "").strip()
                steps.append(msg("orders.step.delivery_there", id=record_id, debtor=debtor))
                return record_id
        if self.flow.dry_run:
            steps.append(msg("orders.step.delivery_would_create", debtor=debtor))
            return None
        try:
            reply = self.flow.av.create(self.spec.code, self.spec.table, wanted)
        except TransientError as exc:
            self._rows.pop(debtor, None)  # it may have been created: look again next time
            raise record_error(msg("orders.delivery_create_failed", label=label, error=exc.text()), retry=True,
                               source_id=label) from None  # fmt: skip
        stored = (reply.get(self.spec.table.upper()) or [{}])[0]
        record_id = str(stored.get(self.spec.key_field) or "").strip()
        if not record_id:
            raise record_error(msg("orders.delivery_no_id", label=label, field=self.spec.key_field), source_id=label)
        self._rows.setdefault(debtor, []).append({**wanted, self.spec.key_field: record_id})
        steps.append(msg("orders.step.delivery_created", id=record_id, debtor=debtor))
        return record_id

    def of(self, debtor: str) -> list[dict]:
        if debtor not in self._rows:
            spec = self.spec
            self._rows[debtor] = list(self.flow.av.iter_rows(spec.code, spec.table,
                                                             filters=[Filter.equal(spec["debtor"], debtor)]))  # fmt: skip
        return self._rows[debtor]

    def _row(self, debtor: str, values: dict[str, str]) -> dict:
        row = {self.spec["debtor"]: debtor}
        for logical, value in values.items():
            if value.strip() and logical in self.spec.fields:
                field = self.spec.fields[logical]
                row[field.name] = value.strip()[: field.length or None].strip()
        return row


def _same(a: dict, b: dict) -> bool:
    return all(_norm(a.get(k)) == _norm(b.get(k)) for k in COMPARED if k != "name" or (a.get(k) and b.get(k)))


def debtor_delivery_addresses(flow, debtors: list[str]) -> dict[str, Address]:
    """The first delivery address (lowest record id) of each of ``debtors`` that has one, as an Address."""
    if not flow.available("delivery_address") or not debtors:
        return {}
    spec = flow.names.objects["delivery_address"]
    found: dict[str, Address] = {}
    rows = list(rows_in(flow.av, spec.code, spec.table, spec["debtor"], debtors))
    for row in sorted(rows, key=lambda r: str(r.get(spec.key_field) or "").zfill(20)):
        debtor = str(row.get(spec["debtor"]) or "").strip()
        if debtor in found:
            continue

        def get(logical: str, row=row) -> str | None:
            name = spec.fields[logical].name if logical in spec.fields else None
            value = str(row.get(name) or "").strip() if name else ""
            return value or None

        street = get("street")
        number = get("house_number")
        if not street and get("address"):
            street = get("address")  # the administration keeps one street line only
        country = (get("country") or "").upper()
        found[debtor] = Address(name=get("name"), street=street, house_number=number,
                                house_number_addition=get("house_number_extra"), postcode=get("postcode"),
                                city=get("city"), country=country if re.fullmatch(r"[A-Z]{2}", country) else None)  # fmt: skip
    return found
