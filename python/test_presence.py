"""Tests of presence.py: python3 -m unittest test_presence (from this folder).

Tokens are checked here for their structure; that presence itself accepts
them is checked by interop_test.go, which also delivers webhooks signed by
presence's Go sender to verify_webhook. The Django logic is tested through
its seams with small fakes; the thin Django-facing layer is run once
against stand-in django modules, which catches wiring mistakes but is not
a test of Django.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import presence  # noqa: E402

SECRET = b"0123456789abcdef0123456789abcdef"
OLD = b"an-older-secret-0123456789abcdef!!"
SID_SECRET = b"the-application's-own-sid-secret!"
NOW = 1_800_000_000


def decode(token, secret=SECRET):
    """Splits a token as securecookie does and checks its MAC; returns
    (timestamp, claims)."""
    raw = base64.urlsafe_b64decode(token.encode("ascii"))
    ts, value, mac = raw.split(b"|", 2)
    want = hmac.new(secret, b"presence|" + ts + b"|" + value, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        raise AssertionError("MAC does not match")
    return int(ts), json.loads(base64.urlsafe_b64decode(value))


def sign(body, t, secret=SECRET):
    """A Presence-Signature header, written independently of presence.py."""
    mac = hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


class MintTokenTest(unittest.TestCase):
    def test_structure(self):
        token = presence.mint_token(
            SECRET, "s-1", uid="42", warn_after=20, expire_after=30, logout_url="/accounts/logout/", now=NOW
        )
        self.assertEqual(len(token) % 4, 0, "padded base64")
        self.assertTrue(set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="))
        ts, claims = decode(token)
        self.assertEqual(ts, NOW)
        self.assertEqual(
            claims, {"sid": "s-1", "uid": "42", "warn_after": 20, "expire_after": 30, "logout_url": "/accounts/logout/"}
        )

    def test_leaves_out_what_is_not_given(self):
        _, claims = decode(presence.mint_token(SECRET, "s", now=NOW))
        self.assertEqual(claims, {"sid": "s"})
        _, claims = decode(presence.mint_token(SECRET, "s", uid="", logout_url="", now=NOW))
        self.assertEqual(claims, {"sid": "s"})

    def test_int_uid_is_written_as_a_string(self):
        _, claims = decode(presence.mint_token(SECRET, "s", uid=7, now=NOW))
        self.assertEqual(claims["uid"], "7")

    def test_str_secret_is_utf8(self):
        self.assertEqual(
            presence.mint_token(SECRET.decode(), "s", now=NOW), presence.mint_token(SECRET, "s", now=NOW)
        )

    def test_current_time_by_default(self):
        import time

        before = int(time.time())
        ts, _ = decode(presence.mint_token(SECRET, "s"))
        self.assertTrue(before <= ts <= int(time.time()))

    def test_other_secret_does_not_verify(self):
        with self.assertRaises(AssertionError):
            decode(presence.mint_token(SECRET, "s", now=NOW), secret=OLD)

    def test_accepts_the_edges(self):
        presence.mint_token(SECRET, "a" * 128)
        presence.mint_token(SECRET, "A.z_0:9-")
        presence.mint_token(SECRET, "s", warn_after=1, expire_after=2)
        presence.mint_token(SECRET, "s", expire_after=366 * 24 * 3600)
        presence.mint_token(SECRET, "s", uid="é" * 128)  # 256 bytes
        presence.mint_token(SECRET, "s", warn_after=900)  # presence checks a lone limit

    def test_refuses_what_presence_refuses(self):
        cases = [
            ("secret", dict(secret=b"short")),
            ("sid", dict(sid="")),
            ("sid", dict(sid="a" * 129)),
            ("sid", dict(sid="a b")),
            ("sid", dict(sid="é")),
            ("sid", dict(sid="a/b")),
            ("sid", dict(sid=None)),
            ("uid", dict(uid="x" * 257)),
            ("uid", dict(uid="é" * 129)),
            ("uid", dict(uid=4.2)),
            ("warn_after", dict(warn_after=0)),
            ("warn_after", dict(warn_after=-1)),
            ("warn_after", dict(warn_after=True)),
            ("warn_after", dict(warn_after=1.5)),
            ("expire_after", dict(expire_after=366 * 24 * 3600 + 1)),
            ("expire_after", dict(expire_after="600")),
            ("warn_after", dict(warn_after=30, expire_after=30)),
            ("warn_after", dict(warn_after=40, expire_after=30)),
            ("logout_url", dict(logout_url="/a\nb")),
            ("logout_url", dict(logout_url="/a\x85b")),
            ("logout_url", dict(logout_url="/" * 2049)),
            ("logout_url", dict(logout_url=b"/logout")),
            ("token", dict(uid="x" * 256, logout_url="/" * 2048)),
        ]
        for field, kw in cases:
            with self.subTest(kw=kw):
                args = dict(secret=SECRET, sid="s")
                args.update(kw)
                secret, sid = args.pop("secret"), args.pop("sid")
                with self.assertRaises(presence.ClaimsError) as cm:
                    presence.mint_token(secret, sid, **args)
                self.assertEqual(cm.exception.field, field)
                self.assertIsInstance(cm.exception, ValueError)

    def test_error_says_what_to_fix(self):
        with self.assertRaisesRegex(presence.ClaimsError, r"sid has ' ' at 1; it may hold only"):
            presence.mint_token(SECRET, "a b")
        with self.assertRaisesRegex(presence.ClaimsError, r"not less than expire_after \(30 s\)"):
            presence.mint_token(SECRET, "s", warn_after=30, expire_after=30)


class SessionIdTest(unittest.TestCase):
    def test_derived_and_opaque(self):
        key = "k8dnnv2xvq3v1u9m0p0x0g6s4f0d9wzz"
        sid = presence.session_id(SID_SECRET, key)
        # backend.SessionID's formula, which Go applications use.
        want = "p1-" + hmac.new(SID_SECRET, key.encode(), hashlib.sha256).hexdigest()[:32]
        self.assertEqual(sid, want)
        self.assertEqual(len(sid), 35)
        self.assertNotIn(key, sid)
        self.assertEqual(sid, presence.session_id(SID_SECRET.decode(), key))
        self.assertNotEqual(sid, presence.session_id(SECRET, key))
        self.assertNotEqual(sid, presence.session_id(SID_SECRET, key + "x"))
        presence.mint_token(SECRET, sid)  # a valid sid

    def test_fixed_vector(self):
        # Computed with Go's crypto/hmac, as backend.SessionID does.
        self.assertEqual(presence.session_id(SECRET, "django-session-key"), "p1-beadc7a2ecb995fdb5aeab00416bc270")

    def test_needs_a_key_and_a_secret(self):
        for secret, key in ((SID_SECRET, ""), (SID_SECRET, None), (b"", "k"), ("", "k")):
            with self.assertRaises(ValueError):
                presence.session_id(secret, key)


BODY = b'{"sid":"p1-abc","uid":"42","reason":"idle","at":"2027-01-15T08:00:00.123Z"}'


class VerifyWebhookTest(unittest.TestCase):
    def verify(self, body=BODY, header=None, secrets=(SECRET,), now=NOW):
        return presence.verify_webhook(body, sign(BODY, NOW) if header is None else header, secrets, now=now)

    def refused(self, code, **kw):
        with self.assertRaises(presence.WebhookError) as cm:
            self.verify(**kw)
        self.assertEqual(cm.exception.code, code, str(cm.exception))
        return str(cm.exception)

    def test_valid(self):
        event = self.verify()
        self.assertEqual(event, {"sid": "p1-abc", "uid": "42", "reason": "idle", "at": "2027-01-15T08:00:00.123Z"})

    def test_secret_forms(self):
        self.verify(secrets=SECRET)
        self.verify(secrets=SECRET.decode())
        self.verify(secrets=[SECRET.decode()])
        self.verify(body=BODY.decode())

    def test_rotation(self):
        self.verify(secrets=[OLD, SECRET])
        self.verify(secrets=[SECRET, OLD])
        self.verify(header=sign(BODY, NOW, OLD), secrets=[SECRET, OLD])

    def test_tolerance(self):
        self.verify(now=NOW + 300)
        self.verify(now=NOW - 300)
        msg = self.refused("stale", now=NOW + 301)
        self.assertIn("301 s ago", msg)
        msg = self.refused("stale", now=NOW - 301)
        self.assertIn("in the future", msg)
        presence.verify_webhook(BODY, sign(BODY, NOW), SECRET, now=NOW + 600, tolerance=600)

    def test_tampered_body(self):
        msg = self.refused("mismatch", body=BODY.replace(b"idle", b"logout"))
        self.assertIn("does not match", msg)

    def test_wrong_secret(self):
        self.refused("mismatch", secrets=[OLD])

    def test_timestamp_swapped(self):
        self.refused("mismatch", header=sign(BODY, NOW).replace("t=%d" % NOW, "t=%d" % (NOW + 1)))

    def test_header_forms(self):
        good = sign(BODY, NOW)
        mac = good.split("v1=")[1]
        # Accepted: spaces, other schemes beside v1, several v1 values.
        for header in (
            " t=%d , v1=%s " % (NOW, mac),
            "v1=%s,t=%d" % (mac, NOW),
            "t=%d,v0=zz,v1=%s" % (NOW, mac),
            "t=%d,v1=%s,v1=%s" % (NOW, "00" * 32, mac),
            "t=%d,v1=%s" % (NOW, mac.upper()),
        ):
            with self.subTest(header=header):
                self.verify(header=header)
        for header in ("", "garbage", "t=%d" % NOW, "v1=" + mac, "t=x,v1=" + mac, "t=%d,v1=zz" % NOW,
                       "t=%d,v1=abc" % NOW, "t=1_800_000_000,v1=" + mac, "t = %d,v1 = %s" % (NOW, mac)):
            with self.subTest(header=header):
                msg = self.refused("no_signature", header=header)
                self.assertIn("Presence-Signature", msg)
        with self.assertRaises(presence.WebhookError) as cm:
            presence.verify_webhook(BODY, None, SECRET, now=NOW)
        self.assertEqual(cm.exception.code, "no_signature")

    def test_bad_json_after_a_good_signature(self):
        for body in (b"not json", b"[]", b'{"sid":1,"reason":"idle"}', b'{"sid":"a b","reason":"idle"}',
                     b'{"sid":"s"}', b"\xff"):
            with self.subTest(body=body):
                self.refused("bad_json", body=body, header=sign(body, NOW))

    def test_needs_a_secret(self):
        with self.assertRaises(ValueError):
            presence.verify_webhook(BODY, sign(BODY, NOW), [], now=NOW)

    def test_uses_constant_time_compare(self):
        with mock.patch.object(presence.hmac, "compare_digest", wraps=hmac.compare_digest) as cd:
            self.verify(secrets=[OLD, SECRET])
        self.assertEqual(cd.call_count, 2, "every secret compared, no early exit")


# --- fakes for the Django logic ---------------------------------------------


class FakeCache:
    """The part of Django's cache API presence uses, recording timeouts."""

    def __init__(self):
        self.data, self.timeouts, self.reads = {}, {}, []

    def get(self, key, default=None):
        self.reads.append(key)
        return self.data.get(key, default)

    def set(self, key, value, timeout=None):
        self.data[key], self.timeouts[key] = value, timeout

    def delete(self, key):
        self.data.pop(key, None)


