# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""1.5.0 (both series): Sales from the Till reads a sale's number, day, branch, total and customer from its log
lines' till columns; the lines written before have them only in their payload (where it is not purged yet)."""

import json

from apicenter_sync.flows.sale_facts import SALE_ENTITIES, sale_facts

BATCH = 1000


def migrate(cr, version):
    cr.execute(
        """SELECT id FROM apicenter_log_line
           WHERE flow = 'orders' AND entity IN %s AND source_payload IS NOT NULL AND till_number IS NULL ORDER BY id""",
        [SALE_ENTITIES],
    )
    ids = [row[0] for row in cr.fetchall()]
    for start in range(0, len(ids), BATCH):  # payloads are read a batch at a time: they can be large
        cr.execute("SELECT id, entity, source_payload FROM apicenter_log_line WHERE id IN %s",
                   [tuple(ids[start : start + BATCH])])  # fmt: skip
        for line_id, entity, payload in cr.fetchall():
            try:
                facts = sale_facts(entity, json.loads(payload))
            except ValueError:
                facts = None
            if not facts:
                continue
            cr.execute(
                """UPDATE apicenter_log_line SET till_number = %s, till_date = %s, till_branch = %s, till_total = %s,
                   till_customer = %s WHERE id = %s""",
                [facts.number or None, facts.day, facts.branch or None,
                 float(facts.total) if facts.total is not None else None, facts.customer or None, line_id],
            )  # fmt: skip
