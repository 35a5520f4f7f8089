"""Creditsafe Connect's overall threshold: more than CREDITSAFE_LOCKOUT_THRESHOLD requests to `/authenticate`
within CREDITSAFE_LOCKOUT_WINDOW_MS lock the client out for a full window.

`LockoutMiddleware` checks it before routing, so every request counts: malformed, refused, answered 429 by the
identical-invalid limit, successful sign-ins alike. The count is a `limits` limit of `threshold` per window;
the request it refuses triggers the lockout, which lasts a full window from that request whatever the count
does meanwhile. Requests during the lockout are counted too while the window has room (a moving window frees
room as older requests age out), so a client that keeps sending at that rate is locked out again as soon as the
lockout ends.
"""

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import TooManyRequests, error_response, retry_after
from .throttling import KeyedLimit, client_address_of_scope

LOCKOUT_MESSAGE = 'Too many requests to the authenticate endpoint. Please try again later.'


class Lockout:
    # Expired lockouts are forgotten once this many clients have been locked out.
    PRUNE_AT = 10_000

    def __init__(self, threshold: int, window_ms: int, fault: str | None = None):
        self.counter = KeyedLimit('creditsafe-lockout', threshold, window_ms, LOCKOUT_MESSAGE)
        self.window_s = window_ms / 1000
        self.locked_until: dict[str, float] = {}
        self.fault = fault

    def check(self, client: str) -> TooManyRequests | None:
        """Counts one request from `client`; the refusal to answer with when the client is locked out."""
        fitted = self.counter.hit(client)
        if self.fault == 'lockout-is-the-limit':
            # No lockout of its own: refused only while the window is full, so the refusals stop as soon as the
            # oldest counted requests age out, less than a window after the trigger.
            return None if fitted else self.counter.refusal(client)
        now = time.time()
        until = self.locked_until.get(client)
        if until is not None and until > now:
            return TooManyRequests(LOCKOUT_MESSAGE, retry_after(until, now))
        if not fitted:
            if len(self.locked_until) >= self.PRUNE_AT:
                self.locked_until = {key: end for key, end in self.locked_until.items() if end > now}
            until = now + self.window_s
            self.locked_until[client] = until
            return TooManyRequests(LOCKOUT_MESSAGE, retry_after(until, now))
        return None

    def count(self, client: str) -> None:
        """`check` for code inside a route: raises the refusal."""
        refusal = self.check(client)
        if refusal is not None:
            raise refusal


class LockoutMiddleware:
    def __init__(self, app: ASGIApp, lockout: Lockout, path: str = '/authenticate'):
        self.app = app
        self.lockout = lockout
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] == 'http' and scope['path'] == self.path:
            refusal = self.lockout.check(client_address_of_scope(scope))
            if refusal is not None:
                response = error_response(refusal.status_code, refusal.detail, refusal.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
