"""The activity a process saw and has not told presence yet.

ActivityQueue holds one entry per session: the latest activity, with the
uid and limits presence needs to learn the session again if it forgot it.
Adding is a dict update under a lock, cheap enough for every request; the
Sender takes the whole queue at once to send it. It is bounded: past
max_sessions new sessions are dropped and counted, while the sessions it
holds keep being updated.
"""

from __future__ import annotations

import threading
from typing import Dict, List, Optional, Tuple

DEFAULT_MAX_SESSIONS = 100_000


class Entry:
    """Entry is what the queue holds for one session.

    at is the monotonic time (time.monotonic()) of the latest activity;
    uid, warn_after, expire_after and end_at (the absolute end, a Unix
    time) are the latest known, None when not given.
    """

    __slots__ = ("sid", "at", "uid", "warn_after", "expire_after", "end_at")

    def __init__(
        self,
        sid: str,
        at: float,
        uid: Optional[str] = None,
        warn_after: Optional[int] = None,
        expire_after: Optional[int] = None,
        end_at: Optional[int] = None,
    ) -> None:
        self.sid = sid
        self.at = at
        self.uid = uid
        self.warn_after = warn_after
        self.expire_after = expire_after
        self.end_at = end_at

    def merge(self, newer: "Entry") -> None:
        """Takes in what newer says: the later activity (a stale report
        never moves it back, as in presence), and its uid and limits where
        it has them."""
        if newer.at > self.at:
            self.at = newer.at
        if newer.uid is not None:
            self.uid = newer.uid
        if newer.warn_after is not None:
            self.warn_after = newer.warn_after
        if newer.expire_after is not None:
            self.expire_after = newer.expire_after
        if newer.end_at is not None:
            self.end_at = newer.end_at

    def fill_in(self, older: "Entry") -> None:
        """Takes in what an older entry of the same session says: its
        activity if later (it never is, unless clocks disagree), and its
        uid and limits only where this one has none."""
        if older.at > self.at:
            self.at = older.at
        if self.uid is None:
            self.uid = older.uid
        if self.warn_after is None:
            self.warn_after = older.warn_after
        if self.expire_after is None:
            self.expire_after = older.expire_after
        if self.end_at is None:
            self.end_at = older.end_at

    def wire(self, now: float) -> Dict[str, object]:
        """The entry as POST /api/v1/activity takes it, with idle_s
        counted from now (monotonic), rounded down: a report never makes
        the person look idler than they were."""
        out: Dict[str, object] = {"sid": self.sid, "idle_s": max(0, int(now - self.at))}
        if self.uid is not None:
            out["uid"] = self.uid
        if self.warn_after is not None:
            out["warn_after"] = self.warn_after
        if self.expire_after is not None:
            out["expire_after"] = self.expire_after
        if self.end_at is not None:
            out["end_at"] = self.end_at
        return out

    def __repr__(self) -> str:
        return "Entry(%r, at=%r, uid=%r, warn_after=%r, expire_after=%r, end_at=%r)" % (
            self.sid, self.at, self.uid, self.warn_after, self.expire_after, self.end_at)


class ActivityQueue:
    """ActivityQueue is a bounded map of session id to Entry. All methods
    may be called concurrently."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError("presence: max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._entries: Dict[str, Entry] = {}
        self._dropped = 0

    def add(self, entry: Entry) -> bool:
        """Merges entry into the queue; returns False if it was dropped
        because the queue is full of other sessions."""
        with self._lock:
            held = self._entries.get(entry.sid)
            if held is not None:
                held.merge(entry)
                return True
            if len(self._entries) >= self.max_sessions:
                self._dropped += 1
                return False
            self._entries[entry.sid] = entry
            return True

    def take(self) -> List[Entry]:
        """Empties the queue and returns what it held, oldest session
        first."""
        with self._lock:
            entries, self._entries = self._entries, {}
        return list(entries.values())

    def put_back(self, entries: List[Entry]) -> None:
        """Returns entries that could not be sent, merging them with what
        arrived meanwhile (the newer entry's uid and limits win); those
        that no longer fit are dropped and counted."""
        with self._lock:
            for e in entries:
                held = self._entries.get(e.sid)
                if held is not None:
                    held.fill_in(e)
                elif len(self._entries) >= self.max_sessions:
                    self._dropped += 1
                else:
                    self._entries[e.sid] = e

    def take_dropped(self) -> int:
        """Returns how many sessions were dropped since the last call."""
        with self._lock:
            n, self._dropped = self._dropped, 0
        return n

    def reset(self) -> None:
        """Forgets everything and makes a new lock. Only for a process
        just forked, whose copy of the lock may be held by a thread that
        the fork did not copy; the parent sends what it queued."""
        self._lock = threading.Lock()
        self._entries = {}
        self._dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> Tuple[Entry, ...]:
        """The entries held now, for tests and diagnostics."""
        with self._lock:
            return tuple(self._entries.values())
