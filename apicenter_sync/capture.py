"""Capture for support: every request/reply pair of a run, secrets removed, personal data pseudonymised.

``apicenter-sync run --capture DIR`` (Odoo: the backend's *Capture* switch) writes one JSON file per API call
into DIR, plus ``capture.json`` (what was captured, counts, limits) and ``profile.toml`` (the API profile used, so
the names of the tenant are known). ``apicenter-sandbox --from-capture DIR`` serves a tenant of that shape.

What never reaches a file:

- secrets: no header is written (no bearer token, no x-company), no query string of MplusKASSA (ident and
  secret), no token request body (client secret, refresh token, code) and no token in a token reply;
- personal data: every field that can hold a person's data is replaced by a **pseudonym**: letters by letters,
  digits by digits, the rest kept, derived from a keyed hash, so a value keeps its length, its shape and its
  oddities (accents, spaces, an address's "12-A") and the same value is the same pseudonym everywhere in one
  capture. The key is random per capture and written nowhere. Which fields: decided by :mod:`.personal` from the
  field names and types of the MplusKASSA WSDL and of the AccountView rows (names, e-mail addresses, phones,
  addresses, bank and VAT numbers, cashiers' and users' names, free text in records about a person), plus the
  API profile's personal fields; a field the profile knows as not personal (an order reference, an article
  description) is kept. A personal value a server echoes in an error message is replaced too.

Size: a body larger than ``max_body`` bytes is cut (marked ``"truncated": true``); after ``max_total`` bytes the
capture stops and says so in ``capture.json``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from .i18n import msg
from .mplus_wsdl import safe_parser
from .personal import mplus_rules, person_record, personal_by_name
from .profile import ApiProfile

MAX_BODY = 256 * 1024
MAX_TOTAL = 64 * 1024 * 1024
MASK = "***"
TOKEN_FIELDS = frozenset({"access_token", "refresh_token", "id_token", "code", "client_secret"})
# AccountView row identifiers (CONTACT_Id…): never personal, whatever the table's name says.
AV_HOUSEKEEPING_SUFFIX = ("_Id",)
_ACCENTED = "àáâäçèéêëìíîïñòóôöùúûüý"
_LOWER, _UPPER, _DIGITS = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"


class Pseudonyms:
    """Same value, same pseudonym (within one key); letters, digits and length kept."""

    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value
        known = self.seen.get(value)
        if known is None:
            stream = b""
            counter = 0
            while len(stream) < len(value):
                stream += hmac.new(self._key, f"{counter}:{value}".encode(), hashlib.sha256).digest()
                counter += 1
            out = []
            for ch, byte in zip(value, stream, strict=False):
                if ch.isdigit():
                    out.append(_DIGITS[byte % 10])
                elif "a" <= ch <= "z":
                    out.append(_LOWER[byte % 26])
                elif "A" <= ch <= "Z":
                    out.append(_UPPER[byte % 26])
                elif ch.isalpha():
                    out.append(_ACCENTED[byte % len(_ACCENTED)])
                else:
                    out.append(ch)
            known = "".join(out)
            if known == value:  # a short value can come out the same: never keep the original
                known = "".join(_shift(c) for c in value)
            self.seen[value] = known
        return known

    def scrub(self, text: str) -> str:
        """``text`` with every personal value seen so far replaced (a server may echo one in an error)."""
        for original in sorted((v for v in self.seen if len(v) >= 4), key=len, reverse=True):
            if original in text:
                text = text.replace(original, self.seen[original])
        return text


class Capture:
    def __init__(self, folder: str | os.PathLike, profile: ApiProfile | None = None, *, max_body: int = MAX_BODY,
                 max_total: int = MAX_TOTAL):  # fmt: skip
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.profile = profile or ApiProfile.default()
        self.max_body, self.max_total = max_body, max_total
        self.pseudonym = Pseudonyms()
        self._lock = threading.Lock()
        self.count = self.written = 0
        self.truncated = 0
        self.stopped = ""
        self.started = datetime.now(UTC)
        self._personal, self._harmless, self._personal_tables, self._by_code = self._av_rules()
        (self.folder / "profile.toml").write_text(self.profile.to_toml(), encoding="utf-8")

    # --- AccountView ------------------------------------------------------------------------------------------
    def _av_rules(self):
        av = self.profile.accountview
        personal: dict[str, set[str]] = {}
        harmless: dict[str, set[str]] = {}
        tables_of: dict[str, str] = {}
        for obj in av.objects.values():
            tables_of[obj.code.upper()] = obj.table.upper()
            tables_of[obj.reader.upper()] = obj.table.upper()
            for group, table in (("fields", obj.table), ("line_fields", obj.detail_table)):
                for spec in getattr(obj, group).values():
                    bucket = personal if spec.personal else harmless
                    bucket.setdefault(table.upper(), set()).add(spec.name.upper())
        for spec in (av.change_date, av.change_counter):
            for table in list(harmless) + list(personal):
                harmless.setdefault(table, set()).add(spec.name.upper())
        personal_tables = frozenset(personal)
        return personal, harmless, personal_tables, tables_of

    def _av_personal(self, table: str, field: str, person: bool | None = None) -> bool:
        """``field`` of ``table`` holds a person's data: the profile says so, or its name does (:mod:`.personal`)
        in a row about a person (``person``; unknown: a table the profile knows to hold personal data)."""
        table, field = table.upper(), field.upper()
        if field in self._personal.get(table, ()):
            return True
        if field in self._harmless.get(table, ()) or field.endswith(AV_HOUSEKEEPING_SUFFIX):
            return False
        return personal_by_name(field, person_record=table in self._personal_tables if person is None else person)

    def _av_rows(self, table: str, rows: list) -> list:
        out = []
        for row in rows:
            if isinstance(row, dict):
                person = table.upper() in self._personal_tables or person_record(row)
                row = {k: (self.pseudonym(v) if isinstance(v, str) and self._av_personal(table, k, person) else v)
                       for k, v in row.items()}  # fmt: skip
            out.append(row)
        return out

    def _av_body(self, body: Any) -> Any:
        if isinstance(body, dict) and "ErrorMessage" in body:
            return {**body, "ErrorMessage": self.pseudonym.scrub(str(body.get("ErrorMessage") or ""))}
        if isinstance(body, dict):
            return {t: self._av_rows(t, rows) if isinstance(rows, list) else rows for t, rows in body.items()}
        if isinstance(body, list):  # companies, business objects: no personal data
            return body
        return body

    def _av_envelope(self, doc: Any) -> Any:
        """A POST/PUT envelope: values are positional, so each column is judged by its field name."""
        if not isinstance(doc, dict):
            return doc
        top = {str(k).lower(): k for k in doc}
        table, data = doc.get(top.get("table", "")), doc.get(top.get("tabledata", ""))
        if not isinstance(table, dict) or not isinstance(data, dict):
            return doc
        t, d = {str(k).lower(): k for k in table}, {str(k).lower(): k for k in data}
        definitions = [table.get(t.get("definition", ""))] + list(table.get(t.get("detaildefinitions", "")) or [])
        datas = [data.get(d.get("data", ""))] + list(data.get(d.get("detaildata", "")) or [])
        for definition, block in zip(definitions, datas, strict=False):
            if not isinstance(definition, dict) or not isinstance(block, dict):
                continue
            name = str(definition.get("Name") or definition.get("name") or "")
            fields = [str(f.get("Name") or f.get("name") or "") for f in definition.get("Fields") or
                      definition.get("fields") or [] if isinstance(f, dict)]  # fmt: skip
            person = name.upper() in self._personal_tables or person_record(fields)
            for row in block.get("Rows") or block.get("rows") or []:
                values = row.get("Values") if isinstance(row, dict) else None
                if isinstance(values, list):
                    row["Values"] = [self.pseudonym(v) if i < len(fields) and isinstance(v, str)
                                     and self._av_personal(name, fields[i], person) else v
                                     for i, v in enumerate(values)]  # fmt: skip
        return doc

    def _av_params(self, params: dict | None) -> dict:
        params = {str(k): str(v) for k, v in (params or {}).items()}
        lower = {k.lower(): k for k in params}
        table = self._by_code.get(params.get(lower.get("businessobject", ""), "").upper(), "")
        for key in list(params):
            if key.lower().startswith("filtercontrolsource"):
                number = key[len("FilterControlSource") :]
                field = params[key].split(".")[-1]
                value_key = lower.get(f"filtervalue{number}".lower())
                if value_key and (self._av_personal(table, field) or not table):
                    params[value_key] = ",".join(self.pseudonym(v) for v in params[value_key].split(","))
        return params

    def accountview(self, method: str, path: str, operation: str, params, content: bytes | None, status: int,
                    reply: bytes) -> None:  # fmt: skip
        request = None
        if content:
            try:
                request = self._av_envelope(json.loads(content))
            except ValueError:
                request = {"unreadable": True}
        try:
            body: Any = self._av_body(json.loads(reply)) if reply else None
        except ValueError:
            body = self.pseudonym.scrub(reply[: self.max_body].decode("utf-8", "replace"))
        self._write("accountview", operation, {"method": method, "path": path, "params": self._av_params(params),
                                               "request": request, "status": status, "reply": body})  # fmt: skip

    def token(self, grant_type: str, status: int, payload: Any) -> None:
        reply = {k: (MASK if k in TOKEN_FIELDS else v) for k, v in payload.items()} if isinstance(payload, dict) else None
        self._write("accountview", "POST token", {"method": "POST", "path": "/token",
                                                  "request": {"grant_type": grant_type}, "status": status,
                                                  "reply": reply})  # fmt: skip

    # --- MplusKASSA -------------------------------------------------------------------------------------------
    def _xml(self, content: bytes) -> str:
        try:
            root = etree.fromstring(content, safe_parser(huge=True))
        except etree.XMLSyntaxError:
            return self.pseudonym.scrub(content[: self.max_body].decode("utf-8", "replace"))
        rules = mplus_rules()
        for element in root.iter():
            if not isinstance(element.tag, str) or element.text is None or len(element):
                continue
            name = etree.QName(element).localname
            ancestors = [etree.QName(a).localname for a in element.iterancestors() if isinstance(a.tag, str)]
            if rules.personal(name, ancestors):
                element.text = self.pseudonym(element.text)
            elif name in ("faultstring", "errorMessage", "message"):
                element.text = self.pseudonym.scrub(element.text)
        return etree.tostring(root, encoding="unicode")

    def mplus(self, operation: str, request: bytes, status: int, reply: bytes) -> None:
        # The address is not written: its query string holds the ident and secret.
        self._write("mplus", operation, {"request": self._xml(request), "status": status,
                                         "reply": self._xml(reply) if reply else ""})  # fmt: skip

    # --- files --------------------------------------------------------------------------------------------------
    def _write(self, system: str, operation: str, record: dict) -> None:
        with self._lock:
            if self.stopped:
                return
            self.count += 1
            text = json.dumps({"system": system, "operation": operation, **record}, ensure_ascii=False, indent=1,
                              default=str)  # fmt: skip
            if len(text.encode()) > self.max_body:
                self.truncated += 1
                text = json.dumps({"system": system, "operation": operation, "truncated": True,
                                   "text": text[: self.max_body]}, ensure_ascii=False)  # fmt: skip
            if self.written + len(text) > self.max_total:
                self.stopped = msg("capture.stopped", limit=self.max_total, calls=self.count - 1)
                return
            safe = "".join(c if c.isalnum() else "-" for c in operation)
            path = self.folder / f"{self.count:06d}-{system}-{safe}.json"
            path.write_text(text, encoding="utf-8")
            _owner_only(path)
            self.written += len(text)

    def close(self) -> dict:
        manifest = {
            "started": self.started.isoformat(), "finished": datetime.now(UTC).isoformat(), "calls": self.count,
            "bytes": self.written, "truncated_bodies": self.truncated, "stopped": self.stopped or None,
            "max_body": self.max_body, "max_total": self.max_total, "pseudonymised_values": len(self.pseudonym.seen),
            "profile": "profile.toml",
        }  # fmt: skip
        path = self.folder / "capture.json"
        path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _owner_only(path)
        return manifest


def _shift(ch: str) -> str:
    if ch.isdigit():
        return str((int(ch) + 1) % 10)
    if "a" <= ch <= "z":
        return _LOWER[(_LOWER.index(ch) + 1) % 26]
    if "A" <= ch <= "Z":
        return _UPPER[(_UPPER.index(ch) + 1) % 26]
    return ch


def _owner_only(path: Path) -> None:
    try:
        path.chmod(0o600)
    except OSError:  # a file system without modes
        pass
