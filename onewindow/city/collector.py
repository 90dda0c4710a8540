"""`onewindow city`: the collector. Reads every hall's uplink at the central broker and keeps it
in PostgreSQL; acknowledges to each hall only what is committed.

- One MQTT client on a shared subscription (`$share/<group>/ow/+/up/#`): collectors in one group
  share the load, each message going to one of them; several writing one hall is safe
  (ingest.py). Its session is persistent (clean session off, a fixed client id) and messages are
  acknowledged to the broker (PUBACK) only after their batch is committed: a collector killed
  mid-batch gets them again from the broker when it is back.
- One thread owns the MQTT socket and the database (bus/netloop.py, as the hall's controller
  does): it reads what came (up to BATCH events, or what came within BATCH_WAIT_S), commits
  it, writes the batch's PUBACKs in as few segments as it can, then tells each hall its mark
  (`ow/<hall>/ack {"upto": N}`), a hall at most every TELL_EVERY_S. With paho's own network
  thread, every message and every PUBACK crossed threads and waited for the interpreter lock:
  more than half of the collector's time.
- A hall whose stored events have a gap that stays GAP_WAIT_S is asked to send again from the
  first missing one (`"resend": true`).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import deque
from typing import Optional

import paho.mqtt.client as mqtt
import psycopg

from ..bus.netloop import NetLoop
from ..bus.url import no_delay, parse_bus_url, use_tls
from . import ingest
from .schema import connect, migrate

log = logging.getLogger(__name__)

BATCH = 2000  # events per commit
BATCH_WAIT_S = 0.05  # what arrived within this goes in one commit
GAP_WAIT_S = 3.0  # a gap this old is not a neighbour collector's batch in flight
# a hall is told its mark at most this often: 200 busy halls in every batch made ~3,000 acks a
# second; a hall sends again only after 30 s without one (bus/outbox.py ACK_WAIT_S)
TELL_EVERY_S = 0.5
RETRY_S = 2.0  # the database gone: try again after this
MAX_INFLIGHT = 10_000  # messages the broker may have in flight to us before our PUBACKs


class CollectorError(Exception):
    pass


class Collector:
    def __init__(
        self,
        db_url: str,
        mqtt_url: str,
        user: str,
        secret: str,
        group: str = "city",
        client_id: Optional[str] = None,
    ):
        self.db_url = db_url
        self.url = parse_bus_url(mqtt_url)
        self.group = group
        self.failed: Optional[str] = None
        self.inbox: deque = deque()  # messages read, not yet committed
        self.stored = 0  # events committed by this collector (new ones)
        self._stop = threading.Event()
        self._gap_since: dict[str, tuple[int, float]] = {}
        self._asked: dict[str, float] = {}
        self._to_tell: dict[str, tuple[int, int]] = {}  # hall -> (upto, top) not yet told
        self._told_at: dict[str, float] = {}
        self.connected = threading.Event()
        cid = self.client_id = client_id or f"ow-city-{socket.gethostname()}"[:60]
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False, manual_ack=True
        )
        self.client.username_pw_set(user, secret)
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = lambda c, u, msg: self.inbox.append(msg)
        self.client.on_socket_open = no_delay
        use_tls(self.client, self.url)
        self.net = NetLoop(self.client, self.url.host, self.url.port, keepalive=30)
        self.db: Optional[psycopg.Connection] = None
        self._writer: Optional[threading.Thread] = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> "Collector":
        try:
            self.db = connect(self.db_url, autocommit=True)
            migrate(self.db)
        except psycopg.Error as exc:
            raise CollectorError(f"cannot use the city database {self.db_url}: {exc}") from exc
        try:
            self.net.connect()
        except OSError as exc:
            raise CollectorError(
                f"cannot reach the central broker {self.url.host}:{self.url.port}: {exc}"
            ) from exc
        self._writer = threading.Thread(target=self._run, name="city-collector", daemon=True)
        self._writer.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.net.wake()
        if self._writer:
            self._writer.join(10)
        if self.db is not None:
            self.db.close()

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            self.failed = f"the central broker refused the collector: {reason_code}"
            log.error("%s", self.failed)
            return
        client.subscribe(f"$share/{self.group}/ow/+/up/#", 1)
        self.connected.set()
        log.info("collector on %s:%s (group %s)", self.url.host, self.url.port, self.group)

    # -- the writer -------------------------------------------------------------------------

    def _run(self) -> None:
        next_gap_check = time.monotonic() + 1.0
        while not self._stop.is_set():
            batch = self._take()
            try:
                if batch:
                    self._commit(batch)
                self._tell_due(time.monotonic())
                if time.monotonic() >= next_gap_check:
                    next_gap_check = time.monotonic() + 1.0
                    self._check_gaps()
            except psycopg.Error as exc:
                self._retry(batch, exc)
            except Exception:  # a fault some event meets: the others are stored all the same
                log.exception("a batch could not be stored: storing its events one by one")
                self._commit_each(batch)
            self.net.flush()
        self.net.close()

    def _retry(self, batch: list, exc: Exception) -> None:
        # nothing was acknowledged: the broker keeps what we held; ours go back in line
        log.error("city database error (%s); retrying in %.0f s", exc, RETRY_S)
        self.inbox.extendleft(reversed(batch))
        self._reconnect_db()

    def _commit_each(self, batch: list) -> None:
        """Each event of a batch in a commit of its own; one that still fails is dropped, said
        in the log, and acknowledged: kept, it would stop every hall's events behind it."""
        for n, msg in enumerate(batch):
            try:
                self._commit([msg])
            except psycopg.Error as exc:
                self._retry(batch[n:], exc)
                return
            except Exception:
                log.exception("dropped an event on %s that could not be stored", msg.topic)
                self.client.ack(msg.mid, msg.qos)

    def _take(self) -> list:
        """What came: at once when a batch is there, else what comes within BATCH_WAIT_S of the
        first (at most 0.2 s of waiting for one, so the tells and gap checks go on)."""
        if not self.inbox:
            self.net.poll(0.2)
        deadline = time.monotonic() + BATCH_WAIT_S
        while self.inbox and len(self.inbox) < BATCH and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.net.poll(left)
        if len(self.inbox) >= BATCH:
            return [self.inbox.popleft() for _ in range(BATCH)]
        batch = list(self.inbox)
        self.inbox.clear()
        return batch

    def _commit(self, batch: list) -> None:
        assert self.db is not None
        events = []
        for msg in batch:
            try:
                events.append(ingest.parse(msg.topic, msg.payload))
            except ingest.BadEvent as exc:
                log.warning("dropped: %s", exc)
        with self.db.transaction():  # one commit a batch: its events and the halls' marks
            fresh = ingest.store(self.db, events, self.client_id)
            halls = sorted({e.hall for e in events})
            marks = ingest.advance(self.db, halls, ingest.given_up(fresh))
        self.stored += len(fresh)
        for msg in batch:  # committed: the broker may forget them now
            self.client.ack(msg.mid, msg.qos)
        self._to_tell.update(marks)

    def _tell_due(self, now: float) -> None:
        """Tell each hall its new mark, once TELL_EVERY_S has passed since it was last told."""
        for hall in [h for h in self._to_tell if now - self._told_at.get(h, 0.0) >= TELL_EVERY_S]:
            upto, top = self._to_tell.pop(hall)
            self._told_at[hall] = now
            self._tell(hall, upto, top, now)

    def _tell(self, hall: str, upto: int, top: int, now: float) -> None:
        resend = False
        if top > upto:
            since = self._gap_since.get(hall)
            if since is None or since[0] != upto:
                self._gap_since[hall] = (upto, now)
            elif now - since[1] >= GAP_WAIT_S and now - self._asked.get(hall, 0) >= GAP_WAIT_S:
                resend = True
                self._asked[hall] = now
                log.info(
                    "hall %s: events after %d are missing (have up to %d): asking again",
                    hall,
                    upto,
                    top,
                )
        else:
            self._gap_since.pop(hall, None)
        body = {"upto": upto, "resend": True} if resend else {"upto": upto}
        self.client.publish(f"ow/{hall}/ack", json.dumps(body), qos=1)

    def _check_gaps(self) -> None:
        assert self.db is not None
        now = time.monotonic()
        found = ingest.gaps(self.db)
        for hall in list(self._gap_since):
            if hall not in found:
                del self._gap_since[hall]
        for hall, (upto, top) in found.items():
            since = self._gap_since.get(hall)
            if since is not None and since[0] == upto and now - since[1] >= GAP_WAIT_S:
                self._tell(hall, upto, top, now)
            elif since is None or since[0] != upto:
                self._gap_since[hall] = (upto, now)

    def _reconnect_db(self) -> None:
        """Until the database is back; the broker's link is kept up meanwhile (its keep-alive),
        and what it sends waits (at most MAX_INFLIGHT messages: it sends no more unacknowledged)."""
        while not self._stop.is_set():
            until = time.monotonic() + RETRY_S
            while time.monotonic() < until and not self._stop.is_set():
                self.net.poll(until - time.monotonic())
            try:
                if self.db is not None:
                    self.db.close()
                self.db = connect(self.db_url, autocommit=True)
                return
            except psycopg.Error as exc:
                log.error("city database still unreachable (%s)", exc)
