"""Tests of what presence.django puts in pages: the template tag
{% presence_script %} and the context processor, in a real Django
(djangoenv)."""

import time
import unittest

from djangoenv import DjangoCase, setUpModule  # noqa: F401 (setUpModule runs)
from fakes import OLD, SID_SECRET, decode, scripts

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve

import presence
from presence.django import presence_context


class TagTest(DjangoCase):
    def script(self, client, path="/base/"):
        resp = client.get(path)
        self.assertEqual(resp.status_code, 200)
        found = scripts(resp.content)
        self.assertEqual(len(found), 1, resp.content)
        return found[0]

    def test_max_lifetime_gives_each_login_an_end(self):
        with override_settings(PRESENCE_MAX_LIFETIME=3600):
            before = int(time.time())
            client = self.login()
            end = self.sent()[0]["end_at"]
            self.assertTrue(before + 3600 <= end <= int(time.time()) + 3600, "counted from the login")
            for _ in range(2):  # every page of the login carries the same end
                _, claims = decode(self.script(client)["data-token"])
                self.assertEqual(claims["end_at"], end)
        # A login from before the setting gets its end at its next page,
        # and keeps it.
        client = self.login()
        _, claims = decode(self.script(client)["data-token"])
        self.assertNotIn("end_at", claims)
        with override_settings(PRESENCE_MAX_LIFETIME=60):
            _, first = decode(self.script(client)["data-token"])
            time.sleep(1.1)
            _, again = decode(self.script(client)["data-token"])
        self.assertEqual(first["end_at"], again["end_at"])

    def test_anonymous_page_has_no_script(self):
        self.assertEqual(scripts(Client().get("/base/").content), [])

    def test_default_tag(self):
        client = self.login()
        s = self.script(client)
        self.assertEqual(s.pop("src"), "https://p.example.com/presence.js")
        self.assertEqual(s.pop("data-url"), "https://p.example.com")
        _, claims = decode(s.pop("data-token"))
        pk = str(get_user_model().objects.get(username="alice").pk)
        self.assertEqual(claims, {"sid": presence.session_id(SID_SECRET, client.cookies["sessionid"].value),
                                  "uid": pk, "warn_after": 20, "expire_after": 30})
        # Without PRESENCE_REDIRECT_TO_LOGOUT the tab reloads, and the
        # middleware logs the ended session out, as django-session-security.
        self.assertEqual(s, {"defer": None, "data-confirm-unload": None})

    def test_passive_pages(self):
        client = self.login()
        self.assertIn("data-passive", self.script(client, "/poll/"), "PRESENCE_PASSIVE_URLS")
        self.assertIn("data-passive", self.script(client, "/dashboard/"), "PRESENCE_PASSIVE_URL_NAMES")

    def test_redirect_to_logout(self):
        client = self.login()
        with override_settings(PRESENCE_REDIRECT_TO_LOGOUT=True, PRESENCE_LOGOUT_METHOD="get"):
            s = self.script(client)
        self.assertEqual(s["data-logout-url"], "/logout/", "the URL named logout")
        self.assertEqual(decode(s["data-token"])[1]["logout_url"], "/logout/")
        self.assertNotIn("data-logout-method", s)
        self.assertNotIn("data-csrf-token", s)
        with override_settings(PRESENCE_LOGOUT_URL="/elsewhere/?next=%2F", PRESENCE_LOGOUT_METHOD="get"):
            self.assertEqual(self.script(client)["data-logout-url"], "/elsewhere/?next=%2F")

    def test_post_logout_carries_a_working_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.get("/login/")  # the login form's CSRF cookie
        csrf = client.cookies["csrftoken"].value
        resp = client.post("/login/", {"username": "alice", "password": "pw-alice-123", "csrfmiddlewaretoken": csrf})
        self.assertEqual(resp.status_code, 302)
        with override_settings(PRESENCE_REDIRECT_TO_LOGOUT=True, PRESENCE_LOGOUT_METHOD="post"):
            s = self.script(client)
        self.assertEqual((s["data-logout-url"], s["data-logout-method"]), ("/logout/", "post"))
        # What the tab submits once the session ended, as presence.js does.
        resp = client.post(s["data-logout-url"], {"csrfmiddlewaretoken": s["data-csrf-token"]})
        self.assertEqual((resp.status_code, resp["Location"]), (302, "/login/"), resp.content[:300])
        self.assertNotIn("_auth_user_id", client.session, "logged out")

    def test_attributes_from_settings_and_the_tag(self):
        client = self.login()
        with override_settings(PRESENCE_SCRIPT_ATTRS={"text-title": 'Still "there"? <b>', "require_button": True,
                                                      "confirm-unload": False}):
            s = self.script(client)
        self.assertEqual(s["data-text-title"], 'Still "there"? <b>', "escaped in the page, intact in the DOM")
        self.assertIn("data-require-button", s)
        self.assertNotIn("data-confirm-unload", s)
        with override_settings(PRESENCE_CONFIRM_UNLOAD=False):
            self.assertNotIn("data-confirm-unload", self.script(client))
        request = RequestFactory().get("/base/")
        request.user = get_user_model().objects.get(username="alice")
        request.session = client.session
        out = Template('{% load presence %}{% presence_script text_body=body passive=True %}').render(
            Context({"request": request, "body": "Bye & <soon>"}))
        s = scripts(out)[0]
        self.assertEqual((s["data-text-body"], s["data-passive"]), ("Bye & <soon>", None))
        self.assertIn("Bye &amp; &lt;soon&gt;", out)

    def test_no_request_in_the_context(self):
        with self.assertLogs("presence", "WARNING") as logs:
            self.assertEqual(Template("{% load presence %}{% presence_script %}").render(Context({})), "")
        self.assertIn("context_processors.request", logs.output[0])


class ContextProcessorTest(DjangoCase):
    def request(self, path="/", user=None, session_key="key-1"):
        req = RequestFactory().get(path)
        req.user = user or get_user_model().objects.get(username="alice")
        req.session = type("S", (dict,), {"session_key": session_key})()
        req.resolver_match = resolve(path) if path != "/" else None
        return req

    def test_context_processor(self):
        with override_settings(PRESENCE_LOGOUT_URL="logout"):
            ctx = presence_context(self.request("/poll/"))
        self.assertEqual(ctx["presence_url"], "https://p.example.com")
        self.assertTrue(ctx["presence_passive"])
        _, claims = decode(ctx["presence_token"])
        self.assertEqual((claims["warn_after"], claims["expire_after"], claims["logout_url"]), (20, 30, "/logout/"))
        self.assertEqual(claims["sid"], presence.session_id(SID_SECRET, "key-1"), "derived with SECRET_KEY")
        self.assertEqual(cache.get("presence:sid:" + claims["sid"]), "key-1")
        self.assertTrue(presence_context(self.request("/dashboard/"))["presence_passive"])
        self.assertFalse(presence_context(self.request("/page/"))["presence_passive"])
        with override_settings(PRESENCE_SID_SECRET=OLD):
            _, claims = decode(presence_context(self.request())["presence_token"])
        self.assertEqual(claims["sid"], presence.session_id(OLD, "key-1"), "derived with PRESENCE_SID_SECRET")
        self.assertEqual(presence_context(self.request(user=AnonymousUser()))["presence_token"], "")

    def test_missing_secret(self):
        with override_settings(PRESENCE_SECRET=""):
            with self.assertRaisesRegex(ImproperlyConfigured, "PRESENCE_SECRET"):
                presence_context(self.request())


if __name__ == "__main__":
    unittest.main()
