# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""1.5.0 (both series): Sales from the Till reads a sale's number, day, branch, total and customer from its log
lines' till columns; the lines written before have them only in their payload (where it is not purged yet)."""

import json

from apicenter_sync.flows.sale_facts import SALE_ENTITIES, sale_facts

from odoo import SUPERUSER_ID, api

from odoo.addons.apicenter_connector.models.store_log import till_values

BATCH = 1000


def migrate(cr, version):
    cr.execute(
        """SELECT id FROM apicenter_log_line
           WHERE flow = 'orders' AND entity IN %s AND source_payload IS NOT NULL AND till_number IS NULL ORDER BY id""",
        [SALE_ENTITIES],
    )
    ids = [row[0] for row in cr.fetchall()]
    lines = api.Environment(cr, SUPERUSER_ID, {})["apicenter.log.line"]
    for start in range(0, len(ids), BATCH):  # payloads are read a batch at a time: they can be large
        cr.execute("SELECT id, entity, source_payload FROM apicenter_log_line WHERE id IN %s",
                   [tuple(ids[start : start + BATCH])])  # fmt: skip
        for line_id, entity, payload in cr.fetchall():
            try:
                facts = sale_facts(entity, json.loads(payload))
            except ValueError:
                facts = None
            if facts:
                lines.browse(line_id).write(till_values(facts))
        lines.env.flush_all()
        lines.env.invalidate_all()  # the batch's payloads leave the cache
