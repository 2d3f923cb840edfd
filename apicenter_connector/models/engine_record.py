# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What only the engine writes: its record of what happened (docs/reliability.md, Threat model T18-T20).

Runs, log lines and connection-check reports are written by the engine's code paths (the store, the checked
methods) as superuser; their access rights give users and managers read access only. On the records a manager
configures (backends, flows), the fields that report a state are written the same way: a run's outcome, the
flow's last run and outage, the backend's connection result and "MplusKASSA needs a test". A manager who could
write them could fake a finished run, lift the hold of a refuted connection check or hide an outage.
"""

from odoo.exceptions import AccessError, UserError

# model -> the fields of its state, written by the engine alone (an RPC write or create of them is refused).
ENGINE_FIELDS = {
    "apicenter.backend": ("mplus_needs_test", "av_connect_message", "av_connect_failed", "av_company_code",
                          "av_company_name"),  # fmt: skip
    "apicenter.flow": ("last_run_at", "last_success_at", "last_state", "last_error", "last_error_data",
                       "last_counts", "last_alert_at"),
}


def check_engine_fields(records, vals_list):
    """AccessError when someone other than the engine (superuser) writes a state field of ``records``' model."""
    if records.env.su:
        return
    names = ENGINE_FIELDS.get(records._name, ())
    touched = sorted({name for vals in vals_list for name in names if name in vals})
    if touched:
        raise AccessError(
            records.env._(
                "%(fields)s of %(model)s are written by APIcenter itself, not by hand.",
                fields=", ".join(records._fields[name].string for name in touched),
                model=records._description,
            )
        )


def check_log_kept(records):
    """UserError while ``records`` (runs, or backends) still have log lines, or a backend still has runs: a backend
    is archived instead, and the retention (Settings > APIcenter) deletes runs and log lines in time. So nobody
    erases the activity log by deleting what it belongs to."""
    field = "run_id" if records._name == "apicenter.run" else "backend_id"
    kept = records.env["apicenter.log.line"].sudo().search_count([(field, "in", records.ids)], limit=1)
    if not kept and records._name == "apicenter.backend":
        kept = records.env["apicenter.run"].sudo().search_count([("backend_id", "in", records.ids)], limit=1)
    if not kept:
        return
    if records._name == "apicenter.backend":
        raise UserError(records.env._(
            "This backend has an activity log within the retention period: archive it instead. The retention "
            "(Settings > APIcenter) deletes its runs and log lines in time; then it can be deleted."))  # fmt: skip
    raise UserError(records.env._(
        "A run is deleted by the retention (Settings > APIcenter) once its log lines are, not by hand."))  # fmt: skip
