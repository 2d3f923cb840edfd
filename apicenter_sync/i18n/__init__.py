"""Texts for people, in English, Dutch and Polish.

A text the engine writes for a person (a log line's error, a doctor line, a run's stop reason, a setting's help) is
a :class:`Msg`: a catalogue key and its arguments. It is rendered in the reader's language when it is read, so a
line written by a job in English is shown to a Dutch bookkeeper in Dutch, and to a Polish one in Polish. Stores keep
the English rendering (searchable, what support reads) beside :meth:`Msg.to_data`.

The catalogue is ``catalogue/<area>.toml``: one table per key, with ``en``, ``nl`` and ``pl`` templates that take
the same ``{placeholders}``. ``tests/test_i18n_catalogue.py`` checks that every key is complete and that every key
the code names exists.
"""

from __future__ import annotations

import json
import os
import string
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "nl", "pl")
DEFAULT = "en"
PSEUDO = "xx"  # a pseudo-language for tests: every catalogue text comes out marked, so an unmarked one leaked
# A message that names a mapping table, a setting or an API-profile entry names it through one of these (see
# :func:`table_ref`): the reader sees its name in their language, and a screen can link to it (:func:`references`).
REFERENCE_AREAS = {"tables": "table", "settings": "setting", "profile": "profile"}
PROFILE_SYSTEMS = ("accountview.", "mplus.")  # profile entries are keys of these (profile.toml has other words too)


class Msg(str):
    """A catalogue key and its arguments. It *is* its English text (a ``str``), so code and tests that treat an
    error as text go on working; :meth:`render` gives it in another language, :meth:`to_data` what a store keeps."""

    key: str
    args: Mapping[str, Any]

    def __new__(cls, key: str, args: Mapping[str, Any] | None = None) -> Msg:
        args = dict(args or {})
        self = super().__new__(cls, _render(key, args, DEFAULT))
        self.key, self.args = key, args
        return self

    def render(self, lang: str | None = None) -> str:
        return _render(self.key, self.args, language(lang))

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.args!r})"

    def __reduce__(self):  # pickled and copied as a message, not as its English text
        return (Msg, (self.key, dict(self.args)))

    def to_data(self) -> dict:
        """JSON-able: ``{"key": ..., "args": {...}}``; nested messages become such dicts too."""
        return {"key": self.key, "args": {k: _data(v) for k, v in self.args.items()}}

    @classmethod
    def from_data(cls, data: Mapping) -> Msg:
        return cls(str(data["key"]), {k: _undata(v) for k, v in (data.get("args") or {}).items()})

    def keys(self) -> set[str]:
        """This key and the keys of the messages in its arguments."""
        found = {self.key}
        for value in self.args.values():
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, Msg):
                    found |= item.keys()
        return found


Text = str  # a Msg, or plain text (a server's own words)


def _render(key: str, args: Mapping[str, Any], lang: str) -> str:
    entry = catalogue().get(key)
    if entry is None and not args and key.split(".", 1)[0] in REFERENCE_AREAS:
        return key.split(".", 1)[1]  # a reference whose name is not in the catalogue: its id
    if entry is None:  # never fails a run: the key itself, with its arguments, still says something
        shown = ", ".join(f"{k}={render(v, lang)}" for k, v in args.items())
        return f"{key}({shown})" if shown else key
    if lang == PSEUDO:
        return "⟦" + _fill(entry[DEFAULT], args, lang) + "⟧"
    return _fill(entry.get(lang) or entry[DEFAULT], args, lang)


def table_ref(name: str) -> Msg:
    """The mapping table ``name`` as a reader names it (catalogue key ``tables.<name>``)."""
    return Msg(f"tables.{name}")


def setting_ref(name: str) -> Msg:
    """The setting ``name`` as the settings form labels it (catalogue key ``settings.<name>``)."""
    return Msg(f"settings.{name}")


def profile_ref(key: str) -> Msg:
    """The API-profile entry ``key`` (``accountview.stock.code``) in words (catalogue key ``profile.<key>``)."""
    return Msg(f"profile.{key}")


