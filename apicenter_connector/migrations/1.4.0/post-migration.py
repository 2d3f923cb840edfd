# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""1.4.0 (both series): every setting is a field; the JSON rows ("Other settings") become field values.

A flow's row goes to that flow's field; a backend-wide row goes to the field of every flow it applies to that has no
row of its own (a global setting to the backend's field). A row whose setting has no field yet stays a row.
"""

import json

from apicenter_sync import settings as registry

from odoo import SUPERUSER_ID, api

from odoo.addons.apicenter_connector.models.apicenter_flow import FLOW_SETTING_FIELDS
from odoo.addons.apicenter_connector.models.setting_fields import field_value


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    rows = env["apicenter.setting"].search([], order="flow_id desc")  # flow rows first: they win
    done = set()  # (flow id, setting) already set from a flow row
    for row in rows:
        setting = registry.get_setting(row.name)
        value = json.loads(row.value)
        if row.flow_id and row.name in FLOW_SETTING_FIELDS:
            row.flow_id.write({row.name: field_value(row.flow_id, row.name, value)})
            done.add((row.flow_id.id, row.name))
        elif not row.flow_id and setting.is_global and row.name in row.backend_id._fields:
            row.backend_id.write({row.name: field_value(row.backend_id, row.name, value)})
        elif not row.flow_id and row.name in FLOW_SETTING_FIELDS:
            for flow in row.backend_id.flow_ids.filtered(lambda f, s=setting: f.flow in s.flows):
                if (flow.id, row.name) not in done:
                    flow.write({row.name: field_value(flow, row.name, value)})
        else:
            continue
        row.unlink()
