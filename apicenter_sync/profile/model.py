"""The API profile: typed, validated, and changeable without code.

A profile is the shipped defaults (:mod:`.defaults`) with a user's overrides on top. Overrides come from the
``[profile]`` section of the TOML configuration or, in Odoo, from the backend's API Profile tab, both in the same
shape::

    [profile.accountview.stock]          # a business object: code, read_code, table, detail_table, available
    code = "VRD1"
    table = "VOORRAAD"
    [profile.accountview.stock.fields]   # its fields by logical name: a name, or {name, length}
    sku = "ARTCODE"
    warehouse = { name = "MAGAZIJN", length = 6 }
    [profile.accountview]
    change_date = "MUT_DATUM"            # the change-tracking fields of every table, and the default paging key
    [profile.mplus]
    sku_field = "pluNumber"              # choices the WSDL leaves open (see MplusProfile)

Flat keys (``accountview.stock.fields.sku``) name the same entries one per line; they are what Odoo stores and
what error messages and the doctor's report point at.
"""

from __future__ import annotations

import copy
import json
import tomllib
from functools import lru_cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..i18n import Msg, Text, catalogue, msg, profile_ref, setting_ref, table_ref
from . import defaults

Evidence = Literal["documented", "observed", "assumed"]
VFP_TYPES = frozenset("CMNYIBLDTFGQVW")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# Admin input bounds (docs/profile.md): a whole profile with every entry is a few kilobytes and six levels deep
# (profile > accountview > stock > fields > sku > name); an AccountView name is a table, field or object name.
MAX_PROFILE_BYTES = 1024 * 1024
MAX_PROFILE_DEPTH = 8
MAX_NAME_LENGTH = 128
MAX_PROFILE_TEXT = 200  # any other text of a profile (an attribute=field entry)
MAX_PROFILE_ITEMS = 1000  # entries of one table or list


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Frozen):
    """One AccountView field as the engine uses it."""

    name: str
    type: str = "C"  # Visual FoxPro type letter the engine expects
    length: int = 0  # characters the engine expects (C fields it writes are cut to this); 0 = not checked
    evidence: Evidence = "assumed"
    meaning: str = ""
    write: bool = False  # the engine writes this field
    personal: bool = False  # holds personal data (pseudonymised in captures)
    label: str = ""  # the description the data dictionary gives the field: how the doctor finds a tenant's name
    link: bool = False  # links a document's lines to its header: the same name in both tables


class ObjectSpec(_Frozen):
    """An AccountView business object: the code to read (and post) it, its header table and key, its fields."""

    code: str
    table: str
    key: str  # the logical name of the key field (one of ``fields``)
    read_code: str = ""  # when reads use another code than posts (journal pages are read with a code of their own)
    detail_table: str = ""
    evidence: Evidence = "assumed"
    meaning: str = ""
    optional: bool = False  # the flows can do without it: steps that need it are switched off when unavailable
    available: bool = True  # false: the tenant has no such object; the steps that need it are switched off
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    line_fields: dict[str, FieldSpec] = Field(default_factory=dict)  # fields of ``detail_table``

    def __getitem__(self, logical: str) -> str:
        """The wire name of a header field: ``profile.article["sku"]``."""
        return self.fields[logical].name

    def line(self, logical: str) -> str:
        """The wire name of a detail-table field: ``profile.sales_order.line("quantity")``."""
        return self.line_fields[logical].name

    @property
    def key_field(self) -> str:
        return self.fields[self.key].name

    @property
    def reader(self) -> str:
        """The business-object code of reads."""
        return self.read_code or self.code


class DictionarySpec(_Frozen):
    """Where the tenant's data dictionary is read (system data, one row per field of every table)."""

    code: str
    table: str
    table_field: str
    name_field: str
    type_field: str
    length_field: str
    label_field: str


class AccountViewProfile(_Frozen):
    change_date: FieldSpec
    change_counter: FieldSpec
    default_key: str
    dictionary: DictionarySpec
    objects: dict[str, ObjectSpec]

    def __getattr__(self, name: str) -> ObjectSpec:
        # profile.accountview.article: every object by its logical name.
        if not name.startswith("_"):
            objects = self.__dict__.get("objects") or {}
            if name in objects:
                return objects[name]
        return super().__getattr__(name)

    def table_keys(self) -> dict[str, str]:
        """Header table -> lastKey paging key, for every object of the profile."""
        return {obj.table.upper(): obj.key_field.upper() for obj in self.objects.values()}


