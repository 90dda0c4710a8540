"""Bus addresses: embedded://HOST:PORT (a broker inside the hall process) or mqtt://HOST:PORT."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 1883


class BusUrlError(ValueError):
    pass


@dataclass(frozen=True)
class BusUrl:
    scheme: str
    host: str
    port: int

    @property
    def embedded(self) -> bool:
        return self.scheme == "embedded"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_bus_url(text: str) -> BusUrl:
    parts = urlsplit(text)
    if parts.scheme not in ("embedded", "mqtt"):
        raise BusUrlError(f"{text!r}: use embedded://HOST:PORT or mqtt://HOST:PORT")
    try:
        port = parts.port if parts.port is not None else DEFAULT_PORT
    except ValueError:
        raise BusUrlError(f"{text!r}: the port must be a number 0-65535") from None
    return BusUrl(parts.scheme, parts.hostname or "127.0.0.1", port)


def no_delay(client, userdata, sock) -> None:
    """paho `on_socket_open`: small request/reply packets must not wait for Nagle."""
    import socket
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
