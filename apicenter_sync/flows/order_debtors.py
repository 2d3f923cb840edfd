"""The debtor of an order: the default debtor, or an AccountView debtor found by e-mail (updated) or created.

Debtors are matched by e-mail only (``CONTACT.MAIL_BUS``, compared trimmed and
case-insensitively; the lowest debtor number wins when several share one).
The e-mail addresses of a batch are looked up in one request per 50. A create
whose reply was lost is found by its e-mail on the next attempt, so it is
never created twice: after a failed create the address is forgotten by this
run's cache and looked up again before anyone creates it.

A relation with a company name becomes a company debtor (``ACCT_NAME`` = the
company, the contact person in ``MAIN_CONT`` — docs/assumptions.md), any other
a person debtor. An existing debtor is updated with the fields that differ
and are known from MplusKASSA; empty source fields never wipe AccountView data.
"""

from __future__ import annotations

import re

from ..clients.accountview import Filter
from ..errors import SyncError, TransientError
from ..models import Customer
from .base import record_error

OBJECT, TABLE, KEY, EMAIL = "AR1", "CONTACT", "SUB_NR", "MAIL_BUS"
FIELDS = ("SUB_NR", "ACCT_NAME", "MAIL_BUS", "MAIN_CONT", "ADDRESS1", "ST_STREET", "ST_NR", "ST_EXTRA",
          "POST_CODE", "CITY", "CNT_CODE", "TEL_BUS", "VAT_NR")  # fmt: skip
LENGTHS = {"ACCT_NAME": 40, "MAIL_BUS": 50, "MAIN_CONT": 40, "ADDRESS1": 80, "ST_STREET": 60, "ST_NR": 10,
           "ST_EXTRA": 10, "POST_CODE": 10, "CITY": 35, "CNT_CODE": 2, "TEL_BUS": 20, "VAT_NR": 14,
           "SRC_CODE": 10}  # fmt: skip
ENTITY = "debtor"  # bindings: e-mail -> debtor number (pending while a create is under way)
_ABSENT = object()


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


