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
from ..flows.stock_sales import booked_sources, drift_reasons
from ..i18n import Text, msg, profile_ref, setting_ref, table_ref
from ..mplus_wsdl import wsdl_bytes
from ..profile import ApiProfile
from .report import Check, Report
from .wsdl_compare import WsdlShape, compare

SYSTEM = "mplus"
BUNDLED_VERSION = "67.1.3"  # the API version the bundled WSDL describes (apicenter_sync/wsdl/SOURCE.md)
TURNOVER = "TURNOVER-GROUP-TYPE-TURNOVER"


class MplusDoctor:
    def __init__(self, mplus, av, profile: ApiProfile, store, report: Report, deadline, objects=None):
        self.mplus, self.av, self.profile, self.store = mplus, av, profile, store
        # AccountView's objects under the names the AccountView checks found (absent ones left out); the profile's
        # when those checks did not run.
        self.objects = dict(profile.accountview.objects) if objects is None else objects
        self.report, self.deadline = report, deadline
        self.tables = {name: store.mappings.get_table(name) for name in store.mappings.list_tables()} if store else {}

    def check(self, key: str, subject: Text, status: str, detail: Text = "", hint: Text = "", profile_key: str = ""):
        return self.report.add(Check(SYSTEM, key, subject, status, detail, profile_key, hint))

    def table(self, name: str) -> dict[str, str]:
        return self.tables.get(name, {})

    def read(self, key: str, subject: Text, fn):
        """``fn()``, or None after an unchecked line saying why (time out, transient error)."""
        if self.deadline.expired:
            self.check(key, subject, "unchecked", msg("doctor.time_out", seconds=f"{self.deadline.seconds:.0f}"))
            return None
        try:
            return fn()
        except SyncError as exc:
            self.check(key, subject, "unchecked", exc.text())
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
        self.stock_drift()

    def credentials(self) -> bool:
        subject = msg("doctor.mplus.credentials")
        try:
            version = self.mplus.api_version()
        except (AuthError, PermanentError) as exc:
            self.check("mplus.credentials", subject, "refuted", exc.text(), msg("doctor.mplus.credentials_hint"))
            self.check("mplus.rest", msg("doctor.mplus.rest"), "unchecked", msg("doctor.no_access"))
            return False
        except SyncError as exc:
            self.check("mplus.credentials", subject, "unchecked", exc.text())
            return False
        self.report.versions["MplusKASSA API"] = version.get("version", "?")
        self.check("mplus.credentials", subject, "confirmed", msg("doctor.mplus.api_version",
                                                                  version=str(version.get("version", "?"))))  # fmt: skip
        return True

    def wsdl(self) -> None:
        subject = msg("doctor.mplus.wsdl")
        live = self.read("mplus.wsdl", subject, self.mplus.live_wsdl)
        if live is None:
            return
        try:
            live_shape = WsdlShape(live)
        except Exception as exc:  # noqa: BLE001 - whatever the server sends, the report says what it was
            self.check("mplus.wsdl", subject, "refuted", msg("doctor.mplus.wsdl_unreadable", error=str(exc)))
            return
        bundled = WsdlShape(wsdl_bytes())
        self.report.versions["bundled WSDL"] = BUNDLED_VERSION
        for operation in OPERATIONS_USED:
            ok, detail = compare(bundled, live_shape, operation)
            self.check(f"mplus.operation.{operation}", msg("doctor.mplus.operation", operation=operation,
                                                           version=BUNDLED_VERSION),
                       "confirmed" if ok else "refuted", detail,
                       "" if ok else msg("doctor.mplus.operation_hint"))  # fmt: skip

    def branches(self) -> None:
        found = self.read("mplus.branches", msg("doctor.mplus.branches"), self.mplus.branches)
        if found is None:
            return
        known = {int(b["branchNumber"]): b for b in found}
        wanted: dict[int, tuple[Text, str]] = {}  # branch -> (where it is named, the table or entry to correct)
        for warehouse, branch in self.table(WAREHOUSE_BRANCH).items():
            if str(branch).strip().lstrip("-").isdigit():
                wanted.setdefault(int(branch), (msg("doctor.mplus.branch_of_warehouse", table=table_ref(
                    WAREHOUSE_BRANCH), warehouse=warehouse), WAREHOUSE_BRANCH))  # fmt: skip
        for branch in self.profile.mplus.branches:
            wanted.setdefault(int(branch), (profile_ref("mplus.branches"), "mplus.branches"))
        if not wanted:
            self.check("mplus.branches", msg("doctor.mplus.branches_used"), "confirmed",
                       msg("doctor.mplus.branches_none", branches=sorted(known) or "-"))  # fmt: skip
        for number, (where, target) in sorted(wanted.items()):
            subject = msg("doctor.mplus.branch", number=number, where=where)
            if number in known:
                self.check(f"mplus.branch.{number}", subject, "confirmed", str(known[number].get("branchName") or ""))
            else:
                self.check(f"mplus.branch.{number}", subject, "refuted",
                           msg("doctor.mplus.branches_known", branches=sorted(known)),
                           msg("doctor.mplus.correct", where=where), target)  # fmt: skip
        self.warehouses()

    def warehouses(self) -> None:
        warehouse = self.objects.get("warehouse")
        codes = sorted(self.table(WAREHOUSE_BRANCH))
        if not codes or self.av is None or warehouse is None or not (warehouse.available or not warehouse.optional):
            return
        rows = self.read("accountview.warehouses", msg("doctor.mplus.av_warehouses"),
                         lambda: list(self.av.iter_rows(warehouse.reader, warehouse.table, page_size=1000)))  # fmt: skip
        if rows is None:
            return
        have = {str(r.get(warehouse.key_field) or "").strip().upper() for r in rows}
        for code in codes:
            ok = code.upper() in have
            self.report.add(Check("accountview", f"accountview.warehouse.{code}", msg(
                "doctor.mplus.warehouse", code=code, table=table_ref(WAREHOUSE_BRANCH)),
                "confirmed" if ok else "refuted", "" if ok else msg("doctor.mplus.av_has_warehouses",
                                                                   warehouses=sorted(have) or "-"),
                WAREHOUSE_BRANCH, "" if ok else msg("doctor.mplus.correct", where=table_ref(WAREHOUSE_BRANCH))))  # fmt: skip

    def employee(self) -> None:
        number = int(self.store.settings.get("employee_number", "orders")) if self.store else 999999
        subject = msg("doctor.mplus.employee", number=number, setting=setting_ref("employee_number"))
        found = self.read("mplus.employee", subject, self.mplus.employees)
        if found is None:
            return
        known = {int(e["employeeNumber"]) for e in found}
        if number in known:
            self.check("mplus.employee", subject, "confirmed", msg("doctor.mplus.exists"))
        else:
            self.check("mplus.employee", subject, "refuted", msg("doctor.mplus.employee_unknown", count=len(known)),
                       msg("doctor.mplus.employee_hint", setting=setting_ref("employee_number")),
                       "employee_number")  # fmt: skip

    def vat_codes(self) -> None:
        groups = self.read("mplus.vat", msg("doctor.mplus.vat_codes"), self.mplus.vat_groups)
        if groups is None:
            return
        till = {int(g["vatCode"]): Decimal(str(g.get("vatPercentage") or 0)) for g in groups}
        by_rate = self.av_vat_by_rate()
        av_rates = self.av_vat_rates()
        for code, pct in sorted(till.items()):
            subject = msg("doctor.mplus.vat_code", code=code, pct=pct)
            if self.profile.mplus.vat_lookup == "code":
                target = self.table(VAT_BY_MPLUS_CODE).get(str(code))
                where, table = table_ref(VAT_BY_MPLUS_CODE), VAT_BY_MPLUS_CODE
            else:
                key = format(pct.normalize(), "f")
                target = self.table(VAT_BY_RATE).get(key) or (by_rate or {}).get(pct.normalize())
                where = msg("doctor.mplus.vat_by_rate", table=table_ref(VAT_BY_RATE))
                table = VAT_BY_RATE
                if target is None and by_rate is None:
                    self.check(f"mplus.vat.{code}", subject, "unchecked", msg("doctor.mplus.av_vat_unreadable"))
                    continue
            differ = self.vat_rates_differ(target, av_rates, code, till) if target else None
            if differ:
                self.check(f"mplus.vat.{code}", subject, "refuted", differ,
                           msg("doctor.mplus.correct", where=table_ref(table)), table)  # fmt: skip
            elif target:
                self.check(f"mplus.vat.{code}", subject, "confirmed", msg("doctor.mplus.vat_target", code=target))
            else:
                self.check(f"mplus.vat.{code}", subject, "refuted", msg("doctor.mplus.none_in", where=where),
                           msg("doctor.mplus.add_to", table=table_ref(table)), table)  # fmt: skip
        for av_code, mplus_code in sorted(self.table(VAT_CODE_AV_MPLUS).items()):
            ok = str(mplus_code).strip().isdigit() and int(mplus_code) in till
            differ = self.vat_rates_differ(av_code, av_rates, mplus_code, till) if ok else None
            ok = ok and not differ
            self.check(f"mplus.vat_mapping.{av_code}", msg("doctor.mplus.vat_mapping", code=av_code, mplus=mplus_code,
                                                           table=table_ref(VAT_CODE_AV_MPLUS)),
                       "confirmed" if ok else "refuted",
                       "" if ok else differ or msg("doctor.mplus.till_vat_codes", codes=sorted(till)),
                       "" if ok else msg("doctor.mplus.correct", where=table_ref(VAT_CODE_AV_MPLUS)),
                       VAT_CODE_AV_MPLUS)  # fmt: skip

    def av_vat_rows(self) -> list[dict] | None:
        """AccountView's VAT codes (read once), or None when they cannot be read."""
        if getattr(self, "_av_vat_rows", False) is not False:
            return self._av_vat_rows
        self._av_vat_rows = None
        vat = self.objects.get("vat")
        if self.av is not None and vat is not None:
            try:
                self._av_vat_rows = list(self.av.iter_rows(vat.reader, vat.table, page_size=1000))
            except SyncError:
                pass
        return self._av_vat_rows

    def av_vat_by_rate(self) -> dict[Decimal, str] | None:
        rows = self.av_vat_rows()
        if rows is None:
            return None
        vat = self.objects["vat"]
        out: dict[Decimal, str] = {}
        for row in sorted(rows, key=lambda r: str(r.get(vat["code"]))):
            if not row.get(vat["reverse_charge"]):
                out.setdefault(Decimal(str(row.get(vat["pct"]) or 0)).normalize(), str(row[vat["code"]]))
        return out

    def av_vat_rates(self) -> dict[str, Decimal]:
        """AccountView VAT code -> its percentage (empty when AccountView's VAT codes cannot be read)."""
        rows = self.av_vat_rows() or []
        vat = self.objects.get("vat")
        return {str(r.get(vat["code"])).strip(): Decimal(str(r.get(vat["pct"]) or 0)).normalize() for r in rows}

    def vat_rates_differ(self, av_code: str, av_rates: dict, mplus_code, till: dict) -> Text | None:
        """A VAT row that maps one rate onto another (AccountView 0 % to the till's 21 %) books the wrong VAT."""
        av_pct = av_rates.get(str(av_code).strip())
        if av_pct is None or not str(mplus_code).strip().isdigit() or int(mplus_code) not in till:
            return None
        mplus_pct = till[int(mplus_code)].normalize()
        if av_pct == mplus_pct:
            return None
        return msg("doctor.mplus.vat_rates_differ", av=av_code, av_pct=format(av_pct, "f"), mplus=mplus_code,
                   mplus_pct=format(mplus_pct, "f"))  # fmt: skip

    def payment_methods(self) -> None:
        methods = self.read("mplus.payment_methods", msg("doctor.mplus.payment_methods"), self.mplus.payment_methods)
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
            subject = msg("doctor.mplus.payment_method", code=code, name=str(method.get("description") or ""))
            if code in mapped:
                self.check(f"mplus.payment_method.{code}", subject, "confirmed",
                           msg("doctor.mplus.mapped_to", value=mapped[code]))  # fmt: skip
            else:
                self.check(f"mplus.payment_method.{code}", subject, "refuted",
                           msg("doctor.mplus.not_in_either", first=table_ref(PAYMENT_CONDITION),
                               second=table_ref(PAYMENT_JOURNAL)),
                           msg("doctor.mplus.map_payment_method", conditions=table_ref(PAYMENT_CONDITION),
                               journals=table_ref(PAYMENT_JOURNAL)), PAYMENT_CONDITION)  # fmt: skip
            if per_closing:
                account = accounts.get(code)
                self.check(f"mplus.payment_account.{code}", msg("doctor.mplus.payment_account", method=subject),
                           "confirmed" if account else "refuted",
                           msg("doctor.mplus.mapped_to", value=account) if account else
                           msg("doctor.mplus.not_in_per_closing", table=table_ref(PAYMENT_ACCOUNT),
                               setting=setting_ref("receipt_booking")),
                           "" if account else msg("doctor.mplus.map_account", table=table_ref(PAYMENT_ACCOUNT)),
                           PAYMENT_ACCOUNT)  # fmt: skip

    def stock_drift(self) -> None:
        """Stock from AccountView while till sales reach AccountView without article lines: the stock flow sends
        AccountView's figure minus the sales not booked yet, but a sale booked that way never lowers AccountView's
        figure, so the till's figure comes back up (flows/stock_sales.py)."""
        if self.store is None or not self.profile.accountview.objects["stock"].available:
            return
        settings = self.store.settings
        if not settings.get("manage_stock", "stock"):
            return
        reasons = drift_reasons(settings.all("orders"), settings.all("stock"))
        subject = msg("doctor.mplus.stock_drift")
        if not reasons:
            self.check("mplus.stock_drift", subject, "confirmed",
                       msg("doctor.mplus.stock_follows", sources=booked_sources(settings.all("orders"))))  # fmt: skip
            return
        self.check("mplus.stock_drift", subject, "refuted", msg("doctor.mplus.stock_drifts", reasons=reasons),
                   msg("doctor.mplus.stock_drift_hint", order_type=setting_ref("order_type"),
                       receipt_booking=setting_ref("receipt_booking"), stock_figure=setting_ref("stock_figure"),
                       manage_stock=setting_ref("manage_stock")),
                   "order_type")  # fmt: skip

    def turnover_groups(self) -> None:
        lookup = self.profile.mplus.revenue_lookup
        if lookup != "turnover_group":
            self.check("mplus.turnover_groups", msg("doctor.mplus.turnover_groups"), "confirmed",
                       msg("doctor.mplus.turnover_not_used", entry=profile_ref("mplus.revenue_lookup")),
                       profile_key="mplus.revenue_lookup")  # fmt: skip
            return
        groups = self.read("mplus.turnover_groups", msg("doctor.mplus.till_turnover_groups"),
                           self.mplus.turnover_groups)  # fmt: skip
        if groups is None:
            return
        for group in groups:
            if group.get("turnoverGroupType") != TURNOVER:
                continue
            number = str(group.get("turnoverGroup"))
            subject = msg("doctor.mplus.turnover_group", number=number, name=str(group.get("turnoverGroupName") or ""))
            account = self.table(REVENUE_BY_TURNOVER_GROUP).get(number)
            if account:
                self.check(f"mplus.turnover_group.{number}", subject, "confirmed",
                           msg("doctor.mplus.account", account=account))  # fmt: skip
            else:
                self.check(f"mplus.turnover_group.{number}", subject, "refuted",
                           msg("doctor.mplus.none_in", where=table_ref(REVENUE_BY_TURNOVER_GROUP)),
                           msg("doctor.mplus.add_to", table=table_ref(REVENUE_BY_TURNOVER_GROUP)),
                           REVENUE_BY_TURNOVER_GROUP)  # fmt: skip

    def price_groups(self) -> None:
        wanted = self.table(PRICE_GROUP_BY_CUSTOMER_GROUP)
        if not wanted:
            return
        groups = self.read("mplus.price_groups", msg("doctor.mplus.price_groups"), self.mplus.price_groups)
        if groups is None:
            return
        known = {int(g["priceGroupNumber"]) for g in groups}
        for code, number in sorted(wanted.items()):
            ok = str(number).strip().isdigit() and int(number) in known
            self.check(f"mplus.price_group.{code}", msg("doctor.mplus.price_group", code=code, number=number,
                                                        table=table_ref(PRICE_GROUP_BY_CUSTOMER_GROUP)),
                       "confirmed" if ok else "refuted",
                       "" if ok else msg("doctor.mplus.till_price_groups", groups=sorted(known)),
                       "" if ok else msg("doctor.mplus.correct", where=table_ref(PRICE_GROUP_BY_CUSTOMER_GROUP)),
                       PRICE_GROUP_BY_CUSTOMER_GROUP)  # fmt: skip
