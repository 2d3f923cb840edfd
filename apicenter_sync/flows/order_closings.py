"""Receipts booked per till closing (``receipt_booking = per_closing``): one journal booking per cash count.

Many bookkeepers book a shop's till per day rather than per ticket. With this setting the orders flow reads the
till closings (``getCashCountList``) instead of the receipts stream, and books each finalized closing once, as a
page of the journal ``closing_journal`` (the API profile's ``booking`` object, amounts incl. VAT):

- one revenue line per (revenue account, VAT code): minus the value of the receipts' lines (credit), each line
  valued and every receipt reconciled to its own total exactly as a receipt booked on its own would be;
- one line per payment method (mapping table ``payment_method_account``: payment method → ledger account): plus
  what the receipts were paid with (debit); a refund is a negative payment;
- one cash-rounding line (setting ``cash_rounding_account``) when cash payments rounded totals to 5 cents.

The page balances to zero by construction and is checked to before it is posted. It is reconciled to the
closing itself: per payment method, what the closing added (``addedAmount``) must equal what its receipts were
paid, booked and left out together, or the closing is refused naming the method and both amounts. Left out (and
named in the log): cash in/out and payment-method transfers (money, not sales), receipts the status rules skip,
receipts made from orders that the order stream books, and receipts already booked on their own. Counting
differences (``differenceAmount``) are not booked: they are the till's cash management, not sales.

Exactly once: the closing's ``cashCountId`` goes into the booking's reference field; the binding (entity
``closing``) is pending before the POST and the next attempt looks the page up before posting again. Each
receipt on the page is bound too (entity ``receipt``, target ``<page>:<receiptId>``), so switching to
``receipt_booking = each`` later never books it a second time. A closing with nothing to book is bound without a
target (``NOTHING_TO_BOOK``): it is done, and it points at no page two closings could share.

Switching ``receipt_booking`` at any moment books no receipt twice:

- every run first settles the closings whose POST may have reached AccountView (binding still pending): found by
  their reference → bound with the receipts on their page; not there → the pending mark is dropped (and, when
  receipts are booked one by one now, they are left to the receipts stream). A pending closing that could not be
  settled stops the run before any receipt is booked;
- a closing leaves out every receipt booked on its own: bound so, or found in AccountView by its reference (a
  receipt whose own POST's reply was lost);
- with ``receipt_booking = each`` a closing is never booked: its failures are closed with a note.

Reading: the closings with a financial date from ``closing_overlap_days`` before the last one read (a closing
finalized late is not missed; booked ones are passed over silently), in date order; the watermark (stream
``closing``) is that date. A closing that failed is not read again that way: like a sale, it is retried from the
log (``max_attempts``, ``wait_days``), and once refused or ignored it stays so. A closing that is not finalized yet
is retried. Failed closings are read again from the list of the last ``wait_days`` + 31 days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..errors import RecordError, SyncError, TransientError
from ..i18n import Text, msg, setting_ref, table_ref
from ..store import Binding
from .base import Batch, Outcome, record_error, synced
from .order_amounts import ZERO, money
from .order_documents import document, document_total
from .order_sources import CLOSING, NothingSold

PAYMENT_ACCOUNT = "payment_method_account"  # MplusKASSA payment method -> ledger account (per-closing bookings)
STEPS_SHOWN = 200  # receipts listed one by one in a closing's log line; the rest are counted
NOTHING_TO_BOOK = "nothing-to-book"  # payload hash of a closing bound without a page: it had nothing to book
OPEN_OR_DISMISSED = ("failed", "retry", "ignored")  # a closing's latest log line in these states: not read again


def _cents(value) -> Decimal:
    return Decimal(int(value or 0)) / 100


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def closing_name(record: dict) -> str:
    return str(record.get("cashCountString") or record.get("cashCountId") or "?")


def settled(binding: Binding | None) -> bool:
    """The closing is done: its page is in AccountView, or it had nothing to book."""
    return (binding is not None and binding.state == "synced"
            and bool(binding.target_id or binding.payload_hash == NOTHING_TO_BOOK))  # fmt: skip


def nothing_to_book(ref: str) -> Binding:
    return Binding(entity=CLOSING, source_id=ref, target_id=None, payload_hash=NOTHING_TO_BOOK, state="synced")


class Closings:
    """The per-closing bookings of one orders run."""

    def __init__(self, flow):
        self.flow = flow
        self.doc = document(flow.profile, "booking")
        self.unlisted: set[str] = set()  # unfinished closings MplusKASSA no longer lists

    # --- reading ----------------------------------------------------------------------------------------------
    def read_batches(self):
        flow = self.flow
        mark = flow.store.watermarks.get(flow.name, CLOSING)
        last = None if flow.from_start or not mark.value else _day(mark.value)
        overlap = int(flow.settings.get("closing_overlap_days", 3))
        since = last - timedelta(days=overlap) if last else None
        closings = self._listed(flow.mplus.cash_counts(since=since))
        fresh = closings
        if not flow.options.full:
            booked = flow.store.bindings.get_many(CLOSING, [c["cashCountId"] for c in closings])
            fresh = [c for c in closings if not settled(booked.get(c["cashCountId"]))]
            decided = self._in_the_log([c["cashCountId"] for c in fresh])
            fresh = [c for c in fresh if c["cashCountId"] not in decided]
        size = int(flow.settings.get("batch_size") or 100)
        for start in range(0, len(fresh), size):
            chunk = fresh[start : start + size]
            newest = max(str(_day(c.get("financialDate"))) for c in chunk)
            yield Batch(chunk, stream=CLOSING, watermark=max(newest, mark.value or "") if not flow.from_start else newest)

    def _listed(self, closings: list[dict]) -> list[dict]:
        branches = set(self.flow.profile.mplus.branches)
        kept = [c for c in closings if c.get("cashCountId") and (not branches or int(c.get("branchNumber") or 0)
                                                                 in branches)]  # fmt: skip
        return sorted(kept, key=lambda c: (str(_day(c.get("financialDate"))), int(c.get("branchNumber") or 0),
                                           int(c.get("workplaceNumber") or 0),
                                           int((c.get("cashCountNumber") or {}).get("number") or 0)))  # fmt: skip

    def _in_the_log(self, refs: list[str]) -> set[str]:
        """The closings whose latest log line is an open failure (retried from the log, within max_attempts or
        wait_days) or one a person ignored: the overlap read passes them over, so a refusal stays final."""
        log, name = self.flow.store.log, self.flow.name
        decided = set()
        for ref in refs:
            latest = log.list_lines(flow=name, entity=CLOSING, source_id=ref, limit=1)
            if latest and latest[0].state in OPEN_OR_DISMISSED:
                decided.add(ref)
        return decided

    def fetch(self, ids: list[str]) -> list[dict]:
        days = int(self.flow.settings.get("wait_days", 7)) + 31
        wanted = set(ids)
        listed = self.flow.mplus.cash_counts(since=date.today() - timedelta(days=days))
        return [c for c in self._listed(listed) if c["cashCountId"] in wanted]

    def unfinished(self):
        """The closings whose POST may have reached AccountView (binding pending), settled before anything else of
        the run: no receipt of theirs may be booked another way until it is known whether their page exists."""
        flow = self.flow
        pending = [b.source_id for b in flow.store.bindings.iter(CLOSING, state="pending")]
        if not pending:
            return
        listed = {c["cashCountId"]: c for c in self.fetch(pending)}
        self.unlisted = {ref for ref in pending if ref not in listed}
        yield Batch([listed.get(ref) or {"cashCountId": ref} for ref in pending], stream=CLOSING)
        left = [b.source_id for b in flow.store.bindings.iter(CLOSING, state="pending")]
        if left and not flow.dry_run:
            raise TransientError(msg("orders.closing.unsettled", closings=left[:10]))

    # --- booking ----------------------------------------------------------------------------------------------
    def process_batch(self, records: list[dict]) -> list[Outcome]:
        flow = self.flow
        refs = [str(r.get("cashCountId") or "").strip() for r in records]
        bindings = flow.store.bindings.get_many(CLOSING, [r for r in refs if r])
        existing = flow.existing_documents([r for r in refs if r], doc=self.doc)
        unsettled = {ref for ref, binding in bindings.items() if ref not in existing and flow.unsettled(binding, CLOSING)}
        for ref, binding in bindings.items():
            if binding.state == "pending" and ref not in existing and ref not in unsettled and not flow.dry_run:
                # The POST never reached AccountView: the closing is free again (booked anew, or left to the
                # receipts), and a run is no longer held up by it.
                bindings[ref] = flow.store.bindings.mark_failed(CLOSING, ref, f"no {self.doc.code} page with "
                                                                f"{self.doc['reference']} {ref} in AccountView")  # fmt: skip
        outcomes = []
        for record, ref in zip(records, refs, strict=True):
            if ref in existing:
                outcomes.append(flow.guarded(record, lambda rec, ref=ref: self.found(rec, ref, existing[ref],
                                                                                     bindings.get(ref))))  # fmt: skip
            elif ref in unsettled:  # its page may still be under way: neither booked again nor left to the receipts
                why = msg("orders.post_unsettled", label=closing_name(record), object=self.doc.code,
                          seconds=round(flow.av.settle_seconds))  # fmt: skip
                outcomes.append(flow.failure(record, record_error(why, retry=True, source_id=ref)))
            elif not flow.per_closing:
                outcomes.append(self.left_to_receipts(record, ref))
            elif ref in self.unlisted:
                outcomes.append(flow.failure(record, record_error(msg("orders.closing.unlisted", ref=ref),
                                                                  source_id=ref)))  # fmt: skip
            else:
                outcomes.append(flow.guarded(record, lambda rec, ref=ref: self.book(rec, ref, bindings.get(ref))))
        return outcomes

    def left_to_receipts(self, record: dict, ref: str) -> Outcome:
        """receipt_booking = each (or receipts not read): a closing is not booked, its receipts are booked one by
        one. Closes the closing's open failure, if it had one."""
        why = (msg("orders.closing.each", setting=setting_ref("receipt_booking")) if "receipt" in self.flow.kinds
               else msg("orders.closing.receipts_not_read", setting=setting_ref("source_document_type")))  # fmt: skip
        return Outcome(entity=CLOSING, source_id=ref, action="skipped", source_payload=record,
                       message=msg("orders.closing.not_booked", name=closing_name(record), why=why))  # fmt: skip

    def found(self, record: dict, ref: str, row: dict, binding) -> Outcome:
        """The closing's page is in AccountView already (an earlier attempt whose reply was lost, or a full run):
        bound, and so are the receipts on it."""
        outcome = self.flow.already_there(record, ref, row, binding, doc=self.doc)
        receipts = self.flow.mplus.receipts_by_cash_count(ref) or []
        bound = self.flow.store.bindings.get_many("receipt", [str(r.get("receiptId") or "") for r in receipts])
        on_page = [rid for r in receipts for rid in [str(r.get("receiptId") or "").strip()]
                   if not self._left_out(r, rid, bound.get(rid))]  # fmt: skip
        outcome.bindings += [synced("receipt", rid, f"{outcome.target_id}:{rid}", "") for rid in on_page]
        return outcome

    def book(self, record: dict, ref: str, binding) -> Outcome:
        flow = self.flow
        label = msg("orders.label.closing", ref=closing_name(record))
        base = {"entity": CLOSING, "source_id": ref, "source_payload": record}
        if settled(binding) and not flow.options.full:
            done = (msg("orders.closing.already_booked", object=self.doc.code, target=binding.target_id)
                    if binding.target_id else msg("orders.closing.nothing_to_book"))  # fmt: skip
            return Outcome(action="skipped", target_id=binding.target_id, message=done, **base)
        if not record.get("isFinalized", True):
            raise record_error(msg("orders.closing.not_finalized", label=label), retry=True, source_id=ref)
        receipts = flow.mplus.receipts_by_cash_count(ref)
        if receipts is None:
            raise record_error(msg("orders.closing.not_found", label=label), source_id=ref)
        steps: list[str] = []
        revenue: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        paid: dict[str, Decimal] = defaultdict(lambda: ZERO)  # booked, per payment method
        left_out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        bound_receipts = flow.store.bindings.get_many("receipt", [str(r.get("receiptId") or "") for r in receipts])
        alone = self._booked_alone(receipts, bound_receipts)
        bound_receipts.update({b.source_id: b for b in alone})
        booked_ids: list[str] = []
        for receipt in receipts:
            rid = str(receipt.get("receiptId") or "").strip()
            why = self._left_out(receipt, rid, bound_receipts.get(rid))
            if why:
                for payment in (receipt.get("paymentList") or {}).get("payment") or []:
                    left_out[str(payment.get("method") or "")] += _cents(payment.get("amount"))
                _step(steps, msg("orders.step.receipt_left_out", receipt=receipt.get("transactionString") or rid, why=why))
                continue
            try:
                sale = flow.prepare_sale(receipt, rid, document_type="booking")
                lines = [(flow.builder.revenue_account(pl, vat, None, sale.label), vat, pl.total)
                         for pl in sale.lines for vat in [flow.builder.vat_code(pl, None, sale.label)]]  # fmt: skip
            except NothingSold:
                _step(steps, msg("orders.step.receipt_left_out", receipt=receipt.get("transactionString") or rid,
                                 why=msg("orders.step.nothing_sold")))  # fmt: skip
                continue
            except RecordError as exc:
                raise _within(label, exc) from None
            payments = sum((p.amount for p in sale.order.payments), ZERO)
            if payments != sale.total:
                raise record_error(msg("orders.closing.not_paid", label=label, sale=sale.label, paid=payments,
                                       total=sale.total), source_id=ref)  # fmt: skip
            for account, vat, amount in lines:
                revenue[(account, vat)] += amount
            for p in sale.order.payments:
                paid[p.method or ""] += p.amount
            booked_ids.append(rid)
            _step(steps, msg("orders.step.receipt_booked", sale=sale.label, receipt=receipt.get("transactionString") or "",
                             total=sale.total))  # fmt: skip
        self._reconcile(record, label, paid, left_out, ref)
        if not booked_ids:
            return Outcome(action="skipped", message=msg("orders.closing.no_sales", label=label, receipts=len(receipts)),
                           reply={"steps": steps},
                           bindings=[*alone, nothing_to_book(ref)], **base)  # fmt: skip
        header, rows = self._page(record, ref, label, revenue, paid)
        if document_total(self.doc, "booking", rows) != ZERO:  # the encoding must never unbalance the page
            raise record_error(msg("orders.closing.unbalanced", label=label), source_id=ref)
        payload = {"business_object": self.doc.code, self.doc.table.upper(): [header],
                   self.doc.detail_table.upper(): rows}  # fmt: skip
        base["target_payload"] = payload
        total = sum(paid.values(), ZERO)
        summary = msg("orders.closing.summary", receipts=len(booked_ids), total=total, methods=len(paid))
        if flow.dry_run:
            return Outcome(action="dry_run", message=msg("orders.closing.would_book", label=label, summary=summary),
                           reply={"steps": steps}, **base)  # fmt: skip
        digest = flow.hash(payload)
        flow.store.bindings.mark_pending(CLOSING, ref, payload_hash=digest)
        try:
            reply = flow.av.create(self.doc.code, self.doc.table, header, detail_table=self.doc.detail_table,
                                   detail_rows=rows)  # fmt: skip
        except TransientError as exc:
            raise record_error(msg("orders.post_failed", label=label, object=self.doc.code, error=exc.text(),
                                   field=self.doc["reference"]), retry=True, source_id=ref) from None  # fmt: skip
        except SyncError as exc:
            flow.store.bindings.mark_failed(CLOSING, ref, str(exc))
            raise
        stored = (reply.get(self.doc.table.upper()) or [{}])[0]
        target = str(stored.get(self.doc.key_field) or "").strip()
        # At once, AccountView confirmed: the closing and every receipt on its page, together.
        with flow.store.transaction():
            flow.store.bindings.upsert_many([synced(CLOSING, ref, target, digest)]
                                            + [synced("receipt", rid, f"{target}:{rid}", "") for rid in booked_ids])  # fmt: skip
        steps.append(msg("orders.step.closing_created", object=self.doc.code, number=stored.get(self.doc["invoice_number"]) or target))
        return Outcome(action="created", target_id=target, message=msg("orders.closing.booked", label=label,
                                                                       summary=summary),
                       reply={"steps": steps, "stored": stored}, bindings=alone, **base)  # fmt: skip

    def _booked_alone(self, receipts: list[dict], bound: dict[str, Binding]) -> list[Binding]:
        """Receipts of the closing that are in AccountView on their own although no binding says so (their POST's
        reply was lost, or they were booked before the engine kept records): found by their reference (one GET per
        50) and bound to their document, so the closing leaves them out."""
        flow = self.flow
        unbound = [rid for r in receipts for rid in [str(r.get("receiptId") or "").strip()]
                   if rid and not (rid in bound and bound[rid].state == "synced" and bound[rid].target_id)]  # fmt: skip
        found = flow.existing_documents(unbound) if unbound else {}
        return [synced("receipt", rid, str(row.get(flow.doc.key_field) or "").strip(), "") for rid, row in found.items()]

    def _left_out(self, receipt: dict, rid: str, bound) -> Text | None:
        """Why a receipt of the closing is not on its page (None: it is)."""
        flow = self.flow
        if not rid:
            return msg("orders.step.no_receipt_id")
        send, why = flow.status_decision(receipt)
        if send:
            send, why = flow.booked_elsewhere(receipt, "receipt", why)
        if not send:
            return why
        if bound is not None and bound.state == "synced" and bound.target_id:
            page, _, on_page = bound.target_id.partition(":")
            return (msg("orders.step.on_page", page=page) if on_page
                    else msg("orders.step.booked_alone", id=bound.target_id))  # fmt: skip
        return None

    def _reconcile(self, record: dict, label: Text, paid: dict, left_out: dict, ref: str) -> None:
        """Per payment method, the closing's added amount = its receipts' payments (booked + left out)."""
        lines = (record.get("cashCountLineList") or {}).get("cashCountLine") or []
        added = {str(line.get("paymentMethod") or ""): _cents(line.get("addedAmount")) for line in lines}
        problems = []
        for method in sorted(set(added) | set(paid) | set(left_out)):
            receipts = paid.get(method, ZERO) + left_out.get(method, ZERO)
            if added.get(method, ZERO) != receipts:
                problems.append(msg("orders.closing.method_differs", method=method or "-", added=added.get(method, ZERO),
                                    receipts=receipts, booked=paid.get(method, ZERO), left_out=left_out.get(method, ZERO)))
        if problems:
            raise record_error(msg("orders.closing.not_reconciled", label=label, problems=problems),
                               source_id=ref)  # fmt: skip

    def _page(self, record: dict, ref: str, label: Text, revenue: dict, paid: dict) -> tuple[dict, list[dict]]:
        flow, bk = self.flow, self.doc
        accounts = flow.tables.get(PAYMENT_ACCOUNT, {})
        missing = sorted(m for m, amount in paid.items() if amount and not accounts.get(m))
        if missing:
            raise record_error(msg("orders.closing.methods_unmapped", label=label, methods=missing,
                                   table=table_ref(PAYMENT_ACCOUNT)), source_id=ref, wait="mapping")  # fmt: skip
        described = bk.line_fields["description"].length or 40
        header = {
            bk["journal"]: str(flow.settings.get("closing_journal") or "MEM"),
            bk["reference"]: ref,
            bk["description"]: f"Kassa {closing_name(record)}"[: bk.fields["description"].length or 40],
            bk["amounts_incl_vat"]: True,
            # The shift's takings as the till counts them: negative for a shift of refunds only (ASSUMPTION).
            bk["total"]: money(sum(paid.values(), ZERO)),
            bk["currency"]: str(flow.settings.get("currency") or "EUR"),
        }
        day = _day(record.get("financialDate"))
        if day is not None:
            header[bk["date"]] = day
        rows = []
        for (account, vat), amount in sorted(revenue.items()):
            if amount:
                rows.append({bk.line("account"): account, bk.line("amount"): -amount, bk.line("vat_code"): vat,
                             bk.line("description"): f"Omzet {closing_name(record)} btw {vat}"[:described]})  # fmt: skip
        for method, amount in sorted(paid.items()):
            if amount:
                rows.append({bk.line("account"): accounts[method], bk.line("amount"): amount,
                             bk.line("description"): f"{method} {closing_name(record)}"[:described]})  # fmt: skip
        return header, rows


def _within(label: Text, exc: RecordError) -> RecordError:
    """A receipt's error as the closing's: the closing is booked whole or not at all."""
    err = record_error(msg("core.error_at", where=label, message=exc.message), retry=bool(getattr(exc, "retry", False)), source_id=label,
                       wait=getattr(exc, "wait", None))  # fmt: skip
    return err


def _step(steps: list[Text], text: Text) -> None:
    if len(steps) < STEPS_SHOWN:
        steps.append(text)
    elif len(steps) == STEPS_SHOWN:
        steps.append(msg("orders.step.more_receipts"))