class FakeUser:
    def __init__(self, pk=None):
        self.pk = pk
        self.is_authenticated = pk is not None


class FakeRequest:
    def __init__(self, pk=42, session_key="key-1", path="/", headers=None, url_name=None, method="GET", body=b""):
        self.user = FakeUser(pk)
        self.session = types.SimpleNamespace(session_key=session_key)
        self.path = path
        self.headers = headers or {}
        self.resolver_match = types.SimpleNamespace(url_name=url_name) if url_name else None
        self.method, self.body = method, body


class Logout:
    """Stands in for django.contrib.auth.logout."""

    def __init__(self):
        self.calls = []

    def __call__(self, request):
        self.calls.append(request)
        request.user = FakeUser(None)
        request.session.session_key = None


def ended(cache, session_key, reason="idle"):
    cache.set("presence:ended:" + presence.session_id(SID_SECRET, session_key), reason)


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


class HandleWebhookTest(unittest.TestCase):
    def handle(self, cache, deleted, body=BODY, header=None, method="POST", secrets=(SECRET,)):
        return presence.handle_webhook(
            method, body, sign(body, NOW) if header is None else header,
            secrets=list(secrets), cache=cache, delete_session=deleted.append, ttl=43200, now=NOW,
        )

    def test_records_the_end_and_deletes_the_mapped_session(self):
        cache, deleted = FakeCache(), []
        cache.set("presence:sid:p1-abc", "key-1")
        self.assertEqual(self.handle(cache, deleted), (204, None))
        self.assertEqual(cache.data["presence:ended:p1-abc"], "idle")
        self.assertEqual(cache.timeouts["presence:ended:p1-abc"], 43200)
        self.assertEqual(deleted, ["key-1"])
        self.assertNotIn("presence:sid:p1-abc", cache.data)
        # A repeated delivery (same Idempotency-Key) is harmless.
        self.assertEqual(self.handle(cache, deleted), (204, None))
        self.assertEqual(deleted, ["key-1"])

    def test_unmapped_sid_is_recorded_only(self):
        cache, deleted = FakeCache(), []
        self.assertEqual(self.handle(cache, deleted), (204, None))
        self.assertIn("presence:ended:p1-abc", cache.data)
        self.assertEqual(deleted, [])

    def test_rotation(self):
        cache, deleted = FakeCache(), []
        self.assertEqual(self.handle(cache, deleted, header=sign(BODY, NOW, OLD), secrets=[SECRET, OLD])[0], 204)

    def test_refusals_change_nothing(self):
        big = b'{"sid":"s","reason":"idle","pad":"' + b"x" * (64 << 10) + b'"}'
        cases = [
            (405, "method_not_allowed", "POST only", dict(method="GET")),
            (413, "too_large", "64 KiB", dict(body=big, header=sign(big, NOW))),
            (401, "bad_signature", "does not match", dict(body=BODY.replace(b"idle", b"logout"), header=sign(BODY, NOW))),
            (401, "bad_signature", "does not match", dict(secrets=[OLD])),
            (401, "bad_signature", "no valid Presence-Signature", dict(header="")),
            (401, "bad_signature", "301 s ago", dict(header=sign(BODY, NOW - 301))),
            (400, "bad_event", "no string 'sid'", dict(body=b"{}", header=sign(b"{}", NOW))),
        ]
        for status, code, says, kw in cases:
            with self.subTest(code=code, says=says):
                cache, deleted = FakeCache(), []
                cache.set("presence:sid:p1-abc", "key-1")
                got_status, payload = self.handle(cache, deleted, **kw)
                self.assertEqual((got_status, payload["error"]["code"]), (status, code))
                self.assertIn(says, payload["error"]["message"])
                self.assertEqual(deleted, [])
                self.assertEqual(list(cache.data), ["presence:sid:p1-abc"])

    def test_failed_delete_is_retried(self):
        cache = FakeCache()
        cache.set("presence:sid:p1-abc", "key-1")

        def broken(key):
            raise OSError("database is down")

        status, payload = presence.handle_webhook("POST", BODY, sign(BODY, NOW), secrets=[SECRET], cache=cache,
                                                  delete_session=broken, ttl=60, now=NOW)
        self.assertEqual((status, payload["error"]["code"]), (500, "on_end_failed"))
        self.assertNotIn("database", payload["error"]["message"])
        self.assertEqual(cache.data["presence:sid:p1-abc"], "key-1", "kept for presence's retry")
        self.assertEqual(cache.data["presence:ended:p1-abc"], "idle", "the middleware enforces the end meanwhile")
        deleted = []
        self.assertEqual(self.handle(cache, deleted), (204, None))
        self.assertEqual(deleted, ["key-1"])


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


