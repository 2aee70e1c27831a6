"""LocalCache: the cache of one process, for frameworks that have none.

The webhook and the sender record ended sessions in a cache that every
request then reads. Django brings its own; a Flask application may hand
presence.flask any object with get, set and delete (Flask-Caching's
Cache has them), and without one gets this: enough for one process, with
the limit docs/flask.md explains for several.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

DEFAULT_MAX_ENTRIES = 100_000


class LocalCache:
    """LocalCache is a bounded in-memory cache with expiry, in the part of
    Django's cache API presence uses. All methods may be called
    concurrently.

    Past max_entries, set drops the expired entries, then the oldest.
    clock is the time source, in seconds (default time.monotonic).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("presence: max_entries must be at least 1")
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._data: Dict[str, Tuple[float, Any]] = {}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            held = self._data.get(key)
            if held is None:
                return default
            if held[0] <= self.clock():
                del self._data[key]
                return default
            return held[1]

    def set(self, key: str, value: Any, timeout: Optional[float] = None) -> None:
        """Keeps value for timeout seconds (None: as long as it fits)."""
        now = self.clock()
        expires = float("inf") if timeout is None else now + timeout
        with self._lock:
            self._data.pop(key, None)  # a key set again is the newest
            self._data[key] = (expires, value)
            if len(self._data) > self.max_entries:
                for k in [k for k, (e, _) in self._data.items() if e <= now]:
                    del self._data[k]
                while len(self._data) > self.max_entries:
                    del self._data[next(iter(self._data))]

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)
