"""The debtor of an order: the default debtor, or an AccountView debtor found by e-mail (updated) or created.

Debtors are matched by e-mail only (the profile's ``debtor.email``, compared trimmed
and case-insensitively; the lowest debtor number wins when several share one).
The e-mail addresses of a batch are looked up in one request per 50. A create
whose reply was lost is found by its e-mail on the next attempt, so it is
never created twice: after a failed create the address is forgotten by this
run's cache and looked up again before anyone creates it.

A relation with a company name becomes a company debtor (``debtor.name`` = the
company, the contact person in ``debtor.contact_person`` — docs/assumptions.md),
any other a person debtor. A new debtor gets the VAT code and revenue category of its country (mapping tables
``vat_code_by_country``, ``revenue_category_by_country``). An existing debtor is updated with the fields that differ
and are known from MplusKASSA; empty source fields never wipe AccountView data.
"""

from __future__ import annotations

import re

from ..clients.accountview import Filter
from ..clients.accountview_filters import rows_in
from ..errors import SyncError, TransientError
from ..i18n import msg, setting_ref, table_ref
from ..models import Customer
from ..profile import ObjectSpec
from .base import record_error

VAT_BY_COUNTRY = "vat_code_by_country"  # country -> VAT code (also the orders' lines, order_documents)
REVENUE_CATEGORY_BY_COUNTRY = "revenue_category_by_country"  # country -> the new debtor's revenue category
ENTITY = "debtor"  # bindings: e-mail -> debtor number (pending while a create is under way)
_ABSENT = object()


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


class Debtors:
    """Per run: finds, updates and creates debtors for one orders flow."""

    def __init__(self, flow):
        self.flow = flow
        self.av = flow.av
        self.debtor: ObjectSpec = flow.names.debtor
        self.key, self.email = self.debtor.key_field, self.debtor["email"]
        self._rows: dict[str, object] = {}  # e-mail key -> debtor row, or _ABSENT when looked up and not found

    # --- lookups --------------------------------------------------------------------------------------------
    def prefetch(self, emails: list[str]) -> None:
        wanted = sorted({email_key(e) for e in emails if e and email_key(e) not in self._rows})
        debtor = self.debtor
        if wanted:  # addresses that cannot go in a list filter (a comma, a quote) are read one by one
            self._index(rows_in(self.av, debtor.code, debtor.table, self.email, wanted, page_size=1000), wanted)

    def find(self, email: str) -> dict | None:
        key = email_key(email)
        if key not in self._rows:
            debtor = self.debtor
            rows = self.av.iter_rows(debtor.code, debtor.table, filters=[Filter.equal(self.email, key)], page_size=1000)
            self._index(rows, [key])
        row = self._rows[key]
        return None if row is _ABSENT else row  # type: ignore[return-value]

    def _index(self, rows, asked: list[str]) -> None:
        found: dict[str, dict] = {}
        for row in rows:
            key = email_key(row.get(self.email))
            best = found.get(key)
            if best is None or _number_order(row[self.key]) < _number_order(best[self.key]):
                found[key] = row
        for key in asked:
            self._rows[key] = found.get(key, _ABSENT)

    # --- the debtor of one order ----------------------------------------------------------------------------
    def resolve(self, customer: Customer | None, label: str, steps: list[str]) -> str | None:
        """The debtor number for the order (None only in a dry run, for a debtor that would be created)."""
        settings = self.flow.settings
        mode = settings.get("default_debtor_mode", "never")
        default = str(settings.get("default_debtor_number") or "").strip()
        email = customer.email if customer else None
        if mode == "always":
            steps.append(msg("orders.step.debtor_default_always", number=default, setting=setting_ref("default_debtor_mode")))
            return default
        if customer is None or not email_key(email):
            why = msg("orders.anonymous") if customer is None else msg("orders.no_email")
            if mode == "when_no_customer":
                steps.append(msg("orders.step.debtor_default", number=default, why=why))
                return default
            raise record_error(msg("orders.no_debtor", label=label, why=why, mode=setting_ref("default_debtor_mode"),
                                   number=setting_ref("default_debtor_number")), source_id=label)  # fmt: skip
        wanted = debtor_row(customer, self.debtor)
        row = self.find(email)
        if row is not None:
            return self._update(row, wanted, steps)
        return self._create(wanted, label, steps)

    def _update(self, row: dict, wanted: dict, steps: list[str]) -> str:
        number = str(row[self.key]).strip()
        keep = (self.debtor["search_code"], self.email)  # never rewritten on an existing debtor
        changes = {k: v for k, v in wanted.items() if k not in keep and v and str(row.get(k) or "").strip() != v}
        if not changes:
            steps.append(msg("orders.step.debtor_up_to_date", number=number))
            return number
        if self.flow.dry_run:
            steps.append(msg("orders.step.debtor_would_update", number=number, fields=sorted(changes)))
            return number
        self.av.update(self.debtor.code, self.debtor.table, {self.key: number, **changes}, self.key)
        row.update(changes)
        steps.append(msg("orders.step.debtor_updated", number=number, fields=sorted(changes)))
        return number

    def _create(self, wanted: dict, label: str, steps: list[str]) -> str | None:
        key = email_key(wanted[self.email])
        wanted = {**wanted, **self.country_defaults(wanted.get(self.debtor["country"]), steps)}
        kind = msg("orders.step.company_debtor" if wanted.get(self.debtor["contact_person"]) else "orders.step.person_debtor")
        if self.flow.dry_run:
            steps.append(msg("orders.step.debtor_would_create", email=key, kind=kind))
            return None
        store = self.flow.store
        store.bindings.mark_pending(ENTITY, key, payload_hash=self.flow.hash(wanted))
        try:
            reply = self.av.create(self.debtor.code, self.debtor.table, wanted)
        except TransientError as exc:
            self._rows.pop(key, None)  # maybe created: whoever needs this e-mail next looks it up again first
            raise record_error(
                msg("orders.debtor_create_failed", label=label, error=exc.text()),
                retry=True,
                source_id=label,
            ) from None
        except SyncError as exc:
            store.bindings.mark_failed(ENTITY, key, str(exc))
            raise
        row = (reply.get(self.debtor.table.upper()) or [{}])[0]
        number = str(row.get(self.key) or "").strip()
        if not number:
            raise record_error(msg("orders.debtor_no_number", label=label, field=self.key), source_id=label)
        store.bindings.upsert(ENTITY, key, target_id=number, payload_hash=self.flow.hash(wanted))
        self._rows[key] = {**wanted, self.key: number}
        steps.append(msg("orders.step.debtor_created", kind=kind, number=number, email=key))
        return number


    def country_defaults(self, country: str | None, steps: list[str]) -> dict:
        """A new debtor's VAT code and revenue category by its country (mapping tables vat_code_by_country and
        revenue_category_by_country; the administration's own defaults where a country has no row). Without a
        country nothing is looked up (none is assumed; the orders flow made such a sale wait while the tables have
        rows, see OrdersFlow.customer_country)."""
        country = (country or "").strip().upper()
        values = {}
        if not country:
            return values
        for logical, table in (("vat_code", VAT_BY_COUNTRY), ("revenue_category", REVENUE_CATEGORY_BY_COUNTRY)):
            value = str(self.flow.tables.get(table, {}).get(country) or "").strip()
            if value and logical in self.debtor.fields:
                values[self.debtor[logical]] = value
                steps.append(msg(f"orders.step.debtor_{logical}", value=value, country=country, table=table_ref(table)))
        return values


