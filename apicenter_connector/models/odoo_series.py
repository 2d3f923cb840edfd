# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What differs between Odoo 18.0 and 19.0, in one place (docs/odoo-series.md lists it and says why).

The addon is one source for both series: the code is version-neutral, except for
- SQL constraints: 18 reads ``_sql_constraints``, 19 only ``models.Constraint`` attributes (it warns about
  ``_sql_constraints`` and creates no constraint). Models keep ``_sql_constraints`` and carry ``@sql_constraints``,
  which turns them into ``models.Constraint`` on 19 (same database names, so an upgraded database keeps them);
- data that cannot be written the same way on both (groups: ``category_id``/``users`` on 18,
  ``privilege_id``/``user_ids`` on 19; job channels: ``capacity`` exists on 18 only; the settings action's
  ``target="inline"`` exists on 18 only): ``data/series/<major>/`` holds one small file set per series, loaded by
  ``data/apicenter_series.xml`` through ``_apicenter_load_series_data`` below.
"""

import os

from odoo import api, models, release
from odoo.tools import convert_file

SERIES = release.version_info[0]

# Files of data/series/<major>/, in load order; each file says itself what is noupdate.
SERIES_DATA = ("apicenter_groups.xml", "queue_job_channels.xml", "settings_action.xml")


# Time in domains. Odoo 19 compares a datetime in a domain at whole seconds: it drops the value's fraction and
# turns `<= v` into `< v + 1 s` and `> v` into `>= v + 1 s`, so `retry_at <= now` matched a retry_at up to a second
# after now (18 compares to the microsecond). `<` and `>=` against a whole second mean the same on both series,
# whatever fraction the field holds: a cut-off that is not already such a comparison goes through these two
# (docs/odoo-series.md, "Time in domains", lists them all).


def before(field, moment):
    """Domain term: ``field`` is before the whole second of ``moment`` (never early: a value within that second
    counts from the next one)."""
    return (field, "<", moment.replace(microsecond=0))


def since(field, moment):
    """Domain term: ``field`` is at or after the start of the whole second of ``moment``."""
    return (field, ">=", moment.replace(microsecond=0))


def sql_constraints(cls):
    """Class decorator: the class's ``_sql_constraints`` as Odoo 19 ``models.Constraint`` attributes (named
    ``_<name>``, which gives the constraint the same database name as on 18); on 18 it leaves the class as it is."""
    if SERIES < 19:
        return cls
    for name, definition, message in cls.__dict__.get("_sql_constraints", ()):
        constraint = models.Constraint(definition, message)
        setattr(cls, f"_{name}", constraint)
        # The model class exists already: register the constraint as its metaclass would have.
        constraint.__set_name__(cls, f"_{name}")
    del cls._sql_constraints
    return cls


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    @api.model
    def _apicenter_load_series_data(self):
        """Loads data/series/<major>/ of the running Odoo (called from data/apicenter_series.xml at every install
        and update). Update mode: records that exist are updated unless their file marks them noupdate."""
        for filename in SERIES_DATA:
            path = os.path.join("data", "series", str(SERIES), filename)
            convert_file(self.env, "apicenter_connector", path, {}, mode="update", noupdate=False)