def references(text: Any) -> list[tuple[str, str]]:
    """What a text names that a person can change: ``[("table", "vat_code_av_mplus"), ("setting", …), …]``, in
    order, each once; a screen links each to its form."""
    found: list[tuple[str, str]] = []
    stack = [text]
    while stack:
        value = stack.pop(0)
        if isinstance(value, Msg):
            area, _, rest = value.key.partition(".")
            if area == "profile" and not rest.startswith(PROFILE_SYSTEMS):
                area = ""  # profile.meaning.* and profile.off.* are words about the profile, not entries of it
            if area in ("tables", "settings") and "." in rest:
                area = ""  # tables.help.*, tables.kind.*: words about a table, not a table
            if area in REFERENCE_AREAS and not value.args and (REFERENCE_AREAS[area], rest) not in found:
                found.append((REFERENCE_AREAS[area], rest))
            stack.extend(value.args.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return found


def msg(key: str, /, **args: Any) -> Msg:
    return Msg(key, args)


def render(value: Any, lang: str | None = None) -> str:
    """Any text or value in ``lang``: a Msg rendered, a list joined, None empty, the rest as ``str``."""
    if isinstance(value, Msg):
        return value.render(lang)
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(render(v, lang) for v in value)
    if isinstance(value, bool):
        return render(msg("core.yes" if value else "core.no"), lang)
    return str(value)


def bounded(text: Text, limit: int) -> Text:
    """``text`` at most about ``limit`` characters long: plain text cut, a message's long text arguments cut (they
    quote values, and a hostile value must not make a huge log line)."""
    if isinstance(text, Msg):
        if len(str(text)) <= limit:
            return text
        part = max(limit // 4, 20)
        return Msg(text.key, {k: bounded(v, part) if isinstance(v, str | Msg) else v for k, v in text.args.items()})
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_data(value: Text | None) -> dict | None:
    """What a store keeps beside a text's English rendering: the message's data, or None for plain text."""
    return value.to_data() if isinstance(value, Msg) else None


def from_stored(text: str | None, data: Mapping | str | None) -> Text | None:
    """The text a store read back: the message when its data (a dict, or its JSON) was kept, else the plain text."""
    if isinstance(data, str):
        try:
            data = json.loads(data) if data else None
        except ValueError:
            data = None
    if data:
        try:
            return Msg.from_data(data)
        except (KeyError, TypeError, AttributeError):
            pass
    return text or None


STEP_MESSAGES = "steps_msg"  # beside a reply's "steps": each step's message data (None for plain text)


def with_step_messages(reply: Any) -> Any:
    """A reply as a store keeps it: its ``steps`` (what a record's booking did, step by step) as English text —
    what the JSON shows support and tests read — and beside them their messages' data, so a screen can show the
    steps in the reader's language (:func:`steps_in`)."""
    if isinstance(reply, dict) and any(isinstance(step, Msg) for step in reply.get("steps") or ()):
        return {**reply, STEP_MESSAGES: [to_data(step) for step in reply["steps"]]}
    return reply


def steps_in(reply: Any, lang: str | None) -> Any:
    """A stored reply for a reader: its steps rendered in ``lang`` from their messages, the messages' data left out."""
    if not isinstance(reply, dict) or STEP_MESSAGES not in reply:
        return reply
    reply = dict(reply)
    data, steps = reply.pop(STEP_MESSAGES) or [], list(reply.get("steps") or [])
    if len(data) == len(steps):
        reply["steps"] = [render(from_stored(step, item), lang) for step, item in zip(steps, data, strict=True)]
    return reply


def stored_data(value: Text | None) -> str | None:
    """The JSON a store keeps beside a text's English rendering (None for plain text), its text arguments redacted
    and bounded like every stored text."""
    from ..redact import bound_texts, mask_emails, redact  # the store's rules for every text it keeps

    data = to_data(value)
    if data is None:
        return None
    text = json.dumps(bound_texts(redact(data)), ensure_ascii=False, default=str)
    return mask_emails(text)  # an address inside an argument outlives the payloads too (docs/privacy.md)


def language(locale: str | None) -> str:
    """``nl`` for ``nl_NL``, ``nl-BE``, ``nl_BE.UTF-8``; English for anything the catalogue has not."""
    code = (locale or "").strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return code if code in LANGUAGES or code == PSEUDO else DEFAULT


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of the command line: ``APICENTER_LANG``, else the locale (LC_ALL, LC_MESSAGES, LANG, LANGUAGE)."""
    env = os.environ if environ is None else environ
    for name in ("APICENTER_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(name)
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return language(value.split(":")[0])
    return DEFAULT


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every key of every ``catalogue/*.toml``; a key defined twice is a developer's error (areas must not
    overlap). A key the catalogue lacks is no error here: :func:`msg` shows the key and its arguments instead."""
    entries: dict[str, dict[str, str]] = {}
    folder = resources.files(__package__).joinpath("catalogue")
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".toml"):
            continue
        data = tomllib.loads(item.read_text(encoding="utf-8"))
        for key, texts in data.items():
            if key in entries:
                # English on purpose: the catalogue cannot word its own breakage (msg() would load it again), and
                # only a developer can cause it — the files ship with the code and tests/test_i18n_catalogue.py
                # loads them — so it is an AssertionError, never a user's data or settings.
                raise AssertionError(f"message key {key!r} is defined twice (catalogue/{item.name})")
            entries[key] = {lang: str(text) for lang, text in texts.items()}
    return entries


def placeholders(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}


class _Args(dict):
    """Arguments rendered in one language; a placeholder without an argument stays visible as ``{name}``."""

    def __init__(self, args: Mapping[str, Any], lang: str):
        super().__init__()
        self._args, self._lang = args, lang

    def __missing__(self, name: str) -> Any:
        if name in self._args:
            return _Arg(self._args[name], self._lang)
        return "{" + name + "}"


class _Arg:
    """One argument in a template. ``{n}`` is its text; ``{n:minute|minutes}`` is the form of a word that goes with
    the number ``n`` in the template's language (:func:`plural_form`): English and Dutch give one form for 1 and
    another for the rest, Polish three (1 minuta, 2–4 minuty, 5+ minut)."""

    def __init__(self, value: Any, lang: str):
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            return plural_form(self.value, spec.split("|"), self.lang)
        return format(render(self.value, self.lang), spec)


def plural_form(number: Any, forms: list[str], lang: str) -> str:
    """The form of ``forms`` that goes with ``number``: ``[one, other]`` in English and Dutch, ``[one, few, many]``
    in Polish (few: ending in 2–4 but not 12–14; many: the other whole numbers; a fraction takes ``few``, "1,5
    minuty"). A missing form falls back to the last one."""
    try:
        value = Decimal(str(number))
    except ArithmeticError:
        return forms[-1]
    if lang == "pl" and len(forms) >= 3:
        if value != value.to_integral_value():
            index = 1
        else:
            n = abs(int(value))
            index = 0 if n == 1 else 1 if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else 2
    else:
        index = 0 if value == 1 else 1
    return forms[min(index, len(forms) - 1)]


def _fill(template: str, args: Mapping[str, Any], lang: str) -> str:
    try:
        return template.format_map(_Args(args, lang))
    except (ValueError, IndexError, AttributeError, KeyError):  # a broken template must not stop a run
        return template


def _data(value: Any) -> Any:
    if isinstance(value, Msg):
        return value.to_data()
    if isinstance(value, list | tuple | set | frozenset):
        return [_data(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _undata(value: Any) -> Any:
    if isinstance(value, dict) and "key" in value:
        return Msg.from_data(value)
    if isinstance(value, list):
        return [_undata(v) for v in value]
    return value


__all__ = ["DEFAULT", "LANGUAGES", "PSEUDO", "Msg", "Text", "bounded", "catalogue", "cli_language", "from_stored", "language",
           "msg", "placeholders", "profile_ref", "references", "render", "setting_ref", "stored_data", "table_ref",
           "to_data"]
