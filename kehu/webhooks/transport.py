"""One HTTP POST to a receiver, with a time limit, no redirects, and no way in to kehu's own
network: the receiver's host is resolved once, every address it gives must be public (unless
the settings allow private ones), and the connection goes to the address that was checked, so
a second DNS answer cannot point it elsewhere."""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

RESPONSE_BYTES_READ = 4096


class TransportError(Exception):
    """The request did not get an HTTP answer; the message says why, for the delivery log."""


@dataclass(frozen=True)
class Answer:
    status: int
    duration: timedelta
    retry_after_seconds: int | None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to; refuses a host that resolves to any non-public address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TransportError(
            _("The host name does not resolve: %(error)s") % {"error": error}
        ) from error
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        private = [address for address in addresses if not is_public(address)]
        if private:
            raise TransportError(
                _("Refused: %(host)s is a private or loopback address (%(address)s).")
                % {"host": host, "address": private[0]}
            )
    return addresses[0]


class PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return min(int(value.strip()), 24 * 3600)
    return None


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> Answer:
    parts = urlsplit(url)
    host = parts.hostname or ""
    is_https = parts.scheme == "https"
    port = parts.port or (443 if is_https else 80)
    address = resolve(host, port, allow_private=allow_private)
    connection_class = PinnedHTTPSConnection if is_https else PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_BYTES_READ)
        return Answer(
            status=response.status,
            duration=timedelta(seconds=time.monotonic() - started),
            retry_after_seconds=retry_after(response.getheader("Retry-After")),
        )
    except TimeoutError as error:
        raise TransportError(
            _("No answer within %(seconds)s seconds.") % {"seconds": f"{timeout:g}"}
        ) from error
    except ConnectionRefusedError as error:
        raise TransportError(_("The connection was refused.")) from error
    except ssl.SSLError as error:
        raise TransportError(_("TLS failed: %(error)s") % {"error": error}) from error
    except (OSError, http.client.HTTPException) as error:
        raise TransportError(
            _("The request failed: %(error)s") % {"error": str(error) or type(error).__name__}
        ) from error
    finally:
        connection.close()
