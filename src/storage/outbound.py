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


def address_problem(address: str) -> str | None:
    """Why we refuse to connect to this IP address, or None if it is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Order matters: loopback and link-local ranges are also "private" to the ipaddress module.
    if ip.is_loopback:
        return "a loopback address"
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
