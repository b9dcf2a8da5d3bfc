"""Counting requests per key in fixed time windows, in Django's cache (shared by all processes).

Used for the API's per-token rate limit and for the wrong-token check per address; sign-in
lock-out is django-axes' (see settings). `client_address` is the one place that decides which
address a request comes from, for both.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

KEY_PREFIX = "kehu:throttle"


class RateLimited(Exception):
    """Too many requests: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or the one the trusted proxies put last.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so with n proxies the n-th
    entry from the right is the one the first proxy saw; anything further left came from the
    client and can be forged.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def window_key(name: str, period: int, now: float) -> tuple[str, int]:
    """The cache key of the current window and the seconds left in it (at least 1)."""
    window = int(now // period)
    left = max(1, math.ceil((window + 1) * period - now))
    return f"{KEY_PREFIX}:{name}:{period}:{window}", left


def count_hit(name: str, *, limit: int, period: int) -> None:
    """Count one request under `name`; RateLimited when the window already had `limit` of them.

    A limit of 0 or less counts nothing. Increments are atomic on Redis; on the database cache
    two processes may occasionally count one hit between them (never more than the limit allows
    by much, never a request refused wrongly).
    """
    if limit <= 0:
        return
    key, left = window_key(name, period, time.time())
    cache.add(key, 0, timeout=period + 1)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr: this hit starts a new window
        cache.set(key, 1, timeout=period + 1)
        hits = 1
    if hits > limit:
        raise RateLimited(retry_after=left)


def is_over(name: str, *, limit: int, period: int) -> int:
    """Seconds until `name` may go on when its window already holds `limit` hits, else 0."""
    if limit <= 0:
        return 0
    key, left = window_key(name, period, time.time())
    return left if (cache.get(key) or 0) >= limit else 0


def forget_hits(name: str, *, period: int) -> bool:
    """Start `name`'s current window afresh (an administrator's unlock); whether it had hits."""
    key, _left = window_key(name, period, time.time())
    return bool(cache.delete(key))
