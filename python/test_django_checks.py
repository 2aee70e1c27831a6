"""Tests of presence.django's system checks in a real Django (djangoenv):
each message docs/django.md lists, for the setting it names."""

import socket
import unittest

from djangoenv import FAKE, DjangoCase, setUpModule  # noqa: F401 (setUpModule runs)

from django.core import checks
from django.test import override_settings

AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
OURS = "presence.django.PresenceMiddleware"


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


class ChecksTest(DjangoCase):
    def messages(self, **overrides):
        with override_settings(**overrides):
            return {m.id: m for m in checks.run_checks(tags=["presence"]) if not m.is_silenced()}

    def only(self, want_id, **overrides):
        """Asserts that the overrides give exactly want_id, and returns it."""
        got = self.messages(**overrides)
        self.assertEqual(sorted(got), [want_id], {k: v.msg for k, v in got.items()})
        return got[want_id]

    def test_a_complete_setup_passes(self):
        self.assertEqual(self.messages(), {})
        self.assertIn("GET", [m for m, p, h, b in FAKE.requests if p == "/api/v1/sessions/presence-check"],
                      "presence was asked")

    def test_secret(self):
        m = self.only("presence.E001", PRESENCE_SECRET="short")
        self.assertIsInstance(m, checks.Error)
        self.assertEqual(m.msg, "PRESENCE_SECRET is 5 bytes; presence's secret is at least 32.")
        self.assertEqual(self.only("presence.E001", PRESENCE_SECRET=None).msg, "PRESENCE_SECRET is not set.")

    def test_api_settings(self):
        self.assertIsInstance(self.only("presence.W001", PRESENCE_API_KEY=""), checks.Warning)
        m = self.only("presence.E002", PRESENCE_API_URL="127.0.0.1:8765")
        self.assertEqual(m.msg, "PRESENCE_API_URL '127.0.0.1:8765' is not an absolute http or https URL.")
        self.only("presence.E002", PRESENCE_API_KEY="key\nwith a line break")

    def test_limits(self):
        m = self.only("presence.E003", PRESENCE_WARN_AFTER=30)
        self.assertEqual(m.msg, "PRESENCE_WARN_AFTER is 30 s, not less than expire_after (30 s); it must be less.")

    def test_max_lifetime(self):
        self.assertEqual(self.messages(PRESENCE_MAX_LIFETIME=43200), {})
        self.assertEqual(self.messages(PRESENCE_MAX_LIFETIME=0), {}, "0 is none")
        for bad in (-1, 1.5, "12h"):
            m = self.only("presence.E010", PRESENCE_MAX_LIFETIME=bad)
            self.assertIsInstance(m, checks.Error)
            self.assertIn("or None or 0 for no absolute end", m.msg)
        m = self.only("presence.W007", PRESENCE_MAX_LIFETIME=5)  # the site's limits are 20 s and 30 s
        self.assertEqual(m.msg, "PRESENCE_MAX_LIFETIME is 5 s, not more than expire_after - warn_after (10 s): "
                                "the warning of the end shows as soon as a person logs in.")

    def test_url(self):
        self.assertEqual(self.only("presence.E006", PRESENCE_URL="").msg, "PRESENCE_URL is not set.")

    def test_middleware(self):
        m = self.only("presence.E004", MIDDLEWARE=[SESSIONS, AUTH])
        self.assertEqual(m.msg, "'presence.django.PresenceMiddleware' must be in MIDDLEWARE.")
        m = self.only("presence.E005", MIDDLEWARE=[SESSIONS, OURS, AUTH])
        self.assertEqual(m.msg, "'presence.django.PresenceMiddleware' must come after "
                                "'django.contrib.auth.middleware.AuthenticationMiddleware' in MIDDLEWARE.")

    def test_cache(self):
        self.assertIsInstance(self.only("presence.W002", SILENCED_SYSTEM_CHECKS=[]), checks.Warning)
        self.assertEqual(self.messages(SILENCED_SYSTEM_CHECKS=[], DEBUG=True), {}, "runserver's one process")

    def test_logout(self):
        self.assertEqual(self.messages(PRESENCE_REDIRECT_TO_LOGOUT=True), {}, "the URL named logout")
        m = self.only("presence.E007", PRESENCE_REDIRECT_TO_LOGOUT=True, ROOT_URLCONF="presence.django.urls")
        self.assertEqual(m.msg, "PRESENCE_REDIRECT_TO_LOGOUT is True, but no URL is named 'logout'.")
        m = self.only("presence.E007", PRESENCE_LOGOUT_URL="signout")
        self.assertEqual(m.msg, "PRESENCE_LOGOUT_URL 'signout' is neither a URL nor the name of one.")
        self.assertEqual(self.messages(PRESENCE_LOGOUT_URL="/signout/"), {}, "a URL is taken as it is")
        self.only("presence.E008", PRESENCE_LOGOUT_METHOD="put")

    def test_templates_without_the_request(self):
        m = self.only("presence.W005", TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                                                   "OPTIONS": {"context_processors": []}}])
        self.assertIn("{% presence_script %}", m.msg)

    def test_webhook_not_routed(self):
        m = self.only("presence.W006", ROOT_URLCONF="django.contrib.auth.urls")
        self.assertIn('include("presence.django.urls")', m.hint)

    def test_presence_unreachable(self):
        url = closed_port_url()
        m = self.only("presence.W003", PRESENCE_API_URL=url)
        self.assertIsInstance(m, checks.Warning, "a site may start before presence")
        self.assertTrue(m.msg.startswith("presence is not reachable at PRESENCE_API_URL (%s): " % url), m.msg)

    def test_key_refused_or_no_api(self):
        FAKE.answer = lambda m, p, b: (401, {"error": {"code": "unauthorized", "message": "wrong key"}}, None)
        m = self.only("presence.W004")
        self.assertEqual(m.msg, "presence at PRESENCE_API_URL (%s) refused PRESENCE_API_KEY." % FAKE.url)
        FAKE.answer = lambda m, p, b: (404, {"error": {"code": "not_found", "message": "no such endpoint"}}, None)
        m = self.only("presence.W004")
        self.assertEqual(m.msg, "presence at PRESENCE_API_URL (%s) has no server API." % FAKE.url)


if __name__ == "__main__":
    unittest.main()
