"""The one cache class: a bounded least-recently-used mapping, shared by a process's threads.

Lien caches only values whose key holds every input they are made from (a card's row, a feed's
ETag), so nothing is ever invalidated: a change makes a new key, and old ones fall off the end.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class LRUCache:
    """At most `size` values by key; putting one more drops the one used least recently."""

    def __init__(self, size: int):
        self.size = size
        self.hits = self.misses = 0
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        """The value cached for `key` (now the most recent), or None."""
        with self._lock:
            value = self._values.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        """The value cached for `key`, or `make()`'s, cached from now on (made outside the lock:
        two threads may both make a new key's value, harmlessly)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.hits = self.misses = 0
