"""OAuth tokens of the command-line engine, in the same SQLite file as the rest of the state.

Saved in their own committed transaction the moment they arrive: a rotated
refresh token lost on a crash would lock the connection out.
"""

from __future__ import annotations

import json

from ..clients.accountview_oauth import Tokens
from .sqlite import SqliteStore


class SqliteTokenStore:
    def __init__(self, store: SqliteStore, name: str = "accountview"):
        self.store = store
        self.name = name
        store.execute(
            "CREATE TABLE IF NOT EXISTS oauth_tokens (backend TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, "
            "PRIMARY KEY (backend, name))"
        )

    def get(self) -> Tokens | None:
        rows = self.store.query(
            "SELECT data FROM oauth_tokens WHERE backend = ? AND name = ?", (self.store.backend, self.name)
        )
        if not rows:
            return None
        data = json.loads(rows[0][0])
        return Tokens(data["access_token"], data["refresh_token"], data.get("expires_at"), data.get("scope", ""))

    def save(self, tokens: Tokens) -> None:
        data = json.dumps({"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                           "expires_at": tokens.expires_at, "scope": tokens.scope})  # fmt: skip
        with self.store.transaction():
            self.store.execute(
                "INSERT INTO oauth_tokens (backend, name, data) VALUES (?, ?, ?) "
                "ON CONFLICT (backend, name) DO UPDATE SET data = excluded.data",
                (self.store.backend, self.name, data),
            )

    def __repr__(self) -> str:
        return f"SqliteTokenStore({self.store.path!r}, tokens='***')"
