"""The webhook SSRF guard refuses every IPv6 spelling of a non-public IPv4 address and every
special-purpose IPv6 range, and still lets public addresses (also through NAT64) through."""

from __future__ import annotations

import pytest

from asfmatch.storage.outbound import address_problem

# Each form from issue 11 item 7, then their relatives: every embedding of loopback, the cloud
# metadata address and a private address, and the special-purpose ranges.
REFUSED = [
    "64:ff9b::a9fe:a9fe",  # 169.254.169.254 through the NAT64 well-known prefix
    "::127.0.0.1",  # IPv4-compatible
    "::169.254.169.254",
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "::ffff:0:7f00:1",  # SIIT IPv4-translated
    "fec0::1",  # site-local
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::ffff:0:a9fe:a9fe",
    "::ffff:0:5db8:d70e",  # SIIT is never a destination, even of a public address
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::c0a8:101",
    "64:ff9b::6440:1",  # 100.64.0.1, carrier-grade NAT
    "64:ff9b:1::5db8:d70e",
    "2002:a9fe:a9fe::1",
    "2002:c0a8:101::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "::a00:1",
    "::",
    "::1",
    "fe80::1%eth0",
    "fec0:1::1",
    "feff::1",
    "fd00::1",
    "fc00::1",
    "ff02::1",
    "100::1",
    "2001:db8::1",
    "3fff::1",
    "5f00::1",
    "127.0.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.0.1",
    "192.0.0.8",
    "192.0.0.200",
    "192.0.2.1",
    "192.88.99.1",
    "198.18.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "224.0.0.1",
]

PUBLIC = [
    "93.184.215.14",
    "2606:4700:4700::1111",
    "64:ff9b::5db8:d70e",  # 93.184.215.14 through NAT64 (a DNS64 resolver hands these out)
    "2002:5db8:d70e::1",  # 6to4 of a public address
]


@pytest.mark.parametrize("address", REFUSED)
def test_every_non_public_form_is_refused(address: str) -> None:
    assert address_problem(address) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass_in_any_spelling(address: str) -> None:
    assert address_problem(address) is None


def test_an_embedded_address_is_named_in_the_reason() -> None:
    assert address_problem("64:ff9b::a9fe:a9fe") == (
        "a link-local address (169.254.169.254 inside 64:ff9b::a9fe:a9fe)"
    )
