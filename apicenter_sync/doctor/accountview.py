"""The doctor's AccountView checks: token, company, every object, table and field of the profile, the filters.

Read-only: the only write is the token refresh (a rotated token pair, stored as every refresh is). Every entry of
the profile is one check whose id is its flat key (``accountview.stock.code``), so a refuted check names the entry
to change. Types and lengths come from the tenant's data dictionary when it can be read; without it, presence is
still checked from a one-row read (or a one-field probe on an empty table).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..clients.accountview import Filter
from ..errors import AuthError, ConfigError, SyncError
from ..profile import ApiProfile, FieldSpec, ObjectSpec
from .report import Check, Report

SYSTEM = "accountview"
TEXT, NUMBER, LOGICAL, MOMENT = frozenset("CMVW"), frozenset("NYBIFQG"), frozenset("L"), frozenset("DT")
FAMILIES = (TEXT, NUMBER, LOGICAL, MOMENT)
INCREMENTAL = ("article", "article_group", "debtor", "price_list", "price_list_item", "group_discount", "stock")
PROBE = "apicenter-doctor-probe"  # a value no record holds: a filter on it answers nothing, but must be accepted
MAX_SKU_PAGES = 200  # article codes read for the numeric-SKU count (1000 a page)


def family(vfp_type: str) -> frozenset[str] | None:
    return next((f for f in FAMILIES if vfp_type.upper() in f), None)


class AccountViewDoctor:
    def __init__(self, av, profile: ApiProfile, store, report: Report, deadline):
        self.av, self.profile, self.store, self.report, self.deadline = av, profile, store, report, deadline
        self.names = profile.accountview
        self.dictionary: dict[str, dict[str, tuple[str, int]]] | None = None
        self.listing: dict[str, dict] | None = None
        self.reads: dict[str, tuple[bool, dict | None, str]] = {}  # object -> (readable, first reply, error)

    # --- helpers -------------------------------------------------------------------------------------------------
    def check(self, key: str, subject: str, status: str, detail: str = "", hint: str = "", profile_key: str | None = None):
        return self.report.add(Check(SYSTEM, key, subject, status, detail, key if profile_key is None else profile_key,
                                     hint))  # fmt: skip

    def timed_out(self, key: str, subject: str) -> bool:
        if self.deadline.expired:
            self.check(key, subject, "unchecked", f"the doctor's time ({self.deadline.seconds:.0f} s) ran out")
            return True
        return False

    # --- the run -------------------------------------------------------------------------------------------------
    def run(self) -> None:
        if not self.access():
            return
        self.read_listing()
        self.read_dictionary()
        for name, obj in self.names.objects.items():
            self.check_object(name, obj)
        self.check_change_fields()
        self.check_filters()
        self.check_numeric_skus()

    def access(self) -> bool:
        """Token refresh and company; False when nothing else can be checked."""
        try:
            tokens = self.av.refresh_tokens()
            expires = datetime.fromtimestamp(tokens.expires_at, UTC) if tokens.expires_at else None
            until = expires.strftime("%Y-%m-%d %H:%M:%S UTC") if expires else "an unknown time"
            self.check("accountview.token", "refreshing the access token", "confirmed", f"a new token, valid until "
                       f"{until}", profile_key="")  # fmt: skip
        except (AuthError, ConfigError) as exc:
            self.check("accountview.token", "refreshing the access token", "refuted", str(exc),
                       "connect AccountView again (apicenter-sync connect accountview / Connect AccountView)", "")
            self.check("accountview.rest", "everything else in AccountView", "unchecked", "no access", profile_key="")
            return False
        except SyncError as exc:
            self.check("accountview.token", "refreshing the access token", "unchecked", str(exc), profile_key="")
            return False
        try:
            companies = self.av.companies()
        except SyncError as exc:
            self.check("accountview.company", "the administration (x-company)", "unchecked", str(exc), profile_key="")
            return False
        chosen = str(self.av.company_id or "")
        found = next((c for c in companies if str(c.get("Id", "")).lower() == chosen.lower()), None)
        if found is None:
            self.check("accountview.company", f"the administration (x-company {chosen or 'not chosen'})", "refuted",
                       f"the user sees {', '.join(str(c.get('Code')) for c in companies) or 'no company'}",
                       "choose one of them (company_id / the AccountView tab)", "")  # fmt: skip
            return False
        self.check("accountview.company", "the administration (x-company)", "confirmed",
                   f"{found.get('Description')} (code {found.get('Code')})", profile_key="")  # fmt: skip
        return True

    def read_listing(self) -> None:
        try:
            self.listing = {str(b.get("Code", "")).strip().upper(): b for b in self.av.business_objects()}
        except SyncError:
            self.listing = None  # not offered: codes are checked by reading only

    def read_dictionary(self) -> None:
        d = self.names.dictionary
        tables = sorted({t.upper() for o in self.names.objects.values() for t in (o.table, o.detail_table) if t})
        found: dict[str, dict[str, tuple[str, int]]] = {}
        try:
            for start in range(0, len(tables), 20):
                flt = [Filter.in_(d.table_field, tables[start : start + 20])]
                for row in self.av.system_rows(d.code, d.table, filters=flt):
                    table = str(row.get(d.table_field) or "").strip().upper()
                    name = str(row.get(d.name_field) or "").strip().upper()
                    found.setdefault(table, {})[name] = (str(row.get(d.type_field) or "").strip().upper(),
                                                         int(row.get(d.length_field) or 0))  # fmt: skip
        except (SyncError, ValueError, TypeError):
            return  # no dictionary: presence is checked by reading
        self.dictionary = found if found else None

    # --- objects ---------------------------------------------------------------------------------------------------
    def read(self, obj: ObjectSpec) -> tuple[bool, dict | None, str]:
        """(readable, the first page, the error) of one row of the object."""
        key = obj.reader
        if key not in self.reads:
            try:
                pages = self.av.iter_pages(obj.reader, obj.table, page_size=1, use_last_key=False)
                first = next(pages, None)
                pages.close()
                self.reads[key] = (True, first or {}, "")
            except SyncError as exc:
                self.reads[key] = (False, None, str(exc))
        return self.reads[key]

    def check_object(self, name: str, obj: ObjectSpec) -> None:
        where = f"accountview.{name}"
        if self.timed_out(f"{where}.code", f"business object {obj.code} ({obj.meaning})"):
            return
        readable, first, error = self.read(obj)
        if obj.optional and not obj.available:
            if readable:
                self.check(f"{where}.available", f"{obj.meaning}: switched off in the profile", "refuted",
                           f"AccountView has {obj.reader} ({obj.table}) after all",
                           f"set {where}.available = true to sync it")  # fmt: skip
            else:
                self.check(f"{where}.available", f"{obj.meaning}: switched off in the profile", "confirmed",
                           f"AccountView has no {obj.reader}: {error}")  # fmt: skip
            return
        read_key = f"{where}.read_code" if obj.read_code else f"{where}.code"
        if readable:
            rows = len((first or {}).get(obj.table.upper(), []))
            self.check(read_key, f"business object {obj.reader} ({obj.meaning}) is readable", "confirmed",
                       f"{rows} row on the first page" if rows == 1 else "readable, no rows yet")  # fmt: skip
        else:
            self.check(read_key, f"business object {obj.reader} ({obj.meaning}) is readable", "refuted", error,
                       f"set {read_key} to this administration's code"
                       + (f", or {where}.available = false if it has none" if obj.optional else ""))  # fmt: skip
        if obj.read_code:
            self.check_post_code(where, obj)
        self.check_table(f"{where}.table", obj, obj.table, first, readable)
        if obj.detail_table:
            self.check_table(f"{where}.detail_table", obj, obj.detail_table, first, readable)
        for group, table in (("fields", obj.table), ("line_fields", obj.detail_table)):
            for logical, spec in getattr(obj, group).items():
                if self.timed_out(f"{where}.{group}.{logical}", f"field {table}.{spec.name}"):
                    return
                self.check_field(f"{where}.{group}.{logical}", obj, table, spec, first)

    def check_post_code(self, where: str, obj: ObjectSpec) -> None:
        subject = f"business object {obj.code} ({obj.meaning}) accepts new records"
        if self.listing is None:
            self.check(f"{where}.code", subject, "unchecked", "a write cannot be tried read-only and AccountView "
                       "offers no business-object list")  # fmt: skip
        elif obj.code.upper() in self.listing:
            allowed = self.listing[obj.code.upper()].get("InsertAllowed")
            status = "refuted" if allowed is False else "confirmed"
            self.check(f"{where}.code", subject, status, "listed" + (", inserts not allowed" if allowed is False else ""))
        else:
            self.check(f"{where}.code", subject, "refuted", "not in AccountView's business-object list",
                       f"set {where}.code")  # fmt: skip

    def check_table(self, key: str, obj: ObjectSpec, table: str, first: dict | None, readable: bool) -> None:
        subject = f"table {table} of {obj.reader}"
        if self.dictionary is not None:
            if table.upper() in self.dictionary:
                self.check(key, subject, "confirmed", f"{len(self.dictionary[table.upper()])} fields in the dictionary")
            else:
                self.check(key, subject, "refuted", f"the data dictionary has no table {table}", f"set {key}")
        elif readable and first:
            if table.upper() in first:
                self.check(key, subject, "confirmed", "in the reply")
            else:
                self.check(key, subject, "refuted", f"{obj.reader} answered the tables {', '.join(first)}",
                           f"set {key}")  # fmt: skip
        elif readable:
            self.check(key, subject, "unchecked", "no rows to see the table in, and no data dictionary")
        else:
            self.check(key, subject, "unchecked", f"{obj.reader} is not readable and there is no data dictionary")

    def check_field(self, key: str, obj: ObjectSpec, table: str, spec: FieldSpec, first: dict | None) -> None:
        subject = f"field {table}.{spec.name} ({spec.meaning})"
        if self.dictionary is not None:
            fields = self.dictionary.get(table.upper())
            if fields is None:
                self.check(key, subject, "refuted", f"the data dictionary has no table {table}", f"set {key}")
                return
            found = fields.get(spec.name.upper())
            if found is None:
                self.check(key, subject, "refuted", f"{table} has no field {spec.name}", f"set {key}")
                return
            vfp_type, length = found
            if family(vfp_type) is not family(spec.type):
                self.check(key, subject, "refuted", f"it is type {vfp_type}{length}; the engine expects type "
                           f"{spec.type}", f"set {key} to a field of type {spec.type}")  # fmt: skip
                return
            if spec.write and spec.type.upper() == "C" and spec.length and 0 < length < spec.length:
                self.check(key, subject, "refuted", f"it holds {length} characters; the engine writes up to "
                           f"{spec.length}", f"set {key}.length = {length}")  # fmt: skip
                return
            self.check(key, subject, "confirmed", f"type {vfp_type}{length}")
            return
        rows = (first or {}).get(table.upper()) or []
        if rows:
            if spec.name.upper() in {k.upper() for k in rows[0]}:
                self.check(key, subject, "confirmed", "in the rows read (type and length not checked: no data "
                           "dictionary)")  # fmt: skip
            else:
                self.check(key, subject, "refuted", f"the {table} rows have no {spec.name}", f"set {key}")
            return
        try:
            pages = self.av.iter_pages(obj.reader, obj.table, fields=[f"{table}.{spec.name}"], page_size=1,
                                       use_last_key=False)  # fmt: skip
            next(pages, None)
            pages.close()
        except SyncError as exc:
            status = "unchecked" if getattr(exc, "transient", False) else "refuted"
            self.check(key, subject, status, str(exc), f"set {key}" if status == "refuted" else "")
            return
        self.check(key, subject, "confirmed", "accepted in Fields (type and length not checked: no data dictionary)")

    # --- change tracking and filters ---------------------------------------------------------------------------------
    def check_change_fields(self) -> None:
        for key, spec in (("accountview.change_date", self.names.change_date),
                          ("accountview.change_counter", self.names.change_counter)):  # fmt: skip
            subject = f"change-tracking field {spec.name} ({spec.meaning})"
            tables = [self.names.objects[n].table.upper() for n in INCREMENTAL if self.usable(n)]
            if self.dictionary is None:
                self.check(key, subject, "unchecked", "no data dictionary (the change-date filters below use it)")
                continue
            tables = [t for t in tables if t in self.dictionary]
            wrong = [t for t in tables if family(self.dictionary[t].get(spec.name.upper(), ("?", 0))[0])
                     is not family(spec.type)]  # fmt: skip
            if not tables:
                self.check(key, subject, "unchecked", "none of the tables read incrementally is in the dictionary")
            elif wrong:
                self.check(key, subject, "refuted", f"missing or not type {spec.type} in {', '.join(wrong)}",
                           f"set {key}")  # fmt: skip
            else:
                self.check(key, subject, "confirmed", f"in {', '.join(tables)}")

    def usable(self, name: str) -> bool:
        obj = self.names.objects[name]
        return obj.available or not obj.optional

    def check_filters(self) -> None:
        since = datetime.now() - timedelta(days=1)
        for name in INCREMENTAL:
            if not self.usable(name):
                continue
            obj = self.names.objects[name]
            key = f"accountview.{name}.filter.change_date"
            self.filter_check(key, obj, f"reading {obj.reader} changed since a date",
                              [Filter.on_or_after(self.names.change_date.name, since)], "accountview.change_date")
        art, debtor = self.names.article, self.names.debtor
        self.filter_check("accountview.article.filter.keys", art, f"looking {art.reader} up by a list of codes",
                          [Filter.in_(art.key_field, [PROBE, PROBE + "-2"])], f"accountview.article.fields.{art.key}")
        self.filter_check("accountview.debtor.filter.email", debtor, f"looking {debtor.reader} up by e-mail",
                          [Filter.in_(debtor["email"], [PROBE + "@example.invalid", PROBE + "2@example.invalid"])],
                          "accountview.debtor.fields.email")  # fmt: skip
        for name in ("sales_order", "booking"):
            doc = self.names.objects[name]
            fields = [f"{doc.table}.{doc.key_field}", f"{doc.table}.{doc['reference']}"]
            self.filter_check(f"accountview.{name}.filter.reference", doc,
                              f"looking {doc.reader} up by the order reference ({doc['reference']})",
                              [Filter.in_(doc["reference"], [PROBE, PROBE + "-2"])],
                              f"accountview.{name}.fields.reference", fields=fields)  # fmt: skip

    def filter_check(self, key: str, obj: ObjectSpec, subject: str, filters, profile_key: str, fields=None) -> None:
        if self.timed_out(key, subject):
            return
        if not self.read(obj)[0]:
            self.check(key, subject, "unchecked", f"{obj.reader} is not readable", profile_key=profile_key)
            return
        try:
            pages = self.av.iter_pages(obj.reader, obj.table, filters=filters, fields=fields, page_size=1,
                                       use_last_key=False)  # fmt: skip
            next(pages, None)
            pages.close()
        except SyncError as exc:
            status = "unchecked" if getattr(exc, "transient", False) else "refuted"
            self.check(key, subject, status, str(exc), f"set {profile_key}" if status == "refuted" else "",
                       profile_key)  # fmt: skip
            return
        self.check(key, subject, "confirmed", "accepted", profile_key=profile_key)

    # --- the numeric-SKU rule ------------------------------------------------------------------------------------
    def check_numeric_skus(self) -> None:
        art = self.names.article
        key, subject = "accountview.article.numeric_skus", "articles whose code can be an MplusKASSA article number"
        if self.timed_out(key, subject) or not self.read(art)[0]:
            if not self.deadline.expired:
                self.check(key, subject, "unchecked", f"{art.reader} is not readable", profile_key="")
            return
        total, bad, complete = 0, [], True
        try:
            pages = self.av.iter_pages(art.code, art.table, fields=[art.key_field], page_size=1000)
            for number, page in enumerate(pages, start=1):
                for row in page.get(art.table.upper(), []):
                    sku = str(row.get(art.key_field) or "").strip()
                    total += 1
                    if not (sku.isdigit() and 0 < int(sku) < 2**63):
                        bad.append(sku)
                if number >= MAX_SKU_PAGES or self.deadline.expired:
                    complete = False
                    break
            pages.close()
        except SyncError as exc:
            self.check(key, subject, "unchecked", str(exc), profile_key="")
            return
        counted = f"{total} articles read" + ("" if complete else " (stopped early: the count is a lower bound)")
        if not bad:
            self.check(key, subject, "confirmed", f"every code is numeric ({counted})", profile_key="")
            return
        examples = ", ".join(repr(s) for s in bad[:5])
        mode = self.store.settings.get("non_numeric_sku", "products") if self.store is not None else "reject"
        if self.profile.mplus.sku_field == "pluNumber" or mode == "generate":
            self.check(key, subject, "confirmed", f"{len(bad)} of {counted} are not numeric (e.g. {examples}); they "
                       "get generated article numbers", profile_key="")  # fmt: skip
        else:
            self.check(key, subject, "refuted", f"{len(bad)} of {counted} are not numeric (e.g. {examples}) and "
                       "would be rejected", "set the products setting non_numeric_sku = generate, or the profile's "
                       "mplus.sku_field = pluNumber", "non_numeric_sku")  # fmt: skip
