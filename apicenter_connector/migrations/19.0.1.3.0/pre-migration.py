# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""19.0.1.3.0: a database moved from Odoo 18 (18.0.1.3.0) to Odoo 19 (docs/deployment.md, "From Odoo 18 to Odoo 19").

The addon's tables, columns, XML ids and constraint names are the same on both series: its rows need nothing. The one
thing 19 loses is the job channels' capacities: queue_job 19.0 reads them only from its runner's configuration, not
from ``queue_job_channel.capacity`` (the column of 18 is still in the table). This logs the ``[queue_job] channels``
line that keeps them, and keeps it in the system parameter ``apicenter_connector.channels_from_18``.
"""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version or not version.startswith("18."):
        return  # a 19.0 database that was never on 18
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'queue_job_channel' AND column_name = 'capacity'"
    )
    if not cr.fetchone():
        return
    cr.execute(
        "SELECT complete_name, capacity FROM queue_job_channel"
        " WHERE (complete_name = 'root' OR complete_name LIKE 'root.apicenter%%') AND capacity > 0"
        " ORDER BY complete_name"
    )
    line = ",".join(f"{name}:{capacity}" for name, capacity in cr.fetchall())
    if not line:
        return
    cr.execute(
        "INSERT INTO ir_config_parameter (key, value, create_date, write_date)"
        " VALUES ('apicenter_connector.channels_from_18', %s, now() at time zone 'UTC', now() at time zone 'UTC')"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [line],
    )
    _logger.warning(
        "APIcenter: queue_job 19.0 takes channel capacities only from its job runner's configuration. To keep those "
        "of Odoo 18, put in the [queue_job] section of the Odoo configuration file: channels = %s",
        line,
    )
