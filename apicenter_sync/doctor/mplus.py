"""The doctor's MplusKASSA checks: credentials, the live WSDL, and that what the till uses is configured.

Read-only: only get… operations and the ``?wsdl`` document. Mapping checks read the same tables and settings the
flows read (``docs/flows.md``), so a refuted check names the table row or setting that is missing.
"""

from __future__ import annotations

from decimal import Decimal

from ..clients.mplus import OPERATIONS_USED
from ..errors import AuthError, PermanentError, SyncError
from ..flows.order_closings import PAYMENT_ACCOUNT
from ..flows.order_documents import (
    PAYMENT_CONDITION,
    PAYMENT_JOURNAL,
    REVENUE_BY_TURNOVER_GROUP,
    VAT_BY_MPLUS_CODE,
    VAT_BY_RATE,
)
from ..flows.prices import PRICE_GROUP_BY_CUSTOMER_GROUP
from ..flows.products import VAT_CODE_AV_MPLUS
from ..flows.stock import WAREHOUSE_BRANCH
from ..mplus_wsdl import wsdl_bytes
from ..profile import ApiProfile
from .report import Check, Report
from .wsdl_compare import WsdlShape, compare

SYSTEM = "mplus"
BUNDLED_VERSION = "67.1.3"  # the API version the bundled WSDL describes (apicenter_sync/wsdl/SOURCE.md)
TURNOVER = "TURNOVER-GROUP-TYPE-TURNOVER"


