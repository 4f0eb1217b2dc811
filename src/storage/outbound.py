"""Where the service may send requests on a supplier's behalf: webhook URLs are checked when they
are registered and again, address by address, just before every delivery (SSRF guard)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

_SCHEMES = {"http": 80, "https": 443}
# Resolution is part of the delivery's time budget but must not eat all of it.
_RESOLVE_SECONDS = 5.0


class Refused(Exception):
    """The URL is malformed, does not resolve, or points somewhere we do not send to."""


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute http(s) URL without credentials; Refused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise Refused("use an http:// or https:// URL")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not allowed; verify the signature instead")
    if parts.fragment:
        raise Refused("a webhook URL has no #fragment")
    return scheme, parts.hostname, port or _SCHEMES[scheme]


# Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries) that this Python's
# `is_global` still calls global, or that need refusing whatever they embed.
_NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in ("192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4")
)
_NOT_PUBLIC_V6 = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("fec0::/10", "a site-local address"),
        # IPv4-compatible (deprecated, RFC 4291) and SIIT's IPv4-translated addresses are
        # never valid destinations on the Internet, whatever they embed.
        ("::/96", "an IPv4-compatible address"),
        ("::ffff:0:0:0/96", "an IPv4-translated (SIIT) address"),
        # Local-use NAT64 (RFC 8215): translated inside the operator's own network.
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo), if any: a
    host reached through it is that IPv4 host, so it must pass the IPv4 rules."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        server, client = ip.teredo
        # The client address is the one traffic ends up at; a bad server is refused as well.
        return client if _v4_problem(client) is not None else server
    return None


def _v4_problem(ip: ipaddress.IPv4Address) -> str | None:
    # Order matters: loopback and link-local ranges are also "private" to the ipaddress module.
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast:
        return "a multicast address"
    if not ip.is_global or any(ip in net for net in _NOT_PUBLIC_V4):
        return "not a public address"
    return None


def address_problem(address: str) -> str | None:
    """Why we refuse to connect to this IP address, or None if it is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_problem(ip)
    inner = embedded_ipv4(ip)
    if inner is not None and (problem := _v4_problem(inner)) is not None:
        return problem if ip.ipv4_mapped is not None else f"{problem} ({inner} inside {ip})"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "not a public address"
    for net, why in _NOT_PUBLIC_V6:
        if ip in net:
            return why
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast:
        return "a multicast address"
    if not ip.is_global:
        return "not a public address"
    return None


async def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """One address to connect to; Refused if the name does not resolve or any of its addresses
    is not public (unless allowed), since a later lookup could pick that one."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise Refused(f"host {host!r} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Refused(f"host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise Refused(f"{host} resolves to {address}, {problem}")
    return addresses[0]


def pinned_request(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL rewritten to the checked address, with the Host header and TLS server name of
    the original, so the connection goes where we checked and certificates still verify."""
    original = httpx.URL(url)
    host_header = original.netloc.decode("ascii")
    return (
        original.copy_with(host=address),
        {"host": host_header},
        {"sni_hostname": original.raw_host.decode("ascii")},
    )
