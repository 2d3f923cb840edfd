# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ``state`` of an AccountView authorization request, kept server-side until the browser comes back.

A state is random, single-use, expires after a few minutes, and is bound to the backend being connected, the user
who clicked *Connect* and that user's session: the callback accepts it only from the same session. Only hashes are
stored, so the table holds nothing that could be replayed.
"""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from odoo import api, fields, models

STATE_TTL = timedelta(minutes=10)


def safe_return_path(url):
    """``url`` if it is a path of this Odoo (same origin), else False. Judged after percent-decoding, twice, the way
    a browser would read it: no scheme or host, one leading slash (``//host`` is another site), no backslash, no
    blank or control character (a browser drops a tab or line break: ``/%09/evil.example.com`` is
    ``//evil.example.com`` to it)."""
    if not isinstance(url, str) or not url.startswith("/") or len(url) > 2000:
        return False
    once = unquote(url)
    for text in (url, once, unquote(once)):
        if text.startswith("//") or "\\" in text or any(ord(c) <= 32 or ord(c) == 127 for c in text):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
            return False
    return url


def _digest(value):
    return hashlib.sha256((value or "").encode()).hexdigest()


class ApicenterOAuthState(models.Model):
    _name = "apicenter.oauth.state"
    _description = "APIcenter AccountView Authorization Request"
    _order = "id desc"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    state_hash = fields.Char(required=True, index=True)
    session_hash = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)
    return_url = fields.Char(help="Where the callback sends the browser back to (a path of this Odoo).")

    @api.model
    def _issue(self, backend, session_id, return_url=None):
        """A new state for ``backend`` bound to the current user and ``session_id``; returns the clear value."""
        value = secrets.token_urlsafe(32)
        self.sudo().create(
            {
                "backend_id": backend.id,
                "user_id": self.env.uid,
                "state_hash": _digest(value),
                "session_hash": _digest(session_id),
                "expires_at": fields.Datetime.now() + STATE_TTL,
                "return_url": safe_return_path(return_url),
            }
        )
        return value

    @api.model
    def _consume(self, value, session_id):
        """The request of ``value`` if it is valid for this user and session, else an error message.

        The state is deleted whatever the outcome: it is single-use."""
        if not value:
            return None, self.env._("The answer of AccountView has no state parameter.")
        record = self.sudo().search([("state_hash", "=", _digest(value))], limit=1)
        if not record:
            return None, self.env._("Unknown or already used authorization request: click Connect again.")
        expired = record.expires_at < fields.Datetime.now()
        other = record.user_id.id != self.env.uid or record.session_hash != _digest(session_id)
        request = {"backend_id": record.backend_id.id, "return_url": record.return_url}
        record.unlink()
        if expired:
            return None, self.env._("The authorization request has expired: click Connect again.")
        if other:
            return None, self.env._("The authorization request was started by another session: click Connect again.")
        return request, None

    @api.autovacuum
    def _gc_expired(self):
        self.sudo().search([("expires_at", "<", fields.Datetime.now())]).unlink()
