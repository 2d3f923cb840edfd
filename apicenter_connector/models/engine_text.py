# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The engine's texts (apicenter_sync.i18n messages) in the language of the user who reads them.

A run or log line stores the English text (searchable, what support reads) and, beside it, the message's data
(JSON, ``*_data`` fields): :func:`shown` renders it in the reader's language, so a line a job wrote is Dutch for a
Dutch user and Polish for a Polish one.
"""

from apicenter_sync.i18n import from_stored, render, stored_data


def data_text(value):
    """What a store keeps in an ``*_data`` field beside the English text: the message's JSON, or False."""
    return stored_data(value) or False


def stored(text, data):
    """The engine text read back from ``text`` and its ``*_data`` field: a message when its data was kept."""
    return from_stored(text or None, data or None)


def shown(env, text, data):
    """``text`` (with its ``*_data``) in the language of ``env``'s user."""
    value = stored(text, data)
    return render(value, env.lang) if value is not None else False


def error_text(env, exc):
    """An engine error in the language of ``env``'s user: a SyncError's text, the catalogue message another
    exception was raised with (``ValueError(msg(...))``), else the exception's own words."""
    from apicenter_sync.errors import SyncError

    if isinstance(exc, SyncError):
        return render(exc.text(), env.lang)
    if len(exc.args) == 1 and isinstance(exc.args[0], str):
        return render(exc.args[0], env.lang)
    return str(exc)
