"""What the tests share: the secrets, token and signature helpers written
independently of presence, small fakes of the request, cache and logout
that the framework-free logic takes, and a fake of presence's API."""

import base64
import hashlib
import hmac
import html.parser
import http.server
import json
import os
import sys
import threading
import types

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


class _Scripts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def scripts(page):
    """The attributes of every script tag of page, as dicts; a bare
    attribute's value is None."""
    p = _Scripts()
    p.feed(page.decode() if isinstance(page, bytes) else page)
    return p.scripts


BODY = b'{"sid":"p1-abc","uid":"42","reason":"idle","at":"2027-01-15T08:00:00.123Z"}'

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


# --- a fake presence API -------------------------------------------------------

API_KEY = "test-api-key-0123456789"


class FakePresence:
    """A stand-in for presence's API on 127.0.0.1, for the client and the
    sender: it records every request and answers with what answer(method,
    path, body) returns, (status, JSON object, headers); by default it
    answers a batch with every session active. The Go server itself is
    tested against the helper by interop_test.go."""

    def __init__(self, answer=None):
        self.requests = []  # (method, path, headers, body) in order
        self.answer = answer or self.all_active
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                body = json.loads(raw) if raw else None
                with fake.lock:
                    fake.requests.append((self.command, self.path, dict(self.headers), body))
                status, obj, headers = fake.answer(self.command, self.path, body)
                out = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @staticmethod
    def all_active(method, path, body):
        if path == "/api/v1/activity":
            return 200, {"sessions": [{"sid": e["sid"], "status": "active", "expire_in_s": 600}
                                      for e in body["sessions"]]}, None
        sid = path.split("/")[4]
        return 200, {"sid": sid, "status": "expired" if path.endswith("/logout") else "active",
                     "idle_s": 0, "tabs": 0, "expire_in_s": 0}, None

    def batches(self):
        """The sessions lists of every POST /api/v1/activity, in order."""
        with self.lock:
            return [b["sessions"] for m, p, h, b in self.requests if p == "/api/v1/activity"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
