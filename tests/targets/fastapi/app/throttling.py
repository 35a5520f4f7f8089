"""Rate limiting: one slowapi `Limiter` (the `limits` library, in-memory storage) shared by every limit.

- The signup IP limit is a slowapi decorator on `POST /user` (`appmixer.py`), keyed by the client address.
- Limits a decorator cannot express use the same `limits` strategy and storage directly (`limiter.limiter`):
  the per-e-mail signup limit (its key comes from the validated body), Creditsafe's identical-invalid limit
  (keyed by client and body, counting only invalid answers) and the lockout (`lockout.py`).

The windows are configured in milliseconds, which `limits` has no granularity for, so this module adds one:
`RateLimitItemPerMillisecond` registers itself with `limits`, and strings such as `"3 per 2000 milliseconds"`
then parse like any other rate string. `RATELIMIT_STRATEGY` picks `moving-window` (the default: a key is refused
while the last window holds the limit's worth) or `fixed-window` (a counter that opens at a key's first request
and resets a window later).

Everything here runs on the event loop's thread and never awaits between a check and its bookkeeping, so each
limit is exact however many requests are in flight (the one uvicorn process holds all of the state).
"""

from limits import RateLimitItem
from limits.limits import Granularity
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.datastructures import Headers
from starlette.requests import Request

from .errors import TooManyRequests, retry_after
from .settings import get_settings


class RateLimitItemPerMillisecond(RateLimitItem):
    """`n per m milliseconds`: windows as the environment gives them, with no rounding to whole seconds."""

    GRANULARITY = Granularity(0.001, 'millisecond')

    def get_expiry(self) -> float:
        return self.multiples / 1000


def rate(amount: int, window_ms: int) -> str:
    return f'{amount} per {window_ms} milliseconds'


def _last_forwarded(headers: Headers) -> str | None:
    """The address the trusted proxy appended: the last entry of X-Forwarded-For."""
    forwarded = headers.get('x-forwarded-for', '')
    hops = [hop.strip() for hop in forwarded.split(',') if hop.strip()]
    return hops[-1] if hops else None


def client_address(request: Request) -> str:
    """The client a limit counts: the connection's peer (slowapi's `get_remote_address`), or with
    TRUST_FORWARDED_FOR=1 the hop the proxy in front appended to X-Forwarded-For."""
    if get_settings().trust_forwarded_for:
        return _last_forwarded(request.headers) or get_remote_address(request)
    return get_remote_address(request)


def client_address_of_scope(scope) -> str:
    """`client_address` for ASGI middleware, which has a scope rather than a Request."""
    if get_settings().trust_forwarded_for:
        forwarded = _last_forwarded(Headers(scope=scope))
        if forwarded:
            return forwarded
    client = scope.get('client')
    return client[0] if client and client[0] else '127.0.0.1'


def forwarded_for_or_remote_address(request: Request) -> str:
    """The `forwarded-for-key` variant's key: the first X-Forwarded-For entry, whoever wrote it, else the peer.
    (slowapi's own `get_ipaddr` looks for a header spelled `X_FORWARDED_FOR`, which HTTP clients never send,
    so it is this hand-written version that gets copied into apps.)"""
    forwarded = request.headers.get('x-forwarded-for')
    if forwarded:
        return forwarded.split(',')[0].strip()
    return get_remote_address(request)


settings = get_settings()
limiter = Limiter(
    key_func=client_address,
    strategy=settings.ratelimit_strategy,
    storage_uri='memory://',
    headers_enabled=False,  # Retry-After is written by the 429 handlers (errors.py); no X-RateLimit-* fields
)


class KeyedLimit:
    """A limit checked by hand with the limiter's `limits` strategy: `hit` counts a request and says whether it
    fitted; `test` only looks; `retry_after` is the whole seconds until a refused key fits again."""

    def __init__(self, namespace: str, amount: int, window_ms: int, message: str):
        self.item = RateLimitItemPerMillisecond(amount, window_ms, namespace=namespace)
        self.message = message

    @property
    def strategy(self):
        return limiter.limiter

    def hit(self, key: str) -> bool:
        return self.strategy.hit(self.item, key)

    def test(self, key: str) -> bool:
        return self.strategy.test(self.item, key)

    def reset_at(self, key: str) -> float:
        return self.strategy.get_window_stats(self.item, key).reset_time

    def refusal(self, key: str) -> TooManyRequests:
        return TooManyRequests(self.message, retry_after(self.reset_at(key)))

    def count(self, key: str) -> None:
        """Counts one request; refuses it (429) when the key has used up the limit."""
        if not self.hit(key):
            raise self.refusal(key)