# --- the Django-facing layer, against stand-in modules ------------------------


class Response:
    def __init__(self, content=b"", status=200):
        self.content, self.status_code = content, status


class JsonResponse(Response):
    def __init__(self, data, status=200):
        super().__init__(json.dumps(data).encode(), status)


class FakeSessionStore:
    deleted = []

    def delete(self, session_key=None):
        FakeSessionStore.deleted.append(session_key)


@contextlib.contextmanager
def stand_in_django(**settings):
    """Installs modules with the names the glue imports from Django. They
    mimic the few Django APIs used; they are not Django."""
    cache, logout = FakeCache(), Logout()
    conf = dict(PRESENCE_SECRET=SECRET.decode(), SECRET_KEY=SID_SECRET.decode(), PRESENCE_URL="https://p.example.com",
                SESSION_ENGINE="fake_session_engine", SESSION_COOKIE_AGE=1209600)
    conf.update(settings)

    class ImproperlyConfigured(Exception):
        pass

    mods = {
        "django": types.ModuleType("django"),
        "django.conf": types.SimpleNamespace(settings=types.SimpleNamespace(**conf)),
        "django.core": types.ModuleType("django.core"),
        "django.core.cache": types.SimpleNamespace(cache=cache),
        "django.core.exceptions": types.SimpleNamespace(ImproperlyConfigured=ImproperlyConfigured),
        "django.contrib": types.ModuleType("django.contrib"),
        "django.contrib.auth": types.SimpleNamespace(logout=logout),
        "django.http": types.SimpleNamespace(HttpResponse=Response, JsonResponse=JsonResponse),
        "django.shortcuts": types.SimpleNamespace(resolve_url=lambda to: {"logout": "/accounts/logout/"}.get(to, to)),
        "fake_session_engine": types.SimpleNamespace(SessionStore=FakeSessionStore),
    }
    FakeSessionStore.deleted = []
    with mock.patch.dict(sys.modules, mods):
        yield cache, logout, ImproperlyConfigured


