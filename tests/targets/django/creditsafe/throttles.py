"""The two Creditsafe Connect limits on /authenticate.

- The lockout: every request counts, refused ones and 429s included; request number threshold + 1 inside
  the window locks the client out for a full window from that request (requests during the lockout count as
  well, so a client that keeps hammering stays locked out).
- Identical invalid requests: per client address and body (JSON compared regardless of key order and
  whitespace), the limit's worth are answered 401, then the same request gets 429 until the window ends.
  Only invalid answers count, so valid credentials are never refused by it.
"""

import json

from django.conf import settings

from authsite.throttling import BOOKKEEPING_LOCK, WindowedRateThrottle

LOCKOUT_MESSAGE = 'Too many requests to the authenticate endpoint. Please try again later.'
IDENTICAL_INVALID_MESSAGE = 'Too many identical invalid requests. Please try again later.'


def canonical_json(value):
    """The same text for the same JSON whatever its key order or whitespace."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


class LockoutThrottle(WindowedRateThrottle):
    scope = 'creditsafe_lockout'
    message = LOCKOUT_MESSAGE

    def get_cache_key(self, request, view):
        return self.key_for(self.get_ident(request))

    @property
    def lock_key(self):
        return f'{self.key}:locked-until'

    def allow_request(self, request, view):
        self.key = self.get_cache_key(request, view)
        with BOOKKEEPING_LOCK:
            self.now = self.timer()
            earlier = self.count_request()
            self.locked_until = self.cache.get(self.lock_key)
            if self.locked_until is not None and self.locked_until > self.now:
                return False
            over = (earlier > self.num_requests if settings.TARGET_FAULT == 'lockout-threshold-plus-one'
                    else earlier >= self.num_requests)
            if over:
                self.locked_until = self.now + self.duration
                self.cache.set(self.lock_key, self.locked_until, self.duration)
                return False
            return True

    def count_request(self):
        """Records this request; returns how many the window held before it."""
        if self.clock_windows:
            return self.count_in_clock_window(add=1) - 1
        self.history = self.load_history()
        earlier = len(self.history)
        self.history.insert(0, self.now)
        del self.history[self.num_requests + 2:]  # enough to decide; a flood cannot grow it
        self.cache.set(self.key, self.history, self.duration)
        return earlier

    def forget_request(self):
        """Takes this request back out of the count (the `successes-not-counted` variant)."""
        with BOOKKEEPING_LOCK:
            if self.clock_windows:
                self.count_in_clock_window(add=-1)
                return
            history = self.cache.get(self.key, [])
            if self.now in history:
                history.remove(self.now)
                self.cache.set(self.key, history, self.duration)

    def wait(self):
        remaining = max(0.0, self.locked_until - self.now)
        if settings.TARGET_FAULT == 'retry-after-ms':
            return remaining * 1000  # milliseconds, like the window setting, sent as if they were seconds
        return remaining


class IdenticalInvalidThrottle(WindowedRateThrottle):
    """Checked by the view itself: `allow_request` only looks, `record_invalid` counts an invalid answer."""
    scope = 'creditsafe_invalid'
    message = IDENTICAL_INVALID_MESSAGE

    @property
    def no_cooloff(self):
        return settings.TARGET_FAULT == 'invalid-no-cooloff'

    def get_cache_key(self, request, view):
        return self.key_for(f'{self.get_ident(request)} {canonical_json(request.data)}')

    def allow_request(self, request, view):
        self.key = self.get_cache_key(request, view)
        with BOOKKEEPING_LOCK:
            self.now = self.timer()
            return self.invalid_so_far() < self.num_requests

    def record_invalid(self):
        """Counts one invalid answer for the request; False when the limit was already used up (so requests
        checked at the same time cannot all slip past)."""
        with BOOKKEEPING_LOCK:
            self.now = self.timer()
            if self.invalid_so_far() >= self.num_requests:
                return False
            if self.clock_windows and not self.no_cooloff:
                self.count_in_clock_window(add=1)
            else:
                self.history.insert(0, self.now)
                # no cool-off: the failures are kept with no expiry, as django-axes does without AXES_COOLOFF_TIME
                self.cache.set(self.key, self.history, None if self.no_cooloff else self.duration)
            return True

    def invalid_so_far(self):
        if self.no_cooloff:
            self.history = self.cache.get(self.key, [])
            return len(self.history)
        if self.clock_windows:
            return self.count_in_clock_window()
        self.history = self.load_history()
        return len(self.history)

    def wait(self):
        if self.no_cooloff:
            return self.duration
        return super().wait()
