# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rows of the named mapping tables the flows look codes up in (VAT codes, branches, price groups…).

What each table's keys and values are, and how a row is checked, comes from the engine's registry
(:mod:`apicenter_sync.mapping_tables`); where a live system can list the possibilities (branches, VAT codes,
payment methods… of MplusKASSA), they are loaded as choices a row is picked from.
"""

import difflib
from decimal import Decimal, InvalidOperation

from apicenter_sync import mapping_tables as registry
from apicenter_sync.errors import SyncError
from apicenter_sync.i18n import Msg, render, table_ref
from apicenter_sync.redact import redact_text

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .chatter_text import Said, post, said_html, said_msg
from .odoo_series import sql_constraints

KNOWN_TABLES = [(t.name, t.label) for t in registry.TABLES]
VAT_KINDS = ("av_vat_code", "mplus_vat_code")


def _rate(text):
    """The percentage of a VAT choice's label ("21 %", "21.0", 21) as a normalised Decimal text, else None."""
    try:
        return format(Decimal(str(text).replace("%", "").strip()).normalize(), "f")
    except (InvalidOperation, ValueError):
        return None
KINDS = [(k.name, k.label) for k in registry.KINDS.values()]
SHOWN_CHOICES = 25  # a refusal lists the allowed values up to this many; of a longer list, those nearest the typo


def allowed_text(choices, typed):
    """The allowed values of a refusal, "code (label)": all when few; of a long list (AccountView's articles) the
    ones nearest what was typed, by code or by name, so the message helps instead of listing the first 25."""
    shown = {v: (f"{v} ({lb})" if lb and lb != v else v) for v, lb in sorted(choices.items())}
    if len(shown) <= SHOWN_CHOICES:
        return ", ".join(shown.values())
    by_label = {str(lb).casefold(): v for v, lb in choices.items() if lb}
    near = difflib.get_close_matches(typed, list(shown), n=10, cutoff=0.6)
    near += [by_label[lb] for lb in difflib.get_close_matches(typed.casefold(), list(by_label), n=10, cutoff=0.6)]
    picked = list(dict.fromkeys(near)) or list(shown)[:SHOWN_CHOICES]
    return ", ".join(shown[v] for v in picked) + ", …"


