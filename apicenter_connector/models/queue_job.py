# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The flows' jobs named in the language of the user who reads the Jobs list.

queue_job stores a job's name (its description) once, in the language of whoever enqueued it: a search finds that.
A flow's job carries what its name is made of (the flow, the mode, whether it goes on with a run), so reading it
renders the name again in the reader's language (apicenter.flow._job_said), in the list, the form and the
breadcrumb, without changing queue_job's screens.
"""

from odoo import api, models

from .chatter_text import rendered


class QueueJob(models.Model):
    _inherit = "queue.job"

    def _apicenter_names(self):
        """{job id: its name in the reader's language} for the flows' jobs among these."""
        names = {}
        # sudo: what a job was made of; the reader may already read the job (its name shows the same)
        for job in self.sudo().filtered(lambda j: j.model_name == "apicenter.flow" and j.method_name == "_run_job"):
            flow = job.records.exists()
            args = tuple(job.args or ())
            if len(flow) != 1 or not args:
                continue
            names[job.id] = rendered(self.env, flow._job_said(args[0], bool(args[1:] and args[1])))
        return names

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load)
        if "name" in fnames:
            names = self._apicenter_names()
            for values in result:
                if values.get("id") in names:
                    values["name"] = names[values["id"]]
        return result

    @api.depends("name")
    @api.depends_context("lang")
    def _compute_display_name(self):
        result = super()._compute_display_name()
        for job_id, name in self._apicenter_names().items():
            self.browse(job_id).display_name = name
        return result
