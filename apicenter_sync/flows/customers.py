"""Customers: AccountView debtors (the profile's ``debtor``) → MplusKASSA relations (SPEC §1.2).

Company or person is decided by the setting ``company_rule`` (a debtor has no company flag in AccountView);
defaults by country (VAT method) and by customer group (price group, discount, payment condition) fill what the
debtor itself leaves empty.

A relation gets the debtor's address and, when the debtor has delivery addresses (the profile's
``delivery_address`` object, read per batch), the first of them as its delivery address.

Matching, in this order: the binding of an earlier sync; a relation carrying
the debtor number in ``extRelationId`` (what this flow writes, so a create
whose reply was lost is found again instead of duplicated); a relation with
the same e-mail address (customers the till already knew). Found → update,
else create. The relations of the administration are indexed once per run,
so matching costs a few paged reads instead of one search per customer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import record_filters
from ..errors import ConfigError, TransientError
from ..i18n import msg, table_ref
from ..models import Address, Customer
from .av_source import changed_batches, rows_by_keys
from .base import Flow, Outcome, record_error, synced
from .order_delivery import debtor_delivery_addresses

# Mapping tables this flow reads (SPEC §2); keys are ISO country codes or AccountView codes.
VAT_METHOD_BY_COUNTRY = "vat_method_by_country"  # e.g. NL -> VAT-METHOD-INCLUSIVE, BE -> VAT-METHOD-EXCLUSIVE
PRICE_GROUP_BY_CUSTOMER_GROUP = "customer_group_price_group"  # AccountView price list -> Mplus price group number
# Defaults per customer group (the debtor's discount group, else its price list) for what the debtor leaves empty.
GROUP_DEFAULT_PRICE_GROUP = "group_default_price_group"  # customer group -> Mplus price group number
GROUP_DEFAULT_DISCOUNT = "group_default_discount"  # customer group -> discount percentage
GROUP_DEFAULT_PAYMENT_CONDITION = "group_default_payment_condition"  # customer group -> payment condition code
PAYMENT_CONDITION_DAYS = "payment_condition_days"  # payment condition code -> Mplus paymentWithinDays


def is_company(c: Customer, rule: str) -> bool:
    """The setting company_rule: which debtors become company relations (with a contact person)."""
    has_contact = bool(c.contact and c.contact.name)
    has_ids = bool(c.vat_number or c.coc_number)
    return {
        "contact_or_ids": has_contact or has_ids,
        "contact": has_contact,
        "ids": has_ids,
        "company": True,
        "person": False,
        "mapped": c.kind == "company",
    }[rule]


class CustomersFlow(Flow):
    name = "customers"
    entity = "relation"

    def prepare(self) -> None:
        self._index: dict[str, dict[str, int]] | None = None
        self._delivery: dict[str, Address] = {}  # debtor -> its first delivery address, per batch
        self.company_rule = str(self.settings.get("company_rule") or "contact_or_ids")
        self._condition_days: dict[str, int] | None = None  # AccountView payment conditions, read when first needed
        try:
            self.conditions = record_filters.conditions(self.tables, "customers")
        except ValueError as exc:
            raise ConfigError(exc.args[0]) from None

    def read_batches(self):
        return changed_batches(self, self.names.debtor)

    def fetch_by_ids(self, source_ids, entity):
        return rows_by_keys(self, self.names.debtor, source_ids)

    def source_id(self, record: dict) -> str:
        return str(record.get(self.names.debtor.key_field, "")).strip()

    def process_batch(self, batch):
        records = batch.records
        ids = [self.source_id(r) for r in records]
        bindings = self.store.bindings.get_many(self.entity, ids)
        self._delivery = debtor_delivery_addresses(self, [i for i in ids if i])
        return [self.left_out(r) or self.guarded(r, lambda rec: self.sync_one(rec, bindings.get(self.source_id(rec))))
                for r in records]  # fmt: skip

    def left_out(self, record: dict) -> Outcome | None:
        """Skipped when a record filter of customers does not hold for the debtor (``record_filters``)."""
        failing = record_filters.first_failing(self.conditions, record_filters.row_value(record, self.names.debtor))
        if failing is None:
            return None
        return Outcome(self.entity, self.source_id(record), "skipped", source_payload=record,
                       message=msg("filters.left_out", name=failing.name, condition=failing.text()))  # fmt: skip

    # --- one debtor ----------------------------------------------------------------------------------------
    def sync_one(self, record: dict, binding) -> Outcome:
        sid = self.source_id(record)
        customer: Customer = self.mapper().to_model(record, self.tables)
        if customer.delivery_address is None:
            # The debtor's first delivery address (its own table in AccountView), when it has one.
            customer.delivery_address = self._delivery.get(sid)
        payload = self.relation_payload(sid, customer)
        digest = self.hash(payload)
        base = {"entity": self.entity, "source_id": sid, "source_payload": record, "target_payload": payload}
        if self.unchanged(binding, digest):
            return Outcome(action="unchanged", target_id=binding.target_id, **base)
        target = binding.target_id if binding and binding.target_id else self.find_existing(sid, customer.email)
        if self.dry_run:
            note = msg("flows.would_update") if target else msg("flows.would_create")
            return Outcome(action="dry_run", target_id=target, message=note, **base)
        if target:
            reply = self.mplus.update_relation({"relationNumber": int(target), **payload})
            return Outcome(action="updated", target_id=str(target), reply=reply,
                           bindings=[synced(self.entity, sid, target, digest)], **base)  # fmt: skip
        self.store.bindings.mark_pending(self.entity, sid, payload_hash=digest)
        try:
            reply = self.mplus.create_relation(payload)
        except TransientError:
            # Maybe applied: the binding stays pending and the next attempt finds it by extRelationId.
            self._index = None
            raise
        number = int(reply["relationNumber"])
        self._remember(number, sid, customer.email)
        return Outcome(action="created", target_id=str(number), reply=reply,
                       bindings=[synced(self.entity, sid, number, digest)], **base)  # fmt: skip

    def find_existing(self, sid: str, email: str | None) -> int | None:
        index = self.relation_index()
        by_ext = index["ext"].get(sid)
        if by_ext:
            return by_ext
        by_email = index["email"].get(_email_key(email)) if email else None
        if by_email:
            owner = self.store.bindings.get_by_target(self.entity, str(by_email))
            if owner is not None and owner.source_id != sid:
                return None  # another debtor with the same e-mail owns it: this one gets its own relation
        return by_email

    def relation_index(self) -> dict[str, dict[str, int]]:
        """extRelationId and e-mail → relation number, read once per run (lowest number wins on e-mail)."""
        if self._index is None:
            index: dict[str, dict[str, int]] = {"ext": {}, "email": {}}
            for rel in self.mplus.iter_relations():
                number = int(rel["relationNumber"])
                if rel.get("extRelationId"):
                    index["ext"].setdefault(str(rel["extRelationId"]).strip(), number)
                if rel.get("email"):
                    index["email"].setdefault(_email_key(rel["email"]), number)
            self._index = index
        return self._index

    def _remember(self, number: int, sid: str, email: str | None) -> None:
        if self._index is not None:
            self._index["ext"][sid] = number
            if email:
                self._index["email"].setdefault(_email_key(email), number)

    # --- canonical customer → Mplus relation ------------------------------------------------------------------
    def relation_payload(self, sid: str, c: Customer) -> dict[str, Any]:
        rel: dict[str, Any] = {"extRelationId": sid, "active": c.active}
        c.kind = "company" if is_company(c, self.company_rule) else "person"
        if c.kind == "company":
            rel["name"] = c.company_name or c.name
            rel["companyName"] = c.company_name or c.name
            contact = c.contact.name if c.contact and c.contact.name else None
            if contact:
                rel["contact"] = contact
        else:
            rel["name"] = c.name or " ".join(p for p in (c.first_name, c.last_name) if p)
            rel["companyName"] = rel["contact"] = ""  # a relation that was a company becomes a person
        debtor = self.names.debtor
        if not rel.get("name"):
            raise record_error(msg("customers.no_name", debtor=sid, field=debtor["name"]), source_id=sid)
        if c.email and not _valid_email(c.email):
            # Matching is by e-mail (SPEC §1.2): a malformed address would create a relation nobody finds again.
            # The address itself is not repeated: the error outlives the payloads (docs/privacy.md); the debtor
            # number finds it in AccountView.
            raise record_error(msg("customers.email_invalid", debtor=sid, field=debtor["email"],
                                   why=_why_invalid(c.email)), source_id=sid)  # fmt: skip
        _put(rel, "email", c.email)
        _put(rel, "telephone", c.phone)
        _put(rel, "mobile", c.mobile)
        _put(rel, "website", c.website)
        _put(rel, "vatNumber", c.vat_number)
        _put(rel, "commerceNumber", c.coc_number)
        if c.billing_address:
            _address(rel, c.billing_address, "address", "zipcode", "city", "country")
        if c.delivery_address:
            _address(rel, c.delivery_address, "deliveryAddress", "deliveryZipcode", "deliveryCity", "deliveryCountry")
        country = c.billing_address.country if c.billing_address else None
        if country:
            method = self.tables.get(VAT_METHOD_BY_COUNTRY, {}).get(country)
            if method:
                rel["defaultVatMethod"] = method
        if c.price_group:
            group = self.tables.get(PRICE_GROUP_BY_CUSTOMER_GROUP, {}).get(c.price_group)
            if group is None:
                raise record_error(
                    msg("customers.price_list_unmapped", price_list=c.price_group, debtor=sid,
                        table=table_ref(PRICE_GROUP_BY_CUSTOMER_GROUP)),
                    retry=True,  # retried automatically: it succeeds once the mapping is added
                    source_id=sid,
                )
            rel["priceGroupNumber"] = int(group)
        group = (c.customer_group or c.price_group or "").strip()
        if not c.price_group and group:
            default_group = self.tables.get(GROUP_DEFAULT_PRICE_GROUP, {}).get(group)
            if default_group is not None:
                rel["priceGroupNumber"] = _whole(default_group, sid, GROUP_DEFAULT_PRICE_GROUP, group)
        discount = c.discount_pct
        if not discount and group:
            default_discount = self.tables.get(GROUP_DEFAULT_DISCOUNT, {}).get(group)
            if default_discount is not None:
                discount = _decimal(default_discount, sid, GROUP_DEFAULT_DISCOUNT, group)
        if discount:
            # Mplus keeps a whole percentage (xsd:int): 2.5 % becomes 3 %.
            rel["discountPercentage"] = int(Decimal(discount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        condition = (c.payment_condition or "").strip()
        if not condition and group:
            condition = str(self.tables.get(GROUP_DEFAULT_PAYMENT_CONDITION, {}).get(group) or "").strip()
        if condition:
            days = self.payment_days(condition)
            if days is not None:
                rel["paymentWithinDays"] = days
        rel.update(c.extra)
        return rel

    def payment_days(self, condition: str) -> int | None:
        """Days of a payment condition: the mapping table payment_condition_days, else AccountView's payment
        conditions (when the profile has them); None when neither knows it (the relation keeps its own)."""
        mapped = self.tables.get(PAYMENT_CONDITION_DAYS, {}).get(condition)
        if mapped is not None:
            return _whole(mapped, condition, PAYMENT_CONDITION_DAYS, condition)
        if self._condition_days is None:
            self._condition_days = {}
            if self.available("payment_condition"):
                pc = self.names.payment_condition
                for row in self.av.iter_rows(pc.reader, pc.table):
                    code, days = str(row.get(pc.key_field) or "").strip(), row.get(pc["days"])
                    if code and days not in (None, ""):
                        self._condition_days[code] = int(Decimal(str(days)))
        return self._condition_days.get(condition)


def _whole(value, sid: str, table: str, key: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise record_error(msg("customers.row_not_whole", table=table_ref(table), key=key, value=repr(str(value)[:40]),
                               debtor=sid), wait="mapping", source_id=sid) from None  # fmt: skip


def _decimal(value, sid: str, table: str, key: str) -> Decimal:
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        raise record_error(msg("customers.row_not_number", table=table_ref(table), key=key, value=repr(str(value)[:40]),
                               debtor=sid), wait="mapping", source_id=sid) from None  # fmt: skip


def _put(target: dict, key: str, value) -> None:
    if value not in (None, ""):
        target[key] = value


def _address(rel: dict, a: Address, street_key: str, zip_key: str, city_key: str, country_key: str) -> None:
    line = " ".join(p for p in (a.street, a.house_number) if p)
    if a.house_number_addition:
        line = f"{line}-{a.house_number_addition}" if a.house_number else f"{line} {a.house_number_addition}"
    _put(rel, street_key, line.strip())
    _put(rel, zip_key, a.postcode)
    _put(rel, city_key, a.city)
    _put(rel, country_key, a.country)


def _valid_email(email: str) -> bool:
    """One @ with text on both sides, a dot in the domain, no whitespace or control characters (no more: the
    till stores what it gets; this only stops addresses that can never receive mail)."""
    local, at, domain = email.partition("@")
    return (
        bool(at and local and "." in domain.strip("."))
        and "@" not in domain
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in email)
    )


def _why_invalid(email: str):
    """What is wrong with an address, without repeating it."""
    local, at, domain = email.partition("@")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in email):
        return msg("customers.email_blank")
    if not at or not local:
        return msg("customers.email_no_at")
    if "@" in domain:
        return msg("customers.email_two_at")
    return msg("customers.email_no_dot")


def _email_key(email: str | None) -> str:
    return (email or "").strip().lower()