class DjangoGlueTest(unittest.TestCase):
    def test_imports_without_django(self):
        code = "import sys, presence; assert not any(m.split('.')[0] == 'django' for m in sys.modules)"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.abspath(__file__)))

    def test_middleware(self):
        passed = []
        mw = presence.PresenceMiddleware(lambda r: passed.append(r) or Response(b"page"))
        with stand_in_django() as (cache, logout, _):
            self.assertEqual(mw(FakeRequest()).content, b"page")
            ended(cache, "key-1")
            html = FakeRequest()
            self.assertEqual(mw(html).content, b"page")  # logged out, then served as anonymous
            self.assertFalse(html.user.is_authenticated)
            ended(cache, "key-2")
            resp = mw(FakeRequest(session_key="key-2", headers={"X-Requested-With": "XMLHttpRequest"}))
            self.assertEqual(resp.status_code, 401)
            self.assertEqual(json.loads(resp.content)["error"]["code"], "session_ended")
            self.assertEqual(len(logout.calls), 2)
        self.assertEqual(len(passed), 2)

    def test_webhook_view(self):
        self.assertTrue(presence.webhook_view.csrf_exempt)
        import time

        now = int(time.time())
        body = BODY
        with stand_in_django(PRESENCE_OLD_SECRETS=OLD.decode() + ", ") as (cache, _, _):
            cache.set("presence:sid:p1-abc", "key-1")
            req = FakeRequest(pk=None, method="POST", body=body, headers={"Presence-Signature": sign(body, now, OLD)})
            self.assertEqual(presence.webhook_view(req).status_code, 204)
            self.assertEqual(FakeSessionStore.deleted, ["key-1"])
            self.assertEqual(cache.timeouts["presence:ended:p1-abc"], 1209600)
            bad = FakeRequest(pk=None, method="POST", body=body, headers={"Presence-Signature": "t=1,v1=00"})
            resp = presence.webhook_view(bad)
            self.assertEqual(resp.status_code, 401)
            self.assertIn("outside the tolerance", json.loads(resp.content)["error"]["message"])

    def test_context_processor(self):
        with stand_in_django(PRESENCE_WARN_AFTER=20, PRESENCE_EXPIRE_AFTER=30, PRESENCE_LOGOUT_URL="logout",
                             PRESENCE_PASSIVE_URLS=["/poll/"]) as (cache, _, _):
            ctx = presence.presence_context(FakeRequest(path="/poll/"))
        self.assertEqual(ctx["presence_url"], "https://p.example.com")
        self.assertTrue(ctx["presence_passive"])
        _, claims = decode(ctx["presence_token"])
        self.assertEqual((claims["warn_after"], claims["expire_after"], claims["logout_url"]), (20, 30, "/accounts/logout/"))
        self.assertEqual(claims["sid"], presence.session_id(SID_SECRET, "key-1"), "derived with SECRET_KEY")
        self.assertIn("presence:sid:" + claims["sid"], cache.data)
        with stand_in_django(PRESENCE_SID_SECRET=OLD) as (cache, _, _):
            _, claims = decode(presence.presence_context(FakeRequest())["presence_token"])
        self.assertEqual(claims["sid"], presence.session_id(OLD, "key-1"), "derived with PRESENCE_SID_SECRET")

    def test_missing_secret(self):
        with stand_in_django(PRESENCE_SECRET="") as (_, _, improperly_configured):
            with self.assertRaisesRegex(improperly_configured, "PRESENCE_SECRET"):
                presence.presence_context(FakeRequest())


if __name__ == "__main__":
    unittest.main()