class MplusDoctor:
    def __init__(self, mplus, av, profile: ApiProfile, store, report: Report, deadline):
        self.mplus, self.av, self.profile, self.store = mplus, av, profile, store
        self.report, self.deadline = report, deadline
        self.tables = {name: store.mappings.get_table(name) for name in store.mappings.list_tables()} if store else {}

    def check(self, key: str, subject: str, status: str, detail: str = "", hint: str = "", profile_key: str = ""):
        return self.report.add(Check(SYSTEM, key, subject, status, detail, profile_key, hint))

    def table(self, name: str) -> dict[str, str]:
        return self.tables.get(name, {})

    def read(self, key: str, subject: str, fn):
        """``fn()``, or None after an unchecked line saying why (time out, transient error)."""
        if self.deadline.expired:
            self.check(key, subject, "unchecked", f"the doctor's time ({self.deadline.seconds:.0f} s) ran out")
            return None
        try:
            return fn()
        except SyncError as exc:
            self.check(key, subject, "unchecked", str(exc))
            return None

    # --- the run -------------------------------------------------------------------------------------------------
    def run(self) -> None:
        if not self.credentials():
            return
        self.wsdl()
        self.branches()
        self.employee()
        self.vat_codes()
        self.payment_methods()
        self.turnover_groups()
        self.price_groups()

    def credentials(self) -> bool:
        subject = "the API credentials (ident and secret)"
        try:
            version = self.mplus.api_version()
        except (AuthError, PermanentError) as exc:
            self.check("mplus.credentials", subject, "refuted", str(exc), "check the ident, the secret and the URL")
            self.check("mplus.rest", "everything else in MplusKASSA", "unchecked", "no access")
            return False
        except SyncError as exc:
            self.check("mplus.credentials", subject, "unchecked", str(exc))
            return False
        self.report.versions["MplusKASSA API"] = version.get("version", "?")
        self.check("mplus.credentials", subject, "confirmed", f"API version {version.get('version', '?')}")
        return True

    def wsdl(self) -> None:
        live = self.read("mplus.wsdl", "the WSDL the server serves", self.mplus.live_wsdl)
        if live is None:
            return
        try:
            live_shape = WsdlShape(live)
        except Exception as exc:  # noqa: BLE001 - whatever the server sends, the report says what it was
            self.check("mplus.wsdl", "the WSDL the server serves", "refuted", f"not a readable WSDL: {exc}")
            return
        bundled = WsdlShape(wsdl_bytes())
        self.report.versions["bundled WSDL"] = BUNDLED_VERSION
        for operation in OPERATIONS_USED:
            ok, detail = compare(bundled, live_shape, operation)
            self.check(f"mplus.operation.{operation}", f"operation {operation} (bundled WSDL v{BUNDLED_VERSION})",
                       "confirmed" if ok else "refuted", detail,
                       "" if ok else "the server runs another API version: update apicenter-sync")  # fmt: skip

    def branches(self) -> None:
        found = self.read("mplus.branches", "the branches", self.mplus.branches)
        if found is None:
            return
        known = {int(b["branchNumber"]): b for b in found}
        wanted: dict[int, str] = {}
        for warehouse, branch in self.table(WAREHOUSE_BRANCH).items():
            if str(branch).strip().lstrip("-").isdigit():
                wanted.setdefault(int(branch), f"mapping table {WAREHOUSE_BRANCH} (warehouse {warehouse})")
        for branch in self.profile.mplus.branches:
            wanted.setdefault(int(branch), "the profile's mplus.branches")
        if not wanted:
            self.check("mplus.branches", "branches used", "confirmed",
                       f"none configured; the till has {', '.join(map(str, sorted(known))) or 'none'}")  # fmt: skip
        for number, where in sorted(wanted.items()):
            if number in known:
                self.check(f"mplus.branch.{number}", f"branch {number} ({where})", "confirmed",
                           str(known[number].get("branchName") or ""))  # fmt: skip
            else:
                self.check(f"mplus.branch.{number}", f"branch {number} ({where})", "refuted",
                           f"the till has branches {', '.join(map(str, sorted(known)))}", f"correct {where}",
                           "mplus.branches" if "profile" in where else WAREHOUSE_BRANCH)  # fmt: skip
        self.warehouses()

    def warehouses(self) -> None:
        warehouse = self.profile.accountview.warehouse
        codes = sorted(self.table(WAREHOUSE_BRANCH))
        if not codes or self.av is None or not (warehouse.available or not warehouse.optional):
            return
        rows = self.read("accountview.warehouses", "AccountView warehouses",
                         lambda: list(self.av.iter_rows(warehouse.code, warehouse.table, page_size=1000)))  # fmt: skip
        if rows is None:
            return
        have = {str(r.get(warehouse.key_field) or "").strip().upper() for r in rows}
        for code in codes:
            status = "confirmed" if code.upper() in have else "refuted"
            self.report.add(Check("accountview", f"accountview.warehouse.{code}", f"warehouse {code} (mapping table "
                                  f"{WAREHOUSE_BRANCH})", status, "" if status == "confirmed" else
                                  f"AccountView has {', '.join(sorted(have)) or 'no warehouses'}", WAREHOUSE_BRANCH,
                                  "" if status == "confirmed" else f"correct {WAREHOUSE_BRANCH}"))  # fmt: skip

    def employee(self) -> None:
        number = int(self.store.settings.get("employee_number", "orders")) if self.store else 999999
        subject = f"employee {number} (orders setting employee_number, for sales without one)"
        found = self.read("mplus.employee", subject, self.mplus.employees)
        if found is None:
            return
        known = {int(e["employeeNumber"]) for e in found}
        if number in known:
            self.check("mplus.employee", subject, "confirmed", "exists")
        else:
            self.check("mplus.employee", subject, "refuted", f"the till has {len(known)} employees, not this one",
                       "set employee_number to an existing employee", "employee_number")  # fmt: skip

    def vat_codes(self) -> None:
        groups = self.read("mplus.vat", "VAT codes of the till", self.mplus.vat_groups)
        if groups is None:
            return
        till = {int(g["vatCode"]): Decimal(str(g.get("vatPercentage") or 0)) for g in groups}
        by_rate = self.av_vat_by_rate()
        for code, pct in sorted(till.items()):
            subject = f"MplusKASSA VAT code {code} ({pct} %) → an AccountView VAT code"
            if self.profile.mplus.vat_lookup == "code":
                target = self.table(VAT_BY_MPLUS_CODE).get(str(code))
                where, table = f"mapping table {VAT_BY_MPLUS_CODE}", VAT_BY_MPLUS_CODE
            else:
                key = format(pct.normalize(), "f")
                target = self.table(VAT_BY_RATE).get(key) or (by_rate or {}).get(pct.normalize())
                where, table = f"mapping table {VAT_BY_RATE}, or AccountView's VAT code with that rate", VAT_BY_RATE
                if target is None and by_rate is None:
                    self.check(f"mplus.vat.{code}", subject, "unchecked", "AccountView's VAT codes could not be read")
                    continue
            if target:
                self.check(f"mplus.vat.{code}", subject, "confirmed", f"VAT code {target}")
            else:
                self.check(f"mplus.vat.{code}", subject, "refuted", f"none in {where}", f"add it to {table}", table)
        for av_code, mplus_code in sorted(self.table(VAT_CODE_AV_MPLUS).items()):
            ok = str(mplus_code).strip().isdigit() and int(mplus_code) in till
            self.check(f"mplus.vat_mapping.{av_code}", f"AccountView VAT code {av_code} → MplusKASSA VAT code "
                       f"{mplus_code} (mapping table {VAT_CODE_AV_MPLUS})", "confirmed" if ok else "refuted",
                       "" if ok else f"the till's VAT codes are {', '.join(map(str, sorted(till)))}",
                       "" if ok else f"correct {VAT_CODE_AV_MPLUS}", VAT_CODE_AV_MPLUS)  # fmt: skip

    def av_vat_by_rate(self) -> dict[Decimal, str] | None:
        if self.av is None:
            return None
        vat = self.profile.accountview.vat
        try:
            rows = list(self.av.iter_rows(vat.code, vat.table, page_size=1000))
        except SyncError:
            return None
        out: dict[Decimal, str] = {}
        for row in sorted(rows, key=lambda r: str(r.get(vat["code"]))):
            if not row.get(vat["reverse_charge"]):
                out.setdefault(Decimal(str(row.get(vat["pct"]) or 0)).normalize(), str(row[vat["code"]]))
        return out

    def payment_methods(self) -> None:
        methods = self.read("mplus.payment_methods", "payment methods of the till", self.mplus.payment_methods)
        if methods is None:
            return
        mapped = {**self.table(PAYMENT_JOURNAL), **self.table(PAYMENT_CONDITION)}
        accounts = self.table(PAYMENT_ACCOUNT)
        settings = self.store.settings if self.store else None
        per_closing = bool(settings) and "receipt" in (settings.get("source_document_type", "orders") or ()) and (
            settings.get("receipt_booking", "orders") == "per_closing")  # fmt: skip
        for method in methods:
            if method.get("active") is False:
                continue
            code = str(method.get("method") or "")
            subject = f"payment method {code} ({method.get('description') or ''})"
            if code in mapped:
                self.check(f"mplus.payment_method.{code}", subject, "confirmed", f"mapped to {mapped[code]}")
            else:
                self.check(f"mplus.payment_method.{code}", subject, "refuted", f"not in {PAYMENT_CONDITION} or "
                           f"{PAYMENT_JOURNAL}", f"map it to a payment condition ({PAYMENT_CONDITION}) or journal "
                           f"({PAYMENT_JOURNAL})", PAYMENT_CONDITION)  # fmt: skip
            if per_closing:
                account = accounts.get(code)
                self.check(f"mplus.payment_account.{code}", f"{subject} → ledger account of till closings",
                           "confirmed" if account else "refuted",
                           f"mapped to {account}" if account else f"not in {PAYMENT_ACCOUNT} (receipt_booking = "
                           "per_closing)", "" if account else f"map it to a ledger account ({PAYMENT_ACCOUNT})",
                           PAYMENT_ACCOUNT)  # fmt: skip

    def turnover_groups(self) -> None:
        lookup = self.profile.mplus.revenue_lookup
        if lookup != "turnover_group":
            self.check("mplus.turnover_groups", "turnover groups → revenue accounts", "confirmed",
                       "not used: revenue accounts come by country and VAT code (mplus.revenue_lookup = vat_code)",
                       profile_key="mplus.revenue_lookup")  # fmt: skip
            return
        groups = self.read("mplus.turnover_groups", "turnover groups of the till", self.mplus.turnover_groups)
        if groups is None:
            return
        for group in groups:
            if group.get("turnoverGroupType") != TURNOVER:
                continue
            number = str(group.get("turnoverGroup"))
            subject = f"turnover group {number} ({group.get('turnoverGroupName') or ''}) → a revenue account"
            account = self.table(REVENUE_BY_TURNOVER_GROUP).get(number)
            if account:
                self.check(f"mplus.turnover_group.{number}", subject, "confirmed", f"account {account}")
            else:
                self.check(f"mplus.turnover_group.{number}", subject, "refuted", f"not in "
                           f"{REVENUE_BY_TURNOVER_GROUP}", f"add it to {REVENUE_BY_TURNOVER_GROUP}",
                           REVENUE_BY_TURNOVER_GROUP)  # fmt: skip

    def price_groups(self) -> None:
        wanted = self.table(PRICE_GROUP_BY_CUSTOMER_GROUP)
        if not wanted:
            return
        groups = self.read("mplus.price_groups", "price groups of the till", self.mplus.price_groups)
        if groups is None:
            return
        known = {int(g["priceGroupNumber"]) for g in groups}
        for code, number in sorted(wanted.items()):
            ok = str(number).strip().isdigit() and int(number) in known
            self.check(f"mplus.price_group.{code}", f"price list {code} → price group {number} (mapping table "
                       f"{PRICE_GROUP_BY_CUSTOMER_GROUP})", "confirmed" if ok else "refuted",
                       "" if ok else f"the till has price groups {', '.join(map(str, sorted(known)))}",
                       "" if ok else f"correct {PRICE_GROUP_BY_CUSTOMER_GROUP}", PRICE_GROUP_BY_CUSTOMER_GROUP)  # fmt: skip
