"""Tests of presence.flask in a real Flask (its test client), with
presence's API faked: python3 -m unittest test_flask, from this folder,
with an interpreter that has Flask (the module skips without one)."""

import json
import logging
import socket
import time
import unittest

try:
    import flask
except ImportError:
    raise unittest.SkipTest("Flask is not installed for this interpreter")

from fakes import API_KEY, OLD, SECRET, FakeCache, FakePresence, decode, scripts, sign  # noqa: E402

from presence.flask import Presence  # noqa: E402
from presence.localcache import LocalCache  # noqa: E402

FAKE = FakePresence()
logging.getLogger("presence").addHandler(logging.NullHandler())
logging.getLogger("presence").propagate = False


def tearDownModule():
    FAKE.close()


def make_app(cache=None, **config):
    """A small application set up as docs/flask.md says, with config
    overriding its settings; returns (app, presence)."""
    app = flask.Flask(__name__)
    app.config.update(
        SECRET_KEY="flask-test-secret-key",
        PRESENCE_SECRET=SECRET.decode(),
        PRESENCE_URL="https://p.example.com",
        PRESENCE_API_URL=FAKE.url,
        PRESENCE_API_KEY=API_KEY,
        # The fake answers at once, but a busy machine can hold its thread
        # past the default 2 s; the sender would then send the batch again,
        # and the fake hear it twice.
        PRESENCE_API_TIMEOUT=10,
        PRESENCE_WARN_AFTER=20,
        PRESENCE_EXPIRE_AFTER=30,
        PRESENCE_PASSIVE_URLS=["/poll", "/live/*"],
        PRESENCE_PASSIVE_ENDPOINTS=["dashboard"],
    )
    app.config.update(config)
    presence = Presence(app, cache=cache)

    @app.post("/login")
    def login():
        flask.session["user"] = flask.request.form["user"]
        presence.login(flask.request.form["user"])
        return flask.redirect("/page")

    @app.post("/logout")
    def logout():
        presence.logout()
        flask.session.clear()
        return flask.redirect("/login")

    @app.get("/page")
    def page():
        if "user" not in flask.session:
            return flask.redirect("/login?next=/page")
        return flask.render_template_string("<p>{{ session.user }}</p>{{ presence_script() }}")

    @app.get("/data")
    def data():
        return flask.jsonify(user=flask.session.get("user", ""))

    @app.get("/poll")
    def poll():
        return flask.render_template_string("{{ presence_script() }}")

    @app.get("/dashboard")
    def dashboard():
        return flask.render_template_string("{{ presence_script() }}")

    @app.get("/live/feed")
    def feed():
        return "feed"

    return app, presence