class Debtors:
    """Per run: finds, updates and creates debtors for one orders flow."""

    def __init__(self, flow):
        self.flow = flow
        self.av = flow.av
        self._rows: dict[str, object] = {}  # e-mail key -> CONTACT row, or _ABSENT when looked up and not found

    # --- lookups --------------------------------------------------------------------------------------------
    def prefetch(self, emails: list[str]) -> None:
        wanted = sorted({email_key(e) for e in emails if e and email_key(e) not in self._rows})
        wanted = [e for e in wanted if "," not in e]  # a list filter cannot carry a comma; those go one by one
        for start in range(0, len(wanted), 50):
            chunk = wanted[start : start + 50]
            rows = self.av.iter_rows(OBJECT, TABLE, filters=[Filter.in_(EMAIL, chunk)], page_size=1000)
            self._index(rows, chunk)

    def find(self, email: str) -> dict | None:
        key = email_key(email)
        if key not in self._rows:
            rows = self.av.iter_rows(OBJECT, TABLE, filters=[Filter.equal(EMAIL, key)], page_size=1000)
            self._index(rows, [key])
        row = self._rows[key]
        return None if row is _ABSENT else row  # type: ignore[return-value]

    def _index(self, rows, asked: list[str]) -> None:
        found: dict[str, dict] = {}
        for row in rows:
            key = email_key(row.get(EMAIL))
            best = found.get(key)
            if best is None or _number_order(row[KEY]) < _number_order(best[KEY]):
                found[key] = row
        for key in asked:
            self._rows[key] = found.get(key, _ABSENT)

    # --- the debtor of one order ----------------------------------------------------------------------------
    def resolve(self, customer: Customer | None, ref: str, steps: list[str]) -> str | None:
        """The debtor number for the order (None only in a dry run, for a debtor that would be created)."""
        settings = self.flow.settings
        mode = settings.get("default_debtor_mode", "never")
        default = str(settings.get("default_debtor_number") or "").strip()
        email = customer.email if customer else None
        if mode == "always":
            steps.append(f"debtor: default debtor {default} (default_debtor_mode = always)")
            return default
        if customer is None or not email_key(email):
            why = "anonymous sale" if customer is None else "the customer has no e-mail address"
            if mode == "when_no_customer":
                steps.append(f"debtor: default debtor {default} ({why})")
                return default
            raise record_error(
                f"order {ref}: {why}, so no debtor can be found by e-mail and default_debtor_mode is 'never' "
                "(set it to 'when_no_customer' with a default_debtor_number to book such orders)",
                source_id=ref,
            )
        wanted = debtor_row(customer)
        row = self.find(email)
        if row is not None:
            return self._update(row, wanted, steps)
        return self._create(wanted, ref, steps)

    def _update(self, row: dict, wanted: dict, steps: list[str]) -> str:
        number = str(row[KEY]).strip()
        changes = {
            k: v for k, v in wanted.items() if k not in ("SRC_CODE", EMAIL) and v and str(row.get(k) or "").strip() != v
        }
        if not changes:
            steps.append(f"debtor: {number} found by e-mail, up to date")
            return number
        if self.flow.dry_run:
            steps.append(f"debtor: {number} found by e-mail, would update {', '.join(sorted(changes))}")
            return number
        self.av.update(OBJECT, TABLE, {KEY: number, **changes}, KEY)
        row.update(changes)
        steps.append(f"debtor: {number} found by e-mail, updated {', '.join(sorted(changes))}")
        return number

    def _create(self, wanted: dict, ref: str, steps: list[str]) -> str | None:
        key = email_key(wanted[EMAIL])
        kind = "company debtor with contact person" if wanted.get("MAIN_CONT") else "person debtor"
        if self.flow.dry_run:
            steps.append(f"debtor: none with e-mail {key}, would create a {kind}")
            return None
        store = self.flow.store
        store.bindings.mark_pending(ENTITY, key, payload_hash=self.flow.hash(wanted))
        try:
            reply = self.av.create(OBJECT, TABLE, wanted)
        except TransientError as exc:
            self._rows.pop(key, None)  # maybe created: whoever needs this e-mail next looks it up again first
            raise record_error(
                f"order {ref}: creating the debtor for {key} failed ({exc}); it may have been created, so the "
                "next attempt looks it up by e-mail before creating it",
                retry=True,
                source_id=ref,
            ) from None
        except SyncError as exc:
            store.bindings.mark_failed(ENTITY, key, str(exc))
            raise
        row = (reply.get(TABLE) or [{}])[0]
        number = str(row.get(KEY) or "").strip()
        if not number:
            raise record_error(f"order {ref}: AccountView created a debtor but answered no {KEY}", source_id=ref)
        store.bindings.upsert(ENTITY, key, target_id=number, payload_hash=self.flow.hash(wanted))
        self._rows[key] = {**wanted, KEY: number}
        steps.append(f"debtor: created {kind} {number} for {key}")
        return number


def debtor_row(c: Customer) -> dict:
    """The CONTACT fields MplusKASSA knows for this customer (empty ones left out), cut to AccountView's lengths."""
    company = c.kind == "company" and bool(c.company_name)
    name = (c.company_name if company else c.display_name) or c.display_name
    row: dict[str, str] = {"ACCT_NAME": name, EMAIL: (c.email or "").strip()}
    if company:
        contact = c.contact.name if c.contact and c.contact.name else None
        if not contact and c.billing_address and c.billing_address.name != name:
            contact = c.billing_address.name
        row["MAIN_CONT"] = contact or ""
    a = c.billing_address
    if a:
        # The same layout as AccountView's own ADDRESS1 ("Kerkstraat 1 A"), so an unchanged address is not rewritten.
        row["ADDRESS1"] = " ".join(p for p in (a.street, a.house_number, a.house_number_addition) if p)
        row["ST_STREET"] = a.street or ""
        row["ST_NR"] = a.house_number or ""
        row["ST_EXTRA"] = a.house_number_addition or ""
        row["POST_CODE"] = a.postcode or ""
        row["CITY"] = a.city or ""
        row["CNT_CODE"] = a.country or ""
    row["TEL_BUS"] = c.phone or ""
    row["VAT_NR"] = c.vat_number or ""
    row["SRC_CODE"] = re.sub(r"[^0-9A-Z]", "", name.upper())[:10] or "MPLUS"
    if not name:
        raise record_error(f"customer {c.source_id or '?'} has no name: a debtor needs ACCT_NAME")
    return {k: v.strip()[: LENGTHS[k]].strip() for k, v in row.items() if v and v.strip()}


def _number_order(number) -> tuple[int, str]:
    text = str(number).strip()
    return (0, text.zfill(20)) if text.isdigit() else (1, text)
