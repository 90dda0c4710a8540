"""`onewindow hall`: the controller on the bus. One thread owns the hall and its MQTT socket.

That thread reads what the broker sends, handles it and writes the answers (netloop.py): no
message waits for another thread. Requests are taken in batches and committed together (group
commit): one fsync for many tickets, and no reply or event leaves before the commit that backs it.
"""

from __future__ import annotations

import ctypes
import json
import logging
import secrets
import threading
import time
from typing import Optional

import paho.mqtt.client as mqtt

from .. import lograte
from ..controller import Controller
from ..envelope import error_reply
from ..planner import Planner
from ..request import Outcome
from ..roles import Device
from .bridge import DOWN_APPOINTMENTS
from .devices import BRIDGE_USER, CONTROLLER_ID, DeviceRegistry
from .guard import Guard
from .intake import DOWN, REQUEST, STATUS, UPLINK, Intake, Message
from .netloop import NetLoop
from .outbox import Outbox
from .peek import peek_id
from .presence import Presence
from .publisher import StatePublisher
from .topics import Topics
from .url import BusUrl, no_delay, use_tls

log = logging.getLogger(__name__)
_LIBC = ctypes.CDLL(None)

MAX_BATCH = 256  # requests in one commit
TICK_S = 5.0  # alerts and day rollover
# Proof that the broker passes this hall's topics both ways: the controller's own probe must come
# back after every (re)connect. An ACL written for another hall id lets the controller connect
# and subscribe, and then delivers nothing, so the hall would sit there serving no one.
PROBE_TIMEOUT_S = 5.0
# who the provincial platform's appointments come from (over the bridge, docs/protocol.md §9):
# not a registered device, only the controller reads the down topic
PLATFORM = Device(BRIDGE_USER, "platform")
DOWN_MAX = 16 * 1024  # one booking record


class BusUnreachable(Exception):
    """The broker does not carry this hall's topics; the message names the hall and the fix."""


