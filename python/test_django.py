"""Tests of presence.django with a real Django: python3 -m unittest
test_django (from this folder, with an interpreter that has Django; the
module skips without one). presence's API is a fake here; interop_test.go
runs a real Django site against the real presence."""

import json
import logging
import time
import unittest

try:
    import django
except ImportError:
    raise unittest.SkipTest("Django is not installed for this interpreter")

from fakes import API_KEY, OLD, SECRET, SID_SECRET, FakePresence, decode, sign  # noqa: E402

FAKE = FakePresence()
# The sender's reports of a presence that hangs (one test makes it hang)
# are not this module's subject.
logging.getLogger("presence").addHandler(logging.NullHandler())
logging.getLogger("presence").propagate = False

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY=SID_SECRET.decode(),
    ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                    "presence.django"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "presence.django.PresenceMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    SILENCED_SYSTEM_CHECKS=["presence.W002"],
    ROOT_URLCONF=__name__,
    LOGIN_URL="/login/",
    SESSION_COOKIE_AGE=1209600,
    PRESENCE_SECRET=SECRET.decode(),
    PRESENCE_URL="https://p.example.com",
    PRESENCE_API_URL=FAKE.url,
    PRESENCE_API_KEY=API_KEY,
    PRESENCE_WARN_AFTER=20,
    PRESENCE_EXPIRE_AFTER=30,
    PRESENCE_PASSIVE_URLS=["/poll/", "/live/*"],
    PRESENCE_PASSIVE_URL_NAMES=["dashboard"],
)
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.contrib.auth.views import LoginView, LogoutView  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core import checks  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

import presence  # noqa: E402
from presence.django import conf, presence_context, webhook_view  # noqa: E402


@login_required
def page(request):
    return HttpResponse("page of %s" % request.user.username)


def data(request):
    return JsonResponse({"user": request.user.username})


urlpatterns = [
    path("login/", LoginView.as_view(template_name="unused.html"), name="login"),
    path("logout/", LogoutView.as_view(next_page="/login/"), name="logout"),
    path("page/", page),
    path("data/", data),
    path("poll/", page),
    path("live/feed/", page),
    path("dashboard/", page, name="dashboard"),
    path("hooks/presence/", webhook_view),
]


def setUpModule():
    call_command("migrate", run_syncdb=True, verbosity=0)
    get_user_model().objects.create_user("alice", password="pw-alice-123")


def tearDownModule():
    s = conf.sender()
    if s is not None:
        s.close(0.5)
    FAKE.close()


def sid_of(client):
    return presence.session_id(SID_SECRET, client.cookies["sessionid"].value)


