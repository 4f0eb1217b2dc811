"""Who the client is, for per-address rate limits: the connection's peer, unless that peer is a
configured reverse proxy (ASFMATCH_TRUSTED_PROXIES), in which case X-Forwarded-For says who it
forwarded for. Trusting the header from anyone else would let a client name a fresh address on
every request and never meet its limit."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The address to count: the peer, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For (read right to left) that is not itself a trusted proxy."""
    if not proxies or not forwarded_for:
        # The common case, decided without parsing the address (every request asks).
        return peer or "unknown"
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None or not _trusted(peer_ip, proxies):
        return peer or "unknown"
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            # A garbled entry: whatever lies left of it was written by the client.
            return str(peer_ip)
        if not _trusted(ip, proxies):
            return str(ip)
    # Only proxies: the request started at the leftmost one.
    first = _ip(hops[0]) if hops else None
    return str(first or peer_ip)