class HallService:
    def __init__(
        self,
        controller: Controller,
        url: BusUrl,
        registry: DeviceRegistry,
        controller_secret: str,
        tls_listen=None,
        uplink=None,
    ):
        """`tls_listen`: with `embedded://`, the private broker's TLS listener for the LAN;
        `uplink` (bridge.Uplink): the private broker's bridge to the city."""
        self.uplink = uplink
        self.ctl = controller
        self.tls_listen = tls_listen
        self.url = url
        self.registry = registry
        self.secret = controller_secret
        self.topics = Topics(controller.hall.id)
        self.down_topic = f"{self.topics.root}/{DOWN_APPOINTMENTS}"
        self._republish = False
        self.broker = None
        self.connected = threading.Event()
        self.proven = threading.Event()  # the probe came back since the last connect
        self.failure: Optional[BusUnreachable] = None
        self._probe: Optional[tuple[bytes, float]] = None
        self._was_proven = False
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.presence = Presence(controller, registry)
        self._state_due: Optional[float] = 0.0  # when retained state is to be looked at
        self._down_since: Optional[float] = None
        self._warned_at = float("-inf")
        self.guard = Guard(controller, registry, lambda: self.broker)
        self.outbox = Outbox(
            controller.store,
            controller.hall.id,
            lambda topic, data: self.client.publish(topic, data, qos=1),
            hall_now=controller.now,
            keep_days=lambda: self.ctl.hall.uplink_keep_days,
        )
        self._up_more = False  # outbox events not yet published
        self.intake = Intake(
            self.topics,
            self.down_topic,
            (self.outbox.ack_topic, self.outbox.state_topic),
            self.guard.burst_of,
            self.guard.flooded,
        )
        if controller.planner is None:
            # 排班建议 (op report.plan) from this data dir's history, worked out off this thread
            controller.planner = Planner(controller.store.path.parent)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=CONTROLLER_ID, clean_session=True
        )
        self.client.username_pw_set(CONTROLLER_ID, controller_secret)
        self.client.will_set(self.topics.status(CONTROLLER_ID), "offline", qos=1, retain=True)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_socket_open = no_delay
        use_tls(self.client, url)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, prove_within: float = PROBE_TIMEOUT_S) -> None:
        """Connected and proven to carry this hall's topics when this returns; else BrokerError
        (the private broker cannot run) or BusUnreachable."""
        if self.url.embedded:
            from .mosquitto import PrivateBroker

            self.broker = PrivateBroker(
                self.ctl.store.path.parent,
                self.topics,
                self.registry,
                self.secret,
                self.url.host,
                self.url.port,
                self.tls_listen,
                self.uplink,
            )
            self.broker.start()  # BrokerError (port taken, no mosquitto) to the caller
            port = self.broker.port
        else:
            port = self.url.port
        self.port = port
        self.net = NetLoop(self.client, self.url.host, port, keepalive=30)
        self.state = StatePublisher(
            lambda topic, data: self.client.publish(topic, data, 1, True),
            self.topics,
            self.ctl.views,
            self.net.input_waiting,
        )
        self._thread = threading.Thread(target=self._run, name="hall-controller", daemon=True)
        self._thread.start()
        if prove_within and not self._wait_proven(prove_within):
            failure = self.failure or BusUnreachable(self._unreachable_text())
            self.stop()
            raise failure

    def _wait_proven(self, within: float) -> bool:
        """The first connection and its probe; an unreachable broker gets `within` more."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline + (0 if self.connected.is_set() else within):
            if self.proven.wait(0.05) or self.failure is not None:
                break
        return self.proven.is_set()

    def stop(self) -> None:
        """Finish the batch in hand, say goodbye, close the database."""
        self._stop.set()
        if self._thread:
            self.net.wake()
            self._thread.join(10)
        if self.broker is not None:
            self.broker.stop()
        if self.ctl.planner is not None:
            self.ctl.planner.close()  # a plan being worked out is dropped
        self.ctl.store.close()

    def _goodbye(self) -> None:
        """On the controller's thread, as it ends: devices must see the hall go, not guess."""
        if self.connected.is_set():
            self.client.publish(self.topics.status(CONTROLLER_ID), "offline", qos=1, retain=True)
        self.net.close()

    # -- MQTT callbacks (run inline on the controller's thread, from NetLoop.poll) --------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            log.error(
                "broker refused the controller: %s (check the controller secret in the "
                "data dir and the broker's password file)",
                reason_code,
            )
            return
        root = self.topics.root
        # requests at QoS 0: the session is clean, so QoS 1 would redeliver nothing after a
        # reconnect anyway, and Mosquitto caps what it queues for a QoS 1 subscriber (1,000
        # messages), dropping other devices' requests while a flood is drained
        client.subscribe(
            [
                (f"{root}/req/+", 0),
                (f"{root}/dev/+/status", 1),
                (self.topics.probe, 1),
                (self.outbox.ack_topic, 1),
                (self.outbox.state_topic, 1),
                (self.down_topic, 1),
            ]
        )
        # a restarted broker lost whatever its bridge had queued for the city
        self.outbox.rewind("the controller (re)connected to its broker")
        self._up_more = True
        client.publish(self.topics.status(CONTROLLER_ID), "online", qos=1, retain=True)
        self.connected.set()
        self.proven.clear()
        self._send_probe()
        self._republish = True  # a restarted broker lost retained state
        log.info("controller on the bus at %s:%s", self.url.host, self.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.connected.clear()
        self.proven.clear()
        self._probe = None
        if not self._stop.is_set():
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg):
        if msg.topic == self.topics.probe:
            if self._probe and msg.payload == self._probe[0]:
                self._probe = None
                self._was_proven = True
                self.proven.set()
            return
        self.intake.read(msg.topic, msg.payload, msg.retain)  # handled on the loop, in order

    # -- proof of reach ----------------------------------------------------------------------

    def _send_probe(self) -> None:
        nonce = secrets.token_hex(8).encode()
        self._probe = (nonce, time.monotonic() + PROBE_TIMEOUT_S)
        self.client.publish(self.topics.probe, nonce, qos=1)

    def _check_probe(self) -> None:
        if self._probe is None or time.monotonic() < self._probe[1]:
            return
        self.failure = BusUnreachable(self._unreachable_text())
        log.error("%s", self.failure)
        self._stop.set()

    def _unreachable_text(self) -> str:
        where = f"{self.url.host}:{getattr(self, 'port', self.url.port)}"
        if not self.connected.is_set():
            return (
                f"cannot reach the MQTT broker at {where} for hall '{self.topics.hall_id}' "
                f"(is it running? is the port right?)"
            )
        return (
            f"the broker at {where} does not pass hall '{self.topics.hall_id}''s topics "
            f"({self.topics.root}/#) to the controller: its ACL was probably made for "
            f"another hall. Run `onewindow broker-config --config HALL_FILE --data-dir "
            f"DATA_DIR --out DIR` with this hall's file and reload Mosquitto"
        )

    # -- the controller thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._goodbye()

    def _loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            wake = next_tick if self._probe is None else min(next_tick, self._probe[1])
            if self._state_due is not None:
                wake = min(wake, self._state_due)
            busy = self.intake or (self._up_more and self.connected.is_set())
            self.net.poll(0.0 if busy else max(0.0, wake - time.monotonic()))
            batch = self.intake.take(MAX_BATCH)
            try:
                if self._republish:
                    self._republish = False
                    self.state.forget()  # the broker may have lost every retained copy
                    self._state_due = 0.0
                if batch:
                    self._process(batch)
                    self._state_due = 0.0
                    # replies and calls leave now, not after the retained state is rebuilt
                    # (that waits for the flush below, while corked, and cost a call ~0.6 ms)
                    self.net.flush()
                self._check_probe()
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + TICK_S
                    self._warn_if_unreachable()
                    self._publish_events(self.ctl.tick())
                    self.outbox.check()
                    self._up_more = True
                    self._publish_events(self.presence.settle())
                    self._publish_events(self.guard.settle())
                    lograte.flush()
                    _release_freed_memory()
                    self._state_due = 0.0  # time alone moves the hall's hours and appointments
                if self.connected.is_set() and (self._up_more or batch):
                    self._up_more = self.outbox.pump()
                if (
                    self._state_due is not None
                    and time.monotonic() >= self._state_due
                    and self.connected.is_set()
                ):
                    self._state_due = self.state.publish(self.ctl.windows)
                self.net.flush()
            except Exception:  # the hall must outlive any one bad moment
                lograte.error(
                    log,
                    "loop",
                    "controller loop error; reloading state from the database",
                    exc_info=True,
                )
                self.ctl.reload()
                self._state_due = 0.0

    def _warn_if_unreachable(self) -> None:
        """An operator must hear that no device can be served, not find out from the hall.
        (At start, `start` itself says it and gives up.)"""
        if self.connected.is_set() or not self._was_proven:
            self._down_since = None
            return
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        elif now - self._down_since >= 5 and now - self._warned_at >= 60:
            self._warned_at = now
            log.warning(
                "cannot reach the MQTT broker at %s:%s for %.0f s; no device can be "
                "served until it is back (retrying)",
                self.url.host,
                self.port,
                now - self._down_since,
            )

    def _process(self, batch: list[Message]) -> None:
        # (device id, the platform's pseudo-device for a record from the city, payload)
        outcomes: list[tuple[str, Optional[Device], bytes]] = []
        for kind, device_id, topic, payload in batch:
            if kind == REQUEST:
                outcomes.append((device_id, None, payload))
            elif kind == STATUS:
                self._publish_events(self.presence.changed(device_id, payload))
            elif kind == UPLINK:
                self.outbox.message(topic, payload)
            elif kind == DOWN:
                request = _platform_request(payload)
                if request is not None:
                    outcomes.append((PLATFORM.id, PLATFORM, request))
        if not outcomes:
            return
        results = []
        try:
            with self.ctl.store.transaction():
                for device_id, platform, payload in outcomes:
                    if platform is not None:
                        # answered by the op's events, through the outbox: no reply topic
                        outcome = self.ctl.handle(platform, payload)
                        results.append((device_id, Outcome(None, outcome.events)))
                    else:
                        results.append((device_id, self._handle(device_id, payload)))
        except Exception:
            log.exception("commit failed: %d requests answered 'unavailable'", len(outcomes))
            self.ctl.reload()
            for device_id, platform, payload in outcomes:
                req_id = peek_id(payload) if platform is None else None  # the city re-pushes
                if req_id:
                    self._reply(
                        device_id,
                        error_reply(
                            req_id,
                            "unavailable",
                            "系统暂时无法保存，请稍后再试",
                            "The hall could not save; please retry",
                        ),
                    )
            return
        for device_id, outcome in results:
            if outcome.reply is not None:
                self._reply(device_id, outcome.reply)
            self._publish_events(outcome.events)

    def _handle(self, device_id: str, payload: bytes) -> Outcome:
        entry = self.registry.get(device_id)
        if entry is None:
            # only possible on a broker that lets strangers in; answer, but do nothing
            req_id = peek_id(payload)
            lograte.warn(
                log, ("unknown", device_id), "request from unknown device %s refused", device_id
            )
            return Outcome(
                error_reply(req_id, "forbidden", "未登记的设备", "Unknown device")
                if req_id
                else None
            )
        refused = self.guard.admit(entry, payload)
        return refused if refused is not None else self.ctl.handle(entry.device(), payload)

    # -- out -------------------------------------------------------------------------------------

    # Every reply, event and state is encoded on its own: whatever one holds, it never costs
    # another device its answer or its event.

    def _reply(self, device_id: str, reply: dict) -> None:
        payload = _encode(reply, "reply", device_id)
        if payload is None:
            payload = _dumps(
                error_reply(
                    reply.get("id", ""),
                    "internal",
                    "系统繁忙，请稍后再试",
                    "The hall system hit an error; please try again",
                )
            )
        # a refusal for being over budget goes out best effort (QoS 0): the answers to a flood
        # must cost the hall and its broker as little as possible
        limited = reply.get("ok") is False and reply["error"].get("code") == "rate_limited"
        self.client.publish(self.topics.rep(device_id), payload, qos=0 if limited else 1)

    def _publish_events(self, events: list) -> None:
        for kind, payload in events:
            data = _encode(payload, "event", kind)
            if data is not None:
                self.client.publish(self.topics.evt(kind), data, qos=1)


