# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Chatter messages the addon posts, in the language of the user who reads them.

A message is posted with its body (and subject) rendered in the writer's language: what the database keeps, what
e-mails carry and what a search finds. Beside it the message keeps how the text was made
(``mail.message.apicenter_text_data``, JSON), and :meth:`MailMessage._to_store` — what the web client reads a
chatter through, on Odoo 18 and 19 — renders it again in the reader's language. A Dutch bookkeeper's change reads
Polish for a Polish colleague.

A text is a tree of small dicts, plain JSON:

- ``Said._("Connection check: %s", part)``: an Odoo text of this addon (its msgid and arguments, translated by the
  .po files; ``Said._`` is what Odoo's export finds, like ``env._``),
- ``said_msg(message)``: an engine message (``apicenter_sync.i18n.Msg``), kept as its data,
- ``said_label(record, "field", value)``: a selection's label, ``said_field(record, "field")``: a field's label,
  ``said_list(parts)``: parts joined by commas,
- ``said_html("<p>%s</p>", part, …)``: markup around parts (escaped), ``said_join(part, …)``: parts one after
  the other; anything else (a name, a number) stays as it is.
"""

import json

from apicenter_sync.i18n import Msg, render
from apicenter_sync.redact import mask_emails, redact_text
from markupsafe import Markup

from .engine_text import data_text


class Said:
    """Odoo texts kept as data (see the module)."""

    @staticmethod
    def _(source, *args, **kwargs):
        assert not (args and kwargs), "Use args or kwargs, not both"
        return {"odoo": source, "args": list(args) or kwargs}


def said_msg(message, limit=500):
    """An engine message kept as its data (redacted and bounded like every stored text); plain text (a server's
    words) redacted and cut at ``limit`` characters."""
    data = data_text(message) if isinstance(message, Msg) else False
    return {"msg": json.loads(data)} if data else mask_emails(redact_text(str(message or "")))[:limit]


def said_label(records, field, value):
    """The label of ``value`` of the selection ``field`` of ``records``' model, in the reader's language."""
    return {"label": [records._name, field, value]}


def said_field(records, name):
    """The label of the field ``name`` of ``records``' model, in the reader's language."""
    return {"field": [records._name, name]}


def said_list(parts, sep=", "):
    """Parts joined by ``sep`` (language-neutral punctuation)."""
    return {"list": list(parts), "sep": sep}


def said_html(template, *parts):
    return {"html": str(template), "args": list(parts)}


def said_join(*parts):
    return {"join": list(parts)}


def rendered(env, part):
    """``part`` in the language of ``env``: markup for ``said_html``/``said_join``, text for the rest."""
    if not isinstance(part, dict):
        return part if part is not None else ""
    if "odoo" in part:
        source, args = part["odoo"], part.get("args")  # not env._(part[...]): Odoo's export would take "odoo" as a text
        if isinstance(args, dict):
            return env._(source, **{key: rendered(env, value) for key, value in args.items()})
        return env._(source, *[rendered(env, value) for value in args or ()])
    if "msg" in part:  # a run's error may quote a server that echoed an address (docs/privacy.md)
        return mask_emails(redact_text(render(Msg.from_data(part["msg"]), env.lang)))
    if "label" in part:
        model, field, value = part["label"]
        return dict(env[model]._fields[field]._description_selection(env)).get(value, value)
    if "field" in part:
        model, name = part["field"]
        return env[model]._fields[name]._description_string(env)
    if "list" in part:
        return part.get("sep", ", ").join(str(rendered(env, value)) for value in part["list"])
    if "html" in part:
        return Markup(part["html"]) % tuple(rendered(env, value) for value in part["args"])
    if "join" in part:
        return Markup("").join(rendered(env, value) for value in part["join"])
    return ""


def post(record, body, subject=None, **kwargs):
    """``record.message_post`` of a text made with this module: written in ``record.env``'s language, kept as data
    so each reader reads it in theirs (``kwargs`` go to ``message_post``)."""
    env = record.env
    message = record.message_post(
        body=Markup("") + rendered(env, body), subject=rendered(env, subject) if subject else None, **kwargs
    )
    if isinstance(body, dict):  # plain text (a server's words) reads the same for everybody
        data = {"body": body, **({"subject": subject} if subject else {})}
        message.sudo().apicenter_text_data = json.dumps(data, ensure_ascii=False)
    return message


def shown(env, data):
    """The body (and subject) of a message's ``apicenter_text_data`` in the language of ``env``; {} when unreadable."""
    try:
        data = json.loads(data)
        values = {"body": Markup("") + rendered(env, data["body"])}
        if data.get("subject"):
            values["subject"] = rendered(env, data["subject"])
    except (ValueError, KeyError, TypeError, IndexError):  # an old or damaged row: the stored body stays
        return {}
    return values
