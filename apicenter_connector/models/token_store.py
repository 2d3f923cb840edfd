# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The AccountView ``TokenStore`` of a backend (``get()`` / ``save(Tokens)``).

Refresh tokens rotate: the old one is dead the moment the new one arrives, so ``save`` writes through a separate
cursor that commits at once. The job that triggered the refresh may still be rolled back (a retryable error); the
new tokens must survive it. Reads also go through a fresh cursor, so a token rotated by another worker after this
transaction began is seen (the job's own cursor runs in REPEATABLE READ and would not see it).

A backend created in the still-uncommitted current transaction is invisible to other cursors: then the tokens are
read and written in the current transaction (they are committed together with the backend).
"""

from contextlib import contextmanager

from apicenter_sync.clients.accountview_oauth import Tokens
from apicenter_sync.redact import MASK

from odoo import SUPERUSER_ID, api

RELOAD_MARGIN_S = 300  # re-read from the database when the cached access token expires within this


class OdooTokenStore:
    def __init__(self, env, backend_id):
        self.env = env
        self.backend_id = backend_id
        self._cached = None

    def __repr__(self):
        return f"OdooTokenStore(backend_id={self.backend_id!r}, tokens={MASK!r})"

    @contextmanager
    def _token_env(self):
        """A superuser env on a fresh, committed-at-exit cursor; the current one if the backend is not committed."""
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT 1 FROM apicenter_backend WHERE id = %s", (self.backend_id,))
            if cr.fetchone():
                yield api.Environment(cr, SUPERUSER_ID, {})
                return
        yield self.env(su=True)

    def _record(self, env):
        return env["apicenter.backend.token"].search([("backend_id", "=", self.backend_id)], limit=1)

    def get(self):
        if self._cached is None or self._cached.expires_within(RELOAD_MARGIN_S):
            with self._token_env() as env:
                rec = self._record(env)
                if rec and rec.access_token:
                    self._cached = Tokens(
                        rec.access_token, rec.refresh_token or "", rec.expires_at or None, rec.scope or ""
                    )
        return self._cached

    def save(self, tokens):
        vals = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at or 0.0,
            "scope": tokens.scope,
        }
        with self._token_env() as env:
            rec = self._record(env)
            if rec:
                rec.write(vals)
            else:
                env["apicenter.backend.token"].create({"backend_id": self.backend_id, **vals})
            env.flush_all()
        self._cached = tokens
        if self.env.cr is not None:
            # Our own transaction may have cached the old values (computed "connected" flag, a form reload).
            self.env["apicenter.backend.token"].invalidate_model()

    def clear(self):
        """Delete the tokens (an endpoint changed: they must never be sent elsewhere); True when there were any.

        Through the same committed cursor as ``save``: other workers, which read through a fresh cursor, stop
        using them at once, and a rollback of the current transaction cannot bring them back."""
        with self._token_env() as env:
            rec = self._record(env)
            had = bool(rec and rec.access_token)
            rec.unlink()
            env.flush_all()
        self._cached = None
        if self.env.cr is not None:
            self.env["apicenter.backend.token"].invalidate_model()
        return had
