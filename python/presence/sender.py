"""Sending a process's activity to presence, off the request path.

Sender is what a web process holds: record and logout only queue, in
microseconds and without a network call, and a daemon thread sends the
queue to POST /api/v1/activity at least once a second, one entry per
session, in batches of at most 1,000. While presence cannot be reached
the entries wait (bounded), the thread tries again (0.1 s after a try
that did not reach presence, so that a presence that restarts hears at
once of the activity that waited; with jittered exponential backoff up to
2 s while presence answers errors), and the trouble is logged once a
minute; requests are never failed or slowed by it. The thread starts at the first record in each
process, so a server that forks its workers after import (gunicorn's
sync workers) gets one per worker, and what is queued is sent once more
when the interpreter exits.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import random
import threading
import time
import weakref
from typing import Any, Callable, Deque, Dict, List, Optional

from .activity import DEFAULT_MAX_SESSIONS, ActivityQueue, Entry
from .api import MAX_BATCH, APIError, Client, Unreachable

log = logging.getLogger("presence")

MAX_LOGOUTS = 10_000  # logouts waiting; each is one small request
LOG_EVERY = 60.0  # seconds between two reports of the same trouble
# While presence cannot be reached, a try is repeated this soon, so that
# the activity that waited reaches a presence that is back at once, well
# within the recovery grace it gives such reports. That costs
# presence nothing: a refused connection never reaches it (nothing listens
# there, it is restarting; a proxy in front answers 502 or 504 for it), and
# a try that hangs has already waited its timeout, so each process keeps
# at most one try open. Answers of presence itself (503, 401, ...) back off
# exponentially instead.
QUICK_RETRY = 0.1  # seconds, jittered by up to half


class Sender:
    """Sender queues what the application saw and sends it to presence
    from a thread of its own. record and logout may be called from any
    thread, and never block on the network.

    client is the API Client. interval is the seconds between two sends
    (default 1). max_sessions bounds the sessions waiting (default
    100,000). backoff_cap is the longest wait between two tries while
    presence answers errors, a 503's Retry-After included (default 2 s,
    well within the recovery grace during which presence, back from an
    outage, waits for what it missed); a try that did not reach presence
    is repeated after about 0.1 s. on_expired
    is called, in the sender's thread, with the sid of each session
    presence answers is expired: the application can refuse its next
    request without waiting for the webhook. clock is the monotonic clock
    entries are timed with (default time.monotonic). exit_timeout is how
    long the last send may take at interpreter exit (default 2 s).
    """

    def __init__(
        self,
        client: Client,
        *,
        interval: float = 1.0,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_batch: int = MAX_BATCH,
        backoff_cap: float = 2.0,
        on_expired: Optional[Callable[[str], None]] = None,
        clock: Callable[[], float] = time.monotonic,
        exit_timeout: float = 2.0,
    ) -> None:
        if interval <= 0 or backoff_cap <= 0:
            raise ValueError("presence: interval and backoff_cap must be positive")
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError("presence: max_batch must be 1 to %d" % MAX_BATCH)
        self.client = client
        self.interval = interval
        self.max_batch = max_batch
        self.backoff_cap = backoff_cap
        self.on_expired = on_expired
        self.clock = clock
        self.exit_timeout = exit_timeout
        self.queue = ActivityQueue(max_sessions)
        self.counts: Dict[str, int] = collections.Counter()
        self._init_process_state()
        self._closed = False
        atexit.register(self.close)
        _after_fork(self)

    def _init_process_state(self) -> None:
        """The state that belongs to one process: the thread, its locks,
        the logouts waiting, the trouble being reported."""
        self._pid: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._logout_lock = threading.Lock()
        self._logouts: Dict[str, str] = {}
        self._failures = 0  # tries in a row that failed
        self._trouble = _Trouble()

    def _forked(self) -> None:
        """Runs in a child just forked: its copy of the queue and locks may
        be mid-use by a thread the fork did not copy, and the parent sends
        what it queued, so the child starts afresh."""
        self.queue.reset()
        self._init_process_state()

    # --- the request path ---------------------------------------------------

    def record(
        self,
        sid: str,
        *,
        at: Optional[float] = None,
        uid: Optional[str] = None,
        warn_after: Optional[int] = None,
        expire_after: Optional[int] = None,
        end_at: Optional[int] = None,
    ) -> None:
        """Queues activity of session sid at monotonic time at (default
        now), with the uid, limits and absolute end (end_at, a Unix time)
        presence should know it by. An unknown sid is a login for
        presence. Never blocks on the network; a session that does not fit
        in the queue is dropped and counted."""
        self._ensure_thread()
        self.queue.add(Entry(sid, self.clock() if at is None else at, uid, warn_after, expire_after, end_at))

    def logout(self, sid: str, reason: str = "logout") -> None:
        """Queues the end of sid in every tab (reason "logout" or
        "revoked"). Never blocks on the network."""
        self._ensure_thread()
        with self._logout_lock:
            if sid in self._logouts or len(self._logouts) < MAX_LOGOUTS:
                self._logouts[sid] = reason
            else:
                self._trouble.dropped += 1

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid or self._closed:
            return
        with self._start_lock:
            if self._pid == pid or self._closed:
                return
            t = threading.Thread(target=self._run, name="presence-sender", daemon=True)
            t.start()
            self._thread, self._pid = t, pid

    # --- the sender's thread ------------------------------------------------

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.wait(delay):
            try:
                ok = self.flush()
            except Exception:  # a bug must not stop the sending for good
                log.exception("presence: sending activity failed")
                ok = False
            delay = self.interval if ok else self._backoff()

    def _backoff(self) -> float:
        """The wait before the next try: about QUICK_RETRY after a try that
        did not reach presence; else exponential from interval, capped,
        with jitter over its upper half so that workers that lost presence
        together do not come back together; what a 503's Retry-After
        asked if longer, up to the cap, since what waits must reach
        presence within its recovery grace."""
        if self._trouble.quick:
            return random.uniform(QUICK_RETRY / 2, QUICK_RETRY)
        step = min(self.backoff_cap, self.interval * 2 ** min(self._failures, 16))
        delay = random.uniform(step / 2, step)
        retry_after = self._trouble.retry_after
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_cap))
        return delay

    def flush(self) -> bool:
        """Sends what is queued now, in the caller's thread; returns
        whether all of it reached presence (False leaves it queued).
        The sender's thread calls it every interval; tests and close
        call it directly."""
        with self._send_lock:
            ok = self._send_activity() and self._send_logouts()
            if ok:
                if self._failures:
                    log.info("presence: reachable again; the activity that waited is sent")
                self._failures = 0
                self._trouble.retry_after = None
                self._trouble.quick = False
            else:
                self._failures += 1
            self._trouble.report(len(self.queue), self.queue.take_dropped())
            return ok

    def _send_activity(self) -> bool:
        entries = self.queue.take()
        chunks: Deque[List[Entry]] = collections.deque(
            entries[i:i + self.max_batch] for i in range(0, len(entries), self.max_batch))
        while chunks:
            chunk = chunks.popleft()
            try:
                answers = self.client.activity([e.wire(self.clock()) for e in chunk])
            except APIError as e:
                if e.status == 400 and e.index is not None and 0 <= e.index < len(chunk):
                    # The named entry alone is wrong: drop it, send the
                    # rest at once.
                    bad = chunk.pop(e.index)
                    self.counts["refused"] += 1
                    log.warning("presence: refused the activity of session %s (%s); dropped it", bad.sid, e.message)
                    if chunk:
                        chunks.appendleft(chunk)
                    continue
                if e.status == 413 and len(chunk) > 1:
                    half = len(chunk) // 2
                    chunks.appendleft(chunk[half:])
                    chunks.appendleft(chunk[:half])
                    continue
                if e.status in (400, 413):
                    # Nothing to learn from a retry of the same request.
                    self.counts["refused"] += len(chunk)
                    log.error("presence: refused a batch of %d sessions (%s); dropped it", len(chunk), e)
                    continue
                # Unreachable, 401, 404, 5xx: the entries wait for the next
                # try.
                for c in chunks:
                    chunk.extend(c)
                self.queue.put_back(chunk)
                self._trouble.fail(e)
                return False
            self.counts["sent"] += len(chunk)
            self._expired([e.sid for e, a in zip(chunk, answers) if isinstance(a, dict) and a.get("status") == "expired"])
        return True

    def _send_logouts(self) -> bool:
        with self._logout_lock:
            logouts, self._logouts = self._logouts, {}
        items = list(logouts.items())
        for i, (sid, reason) in enumerate(items):
            try:
                self.client.logout(sid, reason)
            except APIError as e:
                if e.status in (400, 404, 413):
                    log.warning("presence: refused the logout of session %s (%s); dropped it", sid, e.message)
                    continue
                with self._logout_lock:
                    for sid2, reason2 in items[i:]:
                        self._logouts.setdefault(sid2, reason2)
                self._trouble.fail(e)
                return False
            self.counts["logouts"] += 1
        return True

    def _expired(self, sids: List[str]) -> None:
        if not sids or self.on_expired is None:
            return
        for sid in sids:
            try:
                self.on_expired(sid)
            except Exception:
                log.exception("presence: recording the end of session %s failed", sid)

    # --- the end ------------------------------------------------------------

    def close(self, timeout: Optional[float] = None) -> None:
        """Stops the thread and sends what is queued one last time,
        within timeout seconds (default exit_timeout). Idempotent; called
        at interpreter exit."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        timeout = self.exit_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._stop.set()
        thread = self._thread
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout)
        if not len(self.queue) and not self._logouts:
            return
        if self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            self._send_lock.release()
            old = self.client.timeout
            self.client.timeout = max(0.1, min(old, deadline - time.monotonic()))
            try:
                self.flush()
            finally:
                self.client.timeout = old


