"""The API profile: every AccountView name and every open MplusKASSA choice the engine depends on (docs/profile.md).

    profile = ApiProfile.default()                 # the shipped assumptions
    profile = ApiProfile.from_overrides(cfg)       # with the [profile] section of apicenter.toml on top
    art = profile.accountview.article              # code, table, key_field, ["sku"] -> wire field names
"""

from .model import (
    AccountViewProfile,
    ApiProfile,
    FieldSpec,
    MplusProfile,
    ObjectSpec,
    ProfileEntry,
    dump_toml,
    parse_profile_text,
    unflatten,
)

__all__ = [
    "AccountViewProfile",
    "ApiProfile",
    "FieldSpec",
    "MplusProfile",
    "ObjectSpec",
    "ProfileEntry",
    "dump_toml",
    "parse_profile_text",
    "unflatten",
]
