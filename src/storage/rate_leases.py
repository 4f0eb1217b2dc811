"""Rate-limit tokens taken from the shared Redis counter ahead of use, so that a busy caller's
requests are counted in this process's memory and only every so many of them cost a Redis call.

A lease is a run of consecutive counter values (tokens) that Redis handed to this process: the
request that takes token n is the caller's n-th in the window, whichever process served the
others, so "allowed" (n ≤ limit) and the RateLimit headers mean what they mean without leases.
What a lease costs in accuracy: tokens another process holds but has not used yet are counted
already, so near the limit a caller can be refused up to those tokens early, and tokens left
when the window ends are lost. Leases therefore start at one token and grow while the caller
keeps coming, and never exceed a sixteenth of what is left of the limit: a caller far from its
limit costs one Redis call per `MAX_LEASE` requests, one near it is counted one by one. Once a
caller is past its limit, its further requests in the window are refused here without asking:
the counter only grows within a window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MAX_LEASE = 64
# The share of what is left of a limit one lease may take.
_SHARE_OF_REMAINING = 16
# Beyond this many identities in one window, the oldest leases are dropped (as in
# storage/local_limits.py: an attacker cycling addresses cannot grow memory without bound).
_MAX_IDENTITIES = 100_000


@dataclass
class _Lease:
    # Runs of tokens [next, last] this process may hand out, oldest first: concurrent requests
    # that found none may each have been granted one.
    runs: deque[list[int]]
    # The size of the last lease granted, which the next one doubles.
    size: int
    # Past the limit: every further token would be too, so none is asked for.
    exhausted: bool
    # The highest token granted so far.
    last: int


class Leases:
    """This process's unused tokens per identity, for the current window only."""

    def __init__(self) -> None:
        self._window = -1
        self._leases: dict[str, _Lease] = {}

    def _current(self, window_number: int) -> dict[str, _Lease]:
        if window_number != self._window:
            self._window = window_number
            self._leases = {}
        return self._leases

    def clear(self) -> None:
        """Drop every lease (the counters they came from were deleted)."""
        self._leases = {}

    def peek(self, identity: str, window_number: int) -> int | None:
        """The token the identity's next request would take here; None: none left."""
        lease = self._current(window_number).get(identity)
        if lease is None:
            return None
        if lease.runs:
            return lease.runs[0][0]
        return lease.last if lease.exhausted else None

    def take(self, identity: str, window_number: int) -> int | None:
        """Take the identity's next token; None: none left (ask Redis for a lease)."""
        lease = self._current(window_number).get(identity)
        if lease is None:
            return None
        if not lease.runs:
            return lease.last if lease.exhausted else None
        run = lease.runs[0]
        token = run[0]
        if token == run[1]:
            lease.runs.popleft()
        else:
            run[0] = token + 1
        return token

    def wanted(self, identity: str, window_number: int, limit: int) -> int:
        """How many tokens to ask Redis for: twice the last lease, within MAX_LEASE and a
        sixteenth of what the leases so far left of the limit; one for a new caller."""
        lease = self._current(window_number).get(identity)
        if lease is None:
            return 1
        left = limit - lease.last
        return max(1, min(MAX_LEASE, 2 * lease.size, left // _SHARE_OF_REMAINING))

    def granted(self, identity: str, window_number: int, last: int, size: int, limit: int) -> int:
        """Redis counted `size` tokens ending at `last` for this process; takes the first."""
        leases = self._current(window_number)
        first = last - size + 1
        lease = leases.get(identity)
        if lease is None:
            if len(leases) >= _MAX_IDENTITIES:
                del leases[next(iter(leases))]
            lease = leases[identity] = _Lease(runs=deque(), size=size, exhausted=False, last=last)
        lease.size = size
        lease.last = max(lease.last, last)
        if first > limit:
            lease.exhausted = True
        elif first < last:
            lease.runs.append([first + 1, last])
        return first
