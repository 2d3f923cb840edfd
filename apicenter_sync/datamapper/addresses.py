"""Dutch address helpers: street / house number / addition splitting and postcodes."""

from __future__ import annotations

import re

__all__ = ["format_nl_postcode", "is_valid_nl_postcode", "split_street"]

# Street, then a house number, then whatever follows (the addition).  The street part
# is greedy so the *last* number wins ("Plein 1940-1945 12" -> number 12), and it must
# end in a non-separator so "Straat 4 - 2 hoog" keeps 4 as the number.  A number may
# follow a word directly ("Kerkstraat12"), but not a lone letter ("176 B02" is an addition).
_TRAILING_NUMBER = re.compile(
    r"^(?P<street>.*[^\s,\-/])(?:[\s,]+|(?<=[^\W\d_]{3}))(?P<number>\d+)(?P<addition>.*)$", re.S
)
# Belgian and Dutch words that introduce an addition containing its own number
# ("Kerkstraat 12 bus 3", "Dorpsstraat 5 app 2"): the greedy match took the wrong number.
_ADDITION_WORD = re.compile(
    r"^(?P<street>.*[^\s,\-/])[\s,]+(?P<number>\d+)(?P<rest>[\s\-/]*"
    r"(?:bus|bte|boite|boîte|app|apt|appartement|unit|kamer|verdieping|hoog|huis|hs|bg|bis|ter))\.?$",
    re.I | re.S,
)
# "221B Baker Street": the number comes first (UK/FR style addresses).
_LEADING_NUMBER = re.compile(r"^(?P<number>\d+)(?P<addition>[A-Za-z]{0,3})[\s,]+(?P<street>\D.*)$", re.S)
_ORDINALS = {"e", "de", "ste", "te", "st", "nd", "rd", "th"}  # "2e Helmersstraat" is a street name
_SPACES = re.compile(r"\s+")
_SEPARATORS = " \t-/,."


def split_street(text: str) -> tuple[str, str | None, str | None]:
    """Split a one-line street address into (street, house_number, addition).

    >>> split_street("Kerkstraat 12-A")
    ('Kerkstraat', '12', 'A')
    >>> split_street("Laan van Meerdervoort 1021 bis")
    ('Laan van Meerdervoort', '1021', 'bis')
    """
    line = _SPACES.sub(" ", text).strip(" ,")
    if not line:
        return "", None, None
    match = _TRAILING_NUMBER.match(line)
    if match:
        street, number, addition = match["street"], match["number"], match["addition"]
        again = _ADDITION_WORD.match(street)
        if again:
            street, addition = again["street"], f"{again['rest']} {number}{addition}"
            number = again["number"]
        return street.strip(" ,"), number, (addition.strip(_SEPARATORS) or None)
    match = _LEADING_NUMBER.match(line)
    if match and match["addition"].lower() not in _ORDINALS:
        return match["street"].strip(" ,"), match["number"], match["addition"] or None
    return line, None, None


_NL_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")
_NL_UNUSED_LETTERS = {"SA", "SD", "SS"}  # never issued by PostNL


def format_nl_postcode(text: str) -> str | None:
    """'1234ab' -> '1234 AB'; None when the text is not shaped like a Dutch postcode."""
    match = _NL_POSTCODE.match(text)
    if not match:
        return None
    return f"{match[1]} {match[2].upper()}"


def is_valid_nl_postcode(formatted: str) -> bool:
    """For a '1234 AB' string: no leading zero, no letter pair PostNL never issues."""
    return formatted[0] != "0" and formatted[5:] not in _NL_UNUSED_LETTERS
