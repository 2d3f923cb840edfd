# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""AccountView's OAuth2 authorization-code flow through the user's browser.

``/apicenter/oauth/authorize/<backend>`` (the backend's *Connect AccountView* button) issues a random ``state``
bound to the backend, the user and the session, and redirects to AccountView's authorize page. AccountView sends
the browser back to ``/apicenter/oauth/callback?code=…&state=…``: the state is checked (and consumed), the code is
exchanged for tokens through ``apicenter_sync`` and stored in the backend's token store, the company is chosen,
and the browser goes back to the backend form, which shows the result. A wrong or expired state stores nothing.
"""

import logging

from apicenter_sync.errors import SyncError
from apicenter_sync.redact import redact_text
from markupsafe import Markup, escape

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..models.apicenter_backend import CALLBACK_PATH
from ..models.apicenter_oauth_state import safe_return_path
from ..models.chatter_text import Said

_logger = logging.getLogger(__name__)


class ApicenterOAuthController(http.Controller):
    @http.route("/apicenter/oauth/authorize/<int:backend_id>", type="http", auth="user", methods=["GET"])
    def authorize(self, backend_id, return_url=None, **kwargs):
        backend = request.env["apicenter.backend"].browse(backend_id).exists()
        if not backend:
            return self._error_page(request.env._("This backend does not exist (any more)."), status=404)
        try:
            backend.check_access("write")
        except AccessError:
            return self._error_page(request.env._("Only APIcenter managers can connect AccountView."), status=403)
        try:
            url = backend._oauth_authorization_url(request.session.sid, return_url)
        except (SyncError, UserError) as exc:  # e.g. an AccountView URL off the allow-list
            return self._error_page(redact_text(str(exc)))
        return request.redirect(url, local=False)

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def callback(self, code=None, state=None, error=None, error_description=None, **kwargs):
        pending, problem = request.env["apicenter.oauth.state"]._consume(state, request.session.sid)
        if problem:
            _logger.warning("AccountView OAuth callback refused: %s", problem)
            return self._error_page(problem)
        backend = request.env["apicenter.backend"].browse(pending["backend_id"])
        if error:
            message = request.env._(
                "AccountView refused the authorization: %(error)s %(description)s",
                error=error,
                description=error_description or "",
            ).strip()
            backend._set_connect_result(redact_text(message), failed=True)
        else:
            try:
                backend._oauth_finish(code)
            except (SyncError, UserError) as exc:
                message = Said._("Connecting AccountView failed: %s", redact_text(str(exc)))
                backend._set_connect_result(message, failed=True)
        # Checked again here: a request stored before the check existed must not send the browser elsewhere.
        return request.redirect(
            safe_return_path(pending["return_url"])
            or f"/odoo/action-apicenter_connector.apicenter_backend_action/{backend.id}"
        )

    @staticmethod
    def _error_page(message, status=400):
        title = request.env._("AccountView connection")
        back = request.env._("Back to APIcenter")
        html = Markup(
            "<!DOCTYPE html><html><head><meta charset='utf-8'/><title>%s</title></head>"
            "<body style='font-family: sans-serif; margin: 3em;'>"
            "<h1>%s</h1><p class='apicenter_oauth_error' style='color: #a00;'>%s</p>"
            "<p>%s</p><p><a href='/odoo/action-apicenter_connector.apicenter_backend_action'>%s</a></p>"
            "</body></html>"
        ) % (
            title,
            title,
            escape(message),
            request.env._("No token was stored."),
            back,
        )
        return request.make_response(str(html), headers=[("Content-Type", "text/html; charset=utf-8")], status=status)
