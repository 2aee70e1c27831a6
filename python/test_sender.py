"""Tests of presence.activity and presence.sender: the per-process queue
and the thread that sends it, against a fake presence on 127.0.0.1."""

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

from fakes import API_KEY, FakePresence
import presence
from presence.activity import ActivityQueue, Entry
from presence.sender import LOG_EVERY


def wait_for(what, cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("timed out waiting for " + what)


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


class Interval(threading.Event):
    """The sender's stop event, with the time its thread waits between
    sends in the test's hands: each wait records its timeout and returns
    when the test calls elapse, or once the event is set."""

    def __init__(self):
        super().__init__()
        self.timeouts = []
        self._elapsed = threading.Semaphore(0)

    def wait(self, timeout=None):
        self.timeouts.append(timeout)
        self._elapsed.acquire()
        return self.is_set()

    def elapse(self):
        self._elapsed.release()

    def set(self):
        super().set()
        self._elapsed.release()


class QueueTest(unittest.TestCase):
    def test_one_entry_per_session_keeps_the_latest(self):
        q = ActivityQueue()
        q.add(Entry("a", 10.0, "42", 20, 30))
        q.add(Entry("a", 5.0))  # stale: moves nothing back
        q.add(Entry("b", 7.0))
        q.add(Entry("a", 12.0, None, 25, None))
        (a, b) = q.take()
        self.assertEqual((a.sid, a.at, a.uid, a.warn_after, a.expire_after), ("a", 12.0, "42", 25, 30))
        self.assertEqual(b.sid, "b")
        self.assertEqual(q.take(), [])

    def test_put_back_keeps_what_is_newer(self):
        q = ActivityQueue()
        q.add(Entry("a", 20.0, "new-uid", 40, None))
        q.put_back([Entry("a", 10.0, "old-uid", 30, 60), Entry("b", 5.0)])
        a, b = q.take()
        self.assertEqual((a.at, a.uid, a.warn_after, a.expire_after), (20.0, "new-uid", 40, 60))
        self.assertEqual(b.sid, "b")

    def test_bounded(self):
        q = ActivityQueue(max_sessions=2)
        self.assertTrue(q.add(Entry("a", 1.0)))
        self.assertTrue(q.add(Entry("b", 1.0)))
        self.assertFalse(q.add(Entry("c", 1.0)))
        self.assertTrue(q.add(Entry("a", 2.0)), "a held session is still updated")
        q.put_back([Entry("d", 1.0)])
        self.assertEqual(q.take_dropped(), 2)
        self.assertEqual(q.take_dropped(), 0)
        self.assertEqual([e.sid for e in q.take()], ["a", "b"])

    def test_wire(self):
        self.assertEqual(Entry("a", 10.0, "42", 20, 30).wire(13.9),
                         {"sid": "a", "idle_s": 3, "uid": "42", "warn_after": 20, "expire_after": 30})
        self.assertEqual(Entry("a", 10.0).wire(9.0), {"sid": "a", "idle_s": 0})


class SenderTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakePresence()
        self.addCleanup(self.fake.close)

    def sender(self, url=None, **kw):
        kw.setdefault("interval", 60)  # the tests flush by hand unless they say
        s = presence.Sender(presence.Client(url or self.fake.url, API_KEY, timeout=kw.pop("timeout", 2)), **kw)
        self.addCleanup(s.close, 0.5)
        return s

    def test_one_entry_per_session_per_batch(self):
        clock = Clock()
        s = self.sender(clock=clock)
        s.record("a", uid="42", warn_after=20, expire_after=30)
        clock.t += 4
        s.record("b")
        clock.t += 1
        s.record("a", at=clock.t - 2)
        clock.t += 1
        self.assertTrue(s.flush())
        self.assertEqual(self.fake.batches(), [[
            {"sid": "a", "idle_s": 3, "uid": "42", "warn_after": 20, "expire_after": 30},
            {"sid": "b", "idle_s": 2},
        ]])
        self.assertTrue(s.flush(), "nothing queued is a success")
        self.assertEqual(len(self.fake.batches()), 1, "an empty queue sends nothing")

    def test_sends_within_a_second(self):
        """The thread sends what is queued each time it has waited one
        interval, a second by default. The test reads the wait the thread
        asks for instead of timing it: on a busy machine a thread may run
        a second or more late, which says nothing of the sender."""
        s = presence.Sender(presence.Client(self.fake.url, API_KEY))  # the defaults
        self.addCleanup(s.close, 0.5)
        s._stop = interval = Interval()
        s.record("a")
        wait_for("the thread to wait", lambda: interval.timeouts, timeout=15)
        self.assertEqual(interval.timeouts, [1.0], "the thread waits a second")
        self.assertEqual(self.fake.batches(), [], "nothing is sent before the interval is over")
        interval.elapse()
        wait_for("a batch", self.fake.batches, timeout=15)
        self.assertEqual([[e["sid"] for e in b] for b in self.fake.batches()], [["a"]])
        self.assertEqual(self.fake.requests[0][2]["Authorization"], "Bearer " + API_KEY)
        wait_for("the thread to wait again", lambda: len(interval.timeouts) == 2, timeout=15)
        self.assertEqual(interval.timeouts, [1.0, 1.0], "after a send that reached presence, another second")

    def test_split_at_1000(self):
        s = self.sender()
        for i in range(2500):
            s.record("s%d" % i)
        self.assertTrue(s.flush())
        batches = self.fake.batches()
        self.assertEqual([len(b) for b in batches], [1000, 1000, 500])
        self.assertEqual(len({e["sid"] for b in batches for e in b}), 2500)

    def test_a_refused_entry_is_dropped_and_the_rest_resent_at_once(self):
        def answer(method, path, body):
            sids = [e["sid"] for e in body["sessions"]]
            if "bad" in sids:
                i = sids.index("bad")
                return 400, {"error": {"code": "bad_request", "message": "sessions[%d].expire_after: too big" % i,
                                       "index": i}}, None
            return FakePresence.all_active(method, path, body)

        self.fake.answer = answer
        s = self.sender()
        for sid in ("a", "bad", "c"):
            s.record(sid)
        with self.assertLogs("presence", logging.WARNING) as logs:
            self.assertTrue(s.flush())
        self.assertEqual([[e["sid"] for e in b] for b in self.fake.batches()], [["a", "bad", "c"], ["a", "c"]])
        self.assertIn("bad", logs.output[0])
        self.assertIn("expire_after: too big", logs.output[0])
        self.assertEqual(s.counts["refused"], 1)
        self.assertEqual(s.counts["sent"], 2)
        self.assertEqual(len(s.queue), 0)

    def test_too_large_is_split(self):
        def answer(method, path, body):
            if len(body["sessions"]) > 2:
                return 413, {"error": {"code": "too_large", "message": "over 64 KiB"}}, None
            return FakePresence.all_active(method, path, body)

        self.fake.answer = answer
        s = self.sender()
        for i in range(5):
            s.record("s%d" % i)
        self.assertTrue(s.flush())
        sent = [e["sid"] for b in self.fake.batches() if len(b) <= 2 for e in b]
        self.assertEqual(sorted(sent), ["s0", "s1", "s2", "s3", "s4"])

    def test_outage_keeps_entries_and_the_request_path_free(self):
        """While presence accepts connections but never answers, record
        stays fast, entries wait, and they are sent once presence is back,
        merged with what came meanwhile."""
        blackhole = socket.socket()
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(64)
        self.addCleanup(blackhole.close)
        url = "http://127.0.0.1:%d" % blackhole.getsockname()[1]
        clock = Clock()
        s = self.sender(url=url, timeout=0.3, clock=clock)
        s.record("a", uid="1", warn_after=20, expire_after=30)
        s.record("b", uid="2")
        flushing = threading.Thread(target=s.flush)
        with self.assertLogs("presence", logging.WARNING) as logs:
            flushing.start()
            wait_for("the flush to be waiting on presence", lambda: len(s.queue) == 0)
            start = time.perf_counter()
            for i in range(10000):
                s.record("b", at=clock.t + i / 10000)  # while the flush waits
            per_call = (time.perf_counter() - start) / 10000
            flushing.join()
        self.assertIn("(last: presence API unreachable: POST /api/v1/activity: timed out)", logs.output[0])
        self.assertLess(per_call, 100e-6, "record must not wait on the network")
        self.assertEqual(s._failures, 1)
        self.assertEqual(len(s.queue), 2, "nothing lost")
        self.assertLessEqual(s._backoff(), 0.1, "a hung try has waited its timeout already")

        s.client = presence.Client(self.fake.url, API_KEY)  # presence is back
        clock.t += 5
        self.assertTrue(s.flush())
        (batch,) = self.fake.batches()
        self.assertEqual(sorted(batch, key=lambda e: e["sid"]), [
            {"sid": "a", "idle_s": 5, "uid": "1", "warn_after": 20, "expire_after": 30},
            {"sid": "b", "idle_s": 4, "uid": "2"},
        ])
        self.assertEqual(s._failures, 0)

    def test_service_unavailable_waits_as_told(self):
        self.fake.answer = lambda m, p, b: (503, {"error": {"code": "store_unavailable", "message": "later"}},
                                            {"Retry-After": "7"})
        s = self.sender(interval=1.0)
        s.record("a")
        with self.assertLogs("presence", logging.WARNING):
            self.assertFalse(s.flush())
        self.assertEqual(len(s.queue), 1)
        self.assertEqual(s._backoff(), 2.0, "Retry-After, up to the cap: presence's recovery grace is short")
        s.backoff_cap = 10
        self.assertGreaterEqual(s._backoff(), 7)

    def test_backoff_is_exponential_capped_and_jittered(self):
        s = self.sender(interval=1.0, backoff_cap=5.0)
        for failures, low, high in ((1, 1, 2), (2, 2, 4), (3, 2.5, 5), (10, 2.5, 5)):  # cap 5 here
            s._failures = failures
            delays = {s._backoff() for _ in range(50)}
            self.assertTrue(all(low <= d <= high for d in delays), (failures, delays))
            self.assertGreater(len(delays), 1, "jittered")

    def test_a_restarting_presence_is_tried_again_at_once(self):
        """Nothing listens: the try fails in microseconds, and the next
        comes about 0.1 s later, so that the activity that waited reaches
        presence as soon as it is back; a proxy's 502 means the same."""
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            url = "http://127.0.0.1:%d" % closed.getsockname()[1]
        s = self.sender(url=url, interval=1.0)
        s.record("a")
        with self.assertLogs("presence", logging.WARNING):
            for _ in range(3):
                self.assertFalse(s.flush())
        self.assertTrue(all(d <= 0.1 for d in (s._backoff() for _ in range(20))))
        s.client = presence.Client(self.fake.url, API_KEY)
        self.assertTrue(s.flush())
        self.fake.answer = lambda m, p, b: (502, None, None)
        s.record("b")
        self.assertFalse(s.flush())  # no log: the last report is less than a minute old
        self.assertLessEqual(s._backoff(), 0.1, "a proxy's 502")

    def test_trouble_is_logged_once_a_minute(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            url = "http://127.0.0.1:%d" % closed.getsockname()[1]
        s = self.sender(url=url, max_sessions=1)
        s.record("a")
        s.record("b")  # dropped: the queue is full
        with self.assertLogs("presence", logging.WARNING) as logs:
            for _ in range(5):
                self.assertFalse(s.flush())
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("1 tries to send activity failed", logs.output[0])
        self.assertIn("1 dropped", logs.output[0])
        s._trouble._logged_at -= LOG_EVERY
        with self.assertLogs("presence", logging.WARNING) as logs:
            s.flush()
        self.assertIn("5 tries", logs.output[0], "the tries since the last report")

    def test_expired_answers_are_reported(self):
        self.fake.answer = lambda m, p, b: (200, {"sessions": [
            {"sid": e["sid"], "status": "expired" if e["sid"] == "gone" else "active", "expire_in_s": 0}
            for e in b["sessions"]]}, None)
        ended = []
        s = self.sender(on_expired=ended.append)
        s.record("live")
        s.record("gone")
        s.flush()
        self.assertEqual(ended, ["gone"])

    def test_logout(self):
        s = self.sender()
        s.record("a")
        s.logout("a")
        self.assertTrue(s.flush())
        self.assertEqual([(m, p) for m, p, h, b in self.fake.requests],
                         [("POST", "/api/v1/activity"), ("POST", "/api/v1/sessions/a/logout")])

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_worker_gets_its_own_thread(self):
        """As gunicorn forks its sync workers after import: the child starts
        a thread of its own, with a fresh lock even if the parent held it at
        the fork, and does not send the parent's entries."""
        s = self.sender(interval=0.05)
        s.record("parent")
        wait_for("the parent's batch", self.fake.batches)
        s.queue.add(Entry("parent-2", time.monotonic()))
        sent = s.counts["sent"]
        s.queue._lock.acquire()  # held by the parent at the fork
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                s.record("child")
                if s._pid == os.getpid() and s._thread.is_alive():
                    deadline = time.monotonic() + 5
                    while s.counts["sent"] == sent and time.monotonic() < deadline:
                        time.sleep(0.01)
                    code = 0 if s.counts["sent"] == sent + 1 else 2
            finally:
                os._exit(code)
        s.queue._lock.release()
        deadline = time.monotonic() + 10
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                self.fail("the child hung")
            time.sleep(0.01)
        self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8, 0)
        wait_for("the parent's second batch", lambda: any(e["sid"] == "parent-2" for b in self.fake.batches() for e in b))
        sids = [e["sid"] for b in self.fake.batches() for e in b]
        self.assertEqual(sorted(sids), ["child", "parent", "parent-2"], "each sent once, by its own process")

    def test_what_is_queued_is_sent_at_exit(self):
        code = ("import sys; sys.path.insert(0, '.'); import presence\n"
                "s = presence.Sender(presence.Client(%r, %r), interval=3600)\n"
                "s.record('at-exit', uid='9')\n" % (self.fake.url, API_KEY))
        subprocess.run([sys.executable, "-c", code], check=True, timeout=20,
                       cwd=os.path.dirname(os.path.abspath(__file__)), env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.assertEqual(self.fake.batches(), [[{"sid": "at-exit", "idle_s": 0, "uid": "9"}]])

    def test_close_is_idempotent_and_stops_the_thread(self):
        s = self.sender(interval=0.05)
        s.record("a")
        thread = s._thread
        s.close()
        s.close()
        self.assertFalse(thread.is_alive())
        self.assertEqual(len(s.queue), 0)


if __name__ == "__main__":
    unittest.main()
