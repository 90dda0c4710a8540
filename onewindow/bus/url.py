"""Bus addresses: embedded://127.0.0.1:PORT (the hall's private Mosquitto), mqtt://HOST:PORT, or
mqtts://HOST:PORT?ca=/etc/onewindow/ca.crt (TLS to Mosquitto: ID numbers cross the hall's LAN)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883


class BusUrlError(ValueError):
    pass


@dataclass(frozen=True)
class BusUrl:
    scheme: str
    host: str
    port: int
    ca: Optional[str] = None  # mqtts: the hall's CA certificate (None: the system's CAs)

    @property
    def embedded(self) -> bool:
        return self.scheme == "embedded"

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_bus_url(text: str) -> BusUrl:
    parts = urlsplit(text)
    if parts.scheme not in ("embedded", "mqtt", "mqtts"):
        raise BusUrlError(
            f"{text!r}: use embedded://HOST:PORT, mqtt://HOST:PORT or mqtts://HOST:PORT?ca=CA_FILE"
        )
    try:
        port = (
            parts.port
            if parts.port is not None
            else (DEFAULT_TLS_PORT if parts.scheme == "mqtts" else DEFAULT_PORT)
        )
    except ValueError:
        raise BusUrlError(f"{text!r}: the port must be a number 0-65535") from None
    ca = (parse_qs(parts.query).get("ca") or [None])[0]
    if ca is not None and parts.scheme != "mqtts":
        raise BusUrlError(f"{text!r}: ?ca= goes with mqtts://")
    if ca is not None and not Path(ca).is_file():
        raise BusUrlError(f"{text!r}: CA certificate {ca} not found")
    return BusUrl(parts.scheme, parts.hostname or "127.0.0.1", port, ca)


def use_tls(client, url: BusUrl) -> None:
    """paho: encrypt and check the broker's certificate against the hall's CA."""
    if url.tls:
        client.tls_set(ca_certs=url.ca)


def no_delay(client, userdata, sock) -> None:
    """paho `on_socket_open`: small request/reply packets must not wait for Nagle."""
    import socket

    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
