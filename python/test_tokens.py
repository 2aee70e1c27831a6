"""Tests of presence.tokens: python3 -m unittest test_tokens (from this folder).

Tokens are checked here for their structure; that presence itself accepts
them is checked by interop_test.go."""

import hashlib
import hmac
import unittest

from fakes import NOW, OLD, SECRET, SID_SECRET, decode
import presence


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

    def test_absolute_end(self):
        _, claims = decode(presence.mint_token(SECRET, "s", end_at=NOW + 3600, now=NOW))
        self.assertEqual(claims, {"sid": "s", "end_at": NOW + 3600})
        _, claims = decode(presence.mint_token(SECRET, "s", end_at=0, now=NOW))
        self.assertEqual(claims, {"sid": "s"}, "0 is no end")

    def test_lifetime_end(self):
        self.assertEqual(presence.lifetime_end(43200, now=NOW + 0.9), NOW + 43200)
        self.assertIsNone(presence.lifetime_end(None))
        self.assertIsNone(presence.lifetime_end(0))
        for bad in (-1, 1.5, "12h", 366 * 24 * 3600 + 1):
            with self.subTest(bad=bad), self.assertRaisesRegex(presence.ClaimsError, "max_lifetime"):
                presence.lifetime_end(bad)

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
            ("end_at", dict(end_at=-1)),
            ("end_at", dict(end_at=1767225600000)),
            ("end_at", dict(end_at=1.5)),
            ("end_at", dict(end_at=True)),
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


if __name__ == "__main__":
    unittest.main()
