# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Export a backend's API profile as a file, or import one (administrators only)."""

import base64
import binascii

from apicenter_sync.errors import ConfigError
from apicenter_sync.profile import parse_profile_text
from apicenter_sync.profile.model import MAX_PROFILE_BYTES

from odoo import fields, models
from odoo.exceptions import UserError

from ..models.chatter_text import Said, post
from ..models.engine_text import error_text


class ApicenterProfileTransfer(models.TransientModel):
    _name = "apicenter.profile.transfer"
    _description = "APIcenter API Profile Export / Import"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade")
    only_changes = fields.Boolean(
        default=True, help="Export only the entries that differ from the shipped defaults (a short [profile] section)."
    )
    data = fields.Binary(
        string="Profile File",
        help="Export: the profile as TOML, the [profile] section of apicenter.toml. Import: such a file, or JSON "
        "(nested, or flat keys such as accountview.stock.code).",
    )
    filename = fields.Char()

    def _action_for_backend(self, backend):
        return self.create({"backend_id": backend.id})._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("API Profile File"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_export(self):
        self.ensure_one()
        self.backend_id._check_admin()
        text = self.backend_id._api_profile().to_toml(only_changes=self.only_changes)
        self.write({"data": base64.b64encode(text.encode()), "filename": f"apicenter-profile-{self.backend_id.id}.toml"})
        return self._reopen()

    def action_import(self):
        self.ensure_one()
        backend = self.backend_id
        backend._check_admin()
        if not self.data:
            raise UserError(self.env._("Choose a profile file to import."))
        if len(self.data) > MAX_PROFILE_BYTES * 4 // 3 + 4:  # base64 of more than the limit: not even decoded
            raise UserError(self.env._("This file is not an API profile: %s", self.env._(
                "it is larger than %s bytes", MAX_PROFILE_BYTES)))  # fmt: skip
        try:
            text = base64.b64decode(self.data).decode("utf-8-sig")
            profile = parse_profile_text(text)
        except ConfigError as exc:  # too large, too deep, unreadable, a wrong entry: the engine's words
            raise UserError(self.env._("This file is not an API profile: %s", error_text(self.env, exc))) from None
        except (UnicodeDecodeError, binascii.Error):  # Python's words would be English (and a byte offset)
            raise UserError(self.env._("This file is not an API profile: %s", self.env._(
                "it is not a text file in UTF-8"))) from None  # fmt: skip
        except ValueError as exc:
            raise UserError(self.env._("This file is not an API profile: %s", error_text(self.env, exc))) from None
        backend._set_api_profile(profile)
        post(backend, Said._("API profile imported from %(file)s (%(n)s changed entries).",
                             file=self.filename or Said._("a file"),
                             n=len([1 for e in profile.entries() if e.changed])))  # fmt: skip
        return {"type": "ir.actions.act_window_close"}
