"""Odoo fields generated from the engine's settings registry (``apicenter_sync.settings``).

The registry is the single source of type, default, allowed values and help text; the flow and backend models
declare one field per important setting with :func:`setting_field`, so a default or a choice changed in the engine
reaches the form without editing the addon. :func:`read_setting` / :func:`write_setting` convert between a field
value and the registry's typed value (bool, int, str, list of str).
"""

from apicenter_sync import settings as registry

from odoo import fields

INT4_MAX = 2**31 - 1

# Readable labels for choice values; anything missing is shown as the value itself.
CHOICE_LABELS = {
    "sales_order": "Sales order",
    "booking": "Sales-invoice booking (journal)",
    "order": "Orders",
    "receipt": "Receipts",
    "invoice": "Invoices",
    "each": "Each receipt as its own document",
    "per_closing": "One journal booking per till closing",
    "never": "Never",
    "when_no_customer": "When the order has no customer",
    "always": "Always",
    "reject": "Reject the record",
    "generate": "Generate an article number",
    "available": "Available (on hand - reserved)",
    "on_hand": "On hand",
    "economic": "Economic (incl. incoming)",
    "field": "A field of the article",
    "deactivate": "Deactivate them in MplusKASSA (and activate them when they come back)",
    "leave": "Leave the till's articles alone",
    "contact_or_ids": "A company when it has a contact person, VAT or chamber of commerce number",
    "contact": "A company when it has a contact person",
    "ids": "A company when it has a VAT or chamber of commerce number",
    "company": "Every debtor is a company",
    "person": "Every debtor is a person",
    "mapped": "The datamapper line with target 'kind' decides",
}


def _is_big_int(setting):
    values = [v for v in (setting.default, setting.max) if isinstance(v, int)]
    return any(v > INT4_MAX for v in values)


def setting_field(name, tracked=True, **kwargs):
    """The Odoo field of registry setting ``name``: type, default, choices and help come from the registry.

    Settings are tracked (who changed what, when) on the models that keep them; a wizard, which has no chatter,
    declares its answers with ``tracked=False``.
    """
    setting = registry.get_setting(name)
    if tracked:
        kwargs.setdefault("tracking", True)
    kwargs.setdefault("help", setting.help)
    if setting.type is bool:
        return fields.Boolean(default=setting.default, **kwargs)
    if setting.type is int:
        if _is_big_int(setting):  # PostgreSQL int4 is too small: a float holds these integers exactly
            return fields.Float(digits=(20, 0), default=float(setting.default), **kwargs)
        return fields.Integer(default=setting.default, **kwargs)
    if setting.type is str and setting.choices:
        selection = [(c, CHOICE_LABELS.get(c, c)) for c in setting.choices]
        return fields.Selection(selection, default=setting.default, required=True, **kwargs)
    if setting.type is str:
        return fields.Char(default=setting.default or False, **kwargs)
    # A list of free values: comma-separated text (lists with choices get a many2many, declared by hand).
    kwargs["help"] = f"{kwargs['help']} Comma-separated."
    return fields.Char(default=",".join(setting.default_value()) or False, **kwargs)


def read_setting(record, name):
    """The registry-typed value of setting ``name`` held by field ``name`` of ``record``."""
    setting = registry.get_setting(name)
    value = record[name]
    field = record._fields[name]
    if setting.type is bool:
        return bool(value)
    if setting.type is int:
        return int(round(value or 0))
    if setting.type is list:
        if field.type == "many2many":
            return list(value.mapped("code"))
        return [v.strip() for v in (value or "").split(",") if v.strip()]
    return value or ""


def field_value(record, name, value):
    """The value to write into field ``name`` of ``record`` for the registry-typed ``value``."""
    setting = registry.get_setting(name)
    field = record._fields[name]
    if setting.type is list:
        if isinstance(value, str):  # "order, receipt" as a configuration file writes it
            value = [v.strip() for v in value.split(",") if v.strip()]
        if field.type == "many2many":
            comodel = record.env[field.comodel_name].sudo()
            return [fields.Command.set(comodel.search([("code", "in", list(value))]).ids)]
        return ",".join(value) or False
    if field.type == "float":
        return float(value)
    if setting.type is str and not value and field.type == "char":
        return False
    return value
