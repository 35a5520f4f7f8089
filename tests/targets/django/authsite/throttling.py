"""The base of every rate limit: DRF's SimpleRateThrottle with millisecond windows and two kinds of window.

- `history` (THROTTLE_WINDOWS default): DRF's own sliding request history kept in the cache; a refused request
  is not recorded.
- `clock`: fixed windows aligned to wall-clock multiples of their length, a cache counter keyed by
  `key:floor(now / window)` as django-ratelimit keeps them; every attempt counts.

DRF's history is read-modify-write, so all bookkeeping happens under one lock: with the single worker process
the server runs (the cache is per process), limits are exact however many requests are in flight.
"""

import hashlib
import math
import threading

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

BOOKKEEPING_LOCK = threading.RLock()


class WindowedRateThrottle(SimpleRateThrottle):
    message = 'Too many requests. Please try again later.'

    def parse_rate(self, rate):
        """`N/Mms` (settings.py builds these from the environment): N requests per M milliseconds."""
        if rate is None:
            return (None, None)
        number, period = rate.split('/')
        self.window_ms = int(period.removesuffix('ms'))
        return (int(number), self.window_ms / 1000)

    @property
    def clock_windows(self):
        return settings.THROTTLE_WINDOWS == 'clock'

    def key_for(self, ident):
        """A cache key for anything that identifies a client (hashed: idents may be long or odd text)."""
        digest = hashlib.sha256(str(ident).encode('utf-8', 'surrogatepass')).hexdigest()[:40]
        return self.cache_format % {'scope': self.scope, 'ident': digest}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)  # outside the lock: it may read the request body
        if self.key is None:
            return True
        with BOOKKEEPING_LOCK:
            self.now = self.timer()
            if self.clock_windows:
                return self.count_in_clock_window(add=1) <= self.num_requests
            self.history = self.load_history()
            if len(self.history) >= self.num_requests:
                return self.throttle_failure()
            return self.throttle_success()

    def load_history(self):
        """The key's request times inside the window, newest first (DRF's pruning)."""
        history = self.cache.get(self.key, [])
        while history and history[-1] <= self.now - self.duration:
            history.pop()
        return history

    def count_in_clock_window(self, add=0):
        """The count of the wall-clock window `now` falls in, after adding `add`."""
        now_ms = int(self.now * 1000)
        window = now_ms // self.window_ms
        self.window_ends = (window + 1) * self.window_ms / 1000
        bucket = f'{self.key}:{window}'
        if not add:
            return self.cache.get(bucket, 0)
        self.cache.add(bucket, 0, timeout=math.ceil(self.duration) + 1)
        return self.cache.incr(bucket, add)

    def wait(self):
        if self.clock_windows:
            return max(0.0, self.window_ends - self.now)
        return super().wait()
