"""Fixed-window counters in this process's memory: the rate limiter's fallback while Redis is
unavailable, so limits still hold (per process, not shared) instead of switching off."""

from __future__ import annotations

# Beyond this many identities in one window, the oldest counters are dropped: an attacker
# cycling addresses cannot grow memory without bound (those identities start again at zero).
_MAX_IDENTITIES = 100_000


class LocalWindows:
    """Per-identity counts for the current window only."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, identity: str, window_number: int) -> int:
        """Count one request by `identity` in `window_number`; the count so far."""
        if window_number != self._window:
            self._window = window_number
            self._counts = {}
        used = self._counts.get(identity, 0) + 1
        if used == 1 and len(self._counts) >= _MAX_IDENTITIES:
            del self._counts[next(iter(self._counts))]
        self._counts[identity] = used
        return used