def debtor_row(c: Customer, debtor: ObjectSpec) -> dict:
    """The debtor fields MplusKASSA knows for this customer (empty ones left out), cut to the profile's lengths."""
    company = c.kind == "company" and bool(c.company_name)
    name = (c.company_name if company else c.display_name) or c.display_name
    values: dict[str, str] = {"name": name, "email": (c.email or "").strip()}
    if company:
        contact = c.contact.name if c.contact and c.contact.name else None
        if not contact and c.billing_address and c.billing_address.name != name:
            contact = c.billing_address.name
        values["contact_person"] = contact or ""
    a = c.billing_address
    if a:
        # The same layout as AccountView's own street line ("Kerkstraat 1 A"), so an unchanged address is not
        # rewritten.
        values["address"] = " ".join(p for p in (a.street, a.house_number, a.house_number_addition) if p)
        values["street"] = a.street or ""
        values["house_number"] = a.house_number or ""
        values["house_number_extra"] = a.house_number_addition or ""
        values["postcode"] = a.postcode or ""
        values["city"] = a.city or ""
        values["country"] = a.country or ""
    values["phone"] = c.phone or ""
    values["vat_number"] = c.vat_number or ""
    values["search_code"] = re.sub(r"[^0-9A-Z]", "", name.upper()) or "MPLUS"
    if not name:
        raise record_error(msg("orders.customer_no_name", customer=c.source_id or "?", field=debtor["name"]))
    row = {}
    for logical, value in values.items():
        if value and value.strip():
            spec = debtor.fields[logical]
            row[spec.name] = value.strip()[: spec.length or None].strip()
    return row


def _number_order(number) -> tuple[int, str]:
    text = str(number).strip()
    return (0, text.zfill(20)) if text.isdigit() else (1, text)
