# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Editable field mappings (source field → transforms → canonical field) per backend and mapping flow.

A flow without lines uses the shipped defaults of the engine. Lines are checked with the engine's
``compile_mapping`` on every save: the whole flow must compile, and the engine's message is shown in the
language of the user who saves.
Transforms are JSON data naming the engine's transforms; nothing is evaluated.
"""

import json

from apicenter_sync.datamapper import DEFAULT_FLOWS, FLOW_MODELS, compile_mapping, load_default_mapping
from apicenter_sync.datamapper.errors import MappingDefinitionError

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .engine_text import error_text

MAPPING_FLOWS = [(name, name.replace("_", " ").capitalize()) for name in FLOW_MODELS]


class ApicenterDatamapperLine(models.Model):
    _name = "apicenter.datamapper.line"
    _description = "APIcenter Datamapper Line"
    _order = "backend_id, mapping_flow, sequence, id"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    mapping_flow = fields.Selection(
        MAPPING_FLOWS, string="Mapping", required=True, help="Which canonical record the line fills."
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    source = fields.Char(help="Dotted path in the source record; empty for a constant (default).")
    target = fields.Char(required=True, help="Field of the canonical model, e.g. sku or billing.city.")
    transforms = fields.Text(
        default="[]",
        help='JSON list of transforms, e.g. ["strip", {"name": "truncate", "params": {"length": 40}}].',
    )
    required = fields.Boolean()
    default = fields.Char(help='JSON value used when the result is empty, e.g. "NL" or 0.')
    note = fields.Char()

    @api.model
    def mapping_flows(self):
        self.check_access("read")
        return [name for name in DEFAULT_FLOWS]

    # --- conversions to/from the engine's plain line dicts ------------------------------------------------------
    def _to_line(self):
        self.ensure_one()
        line = {
            "source": self.source or None,
            "target": self.target,
            "transforms": json.loads(self.transforms or "[]"),
            "required": self.required,
            "active": self.active,
            "sequence": self.sequence,
        }
        if self.default:
            line["default"] = json.loads(self.default)
        if self.note:
            line["note"] = self.note
        return line

    @api.model
    def _from_line(self, backend, flow, line):
        line = dict(line)
        default = line.get("default")
        return {
            "backend_id": backend.id,
            "mapping_flow": flow,
            "source": line.get("source") or False,
            "target": line["target"],
            "transforms": json.dumps(line.get("transforms") or [], ensure_ascii=False),
            "required": bool(line.get("required")),
            "default": json.dumps(default, ensure_ascii=False) if default is not None else False,
            "active": line.get("active", True),
            "sequence": line.get("sequence", 10),
            "note": line.get("note") or False,
        }

    @api.model
    def load_default_mapping(self, backend, flow):
        """Replace ``flow``'s lines of ``backend`` by the engine's shipped defaults."""
        self.check_access("create")
        if not isinstance(backend, models.BaseModel) or backend._name != "apicenter.backend":
            raise UserError(self.env._("load_default_mapping takes a backend record."))
        backend.check_access("write")
        definition = load_default_mapping(flow)
        lines = [line if isinstance(line, dict) else line.model_dump(exclude_none=True) for line in definition.lines]
        self.with_context(active_test=False).search(
            [("backend_id", "=", backend.id), ("mapping_flow", "=", flow)]
        ).unlink()
        return self.create([self._from_line(backend, flow, line) for line in lines])

    # --- validation --------------------------------------------------------------------------------------------
    @api.constrains("mapping_flow", "source", "target", "transforms", "required", "default", "active", "sequence")
    def _check_compiles(self):
        for rec in self:
            for name in ("transforms", "default"):
                try:
                    if rec[name]:
                        json.loads(rec[name])
                except ValueError:
                    raise ValidationError(
                        self.env._("Line %(target)s: %(field)s is not valid JSON.", target=rec.target, field=name)
                    ) from None
        for backend, flow in {(rec.backend_id, rec.mapping_flow) for rec in self}:
            lines = self.with_context(active_test=False).search(
                [("backend_id", "=", backend.id), ("mapping_flow", "=", flow)]
            )
            try:
                compile_mapping({"flow": flow, "lines": [line._to_line() for line in lines]},
                                profile=backend._api_profile())  # fmt: skip
            except MappingDefinitionError as exc:
                raise ValidationError(error_text(self.env, exc)) from None
