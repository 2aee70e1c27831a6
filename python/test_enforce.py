"""Tests of presence.enforce and presence.pages: refusing ended sessions
and a page's context, through their seams with small fakes."""

import json
import os
import subprocess
import sys
import types
import unittest

from fakes import NOW, SECRET, SID_SECRET, FakeCache, FakeRequest, Logout, decode, ended, sign
import presence


class CheckRequestTest(unittest.TestCase):
    def test_live_session_passes(self):
        cache, logout = FakeCache(), Logout()
        self.assertFalse(presence.check_request(FakeRequest(), sid_secret=SID_SECRET, cache=cache, logout=logout))
        self.assertEqual(logout.calls, [])
        self.assertEqual(cache.reads, ["presence:ended:" + presence.session_id(SID_SECRET, "key-1")])

    def test_ended_session_is_logged_out(self):
        cache, logout = FakeCache(), Logout()
        ended(cache, "key-1")
        req = FakeRequest()
        self.assertTrue(presence.check_request(req, sid_secret=SID_SECRET, cache=cache, logout=logout))
        self.assertEqual(logout.calls, [req])
        self.assertFalse(req.user.is_authenticated)
        # The next request, with a fresh session, passes.
        self.assertFalse(presence.check_request(FakeRequest(session_key="key-2"), sid_secret=SID_SECRET, cache=cache, logout=logout))

    def test_other_session_ended(self):
        cache, logout = FakeCache(), Logout()
        ended(cache, "key-other")
        self.assertFalse(presence.check_request(FakeRequest(), sid_secret=SID_SECRET, cache=cache, logout=logout))

    def test_anonymous_or_sessionless_is_not_looked_up(self):
        for req in (FakeRequest(pk=None), FakeRequest(session_key=None), types.SimpleNamespace()):
            cache, logout = FakeCache(), Logout()
            self.assertFalse(presence.check_request(req, sid_secret=SID_SECRET, cache=cache, logout=logout))
            self.assertEqual(cache.reads, [])
            self.assertEqual(logout.calls, [])

    def test_wants_json(self):
        yes = [{"X-Requested-With": "XMLHttpRequest"}, {"Accept": "application/json"},
               {"Accept": "application/json, text/plain, */*"}]
        no = [{}, {"Accept": "text/html,application/xhtml+xml,application/json;q=0.9"}, {"Accept": "*/*"},
              {"X-Requested-With": "fetch"}]
        for h in yes:
            self.assertTrue(presence.wants_json(h), h)
        for h in no:
            self.assertFalse(presence.wants_json(h), h)


class PageContextTest(unittest.TestCase):
    def context(self, req, cache=None, **kw):
        return presence.page_context(req, secret=SECRET, sid_secret=SID_SECRET, cache=cache or FakeCache(), url="https://p.example.com/",
                                     ttl=43200, now=NOW, **kw)

    def test_anonymous_gets_no_token(self):
        cache = FakeCache()
        ctx = self.context(FakeRequest(pk=None), cache)
        self.assertEqual(ctx, {"presence_url": "https://p.example.com", "presence_token": "", "presence_passive": False})
        self.assertEqual(cache.data, {})

    def test_token_and_mapping(self):
        cache = FakeCache()
        ctx = self.context(FakeRequest(pk=42), cache, warn_after=20, expire_after=30, logout_url="/logout/")
        sid = presence.session_id(SID_SECRET, "key-1")
        ts, claims = decode(ctx["presence_token"])
        self.assertEqual(ts, NOW)
        self.assertEqual(claims, {"sid": sid, "uid": "42", "warn_after": 20, "expire_after": 30, "logout_url": "/logout/"})
        self.assertEqual(cache.data, {"presence:sid:" + sid: "key-1"})
        self.assertEqual(cache.timeouts["presence:sid:" + sid], 43200)

    def test_uuid_pk(self):
        import uuid

        pk = uuid.UUID("12345678-1234-5678-1234-567812345678")
        _, claims = decode(self.context(FakeRequest(pk=pk))["presence_token"])
        self.assertEqual(claims["uid"], str(pk))

    def test_passive(self):
        urls, names = ["/poll/", "/live/*"], ["dashboard"]
        for req, want in [
            (FakeRequest(path="/poll/"), True),
            (FakeRequest(path="/poll/x"), False),
            (FakeRequest(path="/live/"), True),
            (FakeRequest(path="/live/feed/3"), True),
            (FakeRequest(path="/liv"), False),
            (FakeRequest(path="/d/", url_name="dashboard"), True),
            (FakeRequest(path="/d/", url_name="other"), False),
        ]:
            with self.subTest(path=req.path):
                ctx = self.context(req, passive_urls=urls, passive_url_names=names)
                self.assertIs(ctx["presence_passive"], want)

    def test_end_to_end_with_fakes(self):
        """A page mints a token; presence's webhook for its sid deletes the
        session and the middleware logs the next request out."""
        cache, deleted, logout = FakeCache(), [], Logout()
        _, claims = decode(self.context(FakeRequest(session_key="key-9"), cache)["presence_token"])
        body = json.dumps({"sid": claims["sid"], "uid": "42", "reason": "idle", "at": "2027-01-15T08:00:00.000Z"}).encode()
        status, _ = presence.handle_webhook("POST", body, sign(body, NOW), secrets=[SECRET], cache=cache,
                                            delete_session=deleted.append, ttl=60, now=NOW)
        self.assertEqual(status, 204)
        self.assertEqual(deleted, ["key-9"])
        req = FakeRequest(session_key="key-9")
        self.assertTrue(presence.check_request(req, sid_secret=SID_SECRET, cache=cache, logout=logout))
        self.assertEqual(logout.calls, [req])


class PackageTest(unittest.TestCase):
    def test_imports_without_django(self):
        code = "import sys, presence; assert not any(m.split('.')[0] == 'django' for m in sys.modules)"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.abspath(__file__)))

    def test_public_names(self):
        for name in presence.__all__:
            if name not in ("PresenceMiddleware", "webhook_view", "presence_context"):
                self.assertTrue(hasattr(presence, name), name)
        with self.assertRaises(AttributeError):
            presence.no_such_name


if __name__ == "__main__":
    unittest.main()