class DjangoTest(unittest.TestCase):
    def setUp(self):
        cache.clear()
        conf.sender().flush()
        FAKE.answer = FAKE.all_active
        with FAKE.lock:
            FAKE.requests.clear()

    def sent(self):
        """Every activity entry presence received since setUp, after a
        flush."""
        conf.sender().flush()
        return [e for b in FAKE.batches() for e in b]

    def login(self):
        client = Client()
        resp = client.post("/login/", {"username": "alice", "password": "pw-alice-123"})
        self.assertEqual(resp.status_code, 302, resp.content[:200])
        return client

    def test_a_login_registers_the_session(self):
        client = self.login()
        sid = sid_of(client)
        pk = str(get_user_model().objects.get(username="alice").pk)
        self.assertEqual(self.sent(), [{"sid": sid, "idle_s": 0, "uid": pk, "warn_after": 20, "expire_after": 30}])
        self.assertEqual(cache.get("presence:sid:" + sid), client.cookies["sessionid"].value,
                         "the webhook can delete the session with no page rendered")

    def test_every_request_of_a_session_counts_unless_passive(self):
        client = self.login()
        self.sent()
        with FAKE.lock:
            FAKE.requests.clear()
        for p in ("/poll/", "/live/feed/", "/dashboard/"):
            self.assertEqual(client.get(p).status_code, 200)
        self.assertEqual(self.sent(), [], "passive paths and view names are not activity")
        for p in ("/page/", "/data/", "/nowhere/"):
            client.get(p)
        self.assertEqual([e["sid"] for e in self.sent()], [sid_of(client)], "one entry per session per batch")
        with FAKE.lock:
            FAKE.requests.clear()
        Client().get("/data/")
        self.assertEqual(self.sent(), [], "anonymous requests are nobody's activity")

    def test_requests_never_wait_on_presence(self):
        client = self.login()
        s = conf.sender()
        import socket

        blackhole = socket.socket()
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(64)
        self.addCleanup(blackhole.close)
        real = s.client
        s.client = presence.Client("http://127.0.0.1:%d" % blackhole.getsockname()[1], API_KEY, timeout=2)
        self.addCleanup(setattr, s, "client", real)
        slowest = 0.0
        for _ in range(30):
            start = time.monotonic()
            self.assertEqual(client.get("/page/").status_code, 200)
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.05)  # lets the sender try, and hang, meanwhile
        self.assertLess(slowest, 1.0, "a request waited on presence (the sender waits 2 s)")
        self.assertEqual(len(s.queue), 1, "the activity waits for presence")

    def test_an_ended_session_is_logged_out(self):
        client = self.login()
        cache.set("presence:ended:" + sid_of(client), "idle")
        resp = client.get("/page/")
        self.assertEqual((resp.status_code, resp["Location"]), (302, "/login/?next=/page/"))
        self.assertEqual(client.get("/page/").status_code, 302, "the session is gone")
        client = self.login()
        cache.set("presence:ended:" + sid_of(client), "idle")
        resp = client.get("/data/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        self.assertEqual(resp.status_code, 401)
        self.assertEqual(json.loads(resp.content)["error"]["code"], "session_ended")
        self.assertEqual(json.loads(client.get("/data/").content), {"user": ""}, "logged out")
        self.assertFalse(any(p.endswith("/logout") for m, p, h, b in FAKE.requests),
                         "a session presence ended is not ended again")

    def test_an_expired_answer_ends_the_session_without_the_webhook(self):
        client = self.login()
        FAKE.answer = lambda m, p, b: (200, {"sessions": [{"sid": e["sid"], "status": "expired", "expire_in_s": 0}
                                                          for e in b["sessions"]]}, None)
        self.sent()
        self.assertEqual(client.get("/page/").status_code, 302)

    def test_django_logout_ends_the_session_in_every_tab(self):
        client = self.login()
        sid = sid_of(client)
        client.post("/logout/")
        self.sent()
        self.assertIn(("POST", "/api/v1/sessions/%s/logout" % sid, {"reason": "logout"}),
                      [(m, p, b) for m, p, h, b in FAKE.requests])

    def test_webhook_view(self):
        client = self.login()
        key = client.cookies["sessionid"].value
        sid = sid_of(client)
        body = json.dumps({"sid": sid, "uid": "1", "reason": "idle", "at": "2027-01-15T08:00:00.000Z"}).encode()
        with override_settings(PRESENCE_OLD_SECRETS=OLD.decode() + ", "):
            resp = Client().post("/hooks/presence/", body, content_type="application/json",
                                 HTTP_PRESENCE_SIGNATURE=sign(body, int(time.time()), OLD))
            self.assertEqual(resp.status_code, 204, resp.content)
            self.assertFalse(Session.objects.filter(session_key=key).exists(), "the login session is deleted")
            self.assertEqual(cache.get("presence:ended:" + sid), "idle")
            expires = cache._expire_info[cache.make_key("presence:ended:" + sid)]
            self.assertAlmostEqual(expires - time.time(), 1209600, delta=5)
            resp = Client().post("/hooks/presence/", body, content_type="application/json",
                                 HTTP_PRESENCE_SIGNATURE="t=1,v1=00")
            self.assertEqual(resp.status_code, 401)
            self.assertIn("outside the tolerance", json.loads(resp.content)["error"]["message"])
        self.assertEqual(client.get("/page/").status_code, 302)

    def request(self, path="/", user=None, session_key="key-1"):
        req = RequestFactory().get(path)
        req.user = user or get_user_model().objects.get(username="alice")
        req.session = type("S", (), {"session_key": session_key})()
        from django.urls import resolve

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
        from django.contrib.auth.models import AnonymousUser

        self.assertEqual(presence_context(self.request(user=AnonymousUser()))["presence_token"], "")

    def test_old_names(self):
        self.assertIs(presence.PresenceMiddleware, presence.django.PresenceMiddleware)
        self.assertIs(presence.webhook_view, webhook_view)
        self.assertIs(presence.presence_context, presence_context)
        self.assertTrue(webhook_view.csrf_exempt)

    def test_missing_secret(self):
        with override_settings(PRESENCE_SECRET=""):
            with self.assertRaisesRegex(ImproperlyConfigured, "PRESENCE_SECRET"):
                presence_context(self.request())

    def test_checks(self):
        def ids(**overrides):
            with override_settings(**overrides):
                return sorted(m.id for m in checks.run_checks(tags=["presence"]) if not m.is_silenced())

        self.assertEqual(ids(), [])
        self.assertEqual(ids(PRESENCE_SECRET="short"), ["presence.E001"])
        self.assertEqual(ids(PRESENCE_API_KEY=""), ["presence.W001"])
        self.assertEqual(ids(PRESENCE_API_URL="127.0.0.1:8765"), ["presence.E002"])
        self.assertEqual(ids(PRESENCE_WARN_AFTER=30), ["presence.E003"])
        self.assertEqual(ids(MIDDLEWARE=["presence.django.PresenceMiddleware",
                                         "django.contrib.auth.middleware.AuthenticationMiddleware"]), ["presence.E004"])
        self.assertEqual(ids(SILENCED_SYSTEM_CHECKS=[]), ["presence.W002"])


if __name__ == "__main__":
    unittest.main()
