"""The doctor's AccountView checks: token, company, every object, table and field of the profile, the filters.

Read-only: the only write is the token refresh (a rotated token pair, stored as every refresh is). Every entry of
the profile is checked under its flat key (``accountview.stock.code``), so a refuted check names the entry to
change. Types and lengths come from the tenant's data dictionary when it can be read; without it, presence is
still checked from a one-row read (or a one-field probe on an empty table).

Where an entry is refuted, the doctor looks for the tenant's own name (:mod:`.finder`): an object's table among
the dictionary's tables by how its fields fit, its code among the business-object list by which table a code
answers with, a field among its table's fields by description, type, length and role. One cause is one finding:

- an object found under another code or table is one finding with the proposals for both; its fields are then
  checked in the tenant's table and refuted only where they differ there;
- an optional object the tenant lacks is one finding proposing ``available = false``, naming the steps it
  switches off;
- a field's length is checked in the same pass as its name (a shorter field the engine writes: a proposal for its
  ``length``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..clients.accountview import Filter
from ..errors import AuthError, ConfigError, SyncError
from ..i18n import Text, msg, profile_ref, setting_ref
from ..profile import ApiProfile, FieldSpec, ObjectSpec
from ..profile.model import steps_of
from . import finder
from .finder import DictField, Dictionary, family
from .report import Check, Proposal, Report

SYSTEM = "accountview"
INCREMENTAL = ("article", "article_group", "debtor", "price_list", "price_list_item", "group_discount", "stock",
               "debtor_article_discount")
PROBE = "apicenter-doctor-probe"  # a value no record holds: a filter on it answers nothing, but must be accepted
MAX_SKU_PAGES = 200  # article codes read for the numeric-SKU count (1000 a page)
MAX_PROBES = 40  # business objects of the list read (one row each) to learn which table a code answers with
LINK_BONUS = 0.15  # a candidate for a header-lines link field that has the same name in the other table
ABSENT = 0.25  # an object whose best table fits less than this is absent (above it, and still unplaced: a question)


def _pct(score: float) -> int:
    return round(100 * score)


class AccountViewDoctor:
    def __init__(self, av, profile: ApiProfile, store, report: Report, deadline):
        self.av, self.profile, self.store, self.report, self.deadline = av, profile, store, report, deadline
        self.names = profile.accountview
        self.current = profile.flat()
        self.dictionary: Dictionary | None = None  # the profile's tables
        self._full: Dictionary | None = None  # every table, read when something must be found
        self.listing: dict[str, dict] | None = None
        self.reads: dict[str, tuple[bool, dict[str, list[dict]], Text]] = {}  # code -> (readable, reply, error)
        self.probes = 0
        self.effective: dict[str, ObjectSpec] = dict(self.names.objects)  # with the proposed names applied
        self.gone: set[str] = set()  # objects this tenant does not have (or that could not be placed)
        self.found: dict[str, str] = {}  # field entry -> the tenant's name proposed for it

    # --- helpers -------------------------------------------------------------------------------------------------
    def check(self, key: str, subject: Text, status: str, detail: Text = "", hint: Text = "",
              profile_key: str | None = None, proposals: list[Proposal] | None = None) -> Check:  # fmt: skip
        return self.report.add(Check(SYSTEM, key, subject, status, detail, key if profile_key is None else profile_key,
                                     hint, list(proposals or [])))  # fmt: skip

    def timed_out(self, key: str, subject: Text) -> bool:
        if self.deadline.expired:
            self.check(key, subject, "unchecked", msg("doctor.time_out", seconds=f"{self.deadline.seconds:.0f}"))
            return True
        return False

    def proposal(self, key: str, value, confidence: str, evidence: Text) -> Proposal:
        return Proposal(key, value, self.current.get(key), confidence, evidence)

    def question(self, key: str, evidence: Text, candidates: list[str] | None = None) -> Proposal:
        return Proposal(key, None, self.current.get(key), "low", evidence, list(candidates or []))

    # --- the run -------------------------------------------------------------------------------------------------
    def run(self) -> None:
        if not self.access():
            return
        self.read_listing()
        self.read_dictionary()
        survey = {name: self.survey(obj) for name, obj in self.names.objects.items() if not self.deadline.expired}
        placed = self.place_objects(survey)
        for name, obj in self.names.objects.items():
            if name not in survey:
                self.timed_out(f"accountview.{name}.code", msg("doctor.av.object", object=_object(name),
                                                               code=obj.reader))  # fmt: skip
                continue
            self.check_object(name, obj, survey[name], placed.get(name))
        self.check_change_fields()
        self.check_filters()
        self.check_numeric_skus()

    def access(self) -> bool:
        """Token refresh and company; False when nothing else can be checked."""
        subject = msg("doctor.av.token")
        try:
            tokens = self.av.refresh_tokens()
            expires = datetime.fromtimestamp(tokens.expires_at, UTC) if tokens.expires_at else None
            until = expires.strftime("%Y-%m-%d %H:%M:%S UTC") if expires else msg("doctor.av.token_unknown_time")
            self.check("accountview.token", subject, "confirmed", msg("doctor.av.token_valid", until=until),
                       profile_key="")  # fmt: skip
        except (AuthError, ConfigError) as exc:
            self.check("accountview.token", subject, "refuted", exc.text(), msg("doctor.av.token_reconnect"), "")
            self.check("accountview.rest", msg("doctor.av.rest"), "unchecked", msg("doctor.no_access"), profile_key="")
            return False
        except SyncError as exc:
            self.check("accountview.token", subject, "unchecked", exc.text(), profile_key="")
            return False
        try:
            companies = self.av.companies()
        except SyncError as exc:
            self.check("accountview.company", msg("doctor.av.company"), "unchecked", exc.text(), profile_key="")
            return False
        chosen = str(self.av.company_id or "")
        found = next((c for c in companies if str(c.get("Id", "")).lower() == chosen.lower()), None)
        if found is None:
            seen = [str(c.get("Code")) for c in companies]
            self.check("accountview.company", msg("doctor.av.company_chosen", chosen=chosen or
                                                  msg("doctor.av.company_not_chosen")), "refuted",
                       msg("doctor.av.company_seen", companies=seen) if seen else msg("doctor.av.company_none"),
                       msg("doctor.av.company_choose"), "")  # fmt: skip
            return False
        self.check("accountview.company", msg("doctor.av.company"), "confirmed",
                   msg("doctor.av.company_found", name=str(found.get("Description") or ""), code=str(found.get("Code"))),
                   profile_key="")  # fmt: skip
        return True

    def read_listing(self) -> None:
        try:
            self.listing = {str(b.get("Code", "")).strip().upper(): b for b in self.av.business_objects()}
        except SyncError:
            self.listing = None  # not offered: codes are checked by reading only

    def _dictionary_rows(self, filters=()) -> Dictionary:
        d = self.names.dictionary
        rows = []
        for row in self.av.system_rows(d.code, d.table, filters=list(filters)):
            rows.append(DictField(str(row.get(d.table_field) or "").strip().upper(),
                                  str(row.get(d.name_field) or "").strip().upper(),
                                  str(row.get(d.type_field) or "").strip().upper(), int(row.get(d.length_field) or 0),
                                  str(row.get(d.label_field) or "").strip()))  # fmt: skip
        return Dictionary(rows)

    def read_dictionary(self) -> None:
        d = self.names.dictionary
        tables = sorted({t.upper() for o in self.names.objects.values() for t in (o.table, o.detail_table) if t})
        found: list[DictField] = []
        try:
            for start in range(0, len(tables), 20):
                part = self._dictionary_rows([Filter.in_(d.table_field, tables[start : start + 20])])
                found += [f for fields in part.tables.values() for f in fields.values()]
        except (SyncError, ValueError, TypeError):
            return  # no dictionary: presence is checked by reading
        self.dictionary = Dictionary(found) if found else None

    def full(self) -> Dictionary | None:
        """Every table of the data dictionary (read once, when a name must be found)."""
        if self._full is None and self.dictionary is not None and not self.deadline.expired:
            try:
                self._full = self._dictionary_rows()
            except (SyncError, ValueError, TypeError):
                self._full = self.dictionary
        return self._full or self.dictionary

    def table_fields(self, table: str) -> dict[str, DictField] | None:
        if self.dictionary is None or not table:
            return None
        found = self.dictionary.get(table)
        if found is None:
            full = self.full()
            found = full.get(table) if full else None
        return found

    # --- reading objects ---------------------------------------------------------------------------------------------
    def read(self, code: str) -> tuple[bool, dict[str, list[dict]], Text]:
        """(readable, the first page as {table: rows}, the error) of one row of business object ``code``."""
        key = code.upper()
        if key not in self.reads:
            try:
                self.reads[key] = (True, self.av.first_page(code), "")
            except SyncError as exc:
                self.reads[key] = (False, {}, exc.text())
        return self.reads[key]

    def survey(self, obj: ObjectSpec) -> dict:
        """Whether the object is where the profile says: its code readable, its tables there."""
        readable, reply, error = self.read(obj.reader)
        tables = {}
        for table in (obj.table, obj.detail_table):
            if not table:
                continue
            if self.dictionary is not None:
                tables[table] = table.upper() in self.dictionary
            elif readable and reply:
                tables[table] = table.upper() in reply
            else:
                tables[table] = None  # not known
        return {"readable": readable, "reply": reply, "error": error, "tables": tables}

    # --- finding objects under other names ---------------------------------------------------------------------------
    def place_objects(self, survey: dict[str, dict]) -> dict[str, dict]:
        """For every object that is not where the profile says (and not switched off): the tenant's table (and code),
        each object one table, best fit first. ``{name: {"table", "fit", "runner_up", "confidence", "nearest"}}``."""
        lost = [n for n, s in survey.items() if self._lost(n, s)]
        full = self.full() if lost else None
        if not lost or full is None:
            return {}
        claimed = set()
        for name in survey:
            if name not in lost:
                obj = self.names.objects[name]
                claimed |= {t.upper() for t in (obj.table, obj.detail_table) if t}
        system = {self.names.dictionary.table.upper()}
        scores: dict[str, dict[str, float]] = {}
        for name in lost:
            obj = self.names.objects[name]
            reply = survey[name]["reply"] if survey[name]["readable"] else {}
            pool = [t for t in (reply or full.tables) if t in full.tables and t not in claimed | system]
            scores[name] = {t: finder.table_fit(obj.fields, obj.key, full.tables[t]) for t in pool}
        placed: dict[str, dict] = {}
        for name, (table, fit, runner_up, level) in finder.assign(scores).items():
            placed[name] = {"table": table, "fit": fit, "runner_up": runner_up, "confidence": level}
        taken = {p["table"] for p in placed.values()}
        for name in lost:
            if name not in placed:
                near = sorted(((s, t) for t, s in scores[name].items() if t not in taken), reverse=True)[:3]
                placed[name] = {"table": None, "nearest": near}
        return placed

    def _lost(self, name: str, survey: dict) -> bool:
        obj = self.names.objects[name]
        if obj.optional and not obj.available:
            return False
        return not survey["readable"] or survey["tables"].get(obj.table) is False

    def code_for(self, table: str, not_codes: set[str]) -> str | None:
        """The business object of the list that answers with ``table`` (reading one row of each candidate)."""
        if self.listing is None:
            return None
        codes = [c for c in self.listing if c not in not_codes]
        # Read first the codes whose description names the table (an object's list entry often does).
        codes.sort(key=lambda c: -finder.label_similarity(str(self.listing[c].get("Description") or ""), table))
        for code in codes:
            if self.probes >= MAX_PROBES or self.deadline.expired:
                return None
            if code not in self.reads:
                self.probes += 1
            readable, reply, _ = self.read(code)
            if readable and table.upper() in reply:
                return code
        return None

    # --- objects ---------------------------------------------------------------------------------------------------
    def check_object(self, name: str, obj: ObjectSpec, survey: dict, placed: dict | None) -> None:
        where = f"accountview.{name}"
        if obj.optional and not obj.available:
            self.check_switched_off(name, obj, survey)
            return
        if placed is not None:
            if placed["table"] is None:
                self.object_missing(name, obj, survey, placed)
                return
            obj_eff = self.object_found(name, obj, survey, placed)
            if obj_eff is None:
                return
        else:
            obj_eff = obj
            read_key = f"{where}.read_code" if obj.read_code else f"{where}.code"
            subject = msg("doctor.av.object_readable", code=obj.reader, object=_object(name))
            rows = len(survey["reply"].get(obj.table.upper(), []))
            if survey["readable"]:
                self.check(read_key, subject, "confirmed",
                           msg("doctor.av.one_row") if rows else msg("doctor.av.no_rows"))  # fmt: skip
            else:  # readable failed but the table is known (the dictionary has it): the code itself is wrong
                self.check(read_key, subject, "refuted", survey["error"], msg("doctor.hint.set", entry=profile_ref(
                    read_key)))  # fmt: skip
            self.check_table(f"{where}.table", obj, obj.table, survey)
        if obj.read_code:
            self.check_post_code(where, name, obj_eff)
        if obj.detail_table:
            obj_eff = self.check_detail_table(where, obj, obj_eff, survey)
        self.effective[name] = obj_eff
        self.check_fields(where, name, obj, obj_eff)

    def check_switched_off(self, name: str, obj: ObjectSpec, survey: dict) -> None:
        where = f"accountview.{name}"
        subject = msg("doctor.av.switched_off", object=_object(name))
        self.gone.add(name)
        if survey["readable"] and (survey["tables"].get(obj.table) is not False):
            self.check(f"{where}.available", subject, "refuted",
                       msg("doctor.av.has_it_after_all", code=obj.reader, table=obj.table),
                       msg("doctor.hint.set_true", entry=profile_ref(f"{where}.available")),
                       proposals=[self.proposal(f"{where}.available", True, "high",
                                                msg("doctor.evidence.readable", code=obj.reader))])  # fmt: skip
        else:
            self.check(f"{where}.available", subject, "confirmed",
                       msg("doctor.av.has_it_not", code=obj.reader, error=survey["error"] or
                           msg("doctor.av.no_table", table=obj.table), steps=_steps(name)))  # fmt: skip

    def object_missing(self, name: str, obj: ObjectSpec, survey: dict, placed: dict) -> None:
        """Not where the profile says, and no table of the tenant fits: absent (an optional object whose code is
        refused), else a question."""
        where = f"accountview.{name}"
        self.gone.add(name)
        near = placed.get("nearest") or []
        nearest = (msg("doctor.evidence.nearest", tables=[f"{t} ({_pct(s)} %)" for s, t in near]) if near
                   else msg("doctor.evidence.no_table_fits"))  # fmt: skip
        refused = survey["error"] or msg("doctor.av.no_table", table=obj.table)
        if obj.optional and not survey["readable"] and (not near or near[0][0] < finder.WEAK):
            steps = _steps(name)
            confidence = "high" if not near or near[0][0] < ABSENT else "medium"
            evidence = msg("doctor.evidence.absent", code=obj.reader, error=refused, nearest=nearest)
            self.check(f"{where}.available", msg("doctor.av.object_absent", object=_object(name), code=obj.reader,
                                                 table=obj.table), "refuted",
                       msg("doctor.av.absent_detail", error=refused, nearest=nearest, steps=steps),
                       msg("doctor.hint.apply", entry=profile_ref(f"{where}.available")),
                       proposals=[self.proposal(f"{where}.available", False, confidence, evidence)])  # fmt: skip
            return
        key = f"{where}.read_code" if obj.read_code else f"{where}.code"
        candidates = [t for _s, t in near]
        questions = [self.question(f"{where}.table", nearest, candidates), self.question(key, nearest)]
        if obj.optional:
            questions.append(self.question(f"{where}.available", msg("doctor.evidence.maybe_absent")))
        self.check(key, msg("doctor.av.object_absent", object=_object(name), code=obj.reader, table=obj.table),
                   "refuted", msg("doctor.av.not_placed", error=refused, nearest=nearest),
                   msg("doctor.hint.question", entry=profile_ref(f"{where}.table")), proposals=questions)  # fmt: skip

    def object_found(self, name: str, obj: ObjectSpec, survey: dict, placed: dict) -> ObjectSpec | None:
        """The object under the tenant's own table (and code): one finding, with a proposal for each name."""
        where = f"accountview.{name}"
        table = placed["table"]
        code_key = f"{where}.read_code" if obj.read_code else f"{where}.code"
        fields = self.full().tables[table]
        fitting = sum(1 for spec in obj.fields.values()
                      if max((finder.field_score(spec, f) for f in fields.values()), default=0) >= finder.WEAK)  # fmt: skip
        fit = msg("doctor.evidence.table_fits", table=table, fitting=fitting, total=len(obj.fields),
                  score=_pct(placed["fit"]), runner_up=_pct(placed["runner_up"]))  # fmt: skip
        proposals: list[Proposal] = []
        code = obj.reader.upper() if survey["readable"] else None
        if table != obj.table.upper():
            evidence = msg("doctor.evidence.table_in_reply", code=obj.reader, table=table) if code else fit
            proposals.append(self.proposal(f"{where}.table", table, "high" if code else placed["confidence"],
                                           evidence))  # fmt: skip
        if code is None:
            used = {o.reader.upper() for n, o in self.names.objects.items() if n != name} | {
                o.code.upper() for n, o in self.names.objects.items() if n != name}  # fmt: skip
            code = self.code_for(table, used)
            if code is None:
                proposals.append(self.question(code_key, msg("doctor.evidence.no_code", table=table)))
            else:
                proposals.append(self.proposal(code_key, code, "high", msg("doctor.evidence.code_answers",
                                                                          code=code, table=table)))  # fmt: skip
        if survey["readable"]:
            subject_key, detail = f"{where}.table", msg("doctor.av.table_elsewhere", code=obj.reader, table=table)
        else:
            subject_key = code_key
            detail = msg("doctor.av.object_elsewhere", error=survey["error"], code=code or "?", table=table, fit=fit)
        self.check(subject_key, msg("doctor.av.object_renamed", object=_object(name), code=obj.reader,
                                    table=obj.table), "refuted", detail,
                   msg("doctor.hint.apply", entry=profile_ref(subject_key)), proposals=proposals)  # fmt: skip
        if code is None:
            self.gone.add(name)
            return None
        update = {"table": table, ("read_code" if obj.read_code else "code"): code}
        return obj.model_copy(update=update)

    def check_post_code(self, where: str, name: str, obj: ObjectSpec) -> None:
        subject = msg("doctor.av.object_posts", code=obj.code, object=_object(name))
        if self.listing is None:
            self.check(f"{where}.code", subject, "unchecked", msg("doctor.av.no_listing"))
        elif obj.code.upper() in self.listing:
            allowed = self.listing[obj.code.upper()].get("InsertAllowed")
            if allowed is False:
                self.check(f"{where}.code", subject, "refuted", msg("doctor.av.listed_no_inserts"),
                           msg("doctor.hint.set", entry=profile_ref(f"{where}.code")))  # fmt: skip
            else:
                self.check(f"{where}.code", subject, "confirmed", msg("doctor.av.listed"))
        else:
            self.check(f"{where}.code", subject, "refuted", msg("doctor.av.not_listed"),
                       msg("doctor.hint.set", entry=profile_ref(f"{where}.code")))  # fmt: skip

    def check_table(self, key: str, obj: ObjectSpec, table: str, survey: dict) -> None:
        subject = msg("doctor.av.table", table=table, code=obj.reader)
        reply = survey["reply"]
        if self.dictionary is not None:
            if table.upper() in self.dictionary:
                self.check(key, subject, "confirmed", msg("doctor.av.table_fields",
                                                          fields=len(self.dictionary.get(table) or {})))  # fmt: skip
            else:
                self.check(key, subject, "refuted", msg("doctor.av.no_table", table=table),
                           msg("doctor.hint.set", entry=profile_ref(key)))  # fmt: skip
        elif survey["readable"] and any(reply.values()):
            if table.upper() in reply:
                self.check(key, subject, "confirmed", msg("doctor.av.in_reply"))
            else:
                self.check(key, subject, "refuted", msg("doctor.av.answered_tables", code=obj.reader,
                                                        tables=list(reply)),
                           msg("doctor.hint.set", entry=profile_ref(key)))  # fmt: skip
        elif survey["readable"]:
            self.check(key, subject, "unchecked", msg("doctor.av.no_rows_no_dictionary"))
        else:
            self.check(key, subject, "unchecked", msg("doctor.av.unreadable_no_dictionary", code=obj.reader))

    def check_detail_table(self, where: str, obj: ObjectSpec, eff: ObjectSpec, survey: dict) -> ObjectSpec:
        """The lines' table: under our name, or the one among the object's reply (or the dictionary) that its line
        fields fit."""
        key = f"{where}.detail_table"
        subject = msg("doctor.av.table", table=obj.detail_table, code=eff.reader)
        reply = self.read(eff.reader)[1] if eff.reader.upper() != obj.reader.upper() else survey["reply"]
        if self.dictionary is None:
            self.check_table(key, eff, obj.detail_table, {**survey, "reply": reply})
            return eff
        if self.table_fields(obj.detail_table) is not None:
            self.check(key, subject, "confirmed", msg("doctor.av.table_fields",
                                                      fields=len(self.table_fields(obj.detail_table) or {})))  # fmt: skip
            return eff
        full = self.full()
        pool = [t for t in reply if t != eff.table.upper() and t in full.tables] or [
            t for t in full.tables if t != eff.table.upper()]  # fmt: skip
        fits = sorted(((finder.table_fit(obj.line_fields, "", full.tables[t]), t) for t in pool), reverse=True)
        best, table = fits[0] if fits else (0.0, "")
        level = finder.confidence(best, fits[1][0] if len(fits) > 1 else 0.0) if fits else None
        if level is None:
            self.check(key, subject, "refuted", msg("doctor.av.no_table", table=obj.detail_table),
                       msg("doctor.hint.question", entry=profile_ref(key)),
                       proposals=[self.question(key, msg("doctor.evidence.nearest", tables=[
                           f"{t} ({_pct(s)} %)" for s, t in fits[:3]]), [t for _s, t in fits[:3]])])  # fmt: skip
            return eff
        evidence = (msg("doctor.evidence.table_in_reply", code=eff.reader, table=table) if table in reply
                    else msg("doctor.evidence.table_fits", table=table, fitting=len(obj.line_fields),
                             total=len(obj.line_fields), score=_pct(best), runner_up=0))  # fmt: skip
        self.check(key, subject, "refuted", msg("doctor.av.no_table", table=obj.detail_table),
                   msg("doctor.hint.apply", entry=profile_ref(key)),
                   proposals=[self.proposal(key, table, "high" if table in reply else level, evidence)])  # fmt: skip
        return eff.model_copy(update={"detail_table": table})

    # --- fields ----------------------------------------------------------------------------------------------------
    def check_fields(self, where: str, name: str, obj: ObjectSpec, eff: ObjectSpec) -> None:
        for group, table, ours in (("fields", eff.table, obj.table), ("line_fields", eff.detail_table,
                                                                       obj.detail_table)):  # fmt: skip
            specs: dict[str, FieldSpec] = getattr(obj, group)
            if not specs:
                continue
            fields = self.table_fields(table)
            if fields is None:
                for logical, spec in specs.items():
                    key = f"{where}.{group}.{logical}"
                    if self.timed_out(key, msg("doctor.av.field", table=table, field=spec.name, entry=profile_ref(key))):
                        return
                    self.check_field_by_reading(key, eff, table, spec)
                continue
            other = eff.table if group == "line_fields" else eff.detail_table
            self.check_group(where, group, table, specs, fields, self.table_fields(other) if other else None,
                             table.upper() != ours.upper())  # fmt: skip
            updated = {lg: s.model_copy(update={"name": self.found.get(f"{where}.{group}.{lg}", s.name)})
                       for lg, s in specs.items()}  # fmt: skip
            eff = eff.model_copy(update={group: updated})
        self.effective[name] = eff

    def check_group(self, where: str, group: str, table: str, specs: dict[str, FieldSpec],
                    fields: dict[str, DictField], other: dict[str, DictField] | None, renamed_table: bool) -> None:  # fmt: skip
        """The fields of one table, placed together: those under our name are checked (type, length), the others
        found among the table's remaining fields."""
        ok: dict[str, DictField] = {}
        lost: dict[str, FieldSpec] = {}
        for logical, spec in specs.items():
            found = fields.get(spec.name.upper())
            if found is not None and family(found.type) is family(spec.type):
                ok[logical] = found
            else:
                lost[logical] = spec
        placed = {}
        if lost:
            claimed = {f.name for f in ok.values()}
            source = self.dictionary if table.upper() in self.dictionary else self.full()
            candidates = finder.candidate_fields(source, table, claimed)
            # The field that links lines to their header has one name in both tables (the order number).
            link = {(lg, n): LINK_BONUS for lg, spec in lost.items() if spec.link for n in candidates
                    if other and n in other}  # fmt: skip
            placed = finder.place_fields(lost, candidates, link)
        for logical, spec in specs.items():
            key = f"{where}.{group}.{logical}"
            subject = msg("doctor.av.field", table=table, field=spec.name, entry=profile_ref(key))
            if logical in ok:
                self.field_found(key, subject, spec, ok[logical], renamed_table)
            else:
                self.field_placed(key, subject, spec, table, fields.get(spec.name.upper()), placed[logical])

    def field_found(self, key: str, subject: Text, spec: FieldSpec, found: DictField, renamed_table: bool) -> None:
        shown = f"{found.type}{found.length}"
        if self._shorter(spec, found):
            self.check(key, subject, "refuted", msg("doctor.av.field_shorter", length=found.length,
                                                    expected=spec.length),
                       msg("doctor.hint.apply", entry=profile_ref(f"{key}.length")),
                       proposals=[self._length(key, found)])  # fmt: skip
            return
        detail = msg("doctor.av.type_in_table", type=shown, table=found.table) if renamed_table else msg(
            "doctor.av.type", type=shown)  # fmt: skip
        self.check(key, subject, "confirmed", detail)

    def field_placed(self, key: str, subject: Text, spec: FieldSpec, table: str, same_name: DictField | None,
                     placed: finder.Placed) -> None:  # fmt: skip
        if same_name is not None:
            detail = msg("doctor.av.field_type", type=f"{same_name.type}{same_name.length}", expected=spec.type)
        else:
            detail = msg("doctor.av.no_field", table=table, field=spec.name)
        if placed.found is None:
            near = [f"{c.name} ({_pct(s)} %)" for c, s in placed.candidates]
            evidence = (msg("doctor.evidence.nearest_fields", fields=near) if near
                        else msg("doctor.evidence.no_field_of_type", type=spec.type, table=table))  # fmt: skip
            self.check(key, subject, "refuted", detail, msg("doctor.hint.question", entry=profile_ref(key)),
                       proposals=[self.question(key, evidence, [c.name for c, _s in placed.candidates])])  # fmt: skip
            return
        found = placed.found
        self.found[key] = found.name
        evidence = msg("doctor.evidence.field", field=found.name, type=f"{found.type}{found.length}",
                       label=found.label or "-", expected=spec.label or "-", score=_pct(placed.score),
                       runner_up=_pct(placed.runner_up))  # fmt: skip
        proposals = [self.proposal(key, found.name, placed.confidence, evidence)]
        if self._shorter(spec, found):
            proposals.append(self._length(key, found))
        self.check(key, subject, "refuted", detail, msg("doctor.hint.apply", entry=profile_ref(key)),
                   proposals=proposals)  # fmt: skip

    @staticmethod
    def _shorter(spec: FieldSpec, found: DictField) -> bool:
        return spec.write and spec.type.upper() == "C" and bool(spec.length) and 0 < found.length < spec.length

    def _length(self, key: str, found: DictField) -> Proposal:
        return self.proposal(f"{key}.length", found.length, "high", msg("doctor.evidence.length", table=found.table,
                                                                        field=found.name, length=found.length))  # fmt: skip

    def check_field_by_reading(self, key: str, obj: ObjectSpec, table: str, spec: FieldSpec) -> None:
        """Without a data dictionary: the field in the rows read, or accepted in ``Fields`` of a one-row read."""
        subject = msg("doctor.av.field", table=table, field=spec.name, entry=profile_ref(key))
        readable, reply, _ = self.read(obj.reader)
        rows = (reply.get(table.upper()) or []) if readable else []
        if rows:
            if spec.name.upper() in {k.upper() for k in rows[0]}:
                self.check(key, subject, "confirmed", msg("doctor.av.in_rows"))
            else:
                self.check(key, subject, "refuted", msg("doctor.av.rows_lack", table=table, field=spec.name),
                           msg("doctor.hint.set", entry=profile_ref(key)))  # fmt: skip
            return
        try:
            pages = self.av.iter_pages(obj.reader, obj.table, fields=[f"{table}.{spec.name}"], page_size=1,
                                       use_last_key=False)  # fmt: skip
            next(pages, None)
            pages.close()
        except SyncError as exc:
            status = "unchecked" if getattr(exc, "transient", False) else "refuted"
            self.check(key, subject, status, exc.text(),
                       msg("doctor.hint.set", entry=profile_ref(key)) if status == "refuted" else "")  # fmt: skip
            return
        self.check(key, subject, "confirmed", msg("doctor.av.accepted_in_fields"))

    # --- change tracking and filters ---------------------------------------------------------------------------------
    def check_change_fields(self) -> None:
        for key, spec in (("accountview.change_date", self.names.change_date),
                          ("accountview.change_counter", self.names.change_counter)):  # fmt: skip
            subject = msg("doctor.av.change_field", field=spec.name, entry=profile_ref(key))
            if self.dictionary is None:
                self.check(key, subject, "unchecked", msg("doctor.av.change_no_dictionary"))
                continue
            tables = [self.effective[n].table.upper() for n in INCREMENTAL if self.usable(n)]
            tables = [t for t in tables if self.table_fields(t) is not None]
            wrong = [t for t in tables if family((self.table_fields(t).get(spec.name.upper()) or
                                                  DictField(t, "", "?", 0)).type) is not family(spec.type)]  # fmt: skip
            if not tables:
                self.check(key, subject, "unchecked", msg("doctor.av.change_no_tables"))
            elif wrong:
                self.check(key, subject, "refuted", msg("doctor.av.change_missing", type=spec.type, tables=wrong),
                           msg("doctor.hint.apply", entry=profile_ref(key)),
                           proposals=[self.change_proposal(key, spec, tables)])  # fmt: skip
            else:
                self.check(key, subject, "confirmed", msg("doctor.av.change_in", tables=tables))

    def change_proposal(self, key: str, spec: FieldSpec, tables: list[str]) -> Proposal:
        """The change-tracking field's role: a field of its type that every table read incrementally has."""
        shared = None
        for table in tables:
            names = set(self.table_fields(table) or {})
            shared = names if shared is None else shared & names
        first = self.table_fields(tables[0]) or {}
        candidates = {n: first[n] for n in sorted(shared or ()) if family(first[n].type) is family(spec.type)}
        placed = finder.place_fields({"field": spec}, candidates)["field"]
        if placed.found is None:
            return self.question(key, msg("doctor.evidence.no_shared_field", type=spec.type),
                                 [c.name for c, _s in placed.candidates])  # fmt: skip
        return self.proposal(key, placed.found.name, placed.confidence, msg(
            "doctor.evidence.change_field", field=placed.found.name, label=placed.found.label or "-",
            tables=len(tables)))  # fmt: skip

    def usable(self, name: str) -> bool:
        obj = self.names.objects[name]
        return (obj.available or not obj.optional) and name not in self.gone

    def check_filters(self) -> None:
        since = datetime.now() - timedelta(days=1)
        change_date = self._found_change_date()
        for name in INCREMENTAL:
            if not self.usable(name):
                continue
            obj = self.effective[name]
            key = f"accountview.{name}.filter.change_date"
            self.filter_check(key, obj, msg("doctor.av.filter_changed", code=obj.reader),
                              [Filter.on_or_after(change_date, since)], "accountview.change_date")  # fmt: skip
        art, debtor = self.effective["article"], self.effective["debtor"]
        if self.usable("article"):
            self.filter_check("accountview.article.filter.keys", art, msg("doctor.av.filter_keys", code=art.reader),
                              [Filter.in_(art.key_field, [PROBE, PROBE + "-2"])],
                              f"accountview.article.fields.{art.key}")  # fmt: skip
        if self.usable("debtor"):
            self.filter_check("accountview.debtor.filter.email", debtor,
                              msg("doctor.av.filter_email", code=debtor.reader),
                              [Filter.in_(debtor["email"], [PROBE + "@example.invalid", PROBE + "2@example.invalid"])],
                              "accountview.debtor.fields.email")  # fmt: skip
        for name in ("sales_order", "booking"):
            if not self.usable(name):
                continue
            doc = self.effective[name]
            fields = [f"{doc.table}.{doc.key_field}", f"{doc.table}.{doc['reference']}"]
            self.filter_check(f"accountview.{name}.filter.reference", doc,
                              msg("doctor.av.filter_reference", code=doc.reader, field=doc["reference"]),
                              [Filter.in_(doc["reference"], [PROBE, PROBE + "-2"])],
                              f"accountview.{name}.fields.reference", fields=fields)  # fmt: skip

    def _found_change_date(self) -> str:
        proposed = next((p.value for c in self.report.checks if c.id == "accountview.change_date"
                         for p in c.proposals if not p.question), None)  # fmt: skip
        return proposed or self.names.change_date.name

    def filter_check(self, key: str, obj: ObjectSpec, subject: Text, filters, profile_key: str, fields=None) -> None:
        if self.timed_out(key, subject):
            return
        if not self.read(obj.reader)[0]:
            self.check(key, subject, "unchecked", msg("doctor.av.unreadable", code=obj.reader), profile_key=profile_key)
            return
        try:
            pages = self.av.iter_pages(obj.reader, obj.table, filters=filters, fields=fields, page_size=1,
                                       use_last_key=False)  # fmt: skip
            next(pages, None)
            pages.close()
        except SyncError as exc:
            status = "unchecked" if getattr(exc, "transient", False) else "refuted"
            self.check(key, subject, status, exc.text(),
                       msg("doctor.hint.set", entry=profile_ref(profile_key)) if status == "refuted" else "",
                       profile_key)  # fmt: skip
            return
        self.check(key, subject, "confirmed", msg("doctor.av.accepted"), profile_key=profile_key)

    # --- the numeric-SKU rule ------------------------------------------------------------------------------------
    def check_numeric_skus(self) -> None:
        art = self.effective["article"]
        key, subject = "accountview.article.numeric_skus", msg("doctor.av.numeric_skus")
        if self.timed_out(key, subject):
            return
        if not self.usable("article") or not self.read(art.reader)[0]:
            self.check(key, subject, "unchecked", msg("doctor.av.unreadable", code=art.reader), profile_key="")
            return
        total, bad, complete = 0, [], True
        try:
            pages = self.av.iter_pages(art.reader, art.table, fields=[art.key_field], page_size=1000, key=art.key_field)
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
            self.check(key, subject, "unchecked", exc.text(), profile_key="")
            return
        counted = msg("doctor.av.skus_read" if complete else "doctor.av.skus_read_partly", n=total)
        if not bad:
            self.check(key, subject, "confirmed", msg("doctor.av.skus_numeric", counted=counted), profile_key="")
            return
        examples = ", ".join(repr(s) for s in bad[:5])
        mode = self.store.settings.get("non_numeric_sku", "products") if self.store is not None else "reject"
        if self.profile.mplus.sku_field == "pluNumber" or mode == "generate":
            self.check(key, subject, "confirmed", msg("doctor.av.skus_generated", bad=len(bad), counted=counted,
                                                      examples=examples), profile_key="")  # fmt: skip
        else:
            self.check(key, subject, "refuted", msg("doctor.av.skus_rejected", bad=len(bad), counted=counted,
                                                    examples=examples),
                       msg("doctor.hint.numeric_skus", setting=setting_ref("non_numeric_sku"),
                           entry=profile_ref("mplus.sku_field")), "non_numeric_sku")  # fmt: skip


def _steps(name: str) -> list[Text]:
    """What the absence of object ``name`` switches off, each with what can fill it instead."""
    return [msg("doctor.av.step_instead", what=step.what, instead=step.instead_ref) if step.instead else step.what
            for step in steps_of(name)]  # fmt: skip


def _object(name: str) -> Text:
    """An object of the profile by its name in words (``profile.accountview.<name>``)."""
    return profile_ref(f"accountview.{name}")

