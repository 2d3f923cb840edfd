# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What a problem names to change, one click away: a mapping table, a setting or an API-profile entry.

The connection check's lines (their ``profile_key``), failed log lines and waiting sales (the engine's message, whose
``table_ref``/``setting_ref``/``profile_ref`` arguments :func:`apicenter_sync.i18n.references` lists) all resolve
to a ``(kind, name)`` target here, and open it with :func:`open_target`: one mechanism for every screen.
"""

from apicenter_sync import mapping_tables
from apicenter_sync import settings as settings_registry
from apicenter_sync.i18n import references, render, setting_ref

from odoo.exceptions import UserError

from .apicenter_profile_line import default_entries, entry_name
from .engine_text import stored

NONE = (False, False)


def target_of_key(key):
    """A profile key, setting or table name as the doctor keeps it: ("table" | "setting" | "profile", name)."""
    key = (key or "").strip()
    for kind in ("table", "setting", "profile"):
        if key and _known(kind, key):
            return kind, key
    return NONE


def target_of_text(text, data):
    """The first thing an engine text (stored as ``text`` and its ``*_data``) names that a person can change."""
    value = stored(text, data)
    for kind, name in references(value) if value is not None else ():
        if _known(kind, name):
            return kind, name
    return NONE


def _known(kind, name):
    if kind == "table":
        return bool(mapping_tables.get_table(name))
    if kind == "setting":
        return name in {s.name for s in settings_registry.SETTINGS}
    return kind == "profile" and name in default_entries()


def target_label(env, kind, name):
    """"Mapping table: Deposits (BPE) → articles", in the reader's language; False for no target."""
    if kind == "table":
        tables = dict(env["apicenter.mapping"]._fields["known_table"]._description_selection(env))
        return env._("Mapping table: %s", tables.get(name, name))
    if kind == "setting":
        return env._("Setting: %s", render(setting_ref(name), env.lang))
    if kind == "profile":
        return env._("API profile: %s", entry_name(env, name))
    return False


def can_open(env, kind):
    """Whether the user of ``env`` may open a target of ``kind``: the API profile is an administrator's (the
    backend refuses the others), so its Open button is not shown to them; the label still says what to change."""
    if kind == "profile":
        return env.su or env.user.has_group("base.group_system")
    return bool(kind)


def open_target(env, backend, kind, name, flow=None):
    """The action that shows ``(kind, name)`` of ``backend``: the mapping table's rows, the form of the flow (``flow``
    when the setting is one of its own, else the first flow it applies to; else the backend) holding the setting, or
    the API-profile entry (administrators: the profile checks it)."""
    if kind == "table":
        action = env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_mapping_action")
        action["domain"] = [("backend_id", "=", backend.id), ("table_name", "=", name)]
        action["context"] = {"default_backend_id": backend.id, "default_table_name": name}
        return action
    if kind == "setting":
        setting = settings_registry.get_setting(name)
        flows = backend.flow_ids.filtered(lambda f: f.flow in setting.flows)
        record = flows.filtered(lambda f: f.flow == flow)[:1] or flows[:1] or backend
        return {"type": "ir.actions.act_window", "res_model": record._name, "res_id": record.id,
                "view_mode": "form", "views": [(False, "form")]}  # fmt: skip
    if kind == "profile":
        action = backend.action_open_profile()
        action["domain"] = [("backend_id", "=", backend.id), ("key", "=", name)]
        return action
    raise UserError(env._("This line names nothing to change here."))
