"""Where a webhook may go, and the one request that takes it there.

No server-side request forgery: an endpoint must be `https` and every address its host
resolves to must be a public one (not loopback, private, link-local, multicast, unspecified
or reserved, in IPv4, IPv6, or IPv4 mapped into IPv6). The check runs when an endpoint is
registered and again before every send, and the request then connects to the very address
that was checked, so a name that resolves elsewhere the second time (DNS rebinding) gains
nothing. WEBHOOKS_ALLOW_INSECURE lifts both rules, for development and tests only.

One request: a POST with a timeout, whose redirects are never followed (http.client follows
none), and whose answer is read only as far as its first bytes.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Evently-Webhooks/1"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(Exception):
    """The URL may not be called: its reason is shown to staff."""


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and _refused(embedded):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the request connects to


def resolve(url: str) -> Target:
    """The checked target of `url`, or UnsafeURL saying why it may not be called."""
    insecure = settings.WEBHOOKS_ALLOW_INSECURE
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from None
    if parts.scheme != "https" and not (insecure and parts.scheme == "http"):
        raise UnsafeURL("The URL must use https.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL may not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {parts.hostname} does not resolve ({exc}).") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not insecure:
        refused = sorted({str(a) for a in addresses if _refused(a)})
        if refused:
            raise UnsafeURL(
                f"The host {parts.hostname} resolves to a non-public address "
                f"({', '.join(refused)})."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def check(url: str) -> None:
    """Raise UnsafeURL if `url` may not be registered."""
    resolve(url)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    _context = ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once, checked and pinned as above. Never raises for the
    receiver's sake: what went wrong is in the Answer."""
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    started = time.monotonic()

    def answer(status: int | None, error: str = "") -> Answer:
        return Answer(status, error[:500], int((time.monotonic() - started) * 1000))

    try:
        target = resolve(url)
    except UnsafeURL as exc:
        return answer(None, f"refused: {exc}")
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        snippet = response.read(200).decode("utf-8", "replace")
        if time.monotonic() - started > timeout:
            return answer(None, f"timed out after {timeout} s")
        if 200 <= response.status < 300:
            return answer(response.status)
        location = response.getheader("Location")
        if location:  # not followed: a receiver that moved must be registered anew
            return answer(response.status, f"redirect to {location} not followed")
        return answer(response.status, snippet.strip() or response.reason)
    except TimeoutError:
        return answer(None, f"timed out after {timeout} s")
    except (OSError, http.client.HTTPException) as exc:
        return answer(None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
