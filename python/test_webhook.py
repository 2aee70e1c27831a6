"""Tests of presence.webhook: verify_webhook and handle_webhook, with fakes
for the cache and the session deleter. interop_test.go also delivers
webhooks signed by presence's Go sender to verify_webhook."""

import hmac
import json
import unittest
from unittest import mock

from fakes import BODY, NOW, OLD, SECRET, FakeCache, sign
import presence


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
        with mock.patch.object(presence.webhook.hmac, "compare_digest", wraps=hmac.compare_digest) as cd:
            self.verify(secrets=[OLD, SECRET])
        self.assertEqual(cd.call_count, 2, "every secret compared, no early exit")


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


if __name__ == "__main__":
    unittest.main()