class MplusProfile(_Frozen):
    """MplusKASSA choices the WSDL does not fix."""

    # What each choice means is in the catalogue (profile.meaning.mplus.<name>): the Odoo tab shows it in the
    # reader's language and docs/profile.md in English (profile/docs.py).
    # mplus.sku_field: the article field that carries the AccountView SKU (change it only before the first sync).
    sku_field: Literal["articleNumber", "pluNumber"] = "articleNumber"
    # mplus.order_reference: the order field that identifies a sale (changing it on a live integration books
    # every sale again).
    order_reference: Literal["extOrderId", "orderId"] = "extOrderId"
    branches: list[int] = Field(default_factory=list)  # the branches whose sales are read (empty: every branch)
    # How a sale line's VAT becomes an AccountView VAT code: by its percentage (mapping table vat_code_by_rate),
    # or by the till's vatCode (mapping table vat_code_mplus_av).
    vat_lookup: Literal["rate", "code"] = "rate"
    # Attribute -> the till article's own field; every other attribute and feature goes into a custom field of its
    # own name, which the till must define (getCustomFieldLists).
    attribute_fields: list[str] = Field(default_factory=lambda: ["colour=colour", "size=size", "brand=brandName"])
    # vat_code: revenue_account_by_country, then revenue_account_by_vat_code; turnover_group: the line's turnover
    # group in turnover_group_revenue_account first, then as vat_code.
    revenue_lookup: Literal["vat_code", "turnover_group"] = "vat_code"

    @field_validator("attribute_fields")
    @classmethod
    def _attribute_fields(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            attribute, _, target = str(entry).partition("=")
            if not attribute.strip() or target.strip() not in ARTICLE_ATTRIBUTE_FIELDS:
                raise ValueError(msg("profile.problem.attribute_field", value=repr(entry),
                                     fields=list(ARTICLE_ATTRIBUTE_FIELDS)))  # fmt: skip
        return entries

    def attribute_targets(self) -> dict[str, str]:
        """Attribute name -> the till article's own field it goes into."""
        pairs = (str(e).partition("=") for e in self.attribute_fields)
        return {a.strip(): t.strip() for a, _, t in pairs}


# The till article's own fields an attribute can go into (WSDL Article); any other attribute is a custom field.
ARTICLE_ATTRIBUTE_FIELDS = ("colour", "size", "brandName")


class ApiProfile(_Frozen):
    accountview: AccountViewProfile
    mplus: MplusProfile = Field(default_factory=MplusProfile)

    # --- building ------------------------------------------------------------------------------------------------
    @classmethod
    def default(cls) -> ApiProfile:
        return _default()

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> ApiProfile:
        """The defaults with ``overrides`` (the ``[profile]`` section's shape) on top; ConfigError names every
        unknown key or bad value."""
        if not overrides:
            return _default()
        check_bounds(overrides)
        data = _default_data()
        problems: list[Text] = []
        if not isinstance(overrides, dict):
            raise ConfigError(msg("profile.problem.not_a_table", entry="[profile]"))
        for section, values in overrides.items():
            if section == "accountview":
                _merge_accountview(data["accountview"], values, problems)
            elif section == "mplus":
                _merge_mplus(data["mplus"], values, problems)
            else:
                problems.append(msg("profile.problem.unknown_section", section=f"profile.{section}",
                                    sections=["accountview", "mplus"]))  # fmt: skip
        if problems:
            raise invalid(problems)
        try:
            profile = cls.model_validate(data)
        except ValidationError as exc:
            raise invalid(_errors(exc)) from None
        problems = profile.problems()
        if problems:
            raise invalid(problems)
        return profile

    @classmethod
    def from_flat(cls, values: dict[str, Any]) -> ApiProfile:
        """From flat keys (``accountview.stock.fields.sku``) as Odoo stores them; values as :meth:`flat` gives."""
        return cls.from_overrides(unflatten(values))

    # --- reading -------------------------------------------------------------------------------------------------
    def problems(self) -> list[Text]:
        """Names that cannot be AccountView names, and keys that name no field (catalogue messages)."""
        found = []
        av = self.accountview
        for key, value in (("accountview.change_date", av.change_date.name),
                           ("accountview.change_counter", av.change_counter.name),
                           ("accountview.default_key", av.default_key),
                           *((f"accountview.dictionary.{k}", v) for k, v in av.dictionary.model_dump().items())):  # fmt: skip
            found += _bad_name(key, value)
        for name, obj in av.objects.items():
            where = f"accountview.{name}"
            for attr in ("code", "table", "read_code", "detail_table"):
                value = getattr(obj, attr)
                if value or attr in ("code", "table"):
                    found += _bad_name(f"{where}.{attr}", value)
            if obj.key not in obj.fields:
                found.append(msg("profile.problem.key_no_field", entry=entry_ref(f"{where}.key"), value=repr(obj.key)))
            for group in ("fields", "line_fields"):
                for logical, spec in getattr(obj, group).items():
                    found += _bad_name(f"{where}.{group}.{logical}", spec.name)
                    if spec.type not in VFP_TYPES:
                        found.append(msg("profile.problem.not_a_type", entry=entry_ref(f"{where}.{group}.{logical}.type"),
                                         value=repr(spec.type)))  # fmt: skip
                    if spec.length < 0:
                        found.append(msg("profile.problem.negative_length",
                                         entry=entry_ref(f"{where}.{group}.{logical}.length")))  # fmt: skip
        return found

    def overrides(self) -> dict[str, Any]:
        """The nested overrides that turn the defaults into this profile (empty: it is the default)."""
        default = _default().flat()
        return unflatten({k: v for k, v in self.flat().items() if default.get(k) != v})

    def flat(self) -> dict[str, Any]:
        """Every editable entry as ``{flat key: value}``, in a stable order."""
        av = self.accountview
        out: dict[str, Any] = {
            "accountview.change_date": av.change_date.name,
            "accountview.change_counter": av.change_counter.name,
            "accountview.default_key": av.default_key,
            **{f"accountview.dictionary.{k}": v for k, v in av.dictionary.model_dump().items()},
        }
        for name, obj in av.objects.items():
            where = f"accountview.{name}"
            out[f"{where}.code"] = obj.code
            if obj.read_code or _default_read_code(name):
                out[f"{where}.read_code"] = obj.read_code
            out[f"{where}.table"] = obj.table
            if obj.detail_table:
                out[f"{where}.detail_table"] = obj.detail_table
            if obj.optional:
                out[f"{where}.available"] = obj.available
            for group in ("fields", "line_fields"):
                for logical, spec in getattr(obj, group).items():
                    out[f"{where}.{group}.{logical}"] = spec.name
                    if spec.length:
                        out[f"{where}.{group}.{logical}.length"] = spec.length
        for name in MplusProfile.model_fields:
            value = getattr(self.mplus, name)
            out[f"mplus.{name}"] = list(value) if isinstance(value, list) else value
        return out

    def entries(self) -> list[ProfileEntry]:
        """Every editable entry with its default, meaning and evidence (for the Odoo tab and the docs)."""
        default = _default()
        dflat = default.flat()
        rows = []
        for key, value in self.flat().items():
            meaning, evidence, system = _describe(default, key)
            rows.append(ProfileEntry(key, value, dflat.get(key), meaning, evidence, system))
        return rows

    def resolve(self, ref: str) -> str:
        """A datamapper reference to its wire name: ``@article.ean`` -> the article's EAN field,
        ``@sales_order.line.quantity`` -> a field of the object's detail table. ValueError names what exists."""
        parts = ref.removeprefix("@").split(".")
        obj = self.accountview.objects.get(parts[0])
        if obj is None:
            raise ValueError(msg("profile.problem.no_object", ref=repr(ref), object=repr(parts[0]),
                                 objects=list(self.accountview.objects)))  # fmt: skip
        if len(parts) == 2 and parts[1] in obj.fields:
            return obj.fields[parts[1]].name
        if len(parts) == 3 and parts[1] == "line" and parts[2] in obj.line_fields:
            return obj.line_fields[parts[2]].name
        known = [f"@{parts[0]}.{f}" for f in obj.fields] + [f"@{parts[0]}.line.{f}" for f in obj.line_fields]
        raise ValueError(msg("profile.problem.no_field_ref", ref=repr(ref), object=parts[0], known=known))

    def optional_off(self) -> list[str]:
        """Logical names of the objects switched off (``available = false``)."""
        return [name for name, obj in self.accountview.objects.items() if obj.optional and not obj.available]

    def switched_off(self, flow: str | None = None) -> list[SwitchedOff]:
        """The steps this profile switches off (every optional object with ``available = false``), of ``flow`` or
        of every flow and ``setup``; each says what is no longer filled and what can fill it instead."""
        return [step for name in self.optional_off() for step in steps_of(name) if flow in (None, step.flow)]

    # --- files ---------------------------------------------------------------------------------------------------
    def to_toml(self, *, only_changes: bool = False) -> str:
        """The profile as a ``[profile]`` section to paste into apicenter.toml (every entry, or only the changes)."""
        default = _default().flat()
        flat = {k: v for k, v in self.flat().items() if not only_changes or default.get(k) != v}
        return dump_toml(unflatten(flat), prefix="profile")

    def digest(self) -> str:
        """A short fingerprint of the profile (a doctor's report names the profile it checked)."""
        import hashlib

        text = json.dumps(self.flat(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class SwitchedOff:
    """One step an absent optional object switches off: ``flow`` logs one notice per run (``setup``: the screens'
    choices and the doctor's checks), ``instead`` (``("table", id)`` / ``("setting", id)``) can fill it instead."""

    __slots__ = ("object", "flow", "instead")

    def __init__(self, obj: str, flow: str, instead: tuple[str, str] | None):
        self.object, self.flow, self.instead = obj, flow, instead

    @property
    def key(self) -> str:
        """The profile entry that switches it off."""
        return f"accountview.{self.object}.available"

    @property
    def what(self) -> Msg:
        """What is no longer done, in words."""
        return Msg(f"profile.off.{self.object}.{self.flow}")

    @property
    def instead_ref(self) -> Msg | None:
        """The mapping table or setting that can fill it instead, as a reference (None: nothing can)."""
        if self.instead is None:
            return None
        kind, name = self.instead
        return table_ref(name) if kind == "table" else setting_ref(name)

    def notice(self) -> Msg:
        """The notice a run logs once: what is switched off, by which entry, and what can fill it instead."""
        if self.instead is None:
            return msg("profile.off.notice", what=self.what, entry=profile_ref(self.key))
        return msg("profile.off.notice_instead", what=self.what, entry=profile_ref(self.key), instead=self.instead_ref)

    def __repr__(self) -> str:
        return f"SwitchedOff({self.object}, {self.flow}, {self.instead})"


def steps_of(name: str) -> list[SwitchedOff]:
    """The steps the absence of optional object ``name`` switches off."""
    return [SwitchedOff(name, flow, instead) for flow, instead in defaults.OPTIONAL_STEPS.get(name, ())]


class ProfileEntry:
    """One entry: its key, value and default, what it means (a catalogue message), how sure the default is."""

    __slots__ = ("key", "value", "default", "meaning", "evidence", "system")

    def __init__(self, key, value, default, meaning, evidence, system):
        self.key, self.value, self.default = key, value, default
        self.meaning, self.evidence, self.system = meaning, evidence, system

    @property
    def changed(self) -> bool:
        return self.value != self.default

    @property
    def name(self) -> Msg:
        """The entry in words (catalogue ``profile.<key>``)."""
        return Msg(f"profile.{self.key}")

    @property
    def group(self) -> str:
        """The object (``accountview.stock``) or section (``accountview``, ``mplus``) the entry belongs to."""
        parts = self.key.split(".")
        return ".".join(parts[:2]) if parts[0] == "accountview" and len(parts) > 2 and parts[1] not in (
            "dictionary",) else parts[0]  # fmt: skip

    def __repr__(self) -> str:
        return f"ProfileEntry({self.key}={self.value!r})"


# --- parsing files -------------------------------------------------------------------------------------------------
def parse_profile_text(text: str) -> ApiProfile:
    """A profile file: TOML (with or without the ``[profile]`` table) or JSON (nested, or flat keys). Bounded: at
    most :data:`MAX_PROFILE_BYTES` and :data:`MAX_PROFILE_DEPTH` levels, else a ConfigError saying so."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PROFILE_BYTES:
        raise ConfigError(msg("input.profile_too_large", size=size, limit=MAX_PROFILE_BYTES))
    text = text.strip()
    try:
        data = json.loads(text) if text.startswith("{") else tomllib.loads(text)
    except RecursionError:
        raise ConfigError(msg("input.profile_too_deep", limit=MAX_PROFILE_DEPTH)) from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(msg("input.profile_unreadable", detail=str(exc)[:300])) from None
    if isinstance(data, dict) and "profile" in data:
        data = data["profile"]
    if isinstance(data, dict) and data and all("." in str(k) for k in data):
        return ApiProfile.from_flat(data)
    return ApiProfile.from_overrides(data)


def check_bounds(data: Any, where: str = "profile") -> None:
    """ConfigError when ``data`` (a profile's overrides) is nested deeper than :data:`MAX_PROFILE_DEPTH`, holds a
    text longer than :data:`MAX_PROFILE_TEXT` or a table or list of more than :data:`MAX_PROFILE_ITEMS` entries.
    Iterative: a file nested a million levels deep costs no recursion."""
    stack = [(data, where, 1)]
    while stack:
        value, key, depth = stack.pop()
        if depth > MAX_PROFILE_DEPTH:
            raise ConfigError(msg("input.profile_too_deep", limit=MAX_PROFILE_DEPTH))
        if isinstance(value, dict | list) and len(value) > MAX_PROFILE_ITEMS:
            raise ConfigError(msg("input.too_long", field=key, length=len(value), limit=MAX_PROFILE_ITEMS))
        if isinstance(value, dict):
            stack.extend((v, f"{key}.{str(k)[:MAX_PROFILE_TEXT]}", depth + 1) for k, v in value.items())
            stack.extend((k, key, depth + 1) for k in value)
        elif isinstance(value, list):
            stack.extend((v, key, depth + 1) for v in value)
        elif isinstance(value, str) and len(value) > MAX_PROFILE_TEXT:
            raise ConfigError(msg("input.profile_text_too_long", key=key, length=len(value), limit=MAX_PROFILE_TEXT))


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"accountview.stock.fields.sku": "X", "...sku.length": 6}`` -> the nested overrides shape."""
    nested: dict[str, Any] = {}
    lengths: dict[tuple[str, ...], Any] = {}
    for key, value in flat.items():
        parts = tuple(str(key).split("."))
        if len(parts) == 5 and parts[2] in ("fields", "line_fields") and parts[4] == "length":
            lengths[parts[:4]] = value
            continue
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid([msg("profile.problem.inside_value", entry=entry_ref(str(key)))])
        node[parts[-1]] = value
    for parts, value in lengths.items():
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        current = node.get(parts[-1])
        node[parts[-1]] = {**(current if isinstance(current, dict) else {}), "length": value}
        if isinstance(current, str):
            node[parts[-1]]["name"] = current
    return nested


def dump_toml(data: dict[str, Any], prefix: str = "", comments: dict[str, list[str]] | None = None) -> str:
    """Nested dicts of str/int/bool/list values as TOML tables (enough for a profile). ``comments``: dotted path of
    a value (``profile.accountview.stock.code``) -> comment lines written above it."""
    lines: list[str] = []
    comments = comments or {}

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v), ensure_ascii=False)

    def table(path: str, node: dict[str, Any]) -> None:
        leaves = {k: v for k, v in node.items() if not (isinstance(v, dict) and _is_table(v))}
        if leaves:
            if path:
                lines.append(f"[{path}]")
            for k, v in leaves.items():
                lines.extend(f"# {c}" for text in comments.get(f"{path}.{k}" if path else k, ())
                             for c in str(text).splitlines())  # fmt: skip
                lines.append(f"{k} = {value(v)}")
            lines.append("")
        for k, v in node.items():
            if isinstance(v, dict) and _is_table(v):
                table(f"{path}.{k}" if path else k, v)

    table(prefix, data)
    return "\n".join(lines).rstrip() + "\n"


def _is_table(node: dict) -> bool:
    # {name, length} of one field is an inline value, not a table of its own.
    return not (set(node) <= {"name", "length", "type"} and "length" in node)


# --- merging -------------------------------------------------------------------------------------------------------
_OBJECT_KEYS = ("code", "read_code", "table", "detail_table", "available")
_FIELD_KEYS = ("name", "length", "type")


def _merge_accountview(target: dict, values: Any, problems: list[str]) -> None:
    if not isinstance(values, dict):
        problems.append(msg("profile.problem.not_a_table", entry="profile.accountview"))
        return
    objects = target["objects"]
    for key, value in values.items():
        if key in ("change_date", "change_counter"):
            _merge_field(target[key], value, f"accountview.{key}", problems)
        elif key == "default_key":
            target[key] = value
        elif key == "dictionary":
            if not isinstance(value, dict):
                problems.append(msg("profile.problem.not_a_table", entry="accountview.dictionary"))
                continue
            for entry, name in value.items():
                if entry not in target["dictionary"]:
                    problems.append(msg("profile.problem.unknown_entry", entry=f"accountview.dictionary.{entry}",
                                        entries=list(target["dictionary"])))  # fmt: skip
                else:
                    target["dictionary"][entry] = name
        elif key in objects:
            _merge_object(objects[key], value, f"accountview.{key}", problems)
        else:
            problems.append(msg("profile.problem.unknown_object", entry=f"accountview.{key}", objects=list(objects)))


def _merge_object(target: dict, values: Any, where: str, problems: list[str]) -> None:
    if not isinstance(values, dict):
        problems.append(msg("profile.problem.not_a_table", entry=entry_ref(where)))
        return
    for key, value in values.items():
        if key in ("fields", "line_fields"):
            fields = target.get(key) or {}
            if not isinstance(value, dict):
                problems.append(msg("profile.problem.not_a_table", entry=f"{where}.{key}"))
                continue
            for logical, override in value.items():
                if logical not in fields:
                    problems.append(msg("profile.problem.unknown_field", entry=f"{where}.{key}.{logical}",
                                        fields=list(fields) or msg("profile.problem.no_fields")))  # fmt: skip
                    continue
                _merge_field(fields[logical], override, f"{where}.{key}.{logical}", problems)
        elif key in _OBJECT_KEYS:
            if key == "available" and not target.get("optional"):
                problems.append(msg("profile.problem.not_optional", entry=entry_ref(f"{where}.available")))
                continue
            if key == "available" and not isinstance(value, bool):
                problems.append(msg("profile.problem.not_bool", entry=entry_ref(f"{where}.available"), value=repr(value)))
                continue
            target[key] = value
        else:
            problems.append(msg("profile.problem.unknown_entry", entry=f"{where}.{key}",
                                entries=[*_OBJECT_KEYS, "fields", "line_fields"]))  # fmt: skip


def _merge_field(target: dict, value: Any, where: str, problems: list[str]) -> None:
    if isinstance(value, str):
        target["name"] = value
        return
    if not isinstance(value, dict):
        problems.append(msg("profile.problem.not_a_field", entry=entry_ref(where)))
        return
    for key, v in value.items():
        if key not in _FIELD_KEYS:
            problems.append(msg("profile.problem.unknown_entry", entry=f"{where}.{key}", entries=list(_FIELD_KEYS)))
        elif key == "length" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            problems.append(msg("profile.problem.bad_length", entry=entry_ref(f"{where}.length"), value=repr(v)))
        else:
            target[key] = v


def _merge_mplus(target: dict, values: Any, problems: list[str]) -> None:
    if not isinstance(values, dict):
        problems.append(msg("profile.problem.not_a_table", entry="profile.mplus"))
        return
    for key, value in values.items():
        if key not in MplusProfile.model_fields:
            problems.append(msg("profile.problem.unknown_entry", entry=f"mplus.{key}",
                                entries=list(MplusProfile.model_fields)))  # fmt: skip
            continue
        target[key] = value


def _bad_name(key: str, value: str) -> list[Text]:
    text = str(value or "")
    if not text.strip():
        return [msg("profile.problem.empty", entry=entry_ref(key))]
    if len(text) > MAX_NAME_LENGTH:
        return [msg("profile.problem.name_too_long", entry=entry_ref(key), length=len(text), limit=MAX_NAME_LENGTH)]
    if not set(text.upper()) <= _NAME_CHARS:
        return [msg("profile.problem.name_characters", entry=entry_ref(key), value=repr(text))]
    return []


def entry_ref(key: str) -> Text:
    """A profile entry as a refusal names it: its words in the reader's language with its key beside them (what
    apicenter.toml and the Odoo tab's key column use); an entry the engine does not know by its key alone."""
    if f"profile.{key}" in catalogue():
        return msg("profile.problem.entry", name=profile_ref(key), key=key)
    return key


def invalid(problems: list[Text]) -> ConfigError:
    """The refusal of a profile, naming every problem (joined by semicolons, in the reader's language)."""

    def joined(items: list[Text]) -> Text:  # halved, not chained: a thousand problems nest ten deep, not 1000
        if len(items) == 1:
            return items[0]
        half = len(items) // 2
        return msg("profile.problem.and", first=joined(items[:half]), then=joined(items[half:]))

    return ConfigError(msg("profile.invalid", problems=joined(problems)))


def _errors(exc: ValidationError) -> list[Text]:
    """Pydantic's refusals as messages: a validator's own message, a choice outside its allowed values, and for
    anything else pydantic's words inside ours."""
    found: list[Text] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "objects" and not isinstance(p, int))  # no list index
        entry, value = entry_ref(loc), repr(err.get("input"))[:80]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], Msg):
            found.append(msg("core.error_at", where=entry, message=cause.args[0]))
        elif err["type"].startswith("int_"):
            found.append(msg("profile.problem.not_whole_number", entry=entry, value=value))
        elif err["type"] == "list_type":
            found.append(msg("profile.problem.not_a_list", entry=entry, value=value))
        elif err["type"].startswith("bool_"):
            found.append(msg("profile.problem.not_bool", entry=entry, value=value))
        elif err["type"] == "literal_error" and _choices(err["loc"]):
            found.append(msg("profile.problem.not_one_of", entry=entry, choices=_choices(err["loc"]), value=value))
        else:
            found.append(msg("profile.problem.wrong_value", entry=entry, value=value, detail=err["msg"]))
    return found