class _Trouble:
    """_Trouble counts what went wrong and reports it at most once a
    minute: the first failure at once, then a summary."""

    def __init__(self) -> None:
        self.failures = 0
        self.dropped = 0
        self.last_error: Optional[APIError] = None
        self.retry_after: Optional[float] = None
        self.quick = False  # the last try was refused or cut off
        self._logged_at: Optional[float] = None

    def fail(self, e: APIError) -> None:
        self.failures += 1
        self.last_error = e
        self.retry_after = e.retry_after
        # A proxy's own answer (no presence code) means presence is away.
        self.quick = isinstance(e, Unreachable) or (e.status in (502, 503, 504) and not e.code)

    def report(self, waiting: int, dropped: int) -> None:
        self.dropped += dropped
        if not self.failures and not self.dropped:
            return
        now = time.monotonic()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY:
            return
        self._logged_at = now
        log.warning(
            "presence: %d tries to send activity failed (last: %s); %d sessions wait, %d dropped (queue full) "
            "since the last report; requests go on unaffected",
            self.failures, self.last_error, waiting, self.dropped)
        self.failures = self.dropped = 0


def _after_fork(sender: Sender) -> None:
    """Resets sender in every child forked from now on. It holds the
    sender weakly, so that senders that tests throw away are collected."""
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(sender)

    def child() -> None:
        s = ref()
        if s is not None:
            s._forked()

    os.register_at_fork(after_in_child=child)
