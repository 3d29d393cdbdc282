"""Who is asking: the address the login throttle counts and the log names.

Behind the home's reverse proxy every connection comes from the proxy, so counting wrong
passwords per connection address would let one guesser lock every owner out.  The proxy says
who its client was in ``X-Forwarded-For``, appending the address it saw to whatever the client
sent.  Only the entries added by proxies the owner trusts are believable, so the chain is read
from the right: skip trusted proxies, and the first address that is not one is the client (a
client can put anything to the left of it, which is never reached).  With no proxy trusted,
the header is ignored: anyone could write it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """``127.0.0.1``, ``192.168.1.0/24``, ``::1``: one address or a network each; raises
    ValueError naming the entry that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return networks


def client_address(
    remote: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The client's address given the connection's peer, the ``X-Forwarded-For`` header lines
    and the trusted proxies (see the module docstring)."""
    if remote is None:
        return "unknown"
    chain = [part.strip() for line in forwarded_for for part in line.split(",")]
    chain.append(remote)
    client = remote
    for candidate in reversed(chain):
        address = _address(candidate)
        if address is None:
            return client  # the proxy wrote something odd: count the last believable hop
        client = candidate
        if not any(address in network for network in trusted):
            return client
    return client  # every hop a trusted proxy: the leftmost one


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