def _choices(loc: tuple) -> list[str]:
    """The allowed values of an MplusKASSA choice (its Literal), or none."""
    info = MplusProfile.model_fields.get(str(loc[-1])) if len(loc) == 2 and loc[0] == "mplus" else None
    return [str(c) for c in get_args(info.annotation)] if info else []


def _describe(default: ApiProfile, key: str) -> tuple[Msg | str, str, str]:
    """(meaning, evidence, system) of a flat key; the meaning a catalogue message (profile.toml)."""
    parts = key.split(".")
    if parts[0] == "mplus":
        return (Msg(f"profile.meaning.{key}") if parts[1] in MplusProfile.model_fields else ""), "choice", "mplus"
    av = default.accountview
    if parts[1] in ("change_date", "change_counter"):
        return Msg(f"profile.meaning.{key}"), getattr(av, parts[1]).evidence, "accountview"
    if parts[1] in ("default_key", "dictionary"):
        return Msg(f"profile.meaning.{key}"), "observed", "accountview"
    obj = av.objects.get(parts[1])
    if obj is None:
        return "", "", "accountview"
    if len(parts) >= 4 and parts[2] in ("fields", "line_fields"):
        spec = getattr(obj, parts[2]).get(parts[3])
        if spec is None:
            return "", "", "accountview"
        table = obj.detail_table if parts[2] == "line_fields" else obj.table
        if len(parts) == 5:
            return msg("profile.meaning.length", field=f"{table}.{spec.name}"), spec.evidence, "accountview"
        return msg("profile.meaning.field", table=table, meaning=Msg(f"profile.meaning.{'.'.join(parts[:4])}")), (
            spec.evidence), "accountview"  # fmt: skip
    return msg("profile.meaning.object_entry", object=Msg(f"profile.meaning.accountview.{parts[1]}"),
               what=Msg(f"profile.meaning.{parts[2]}")), obj.evidence, "accountview"  # fmt: skip


# --- the defaults ----------------------------------------------------------------------------------------------------
def _default_data() -> dict[str, Any]:
    accountview = copy.deepcopy(defaults.ACCOUNTVIEW)
    for name, obj in accountview["objects"].items():
        for group, labels in (("fields", defaults.LABELS.get(name, {})),
                              ("line_fields", defaults.LABELS.get(f"{name}.line_fields", {}))):  # fmt: skip
            for logical, label in labels.items():
                obj[group][logical]["label"] = label
    return {"accountview": accountview, "mplus": {}}


def _default_read_code(name: str) -> bool:
    return bool(defaults.ACCOUNTVIEW["objects"].get(name, {}).get("read_code"))


@lru_cache(maxsize=1)
def _default() -> ApiProfile:
    return ApiProfile.model_validate(_default_data())
