"""Tests of presence.api's Client against a fake presence on 127.0.0.1.
That the real server answers as the client expects is checked by
interop_test.go."""

import socket
import time
import unittest

from fakes import API_KEY, FakePresence
import presence


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakePresence()
        self.addCleanup(self.fake.close)
        self.client = presence.Client(self.fake.url + "/", API_KEY, timeout=2)

    def test_batch(self):
        entries = [{"sid": "a", "idle_s": 3, "uid": "42", "warn_after": 20, "expire_after": 30}, {"sid": "b"}]
        got = self.client.activity(entries)
        self.assertEqual([s["sid"] for s in got], ["a", "b"])
        method, path, headers, body = self.fake.requests[0]
        self.assertEqual((method, path), ("POST", "/api/v1/activity"))
        self.assertEqual(headers["Authorization"], "Bearer " + API_KEY)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(body, {"sessions": entries})

    def test_batch_over_1000_is_refused_before_sending(self):
        with self.assertRaises(ValueError):
            self.client.activity([{"sid": "s%d" % i} for i in range(1001)])
        self.assertEqual(self.fake.requests, [])

    def test_errors(self):
        cases = [
            (400, {"error": {"code": "bad_request", "message": "sessions[3].expire_after: too big", "index": 3}}, {},
             dict(status=400, code="bad_request", index=3, retry_after=None)),
            (401, {"error": {"code": "unauthorized", "message": "send Authorization"}}, {},
             dict(status=401, code="unauthorized", index=None)),
            (503, {"error": {"code": "store_unavailable", "message": "later"}}, {"Retry-After": "5"},
             dict(status=503, code="store_unavailable", retry_after=5.0)),
            (502, None, {}, dict(status=502, code="")),
            (200, {"sessions": []}, {}, dict(status=200, code="")),  # one answer per entry, or an error
            (302, None, {"Location": "http://127.0.0.1:1/elsewhere"}, dict(status=302)),  # never followed
        ]
        for status, obj, headers, want in cases:
            with self.subTest(status=status):
                self.fake.answer = lambda m, p, b, s=status, o=obj, h=headers: (s, o, h)
                with self.assertRaises(presence.APIError) as cm:
                    self.client.activity([{"sid": "a"}])
                self.assertNotIsInstance(cm.exception, presence.Unreachable)
                for k, v in want.items():
                    self.assertEqual(getattr(cm.exception, k), v, k)
        self.assertEqual(str(cm.exception), "presence API: 302: the answer is not presence's: (empty)")
        self.fake.answer = lambda m, p, b: (503, {"error": {"code": "store_unavailable", "message": "later"}}, None)
        with self.assertRaises(presence.APIError) as cm:
            self.client.activity([{"sid": "a"}])
        self.assertEqual(str(cm.exception), "presence API: 503 store_unavailable: later")

    def test_session(self):
        self.assertEqual(self.client.session("p1-x")["status"], "active")
        self.fake.answer = lambda m, p, b: (404, {"sid": "p1-x", "status": "unknown", "idle_s": 0, "tabs": 0,
                                                  "expire_in_s": 0, "error": {"code": "not_found", "message": "no"}}, None)
        self.assertEqual(self.client.session("p1-x")["status"], "unknown")
        self.fake.answer = lambda m, p, b: (404, {"error": {"code": "not_found", "message": "no such endpoint"}}, None)
        with self.assertRaises(presence.APIError):
            self.client.session("p1-x")
        with self.assertRaises(presence.ClaimsError):
            self.client.session("a/b")

    def test_single_session_calls(self):
        self.client.session_activity("p1-x", idle_s=2, uid="7")
        self.client.logout("p1-x", "revoked")
        self.assertEqual([(m, p, b) for m, p, h, b in self.fake.requests], [
            ("POST", "/api/v1/sessions/p1-x/activity", {"idle_s": 2, "uid": "7"}),
            ("POST", "/api/v1/sessions/p1-x/logout", {"reason": "revoked"}),
        ])

    def test_unreachable(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = presence.Client("http://127.0.0.1:%d" % port, API_KEY)
        with self.assertRaises(presence.Unreachable) as cm:
            client.activity([{"sid": "a"}])
        self.assertEqual(cm.exception.status, 0)
        self.assertFalse(cm.exception.timed_out, "refused, not hung")
        self.assertRegex(str(cm.exception), r"^presence API unreachable: POST /api/v1/activity: .*[Rr]efused")

    def test_timeout_is_short(self):
        """A call to a presence that accepts and never answers ends with
        the client's timeout. The test checks the timeout each network
        step is given, and that the call ends by it; not how soon, since
        on a busy machine the process may run seconds late."""
        with socket.socket() as s:  # accepts, never answers
            s.bind(("127.0.0.1", 0))
            s.listen()
            client = presence.Client("http://127.0.0.1:%d" % s.getsockname()[1], API_KEY, timeout=0.3)
            given = []
            opener = client._opener

            class Opener:
                def open(self, req, timeout):
                    given.append(timeout)
                    return opener.open(req, timeout=timeout)

            client._opener = Opener()
            start = time.monotonic()
            with self.assertRaises(presence.Unreachable) as cm:
                client.activity([{"sid": "a"}])
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
            self.assertEqual(given, [0.3])
            self.assertTrue(cm.exception.timed_out)
            self.assertEqual(str(cm.exception), "presence API unreachable: POST /api/v1/activity: timed out")

    def test_bad_options(self):
        for url, key in (("", API_KEY), ("127.0.0.1:8765", API_KEY), ("ftp://h", API_KEY),
                         ("http://h/?q=1", API_KEY), ("http://h", ""), ("http://h", "a\nb")):
            with self.subTest(url=url, key=key), self.assertRaises(ValueError):
                presence.Client(url, key)


if __name__ == "__main__":
    unittest.main()
