"""The client address behind reverse proxies, read from the right of ``X-Forwarded-For``."""

from __future__ import annotations

import pytest

from camera.site.clients import client_address, parse_networks

LOCAL = parse_networks(["127.0.0.1", "::1"])
HOME_PROXIES = parse_networks(["127.0.0.1", "192.168.1.0/24"])


@pytest.mark.parametrize(
    ("remote", "header", "trusted", "expected"),
    [
        # No proxy trusted: the header is anyone's word.
        ("192.168.1.5", ["1.2.3.4"], [], "192.168.1.5"),
        # A trusted proxy: the address it appended is the client.
        ("127.0.0.1", ["10.0.0.7"], LOCAL, "10.0.0.7"),
        # The client's own claim sits left of what the proxy appended and is never reached.
        ("127.0.0.1", ["6.6.6.6, 10.0.0.7"], LOCAL, "10.0.0.7"),
        # Two proxies the owner trusts: skip both.
        ("127.0.0.1", ["6.6.6.6, 10.0.0.7, 192.168.1.2"], HOME_PROXIES, "10.0.0.7"),
        # Several header lines read as one list, in order.
        ("127.0.0.1", ["6.6.6.6", "10.0.0.7"], LOCAL, "10.0.0.7"),
        # A peer that is not trusted: its header is ignored.
        ("10.0.0.9", ["6.6.6.6"], LOCAL, "10.0.0.9"),
        # No header from a trusted proxy: the proxy itself.
        ("127.0.0.1", [], LOCAL, "127.0.0.1"),
        # Garbage where the proxy should have written an address: the last believable hop.
        ("127.0.0.1", ["not-an-ip"], LOCAL, "127.0.0.1"),
        ("::1", ["2001:db8::5"], LOCAL, "2001:db8::5"),
        (None, ["6.6.6.6"], LOCAL, "unknown"),
    ],
)
def test_the_client_is_the_first_untrusted_address_from_the_right(
    remote: str | None, header: list[str], trusted: list, expected: str
) -> None:
    assert client_address(remote, header, trusted) == expected


def test_networks_name_the_entry_that_is_not_one() -> None:
    assert [str(n) for n in parse_networks(["10.1.2.3", "192.168.1.7/24"])] == [
        "10.1.2.3/32",
        "192.168.1.0/24",
    ]
    with pytest.raises(ValueError, match=r"'proxy\.lan' is not an IP address or network"):
        parse_networks(["proxy.lan"])