class FlaskTest(unittest.TestCase):
    def setUp(self):
        FAKE.answer = FAKE.all_active
        self.app, self.presence = make_app()
        with FAKE.lock:
            FAKE.requests.clear()

    def sender(self):
        return self.app.extensions["presence"].sender(self.presence.cache)

    def sent(self):
        self.sender().flush()
        return [e for b in FAKE.batches() for e in b]

    def login(self, user="alice"):
        client = self.app.test_client()
        resp = client.post("/login", data={"user": user})
        self.assertEqual(resp.status_code, 302)
        with client.session_transaction() as s:
            self.sid = s["_presence_sid"]
        return client

    def test_a_login_registers_the_session(self):
        start = time.monotonic()
        self.login()
        self.assertRegex(self.sid, r"^p1-[0-9a-f]{32}$")
        sent = self.sent()
        # Counted from the login: 0 unless the machine is busy.
        self.assertLessEqual(sent[0].pop("idle_s"), time.monotonic() - start)
        self.assertEqual(sent, [{"sid": self.sid, "uid": "alice", "warn_after": 20, "expire_after": 30}])
        first = self.sid
        self.login()
        self.assertNotEqual(self.sid, first, "each login gets a fresh sid")

    def test_max_lifetime_gives_each_login_an_end(self):
        self.app, self.presence = make_app(PRESENCE_MAX_LIFETIME=3600)
        before = int(time.time())
        client = self.login()
        sent = self.sent()
        end = sent[0]["end_at"]
        self.assertTrue(before + 3600 <= end <= int(time.time()) + 3600, "counted from the login")
        for _ in range(2):  # every page of the login carries the same end
            _, claims = decode(scripts(client.get("/page").data)[0]["data-token"])
            self.assertEqual(claims["end_at"], end)
        with self.assertRaisesRegex(RuntimeError, "PRESENCE_MAX_LIFETIME is -1"):
            make_app(PRESENCE_MAX_LIFETIME=-1)

    def test_every_request_of_a_session_counts_unless_passive(self):
        client = self.login()
        self.sent()
        with FAKE.lock:
            FAKE.requests.clear()
        for p in ("/poll", "/live/feed", "/dashboard"):
            self.assertEqual(client.get(p).status_code, 200)
        self.assertEqual(self.sent(), [], "passive paths and endpoints are not activity")
        for p in ("/page", "/data", "/nowhere"):
            client.get(p)
        self.sent()
        # The sender's thread may send between two requests when the
        # machine is busy: one batch, or more, each with one entry.
        self.assertTrue(FAKE.batches())
        for batch in FAKE.batches():
            self.assertEqual([e["sid"] for e in batch], [self.sid], "one entry per session per batch")
        with FAKE.lock:
            FAKE.requests.clear()
        self.app.test_client().get("/data")
        self.assertEqual(self.sent(), [], "anonymous requests are nobody's activity")

    def test_script(self):
        self.assertEqual(self.app.test_client().get("/page").status_code, 302)
        client = self.login()
        s = scripts(client.get("/page").data)[0]
        self.assertEqual(s.pop("src"), "https://p.example.com/presence.js")
        self.assertEqual(s.pop("data-url"), "https://p.example.com")
        _, claims = decode(s.pop("data-token"))
        self.assertEqual(claims, {"sid": self.sid, "uid": "alice", "warn_after": 20, "expire_after": 30})
        self.assertEqual(s, {"defer": None, "data-confirm-unload": None})
        self.assertIn("data-passive", scripts(client.get("/poll").data)[0], "PRESENCE_PASSIVE_URLS")
        self.assertIn("data-passive", scripts(client.get("/dashboard").data)[0], "PRESENCE_PASSIVE_ENDPOINTS")

    def test_script_logout_and_attributes(self):
        self.app, self.presence = make_app(PRESENCE_REDIRECT_TO_LOGOUT=True, PRESENCE_LOGOUT_METHOD="post",
                                           PRESENCE_SCRIPT_ATTRS={"text-title": "Still there?"},
                                           PRESENCE_CONFIRM_UNLOAD=False)

        @self.app.get("/form")
        def form():
            return flask.render_template_string('{{ presence_script(csrf_token="tok<en>", require_button=True) }}')

        client = self.login()
        s = scripts(client.get("/form").data)[0]
        self.assertEqual((s["data-logout-url"], s["data-logout-method"], s["data-csrf-token"]),
                         ("/logout", "post", "tok<en>"), "the endpoint named logout")
        self.assertEqual(decode(s["data-token"])[1]["logout_url"], "/logout")
        self.assertEqual(s["data-text-title"], "Still there?")
        self.assertIn("data-require-button", s)
        self.assertNotIn("data-confirm-unload", s)

    def test_an_ended_session_is_refused(self):
        client = self.login()
        self.presence.cache.set("presence:ended:" + self.sid, "idle", 60)
        resp = client.get("/page")
        self.assertEqual((resp.status_code, resp.location.split("?")[0].rsplit("/", 1)[-1]), (302, "login"))
        with client.session_transaction() as s:
            self.assertEqual(dict(s), {}, "the session is cleared, as a logout leaves it")
        client = self.login()
        self.presence.cache.set("presence:ended:" + self.sid, "idle", 60)
        resp = client.get("/data", headers={"Accept": "application/json"})
        self.assertEqual(resp.status_code, 401)
        self.assertEqual(resp.get_json()["error"]["code"], "session_ended")
        self.assertEqual(client.get("/data").get_json(), {"user": ""})
        self.assertFalse(any(p.endswith("/logout") for m, p, h, b in FAKE.requests),
                         "a session presence ended is not ended again")

    def test_a_login_past_its_absolute_end_is_refused_here(self):
        self.app, self.presence = make_app(PRESENCE_MAX_LIFETIME=3600)
        client = self.login()
        client.get("/data")
        self.assertTrue(all("end_at" in e for e in self.sent()), "every report carries the end")
        with client.session_transaction() as s:
            s["_presence_end_at"] = int(time.time()) - 1  # the hour has passed
        resp = client.get("/data", headers={"Accept": "application/json"})
        self.assertEqual(resp.status_code, 401, "refused, though presence said nothing")
        self.assertEqual(self.presence.cache.get("presence:ended:" + self.sid), "lifetime")

    def test_an_expired_answer_ends_the_session_without_the_webhook(self):
        client = self.login()
        FAKE.answer = lambda m, p, b: (200, {"sessions": [{"sid": e["sid"], "status": "expired", "expire_in_s": 0}
                                                          for e in b["sessions"]]}, None)
        self.sent()
        self.assertEqual(client.get("/page").status_code, 302)

    def test_logout_ends_the_session_in_every_tab(self):
        client = self.login()
        client.post("/logout")
        self.sent()
        self.assertIn(("POST", "/api/v1/sessions/%s/logout" % self.sid, {"reason": "logout"}),
                      [(m, p, b) for m, p, h, b in FAKE.requests])

    def test_webhook(self):
        cache = FakeCache()
        self.app, self.presence = make_app(cache, PRESENCE_OLD_SECRETS=OLD.decode(), PERMANENT_SESSION_LIFETIME=90000)
        client = self.login()
        body = json.dumps({"sid": self.sid, "uid": "alice", "reason": "idle", "at": "2027-01-15T08:00:00.000Z"})
        hook = self.app.test_client()
        resp = hook.post("/presence/webhook/", data=body, content_type="application/json",
                         headers={"Presence-Signature": sign(body.encode(), int(time.time()), OLD)})
        self.assertEqual(resp.status_code, 204, resp.data)
        self.assertEqual(cache.data["presence:ended:" + self.sid], "idle", "in the cache given")
        self.assertEqual(cache.timeouts["presence:ended:" + self.sid], 90000, "as long as a session cookie lives")
        resp = hook.post("/presence/webhook/", data=body, content_type="application/json",
                         headers={"Presence-Signature": "t=1,v1=00"})
        self.assertEqual(resp.status_code, 401)
        self.assertIn("outside the tolerance", resp.get_json()["error"]["message"])
        self.assertEqual(client.get("/page").status_code, 302, "the ended session is refused")

    def test_webhook_exempt_from_csrf(self):
        exempted = []
        app = flask.Flask(__name__)
        app.extensions["csrf"] = type("CSRFProtect", (), {"exempt": lambda self, view: exempted.append(view)})()
        app.config.update(PRESENCE_SECRET=SECRET.decode(), PRESENCE_URL="https://p.example.com")
        Presence(app)
        self.assertEqual([v.__name__ for v in exempted], ["_webhook"])

    def test_settings_errors_and_warnings(self):
        with self.assertRaises(RuntimeError) as e:
            make_app(PRESENCE_SECRET="short", PRESENCE_URL="", PRESENCE_WARN_AFTER=30)
        msg = str(e.exception)
        for want in ("presence.E001: PRESENCE_SECRET is 5 bytes; presence's secret is at least 32.",
                     "presence.E003: PRESENCE_WARN_AFTER is 30 s,", "presence.E006: PRESENCE_URL is not set."):
            self.assertIn(want, msg)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d" % s.getsockname()[1]
        s.close()
        with self.assertLogs("presence", "WARNING") as logs:
            make_app(PRESENCE_API_URL=closed)
        self.assertIn("presence.W003: presence is not reachable at PRESENCE_API_URL (%s)" % closed, logs.output[0])
        with self.assertLogs("presence", "WARNING") as logs:
            make_app(PRESENCE_API_KEY=None)
        self.assertIn("presence.W001", logs.output[0])


class LocalCacheTest(unittest.TestCase):
    def test_expiry_and_bound(self):
        now = [0.0]
        c = LocalCache(max_entries=2, clock=lambda: now[0])
        c.set("a", 1, 10)
        c.set("b", 2, 5)
        self.assertEqual((c.get("a"), c.get("b")), (1, 2))
        now[0] = 6
        self.assertIsNone(c.get("b"), "expired")
        c.set("b", 2, 5)
        c.set("c", 3)
        self.assertEqual((c.get("a"), c.get("b"), c.get("c")), (None, 2, 3), "the oldest goes first")
        c.delete("c")
        self.assertIsNone(c.get("c"))


if __name__ == "__main__":
    unittest.main()
