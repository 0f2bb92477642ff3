"""Who is on the other end of a request: the client address and whether it came over TLS.

Behind nginx every request's peer is nginx. Its ``X-Forwarded-For`` and ``X-Forwarded-Proto``
are believed only when the peer is one of ``CANBAO_TRUSTED_PROXIES`` (a comma-separated list of
addresses or CIDR networks); anybody else could write anything there. The middleware hands the
rest of the application a request whose ``remote`` is the client and whose ``scheme`` is the
one the browser used, so login limits, audit entries and ``Secure`` cookies all see the same
truth.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import SESSIONMAKER, SETTINGS
from storage.repositories.actors import Actor
from storage.repositories.audit import add_event

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IGNORED_FORWARDING = "forwarded_header_ignored"
# Peers whose forwarding headers were ignored and already noted by this process.
_NOTED = web.AppKey("forwarding_noted", set)


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; ValueError naming the bad entry."""
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str | None, trusted: Sequence[Network]) -> bool:
    """Whether ``peer`` (an address) lies in one of the ``trusted`` networks."""
    address = _address(peer or "")
    return address is not None and any(address in network for network in trusted)


def forwarded_client(peer: str, header_values: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: walking ``X-Forwarded-For`` from the right (the hop nearest to
    us), the first address that is not a trusted proxy; a malformed entry ends the walk at the
    hop that wrote it. Only called when ``peer`` itself is trusted."""
    hops = [hop for value in header_values for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not any(address in network for network in trusted):
            break
    return client


def forwarded_scheme(header_values: Sequence[str]) -> str | None:
    """``https``/``http`` as the nearest proxy reported it, or None."""
    values = [v.strip().lower() for value in header_values for v in value.split(",") if v.strip()]
    if values and values[-1] in ("http", "https"):
        return values[-1]
    return None


@web.middleware
async def forwarded_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the application the client's address and scheme (see the module docstring)."""
    settings = request.app[SETTINGS]
    trusted = settings.trusted_networks
    peer = request.remote or ""
    forwarded_for = request.headers.getall("X-Forwarded-For", [])
    forwarded_proto = request.headers.getall("X-Forwarded-Proto", [])
    if not forwarded_for and not forwarded_proto:
        return await handler(request)
    if not is_trusted(peer, trusted):
        await _note_ignored(request, peer)
        return await handler(request)
    remote = forwarded_client(peer, forwarded_for, trusted) if forwarded_for else peer
    scheme = forwarded_scheme(forwarded_proto) or request.scheme
    return await handler(request.clone(remote=remote, scheme=scheme))


async def _note_ignored(request: web.Request, peer: str) -> None:
    """Say once per process and peer that forwarding headers arrived from a peer that is not
    trusted: `canbao security check` reports it (every client then looks like the proxy)."""
    noted = request.app.get(_NOTED)
    if noted is None or peer in noted:
        return
    noted.add(peer)
    logger.warning(
        "X-Forwarded-For from %s ignored: it is not in CANBAO_TRUSTED_PROXIES", peer or "?"
    )
    try:
        async with request.app[SESSIONMAKER]() as db, db.begin():
            add_event(
                db,
                Actor.system("网页服务"),
                IGNORED_FORWARDING,
                channel="web",
                details={"peer": peer},
            )
    except Exception as exc:  # noting it must never fail the request itself
        logger.warning("could not record the ignored forwarding header (%s)", type(exc).__name__)


def install(app: web.Application) -> None:
    """Put the middleware first on the main application (sub-applications run inside it)."""
    app[_NOTED] = set()
    app.middlewares.insert(0, forwarded_middleware)


def client_address(request: web.Request) -> str:
    """The client's address as the application should record it."""
    return request.remote or "?"
