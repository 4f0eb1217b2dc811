"""Small pieces the service benchmarks share: made-up organisation numbers, free ports, and
percentiles."""

from __future__ import annotations

import socket

from asfmatch.reference.org_numbers import luhn_check_digit


def org_number(serial: int, prefix: str) -> str:
    """A valid (Luhn) organisation number, unique per (prefix, serial)."""
    digits = f"{prefix}{serial:06d}"[:9]
    return f"{digits[:6]}-{digits[6:]}{luhn_check_digit(digits)}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
