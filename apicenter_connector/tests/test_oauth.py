# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The AccountView OAuth round trip through the browser, against the in-process AccountView sandbox.

The sandbox's authorize page consents at once and redirects to our callback: the test follows that redirect by
hand, with the session of the user who clicked Connect."""

from urllib.parse import parse_qs, urlsplit

import httpx
from apicenter_sandbox.runner import start_sandboxes

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..models.apicenter_backend import CALLBACK_PATH


@tagged("post_install", "-at_install")
class TestOAuthController(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = start_sandboxes(size=5, seed=1)
        cls.addClassCleanup(cls.sb.stop)
        cls.backend = cls.env["apicenter.backend"].create(
            {
                "name": "OAuth",
                "av_base_url": cls.sb.accountview_url,
                "av_client_id": cls.sb.av_client_id,
                "av_client_secret": cls.sb.av_client_secret,
                "mplus_url": cls.sb.mplus_url,
            }
        )

    def _tokens(self):
        return self.env["apicenter.backend.token"].sudo().search([("backend_id", "=", self.backend.id)])

    def _start(self):
        """Click Connect: our controller redirects to AccountView's authorize page with a state."""
        action = self.backend.action_connect_accountview()
        self.assertEqual(action["type"], "ir.actions.act_url")
        reply = self.url_open(action["url"], allow_redirects=False)
        self.assertIn(reply.status_code, (302, 303), reply.text[:500])
        location = reply.headers["Location"]
        self.assertTrue(location.startswith(self.sb.accountview_url + "/ams/authorize.aspx"), location)
        query = parse_qs(urlsplit(location).query)
        self.assertEqual(query["client_id"], [self.sb.av_client_id])
        self.assertEqual(query["redirect_uri"], [self.base_url() + CALLBACK_PATH])
        self.assertTrue(query["state"][0])
        return location, query["state"][0]

    def _consent(self, location):
        """What the browser does at AccountView: the sandbox consents and redirects to the callback."""
        reply = httpx.get(location, follow_redirects=False, timeout=30)
        self.assertEqual(reply.status_code, 302, reply.text)
        callback = reply.headers["location"]
        self.assertTrue(callback.startswith(self.base_url() + CALLBACK_PATH), callback)
        return callback

    def test_connect_round_trip(self):
        self.authenticate("admin", "admin")
        location, state = self._start()
        callback = self._consent(location)
        self.assertEqual(parse_qs(urlsplit(callback).query)["state"], [state])
        reply = self.url_open(callback, allow_redirects=False)
        self.assertIn(reply.status_code, (302, 303), reply.text[:500])
        self.assertIn(f"apicenter_connector.apicenter_backend_action/{self.backend.id}", reply.headers["Location"])
        self.backend.invalidate_recordset()
        self.assertTrue(self._tokens().access_token)
        self.assertTrue(self.backend.av_connected)
        self.assertTrue(self.backend.av_company_id)
        self.assertTrue(self.backend.av_company_ids)
        self.assertFalse(self.backend.av_connect_failed)
        self.assertIn("connected", self.backend.av_connect_message)
        # The state is single-use: replaying the callback is refused.
        replay = self.url_open(callback, allow_redirects=False)
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)

    def test_wrong_state_is_refused(self):
        self.authenticate("admin", "admin")
        location, _state = self._start()
        callback = self._consent(location)
        forged = callback.replace("state=", "state=forged")
        reply = self.url_open(forged, allow_redirects=False)
        self.assertEqual(reply.status_code, 400)
        self.assertIn("No token was stored", reply.text)
        self.assertFalse(self._tokens())
        missing = self.url_open(f"{CALLBACK_PATH}?code=abc", allow_redirects=False)
        self.assertEqual(missing.status_code, 400)
        self.assertFalse(self._tokens())

    def test_expired_state_is_refused(self):
        self.authenticate("admin", "admin")
        location, _state = self._start()
        self.env["apicenter.oauth.state"].sudo().search(
            [("backend_id", "=", self.backend.id)]
        ).expires_at = fields.Datetime.subtract(fields.Datetime.now(), minutes=1)
        reply = self.url_open(self._consent(location), allow_redirects=False)
        self.assertEqual(reply.status_code, 400)
        self.assertIn("expired", reply.text)
        self.assertFalse(self._tokens())

    def test_state_of_another_session_is_refused(self):
        self.authenticate("admin", "admin")
        location, _state = self._start()
        callback = self._consent(location)
        self.authenticate("admin", "admin")  # a new session of the same user
        reply = self.url_open(callback, allow_redirects=False)
        self.assertEqual(reply.status_code, 400)
        self.assertIn("another session", reply.text)
        self.assertFalse(self._tokens())

    def test_refused_authorization_is_shown_on_the_backend(self):
        self.authenticate("admin", "admin")
        location, state = self._start()
        reply = self.url_open(
            f"{CALLBACK_PATH}?error=access_denied&error_description=user+declined&state={state}",
            allow_redirects=False,
        )
        self.assertIn(reply.status_code, (302, 303))
        self.backend.invalidate_recordset()
        self.assertTrue(self.backend.av_connect_failed)
        self.assertIn("access_denied", self.backend.av_connect_message)
        self.assertFalse(self._tokens())
        self.assertTrue(location)

    def test_return_url_off_this_odoo_is_not_followed(self):
        # Before: "/%09/evil.example.com" passed the startswith("/") check and came back as Location: //evil…
        self.authenticate("admin", "admin")
        for url in ("/%09/evil.example.com", "//evil.example.com", "/%2F%2Fevil.example.com"):
            with self.subTest(return_url=url):
                reply = self.url_open(f"/apicenter/oauth/authorize/{self.backend.id}?return_url={url}",
                                      allow_redirects=False)  # fmt: skip
                self.assertIn(reply.status_code, (302, 303), reply.text[:500])
                callback = self._consent(reply.headers["Location"])
                back = self.url_open(callback, allow_redirects=False)
                location = back.headers["Location"]
                self.assertNotIn("evil.example.com", location)
                self.assertIn(f"apicenter_connector.apicenter_backend_action/{self.backend.id}", location)
        reply = self.url_open(f"/apicenter/oauth/authorize/{self.backend.id}?return_url=/odoo/apicenter",
                              allow_redirects=False)  # fmt: skip
        back = self.url_open(self._consent(reply.headers["Location"]), allow_redirects=False)
        self.assertTrue(back.headers["Location"].endswith("/odoo/apicenter"), back.headers["Location"])
