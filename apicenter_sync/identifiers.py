"""Identifiers an administrator types in (company id, client id, MplusKASSA ident and secret, API-profile names):
checked before they are sent, so a wrong one gets a message naming the field instead of a raw exception later
(a non-ASCII company id used to end in a UnicodeEncodeError when the header was built).

No message ever repeats the value: it may be a secret. It names the field and what is wrong, and where.
"""

from __future__ import annotations

from .errors import ConfigError
from .i18n import Msg, msg

MAX_IDENTIFIER = 200  # characters; real values are far shorter (a GUID is 36)


def check_identifier(value: object, field: Msg, *, ascii_only: bool = False, limit: int = MAX_IDENTIFIER,
                     required: bool = False) -> str:  # fmt: skip
    """``value`` as text if it can be sent as the identifier ``field`` names (a message such as
    ``msg("input.field_company_id")``), else ConfigError. ``ascii_only``: it travels in an HTTP header or must be
    printable ASCII by its standard (OAuth client credentials, RFC 6749 VSCHAR)."""
    text = "" if value is None else str(value)
    if not text:
        if required:
            raise ConfigError(msg("input.empty", field=field))
        return text
    if len(text) > limit:
        raise ConfigError(msg("input.too_long", field=field, length=len(text), limit=limit))
    for position, char in enumerate(text, 1):
        if ord(char) < 32 or ord(char) == 127:
            raise ConfigError(msg("input.control_character", field=field, position=position))
        if ascii_only and not char.isascii():
            raise ConfigError(msg("input.not_ascii", field=field, position=position))
    if text != text.strip():
        raise ConfigError(msg("input.outer_blanks", field=field))
    return text
