# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0: the API profile and the named order types.

- ``order_type`` held the business-object codes of the default profile (SO1, DJ2); it now names the document
  (sales_order, booking), whose codes live in the API profile;
- every backend gets its API-profile lines (the shipped defaults).
"""

from apicenter_sync.profile.defaults import ORDER_TYPE_ALIASES

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    for old, new in ORDER_TYPE_ALIASES.items():
        cr.execute("UPDATE apicenter_flow SET order_type = %s WHERE order_type = %s", (new, old))
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["apicenter.backend"].with_context(active_test=False).search([])._sync_profile_lines()
