# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The chatter messages the addon posts, shown in each reader's language (chatter_text.py)."""

from odoo import fields, models

from .chatter_text import shown


class MailMessage(models.Model):
    _inherit = "mail.message"

    apicenter_text_data = fields.Text(
        string="APIcenter Text (JSON)",
        readonly=True,
        help="How APIcenter made this message's text: shown in each reader's language; the body keeps the writer's.",
    )

    def _to_store(self, store, *args, **kwargs):
        """What the web client reads a message through (Odoo 18: ``fields=`` keyword; 19: ``fields`` argument, a
        list of names): the body and subject of our messages again, rendered in the reader's language."""
        super()._to_store(store, *args, **kwargs)
        wanted = kwargs.get("fields", args[0] if args else None)
        if wanted is not None and "body" not in wanted:
            return
        # sudo: the text's data of a message this user may read (it holds nothing the body does not show)
        for message in self:
            data = message.sudo().apicenter_text_data
            values = shown(self.env, data) if data else {}
            if not values:
                continue
            if hasattr(store, "add_model_values"):  # Odoo 19
                store.add_model_values(message._name, {"id": message.id, **values})
            else:  # Odoo 18: a record with values merges them into what super() added
                store.add(message, values)
