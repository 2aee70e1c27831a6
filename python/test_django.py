"""Tests of presence.django's middleware, login and logout receivers and
webhook view in a real Django (djangoenv), with presence's API faked:
python3 -m unittest test_django, from this folder, with an interpreter
that has Django (the module skips without one)."""

import json
import socket
import threading
import time
import unittest

from djangoenv import FAKE, DjangoCase, setUpModule, sid_of  # noqa: F401 (setUpModule runs)
from fakes import API_KEY, OLD, sign

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client, override_settings

import presence
from presence.django import conf, presence_context, webhook_view


class DjangoTest(DjangoCase):
    def test_a_login_registers_the_session(self):
        start = time.monotonic()
        client = self.login()
        sid = sid_of(client)
        pk = str(get_user_model().objects.get(username="alice").pk)
        sent = self.sent()
        # Counted from the login: 0 unless the machine is busy.
        self.assertLessEqual(sent[0].pop("idle_s"), time.monotonic() - start)
        self.assertEqual(sent, [{"sid": sid, "uid": pk, "warn_after": 20, "expire_after": 30}])
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
        self.sent()
        # The sender's thread may send between two requests when the
        # machine is busy: one batch, or more, each with one entry.
        self.assertTrue(FAKE.batches())
        for batch in FAKE.batches():
            self.assertEqual([e["sid"] for e in batch], [sid_of(client)], "one entry per session per batch")
        with FAKE.lock:
            FAKE.requests.clear()
        Client().get("/data/")
        self.assertEqual(self.sent(), [], "anonymous requests are nobody's activity")

    def test_a_login_past_its_absolute_end_is_refused_here(self):
        with override_settings(PRESENCE_MAX_LIFETIME=3600):
            client = self.login()
            sid = sid_of(client)
            client.get("/page/")
            self.assertTrue(all("end_at" in e for e in self.sent()), "every report carries the end")
            session = client.session
            session["_presence_end_at"] = int(time.time()) - 1  # the hour has passed
            session.save()
            resp = client.get("/page/")
            self.assertEqual(resp.status_code, 302, "logged out, though presence said nothing")
            self.assertEqual(cache.get("presence:ended:" + sid), "lifetime")

    def test_requests_never_wait_on_presence(self):
        """While presence hangs, the sender's tries wait their timeout, 2 s,
        and requests go on: no call to presence comes from a request, the
        typical request is as fast as ever (a busy machine may slow any
        one of them, which says nothing of presence), and the activity
        reaches presence once it answers again."""
        client = self.login()
        s = conf.sender()
        blackhole = socket.socket()
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(64)
        self.addCleanup(blackhole.close)
        callers = []

        class Watched(presence.Client):
            def _call(self, method, path, body):
                callers.append(threading.current_thread())
                return super()._call(method, path, body)

        real = s.client
        s.client = Watched("http://127.0.0.1:%d" % blackhole.getsockname()[1], API_KEY, timeout=2)
        self.addCleanup(setattr, s, "client", real)
        took = []
        deadline = time.monotonic() + 15
        while len(took) < 30 or not callers:
            if time.monotonic() > deadline:
                self.fail("the sender did not try presence within 15 s")
            start = time.monotonic()
            self.assertEqual(client.get("/page/").status_code, 200)
            took.append(time.monotonic() - start)
            time.sleep(0.05)  # lets the sender try, and hang, meanwhile
        self.assertEqual(set(callers), {s._thread}, "only the sender's thread calls presence")
        took.sort()
        self.assertLess(took[len(took) // 2], 1.0, "the typical request waited on presence (the sender waits 2 s)")

        with FAKE.lock:
            FAKE.requests.clear()
        s.client = real  # presence answers again
        sid = sid_of(client)
        deadline = time.monotonic() + 15
        while not any(e["sid"] == sid for b in FAKE.batches() for e in b):
            if time.monotonic() > deadline:
                self.fail("the activity that waited did not reach presence once it answered")
            time.sleep(0.02)

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
            resp = Client().post("/presence/webhook/", body, content_type="application/json",
                                 HTTP_PRESENCE_SIGNATURE=sign(body, int(time.time()), OLD))
            self.assertEqual(resp.status_code, 204, resp.content)
            self.assertFalse(Session.objects.filter(session_key=key).exists(), "the login session is deleted")
            self.assertEqual(cache.get("presence:ended:" + sid), "idle")
            expires = cache._expire_info[cache.make_key("presence:ended:" + sid)]
            self.assertAlmostEqual(expires - time.time(), 1209600, delta=5)
            resp = Client().post("/presence/webhook/", body, content_type="application/json",
                                 HTTP_PRESENCE_SIGNATURE="t=1,v1=00")
            self.assertEqual(resp.status_code, 401)
            self.assertIn("outside the tolerance", json.loads(resp.content)["error"]["message"])
        # The session is gone, but its cookie names the ended session: a
        # script gets 401, as it would before the webhook; the response
        # drops the cookie, as Django does for an empty session.
        resp = client.get("/data/", HTTP_ACCEPT="application/json")
        self.assertEqual(resp.status_code, 401)
        self.assertEqual(json.loads(resp.content)["error"]["code"], "session_ended")
        self.assertEqual(client.get("/page/").status_code, 302)
        self.assertEqual(Client().get("/data/", HTTP_ACCEPT="application/json").status_code, 200,
                         "a request with no cookie is the view's to answer")

    def test_old_names(self):
        self.assertIs(presence.PresenceMiddleware, presence.django.PresenceMiddleware)
        self.assertIs(presence.webhook_view, webhook_view)
        self.assertIs(presence.presence_context, presence_context)
        self.assertTrue(webhook_view.csrf_exempt)


if __name__ == "__main__":
    unittest.main()