def _release_freed_memory() -> None:
    """Hand back to the kernel what malloc keeps of freed memory: a burst of requests leaves
    their replies and views freed in the arenas (~1 MB at a hundred windows). glibc only."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def _platform_request(payload: bytes) -> Optional[bytes]:
    """A platform's booking record as the controller's request (appointment.platform); None,
    logged, for what is not one. The request id is new each time: the platform's id is what
    makes a repeat harmless, and a refused record sent again must be looked at again."""
    try:
        if len(payload) > DOWN_MAX:
            raise ValueError(f"{len(payload)} bytes")
        record = json.loads(payload)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except (ValueError, RecursionError) as exc:
        lograte.warn(log, "down", "platform appointment unreadable, ignored (%s)", exc)
        return None
    request = {
        "v": 1,
        "id": f"down-{secrets.token_hex(8)}",
        "op": "appointment.platform",
        "args": {"records": [record]},
    }
    return _dumps(request)


def _dumps(obj) -> bytes:
    # default=str: TOML dates in the hall file become ISO strings, not a failed publish
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _encode(obj, what: str, where: str) -> Optional[bytes]:
    """JSON bytes, or None (logged) when `obj` cannot be encoded."""
    try:
        return _dumps(obj)
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError included
        lograte.error(
            log, ("encode", what), "%s for %s could not be encoded (%s): not sent", what, where, exc
        )
        return None