@sql_constraints
class ApicenterMapping(models.Model):
    _name = "apicenter.mapping"
    _description = "APIcenter Mapping Table Row"
    _order = "backend_id, table_name, key"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    table_name = fields.Char(string="Table", required=True, index=True, help="Any name; see Known Table.")
    known_table = fields.Selection(
        KNOWN_TABLES + [("other", "Other")],
        string="Mapping Table",
        compute="_compute_known_table",
        inverse="_inverse_known_table",
        store=True,
        group_expand="_expand_known_tables",
        help="The tables the flows read; pick one to fill in Table.",
    )
    key_kind = fields.Selection(KINDS, compute="_compute_kinds")
    value_kind = fields.Selection(KINDS, compute="_compute_kinds")
    table_help = fields.Char(string="What it does", compute="_compute_kinds")
    key = fields.Char(required=True)
    value = fields.Char()
    key_choice_id = fields.Many2one(
        "apicenter.mapping.choice",
        string="Pick Key",
        store=False,
        domain="[('backend_id', '=', backend_id), ('kind', '=', key_kind)]",
        help="The possibilities loaded from MplusKASSA (backend: Load Choices); picking one fills the key.",
    )
    value_choice_id = fields.Many2one(
        "apicenter.mapping.choice",
        string="Pick Value",
        store=False,
        domain="[('backend_id', '=', backend_id), ('kind', '=', value_kind)]",
        help="The possibilities loaded from MplusKASSA (backend: Load Choices); picking one fills the value.",
    )

    key_label = fields.Char(
        string="Key Is", compute="_compute_labels", help="What the key stands for in the system that lists it."
    )
    value_label = fields.Char(
        string="Value Is", compute="_compute_labels", help="What the value stands for in the system that lists it."
    )

    _sql_constraints = [
        ("row_uniq", "unique(backend_id, table_name, key)", "A mapping table has one row per key."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:  # a row made by picking its table (wizard, lists): the table is its name
            if not vals.get("table_name") and vals.get("known_table") not in (None, False, "other"):
                vals["table_name"] = vals["known_table"]
        rows = super().create(vals_list)
        rows._track_rows({row: None for row in rows})
        return rows

    def write(self, vals):
        tracked = {"table_name", "key", "value"} & set(vals)
        before = {row: (row.table_name, row.key, row.value) for row in self} if tracked else {}
        result = super().write(vals)
        if tracked:
            self._track_rows(before)
        return result

    def unlink(self):
        gone = [(row.backend_id, row.table_name, row.key, row.value) for row in self]
        result = super().unlink()
        for backend, table, key, value in gone:
            self._post_change(backend, table, Said._("row %(key)s removed (it was %(value)s)", key=key,
                                                         value=value or "-"))  # fmt: skip
        return result

    def _track_rows(self, before):
        """Every change of a mapping row on its backend's chatter: who (the author), when, the old and new value."""
        for row, old in before.items():
            if old is None:
                change = Said._("row %(key)s added: %(value)s", key=row.key, value=row.value or "-")
            elif old == (row.table_name, row.key, row.value):
                continue
            elif old[1] != row.key:
                change = Said._("row %(old_key)s → %(key)s: %(old)s → %(value)s", old_key=old[1], key=row.key,
                                    old=old[2] or "-", value=row.value or "-")  # fmt: skip
            else:
                change = Said._("row %(key)s: %(old)s → %(value)s", key=row.key, old=old[2] or "-",
                                    value=row.value or "-")  # fmt: skip
            self._post_change(row.backend_id, row.table_name, change)

    def _post_change(self, backend, table_name, change):
        table = registry.get_table(table_name)
        if self.env.context.get("apicenter_untracked") or (table and table.written_by_engine):
            return
        name = said_msg(table_ref(table_name)) if table else table_name
        body = said_html("%s <b>%s</b> (<code>%s</code>): %s", Said._("Mapping table"), name, table_name, change)
        post(backend.sudo().with_context(mail_create_nosubscribe=True, mail_post_autofollow=False), body,
             message_type="notification", subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id)  # fmt: skip

    @api.model
    def _expand_known_tables(self, values, domain):
        """Grouped by table, every table the flows read is listed, an empty one too (its group is where its first
        row is added); "Other" only when it has rows."""
        return [name for name, _label in KNOWN_TABLES] + (["other"] if "other" in values else [])

    def action_load_choices(self):
        """*Load Choices* of Configuration › Mapping Tables: what the rows are picked from, fetched for the backends
        of the selected rows, or for every backend when none is selected; one notification says what each got."""
        self.check_access("write")
        backends = self.backend_id or self.env["apicenter.backend"].search([])
        if not backends:
            raise UserError(self.env._("No backend yet: create one first (Configuration > Backends)."))
        backends.check_access("write")
        said, kind = [], "success"
        for backend in backends:
            params = backend.action_load_mapping_choices()["params"]
            said.append(f"{backend.name}: {params['message']}" if len(backends) > 1 else params["message"])
            kind = "danger" if params["type"] == "danger" else kind
        notification = backends._notification(self.env._("Load Choices"), " ".join(said), kind, kind == "danger")
        notification["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return notification

    @api.depends("table_name")
    def _compute_known_table(self):
        known = dict(KNOWN_TABLES)
        for rec in self:
            rec.known_table = rec.table_name if rec.table_name in known else ("other" if rec.table_name else False)

    def _inverse_known_table(self):
        for rec in self:
            if rec.known_table and rec.known_table != "other":
                rec.table_name = rec.known_table

    @api.onchange("known_table")
    def _onchange_known_table(self):
        if self.known_table and self.known_table != "other":
            self.table_name = self.known_table

    @api.depends("table_name")
    @api.depends_context("lang")
    def _compute_kinds(self):
        for rec in self:
            table = registry.get_table(rec.table_name or "")
            rec.key_kind = table.key if table else False
            rec.value_kind = table.value if table else False
            # In the reader's language, the words the wizard uses too (catalogue tables.help.<id>).
            rec.table_help = render(Msg(f"tables.help.{table.name}"), self.env.lang) if table else False

    @api.onchange("key_choice_id")
    def _onchange_key_choice(self):
        if self.key_choice_id:
            self.key = self.key_choice_id.value

    @api.onchange("value_choice_id")
    def _onchange_value_choice(self):
        if self.value_choice_id:
            self.value = self.value_choice_id.value

    def _choices(self, kind):
        """{value: label} of ``kind`` loaded for this row's backend (empty: not loaded, or not a listed kind)."""
        if not kind or not self.backend_id:
            return {}
        Choice = self.env["apicenter.mapping.choice"].sudo()
        return {c.value: c.label or "" for c in Choice.search([("backend_id", "=", self.backend_id.id), ("kind", "=", kind)])}

    @api.depends("backend_id", "table_name", "key", "value")
    def _compute_labels(self):
        for rec in self:
            rec.key_label = rec._choices(rec.key_kind).get((rec.key or "").strip()) or False
            rec.value_label = rec._choices(rec.value_kind).get((rec.value or "").strip()) or False

    @api.constrains("table_name", "key", "value")
    def _check_row(self):
        for rec in self:
            problems = registry.check_row(rec.table_name, rec.key or "", rec.value or "")
            if problems:
                raise ValidationError("; ".join(render(p, self.env.lang) for p in problems))
            rec._check_among_choices()
            rec._check_vat_rates()

    def _check_vat_rates(self):
        """A VAT row between codes of different rates (AccountView's 0 % onto the till's 21 %) books the wrong VAT:
        refused where both systems' VAT codes are loaded (the connection check refutes it too)."""
        self.ensure_one()
        if {self.key_kind, self.value_kind} != set(VAT_KINDS):
            return
        key_rate = _rate(self._choices(self.key_kind).get((self.key or "").strip(), "x"))
        value_rate = _rate(self._choices(self.value_kind).get((self.value or "").strip(), "x"))
        if key_rate is not None and value_rate is not None and key_rate != value_rate:
            raise ValidationError(
                self.env._(
                    "%(table)s: %(key)s is %(key_rate)s %% but %(value)s is %(value_rate)s %%: the row would book the "
                    "wrong VAT. Map codes of the same rate.",
                    table=self._table_label(),
                    key=self.key,
                    key_rate=key_rate,
                    value=self.value,
                    value_rate=value_rate,
                )
            )

    @api.model
    def _prefill(self, backend, tables):
        """Rows for the empty ``tables`` (names) whose key and value both systems list, where they match one to
        one: VAT codes by rate (the same code where several share it), warehouses and branches, price lists and
        price groups, payment methods and conditions by name. {table: rows added}."""
        filled = {}
        existing = set(backend.mapping_ids.mapped("table_name"))
        for name in tables:
            table = registry.get_table(name)
            if not table or name in existing or table.written_by_engine:
                continue
            probe = self.new({"backend_id": backend.id, "table_name": name})
            keys, values = probe._choices(table.key), probe._choices(table.value)
            if not keys or not values:
                continue
            vat = {table.key, table.value} == set(VAT_KINDS)

            def norm(label, vat=vat):
                return _rate(label) if vat else " ".join(str(label or "").casefold().split()) or None

            by_label = {}
            for value, label in values.items():
                by_label.setdefault(norm(label), []).append(value)
            keys_by_label = {}
            for key, label in keys.items():
                keys_by_label.setdefault(norm(label), []).append(key)
            rows = []
            for label, group in keys_by_label.items():
                targets = by_label.get(label) or []
                if label is None or not targets:
                    continue
                if len(group) == 1 and len(targets) == 1:
                    rows.append((group[0], targets[0]))
                else:  # several share the rate or name: only the same code on both sides is one to one
                    rows.extend((key, key) for key in group if key in targets)
            if rows:
                self.create([{"backend_id": backend.id, "table_name": name, "key": k, "value": v} for k, v in rows])
                filled[name] = len(rows)
        return filled

    def _table_label(self):
        """The table as the screens name it, in the reader's language, with its id."""
        label = dict(self._fields["known_table"]._description_selection(self.env)).get(self.table_name)
        return f"{label} ({self.table_name})" if label else self.table_name

    def _check_among_choices(self):
        """A key or value of a kind the systems list (loaded with Load Choices) must be one of them: a warehouse
        NOPE or a branch 99 that neither system knows is refused here, naming the table and what is allowed."""
        self.ensure_one()
        spec = registry.get_table(self.table_name or "")
        if spec and spec.written_by_engine:
            return  # the flow writes these rows from what it just read: a choice list loaded earlier may lag
        for part, text, kind in (("key", self.key, self.key_kind), ("value", self.value, self.value_kind)):
            choices = self._choices(kind)
            text = (text or "").strip()
            if not choices or not text or text in choices:
                continue
            allowed = allowed_text(choices, text)
            table = self._table_label()
            raise ValidationError(
                self.env._(
                    "%(table)s: %(part)s “%(text)s” is not in the list the systems give (%(kind)s). Allowed: %(allowed)s. "
                    "(Load Choices again if it was added there since.)",
                    table=table,
                    part=self.env._("key") if part == "key" else self.env._("value"),
                    text=text,
                    kind=dict(self._fields["key_kind"]._description_selection(self.env)).get(kind, kind),
                    allowed=allowed,
                )
            )


@sql_constraints
class ApicenterMappingChoice(models.Model):
    """A possibility of a mapping key or value, as a live system lists it (loaded on request, per backend)."""

    _name = "apicenter.mapping.choice"
    _description = "APIcenter Mapping Choice"
    _order = "backend_id, kind, value"
    _rec_name = "display_label"
    _rec_names_search = ["value", "label"]  # a picker finds an article among thousands by code or name

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(KINDS, required=True, index=True)
    value = fields.Char(required=True)
    label = fields.Char()
    display_label = fields.Char(compute="_compute_display_label")

    _sql_constraints = [("choice_uniq", "unique(backend_id, kind, value)", "A choice is listed once.")]

    @api.depends("value", "label")
    def _compute_display_label(self):
        for rec in self:
            rec.display_label = f"{rec.value} — {rec.label}" if rec.label and rec.label != rec.value else rec.value

    @api.model
    def _load_choices(self, backend):
        """Every kind the registry can list, fetched now from MplusKASSA and (when connected) AccountView:
        {kind label: count}. Choices gone from the system are removed; rows that use them stay (the row's check
        still applies). An AccountView that cannot be read (not connected yet) is left out, not an error."""
        backend.check_access("write")
        counts = {}
        kinds = dict(self._fields["kind"]._description_selection(self.env))  # in the reader's language
        client = backend._mplus_client()
        try:
            for kind in registry.KINDS.values():
                if kind.choices:
                    method, value_field, label_field = kind.choices
                    found = {}
                    for item in getattr(client, method)():
                        value, label = item.get(value_field), item.get(label_field)
                        if value not in (None, ""):
                            found[str(value)] = (f"{_rate(label)} %" if kind.name == "mplus_vat_code"
                                                 else str(label or ""))  # fmt: skip
                    counts[kinds[kind.name]] = self._replace(backend, kind.name, found)
        finally:
            client.close()
        av_kinds = [k for k in registry.KINDS.values() if k.av_choices]
        try:
            engine = backend._engine()
        except Exception:  # noqa: BLE001 - AccountView not configured or connected yet: MplusKASSA's choices only
            return counts
        try:
            objects = engine.profile.accountview.objects
            for kind in av_kinds:
                name, value_field, label_field = kind.av_choices
                obj = objects.get(name)
                if obj is None or (obj.optional and not obj.available):
                    continue
                found = {}
                for row in engine.accountview.iter_rows(obj.reader, obj.table, page_size=1000):
                    raw = row.get(obj[value_field])
                    value = "" if raw is None else str(raw).strip()  # VAT code 0 is a code
                    if value:
                        raw = row.get(obj[label_field])
                        label = "" if raw is None else str(raw).strip()
                        found[value] = f"{_rate(label)} %" if kind.name == "av_vat_code" and label else label
                counts[kinds[kind.name]] = self._replace(backend, kind.name, found)
        except SyncError as exc:
            counts[self.env._("AccountView not read: %s", redact_text(str(exc)))] = 0
        finally:
            engine.close()
        return counts

    def _replace(self, backend, kind, found):
        """The choices of ``kind`` become ``found`` ({value: label}); how many there are."""
        existing = self.sudo().search([("backend_id", "=", backend.id), ("kind", "=", kind)])
        for choice in existing:
            if choice.value not in found:
                choice.unlink()
            else:
                choice.label = found.pop(choice.value)
        self.sudo().create([{"backend_id": backend.id, "kind": kind, "value": v, "label": lb} for v, lb in found.items()])
        return len(existing.exists()) + len(found)
