"""paho driven from its owner's thread: one loop reads, decides and writes.

With paho's own network thread every message crosses threads twice (in: network thread ->
queue -> controller; out: publish -> wake the network thread -> write), and each crossing waits
for the interpreter lock. Here the controller's thread selects on the broker's socket itself:
callbacks run inline, and `publish` writes to the socket at once. Reconnecting (with backoff)
and keep-alive are done here too, as paho's `loop_forever` would.
"""

from __future__ import annotations

import logging
import select
import socket
import time

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

RECONNECT_S = (0.1, 5.0)  # first retry, and the cap of its doubling
MISC_EVERY_S = 1.0  # keep-alive pings and timeouts
READS_PER_POLL = 1024  # packets taken in one poll before the owner gets to work


class NetLoop:
    def __init__(self, client: mqtt.Client, host: str, port: int, keepalive: int = 30):
        self.client = client
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._delay = RECONNECT_S[0]
        self._next_connect = 0.0
        self._next_misc = 0.0
        self._started = False

    def connect(self) -> None:
        """Connect now, raising OSError when the broker cannot be reached; later polls
        reconnect by themselves."""
        self.client.connect(self.host, self.port, keepalive=self.keepalive)
        self._started = True

    def wake(self) -> None:
        """From any thread: make a blocked `poll` return now."""
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    def poll(self, timeout: float) -> None:
        """Wait up to `timeout` for the broker or a wake-up; read what came, write what waits."""
        now = time.monotonic()
        sock = self.client.socket()
        if sock is None:
            self._connect(now)
            sock = self.client.socket()
            if sock is None:
                timeout = min(timeout, max(0.0, self._next_connect - now))
        rlist = [self._wake_r] + ([sock] if sock is not None else [])
        wlist = [sock] if sock is not None and self.client.want_write() else []
        if sock is not None and _pending(sock):
            timeout = 0.0  # TLS may hold decrypted bytes select cannot see
        try:
            readable, writable, _ = select.select(rlist, wlist, [], max(0.0, timeout))
        except (OSError, ValueError):  # the socket closed under us: reconnect next time
            return
        if self._wake_r in readable:
            try:
                while self._wake_r.recv(4096):
                    pass
            except BlockingIOError:
                pass
        if sock is not None and (sock in readable or _pending(sock)):
            # what the owner writes from here to `flush` (acks, replies, events) leaves in as few
            # segments as the kernel can make of it, not one per packet (with TCP_NODELAY each
            # small write would go out, and wake the broker, on its own)
            _cork(sock, True)
            self._read(sock)
        if self.client.socket() is not None and (writable or self.client.want_write()):
            self.client.loop_write()
        if time.monotonic() >= self._next_misc and self.client.socket() is not None:
            self._next_misc = time.monotonic() + MISC_EVERY_S
            self.client.loop_misc()

    def input_waiting(self) -> bool:
        """Has the broker sent something not read yet (a request that should not wait)?"""
        sock = self.client.socket()
        if sock is None:
            return False
        if _pending(sock):
            return True
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def flush(self) -> None:
        """Write what `publish` could not send at once (a full socket buffer), and send what
        was held back since the last read."""
        if self.client.socket() is not None and self.client.want_write():
            self.client.loop_write()
        sock = self.client.socket()
        if sock is not None:
            _cork(sock, False)

    def close(self, timeout: float = 2.0) -> None:
        """Disconnect cleanly, giving queued messages up to `timeout` to leave."""
        deadline = time.monotonic() + timeout
        while (
            self.client.socket() is not None
            and self.client.want_write()
            and time.monotonic() < deadline
        ):
            self.poll(0.05)
        if self.client.socket() is not None:
            self.client.disconnect()
            self.client.loop_write()
        self._wake_r.close()
        self._wake_w.close()

    def _read(self, sock) -> None:
        for _ in range(READS_PER_POLL):
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.client.socket() is None:
                return
            if not _pending(sock):
                try:
                    if not select.select([sock], [], [], 0)[0]:
                        return
                except (OSError, ValueError):
                    return

    def _connect(self, now: float) -> None:
        if now < self._next_connect:
            return
        try:
            if not self._started:
                self.connect()
            else:
                self.client.reconnect()
            self._delay = RECONNECT_S[0]
            self._next_misc = 0.0
        except (OSError, ValueError) as exc:
            log.debug("broker %s:%s not reachable: %s", self.host, self.port, exc)
            self._next_connect = now + self._delay
            self._delay = min(self._delay * 2, RECONNECT_S[1])


def _cork(sock, on: bool) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)
    except (OSError, AttributeError, ValueError):
        pass


def _pending(sock) -> bool:
    pending = getattr(sock, "pending", None)
    return bool(pending and pending())
