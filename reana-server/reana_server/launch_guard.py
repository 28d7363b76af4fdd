"""Which network addresses a launch may fetch from: the guard against server-side request forgery.

``POST /api/launch`` makes the server fetch a URL chosen by the user. Without a
guard, that URL can name the platform's own internal services (the workflow
controller on 127.0.0.1, a run's job controller), the cloud's metadata service
(169.254.169.254) or any host of the operator's private network. So a launch
fetches only from globally routable addresses: a host name is resolved here,
*every* address it resolves to must be allowed, and the caller then connects to
that very address (pinned), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot redirect it. Each redirect is checked again.

Operators who need an internal server (a Git server on the private network)
allow it by name (``REANA_LAUNCH_ALLOWED_HOSTS``: ``host`` or ``host:port``) or
by network (``REANA_LAUNCH_ALLOWED_NETWORKS``: CIDR blocks).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from reana_commons.config import Config

from reana_server.errors import BadRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class LaunchRefused(BadRequest):
    """The launch URL names a host or address the platform does not fetch from."""


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: Address) -> str | None:
    """Why ``address`` may not be fetched from by default, or None when it is public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return forbidden_reason(embedded)
    for reason, test in (
        ("a loopback address", address.is_loopback),
        ("an unspecified address", address.is_unspecified),
        ("a link-local address (e.g. a cloud metadata service)", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("not a public address", not address.is_global),
    ):
        if test:
            return reason
    return None


@dataclass(frozen=True)
class LaunchPolicy:
    """The hosts and networks a launch may fetch from besides public addresses."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_bytes: int = 1024**3
    timeout: float = 120.0
    allow_file_urls: bool = False

    @classmethod
    def from_config(cls, config: Config) -> LaunchPolicy:
        """The policy of ``config`` (an invalid network setting is the operator's error)."""
        return cls(
            allowed_hosts=frozenset(h.lower() for h in config.launch_allowed_hosts),
            allowed_networks=tuple(
                ipaddress.ip_network(n, strict=False) for n in config.launch_allowed_networks
            ),
            max_bytes=config.launch_max_bytes,
            timeout=config.launch_timeout,
            allow_file_urls=bool((config.extra or {}).get("launch_allow_file_urls")),
        )

    def host_allowed(self, host: str, port: int) -> bool:
        """Whether the operator allowed ``host`` (by name, or name and port)."""
        host = host.lower().rstrip(".")
        return host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts

    def check_address(self, address: Address, host: str) -> None:
        """Raise :class:`LaunchRefused` unless ``address`` may be fetched from."""
        if any(address in network for network in self.allowed_networks):
            return
        reason = forbidden_reason(address)
        if reason:
            shown = host if host == str(address) else f"{host} ({address})"
            raise LaunchRefused(
                f"Launching from {shown} is not allowed: it is {reason}. The platform fetches "
                "only from public addresses (an operator can allow a host with "
                "REANA_LAUNCH_ALLOWED_HOSTS)."
            )

    def pinned_address(self, host: str, port: int) -> str:
        """The address to connect to for ``host:port``, after checking every address it has."""
        if not host:
            raise LaunchRefused("The launch URL names no host.")
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            addresses = _resolve(host, port)
        if not self.host_allowed(host, port):
            for address in addresses:
                self.check_address(address, host)
        return str(addresses[0])


def _resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (TCP), in the resolver's order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise LaunchRefused(f"Cannot resolve the host {host}: {error}") from error
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise LaunchRefused(f"Cannot resolve the host {host}.")
    return addresses
