"""An MQTT 3.1.1 broker inside the hall process, so that one command runs a hall (`embedded://`).

Enough of the standard for the hall's devices and any conforming client: QoS 0 and 1 (QoS 2 is
accepted from publishers and delivered at QoS 1 at most, which the standard allows through the
granted QoS), retained messages, last wills, keep-alive, wildcards, persistent sessions held in
memory, and takeover of a client id. Every CONNECT, PUBLISH and SUBSCRIBE goes through the
hall's hooks: unknown devices and wrong secrets are refused, a publish to a topic the device may
not write is dropped, a subscription it may not read is answered 0x80.

It runs an asyncio loop on its own thread; the controller thread never waits on it. Frames are
parsed in `data_received` straight from the buffer (no coroutine per packet): the hall's traffic
is many small packets, and per-packet overhead is what limits a Python broker.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
import threading
import time
from collections import deque
from typing import Callable, Optional

from .mqtt_wire import (ProtocolError, Reader, filter_matches, packet, publish_packet,
                        valid_filter, valid_topic)
from .topic_tree import Subscriptions

log = logging.getLogger(__name__)

MAX_PACKET = 256 << 10          # the controller refuses requests over 64 KiB with a reply; this
                                # limit only protects the broker itself
MAX_OFFLINE_QUEUE = 1000        # QoS 1 messages kept for a persistent session while it is away
MAX_INFLIGHT = 1000             # unacknowledged QoS 1 messages before a client counts as stuck
MAX_WRITE_BUFFER = 16 << 20     # a client this far behind is cut off rather than eat memory
CONNECT_TIMEOUT_S = 10.0
SWEEP_S = 1.0

# CONNACK return codes (MQTT 3.1.1, 3.2.2.3)
ACCEPTED, BAD_PROTOCOL, ID_REJECTED, UNAVAILABLE, BAD_CREDENTIALS, NOT_AUTHORIZED = range(6)

Authenticate = Callable[[str, Optional[str], Optional[bytes]], bool]
Authorize = Callable[[Optional[str], str, str], bool]


class BrokerError(Exception):
    """The broker could not start; the message says why in words an operator can act on."""


def _allow_all_auth(client_id, username, password) -> bool:
    return True


def _allow_all(username, action, topic) -> bool:
    return True


class _Session:
    __slots__ = ("client_id", "username", "clean", "subs", "conn", "inflight", "offline", "pids",
                 "dropped")

    def __init__(self, client_id: str, username: Optional[str], clean: bool):
        self.client_id = client_id
        self.username = username
        self.clean = clean
        self.subs: dict[str, int] = {}
        self.conn: Optional[_Connection] = None
        self.inflight: dict[int, tuple[bytes, bytes, bool]] = {}   # unacknowledged QoS 1 out
        self.offline: deque = deque(maxlen=MAX_OFFLINE_QUEUE)
        self.pids = itertools.cycle(range(1, 65536))
        self.dropped = 0

    def next_pid(self) -> int:
        # inflight never exceeds MAX_INFLIGHT (far below 65535), so a free id is always found
        while True:
            pid = next(self.pids)
            if pid not in self.inflight:
                return pid


# -- one client connection ------------------------------------------------------------------------

class _Connection(asyncio.Protocol):
    def __init__(self, broker: "Broker"):
        self.broker = broker
        self.buf = bytearray()
        self.transport: Optional[asyncio.Transport] = None
        self.session: Optional[_Session] = None
        self.username: Optional[str] = None
        self.will: Optional[tuple[str, bytes, int, bool]] = None
        self.keepalive = 0
        self.opened = self.last_seen = time.monotonic()
        self.qos2_in: set[int] = set()
        self.closing = False
        self.peer = "?"

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.broker._connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_seen = time.monotonic()
        self.buf += data
        try:
            self._parse()
        except ProtocolError as e:
            log.warning("mqtt client %s (%s): %s; closing the connection",
                        self.session.client_id if self.session else "-", self.peer, e)
            self.close(send_will=True)

    def connection_lost(self, exc) -> None:
        self.broker._lost(self)

    # framing
    def _parse(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            value, mult, i = 0, 1, 1
            while True:
                if i >= len(buf):
                    return                     # the length itself is not complete yet
                byte = buf[i]
                value += (byte & 0x7F) * mult
                i += 1
                if not byte & 0x80:
                    break
                mult *= 128
                if i > 4:
                    raise ProtocolError("malformed remaining length")
            if value > MAX_PACKET:
                raise ProtocolError(f"packet of {value} bytes is over the {MAX_PACKET} limit")
            if len(buf) < i + value:
                return
            first = buf[0]
            body = bytes(buf[i:i + value])
            del buf[:i + value]
            self.broker._handle(self, first, body)
            if self.closing:
                return

    def send(self, data: bytes) -> None:
        t = self.transport
        if t is None or self.closing:
            return
        if t.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("mqtt client %s is not reading (%d bytes waiting); cutting it off",
                        self.session.client_id if self.session else "-", t.get_write_buffer_size())
            self.close(send_will=True)
            return
        t.write(data)

    def close(self, send_will: bool) -> None:
        if self.closing:
            return
        if not send_will:
            self.will = None
        self.closing = True
        if self.transport is not None:
            self.transport.close()


# -- the broker -----------------------------------------------------------------------------------

class Broker:
    """Broker(host, port, authenticate, authorize); start() binds (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883,
                 authenticate: Authenticate = _allow_all_auth, authorize: Authorize = _allow_all,
                 username_as_client_id: bool = False):
        self.host = host
        # like Mosquitto's use_username_as_clientid: a device cannot pick another's client id
        self.username_as_client_id = username_as_client_id
        self.port = port
        self.authenticate = authenticate
        self.authorize = authorize
        self.retained: dict[str, tuple[bytes, int]] = {}
        self.sessions: dict[str, _Session] = {}
        self.subs = Subscriptions()
        self._connections: set[_Connection] = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server = None
        self._ids = itertools.count(1)

    # -- lifecycle (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(512)
        except OSError as e:
            sock.close()
            if e.errno in (98, 48):    # EADDRINUSE on Linux, BSD
                raise BrokerError(f"port {self.host}:{self.port} is already in use: another broker "
                                  f"or hall is running there; stop it or choose another port "
                                  f"with --mqtt embedded://{self.host}:PORT") from None
            raise BrokerError(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                self._loop.create_server(lambda: _Connection(self), sock=sock))
            self._loop.call_later(SWEEP_S, self._sweep)
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="mqtt-broker", daemon=True)
        self._thread.start()
        ready.wait(10)
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self._connections):
                conn.close(send_will=False)
            loop.call_later(0.05, loop.stop)

        loop.call_soon_threadsafe(shutdown)
        self._thread.join(5)
        self._thread = None
        self._loop = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- housekeeping (loop thread) -------------------------------------------------------------

    def _sweep(self) -> None:
        now = time.monotonic()
        for conn in list(self._connections):
            if conn.session is None:
                if now - conn.opened > CONNECT_TIMEOUT_S:
                    log.warning("mqtt client at %s sent no CONNECT; closing", conn.peer)
                    conn.close(send_will=False)
            elif conn.keepalive and now - conn.last_seen > conn.keepalive * 1.5:
                log.info("mqtt client %s silent past its keep-alive; closing", conn.session.client_id)
                conn.close(send_will=True)
        if self._loop is not None:
            self._loop.call_later(SWEEP_S, self._sweep)

    def _lost(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        conn.closing = True
        session = conn.session
        if session is None or session.conn is not conn:
            return                             # never connected, or taken over by a newer one
        session.conn = None
        if conn.will is not None:
            topic, payload, qos, retain = conn.will
            conn.will = None
            if self.authorize(conn.username, "publish", topic):
                self._publish(topic, payload, qos, retain)
        if session.clean:
            self._drop_session(session)

    def _drop_session(self, session: _Session) -> None:
        for filt in session.subs:
            self.subs.remove(filt, session.client_id)
        session.subs.clear()
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    # -- packets (loop thread) ------------------------------------------------------------------

    def _handle(self, conn: _Connection, first: int, body: bytes) -> None:
        kind = first >> 4
        if conn.session is None:
            if kind != 1:
                raise ProtocolError("first packet was not CONNECT")
            self._connect(conn, body)
            return
        r = Reader(body)
        if kind == 3:
            self._on_publish(conn, first, r)
        elif kind == 4:                                  # PUBACK
            conn.session.inflight.pop(r.u16(), None)
        elif kind == 5:                                  # PUBREC (we never send QoS 2)
            conn.send(packet(0x62, struct.pack("!H", r.u16())))
        elif kind == 6:                                  # PUBREL
            pid = r.u16()
            conn.qos2_in.discard(pid)
            conn.send(packet(0x70, struct.pack("!H", pid)))
        elif kind == 7:                                  # PUBCOMP
            conn.session.inflight.pop(r.u16(), None)
        elif kind == 8:
            if first & 0x0F != 0x02:
                raise ProtocolError("SUBSCRIBE with wrong flags")
            self._on_subscribe(conn, r)
        elif kind == 10:
            if first & 0x0F != 0x02:
                raise ProtocolError("UNSUBSCRIBE with wrong flags")
            pid = r.u16()
            while not r.done():
                filt = r.text()
                if conn.session.subs.pop(filt, None) is not None:
                    self.subs.remove(filt, conn.session.client_id)
            conn.send(packet(0xB0, struct.pack("!H", pid)))
        elif kind == 12:
            conn.send(b"\xd0\x00")
        elif kind == 14:
            conn.close(send_will=False)
        else:
            raise ProtocolError(f"unexpected packet type {kind}")

    def _connect(self, conn: _Connection, body: bytes) -> None:
        r = Reader(body)
        name = r.blob()
        level = r.u8()
        if (name, level) not in ((b"MQTT", 4), (b"MQIsdp", 3)):
            conn.send(packet(0x20, bytes((0, BAD_PROTOCOL))))
            conn.close(send_will=False)
            return
        flags = r.u8()
        if flags & 0x01:
            raise ProtocolError("CONNECT reserved flag set")
        clean = bool(flags & 0x02)
        conn.keepalive = r.u16()
        client_id = r.text()
        will = None
        if flags & 0x04:
            will_topic = r.text()
            will_payload = r.blob()
            will_qos = min((flags >> 3) & 0x03, 1)
            if not valid_topic(will_topic):
                raise ProtocolError("will topic is not a valid topic name")
            will = (will_topic, will_payload, will_qos, bool(flags & 0x20))
        username = r.text() if flags & 0x80 else None
        password = r.blob() if flags & 0x40 else None

        if self.username_as_client_id and username:
            client_id = username
        if not client_id:
            if not clean:
                conn.send(packet(0x20, bytes((0, ID_REJECTED))))
                conn.close(send_will=False)
                return
            client_id = f"auto-{next(self._ids)}"
        if not self.authenticate(client_id, username, password):
            log.warning("mqtt: refused client %r (user %r): unknown device or wrong secret",
                        client_id, username)
            code = BAD_CREDENTIALS if username is not None and password is not None else NOT_AUTHORIZED
            conn.send(packet(0x20, bytes((0, code))))
            conn.close(send_will=False)
            return

        old = self.sessions.get(client_id)
        if old is not None and old.username != username:
            # someone else's session: neither its connection nor its subscriptions are theirs
            log.warning("mqtt: %r (user %r) tried to take client id %r of another user",
                        client_id, username, client_id)
            conn.send(packet(0x20, bytes((0, ID_REJECTED))))
            conn.close(send_will=False)
            return
        if old is not None and old.conn is not None:
            # the device came back on a new connection: the old one is a ghost, and its will
            # ("offline") must not overwrite the presence the device is about to publish
            ghost = old.conn
            old.conn = None
            ghost.close(send_will=False)
        if old is not None and (clean or old.clean):
            self._drop_session(old)
            old = None
        session_present = old is not None
        session = old or _Session(client_id, username, clean)
        self.sessions[client_id] = session
        session.conn = conn
        conn.session = session
        conn.username = username
        conn.will = will
        conn.send(packet(0x20, bytes((1 if session_present else 0, ACCEPTED))))
        if session_present:
            for pid, (topic, payload, retain) in list(session.inflight.items()):
                conn.send(publish_packet(topic, payload, 1, retain, pid, dup=True))
            while session.offline:
                topic, payload, qos = session.offline.popleft()
                self._deliver(session, topic, payload, qos, False)

    def _on_publish(self, conn: _Connection, first: int, r: Reader) -> None:
        qos = (first >> 1) & 0x03
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        retain = bool(first & 0x01)
        topic = r.text()
        if not valid_topic(topic):
            raise ProtocolError(f"PUBLISH to {topic!r}, which is not a topic name")
        pid = r.u16() if qos else 0
        payload = r.rest()
        if qos == 2 and pid in conn.qos2_in:
            conn.send(packet(0x50, struct.pack("!H", pid)))     # a resend: deliver once only
            return
        if self.authorize(conn.username, "publish", topic):
            self._publish(topic, payload, min(qos, 1), retain)
        else:
            # like Mosquitto: acknowledged, not delivered, so a misconfigured device cannot
            # stall on retries; the log tells the installer
            log.warning("mqtt: %s may not publish to %s; dropped", conn.session.client_id, topic)
        if qos == 1:
            conn.send(packet(0x40, struct.pack("!H", pid)))
        elif qos == 2:
            conn.qos2_in.add(pid)
            conn.send(packet(0x50, struct.pack("!H", pid)))

    def _on_subscribe(self, conn: _Connection, r: Reader) -> None:
        pid = r.u16()
        granted = bytearray()
        new_filters = []
        session = conn.session
        if r.done():
            raise ProtocolError("SUBSCRIBE without a topic filter")
        while not r.done():
            filt = r.text()
            want = r.u8()
            if want & 0xFC:
                raise ProtocolError("SUBSCRIBE with reserved bits set")
            if not valid_filter(filt) or not self.authorize(conn.username, "subscribe", filt):
                if valid_filter(filt):
                    log.warning("mqtt: %s may not subscribe to %s", session.client_id, filt)
                granted.append(0x80)
                continue
            qos = min(want, 1)
            session.subs[filt] = qos
            self.subs.add(filt, session.client_id, qos)
            granted.append(qos)
            new_filters.append((filt, qos))
        conn.send(packet(0x90, struct.pack("!H", pid) + bytes(granted)))
        for filt, qos in new_filters:
            for topic, (payload, rqos) in list(self.retained.items()):
                if filter_matches(filt, topic):
                    self._deliver(session, topic, payload, min(qos, rqos), True)

    # -- routing ----------------------------------------------------------------------------------

    def _publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if retain:
            if payload:
                self.retained[topic] = (payload, qos)
            else:
                self.retained.pop(topic, None)
        for client_id, sub_qos in self.subs.match(topic).items():
            session = self.sessions.get(client_id)
            if session is not None:
                self._deliver(session, topic, payload, min(qos, sub_qos), False)

    def _deliver(self, session: _Session, topic: str | bytes, payload: bytes, qos: int,
                 retain: bool) -> None:
        tb = topic.encode("utf-8") if isinstance(topic, str) else topic
        conn = session.conn
        if conn is None or conn.closing:
            if not session.clean and qos:
                if len(session.offline) == session.offline.maxlen:
                    session.dropped += 1
                session.offline.append((tb, payload, qos))
            return
        if qos:
            if len(session.inflight) >= MAX_INFLIGHT:
                # the client takes messages but never acknowledges them: cut it off (its own
                # problem), never fail the publisher, which may be the controller
                log.warning("mqtt client %s left %d messages unacknowledged; disconnecting it",
                            session.client_id, len(session.inflight))
                conn.close(send_will=True)
                session.offline.append((tb, payload, qos))
                return
            pid = session.next_pid()
            if not session.clean:
                session.inflight[pid] = (tb, payload, retain)
            conn.send(publish_packet(tb, payload, 1, retain, pid))
        else:
            conn.send(publish_packet(tb, payload, 0, retain))

    # -- for tests and the operator --------------------------------------------------------------

    def stats(self) -> dict:
        return {"connections": len(self._connections), "sessions": len(self.sessions),
                "retained": len(self.retained)}
