"""The device side of the hall bus: requests with retry under the same id, a local view of the
retained state, reconnect with backoff. Used by the kiosk, displays, callers and bridges.

Nothing here blocks the caller's UI thread unless it asks to (`request` waits; `request_async`
and every callback run off the UI thread: a Kivy app hops back with Clock.schedule_once).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Optional

import paho.mqtt.client as mqtt

from .. import lograte
from .topics import EVENT_KINDS, Topics
from .url import no_delay, parse_bus_url, use_tls

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 3.0
RETRIES = 2
# Two processes with one identity kick each other off the broker (Mosquitto lets the newer
# connection take the id), a few times a second: each is dropped while the broker is up, and gets
# straight back in. A drop counts only so (a broker or hall that restarts refuses connections for
# a moment first). Dropped this often in a minute is reported, and this side then reconnects
# slowly so that the other one can work meanwhile.
TAKEOVER_WINDOW_S = 60.0
TAKEOVERS_REPORTED = 3
SLOW_RECONNECT_S = (5, 30)
NO_HALL_AFTER_S = 10.0  # connected, but no state/hall for our hall id: say so
DIAGNOSE_AFTER = 2  # failed connects in a row before looking for why
DIAGNOSE_EVERY_S = 30.0
CLOCK_REPORT_S = 600.0  # the controller alerts on a device whose clock has drifted


class BusError(Exception):
    """The controller answered no: `code` for programs, `message` (zh-CN) for citizens."""

    def __init__(self, code: str, message: str, message_en: str = "", detail=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.detail = detail or {}


class BusUnavailable(BusError):
    """No answer: broker or controller unreachable. The request may be retried with the same id."""

    def __init__(self, what: str = ""):
        super().__init__(
            "unavailable",
            "系统暂时无法连接，请稍后再试或联系工作人员",
            f"The hall system cannot be reached {what}".strip(),
        )


class DeviceClient:
    def __init__(
        self,
        url: str,
        device_id: str,
        secret: str,
        hall_id: str,
        on_connection: Optional[Callable[[bool], None]] = None,
        events: tuple = EVENT_KINDS,
        windows_state: bool = True,
    ):
        """`events`: the evt/<kind> this device needs (a kiosk needs none; a display needs call);
        `windows_state`: follow every window's state (displays and callers do, kiosks need not)."""
        self.url = parse_bus_url(url)
        self.device_id = device_id
        self.topics = Topics(hall_id)
        self.state: dict = {"hall": None, "queues": None, "alerts": None, "windows": {}}
        self.controller_online: Optional[bool] = None
        self.on_connection = on_connection
        self.events = tuple(events)
        self.windows_state = windows_state
        self._state_listeners: list[Callable[[str, object], None]] = []
        self._event_listeners: dict[str, list[Callable[[dict], None]]] = {}
        self._pending: dict[str, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._id_base = f"{int(time.time() * 1000):x}{os.getpid() & 0xFFFF:x}"
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"bus-{device_id}")
        self.connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, clean_session=True)
        c.username_pw_set(device_id, secret)
        c.will_set(self.topics.status(device_id), "offline", qos=1, retain=True)
        c.reconnect_delay_set(0.2, 10)
        c.on_connect = self._on_connect
        c.on_connect_fail = lambda client, userdata: self._connect_failed()
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_socket_open = no_delay
        use_tls(c, self.url)
        self.client = c
        self.refused: Optional[str] = None
        # what is wrong, for the device's screen and log: {"code", "message", "message_en"}
        self.problem: Optional[dict] = None
        self._drops: deque = deque()
        self._stopping = False
        self._timers: list[threading.Timer] = []
        self._clock_timer: Optional[threading.Timer] = None
        self._failures = 0  # connects in a row that did not get through
        self._dropped_at: Optional[float] = None  # a drop, until we know how we got back
        self._diagnosed_at = float("-inf")

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, wait: float = 0.0) -> "DeviceClient":
        self.client.connect_async(self.url.host, self.url.port, keepalive=15)
        self.client.loop_start()
        if wait:
            self.connected.wait(wait)
        return self

    def stop(self) -> None:
        self._stopping = True
        for timer in self._timers:
            timer.cancel()
        if self.connected.is_set():
            self.client.publish(
                self.topics.status(self.device_id), "offline", qos=1, retain=True
            ).wait_for_publish(1)
        self.client.disconnect()
        self.client.loop_stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- listeners -------------------------------------------------------------------------------

    def on_state(self, callback: Callable[[str, object], None]) -> None:
        """callback(kind, value): kind 'hall', 'queues', 'window:<n>', 'controller' (online or not)
        or 'problem' (None, or {code, message, message_en} to show: e.g. another device uses this
        id, or no hall of this id on the broker)."""
        self._state_listeners.append(callback)

    def on_event(self, kind: str, callback: Callable[[dict], None]) -> None:
        """kind: call, ticket, window, rating, alert (or '*' for all)."""
        self._event_listeners.setdefault(kind, []).append(callback)

    # -- requests -------------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{self._id_base}-{next(self._ids)}"

    def request(
        self,
        op: str,
        args: Optional[dict] = None,
        timeout: float = REQUEST_TIMEOUT_S,
        retries: int = RETRIES,
        req_id: Optional[str] = None,
    ) -> dict:
        """The op's result, or BusError / BusUnavailable. Retries reuse the id: never two tickets."""
        req_id = req_id or self.new_id()
        payload = json.dumps(
            {"v": 1, "id": req_id, "op": op, "args": args or {}}, ensure_ascii=False
        ).encode("utf-8")
        done = threading.Event()
        box: list = []
        with self._lock:
            self._pending[req_id] = (done, box)
        try:
            for _attempt in range(retries + 1):
                if not self.connected.wait(timeout):
                    continue
                self.client.publish(self.topics.req(self.device_id), payload, qos=1)
                if done.wait(timeout):
                    reply = box[0]
                    if reply.get("ok"):
                        return reply.get("result") or {}
                    err = reply.get("error") or {}
                    raise BusError(
                        err.get("code", "error"),
                        err.get("message", "操作失败"),
                        err.get("message_en", ""),
                        err.get("detail"),
                    )
            raise BusUnavailable(f"({op})")
        finally:
            with self._lock:
                self._pending.pop(req_id, None)

    def request_async(
        self,
        op: str,
        args: Optional[dict] = None,
        callback: Optional[Callable[[Optional[dict], Optional[BusError]], None]] = None,
        **kw,
    ) -> Future:
        """Run `request` on a worker; callback(result, error) there when it ends."""

        def run():
            try:
                result = self.request(op, args, **kw)
            except BusError as exc:
                if callback:
                    callback(None, exc)
                return None
            if callback:
                callback(result, None)
            return result

        return self._pool.submit(run)

    # -- MQTT callbacks ----------------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            self.refused = str(reason_code)
            log.error(
                "%s: broker refused the connection (%s): check the device id and secret",
                self.device_id,
                reason_code,
            )
            self._set_problem(
                "refused",
                f"叫号系统拒绝了设备 {self.device_id} 的登录：请核对设备编号和密钥",
                f"The hall refused device {self.device_id}: check its id and secret",
            )
            return
        self.refused = None
        self._failures = 0
        if self._dropped_at is not None:
            self._dropped_at = None
            self._count_drop()  # straight back in: someone else had our id
        if (self.problem or {}).get("code") == "connect":
            self._set_problem(None)
        root = self.topics.root
        # subscribing here renews everything after a reconnect (clean session)
        subs = [
            (self.topics.rep(self.device_id), 1),
            (self.topics.state_hall, 1),
            (self.topics.state_queues, 1),
            (self.topics.state_alerts, 1),
            (self.topics.status("controller"), 1),
        ]
        if self.windows_state:
            subs.append((f"{root}/state/windows/+", 1))
        subs += [(self.topics.evt(kind), 1) for kind in self.events]
        client.subscribe(subs)
        client.publish(self.topics.status(self.device_id), "online", qos=1, retain=True)
        self.connected.set()
        self._notify_connection(True)
        self._later(NO_HALL_AFTER_S, self._check_hall_seen)
        self._later(TAKEOVER_WINDOW_S, self._check_stable)
        self._report_clock()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        was = self.connected.is_set()
        self.connected.clear()
        if was:
            self._notify_connection(False)
        if was and reason_code.is_failure and not self._stopping:
            self._dropped_at = time.monotonic()
        elif not was and not self._stopping:
            self._connect_failed()  # dropped before the broker ever said yes

    def _connect_failed(self) -> None:
        """paho says only that it failed: after a few in a row, find out why and say it."""
        self._dropped_at = None  # the broker was away: that drop was no takeover
        self._failures += 1
        now = time.monotonic()
        if self._failures < DIAGNOSE_AFTER or now - self._diagnosed_at < DIAGNOSE_EVERY_S:
            return
        self._diagnosed_at = now
        self._pool.submit(self._diagnose)

    def _diagnose(self) -> None:
        from .diagnose import diagnose

        why = diagnose(self.url)
        if not why or self.connected.is_set():
            return
        log.error("%s: cannot connect to %s: %s", self.device_id, self.url, why)
        self._set_problem(
            "connect",
            f"无法连接叫号系统（{self.url}）：{why}",
            f"Cannot connect to the hall ({self.url}): {why}",
        )

    # -- problems a person must hear about ---------------------------------------------------------

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        self._timers = [t for t in self._timers if t.is_alive()]
        timer = threading.Timer(delay, fn)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _count_drop(self) -> None:
        now = time.monotonic()
        self._drops.append(now)
        while self._drops and now - self._drops[0] > TAKEOVER_WINDOW_S:
            self._drops.popleft()
        if (
            len(self._drops) >= TAKEOVERS_REPORTED
            and (self.problem or {}).get("code") != "identity"
        ):
            log.error(
                "%s: the broker dropped this device %d times in a minute: another device or "
                "program is probably using the same device id %r (each connection takes the "
                "id from the other); give each device its own id",
                self.device_id,
                len(self._drops),
                self.device_id,
            )
            self.client.reconnect_delay_set(*SLOW_RECONNECT_S)
            self._set_problem(
                "identity",
                f"设备编号 {self.device_id} 可能被另一台设备同时使用，连接反复被顶替，"
                "请联系管理员为每台设备分配独立编号",
                f"Device id {self.device_id} seems to be used by another device too: "
                "each connection takes it from the other. Give each device its own id.",
            )

    def _report_clock(self, scheduled: bool = False) -> None:
        """This box's clock to the controller: at every connect, and every 10 minutes."""
        from datetime import datetime

        if self._stopping:
            return
        if self.connected.is_set():
            self.request_async(
                "device.clock", {"now": datetime.now().astimezone().isoformat()}, retries=0
            )
        if scheduled or self._clock_timer is None:
            self._clock_timer = threading.Timer(CLOCK_REPORT_S, self._report_clock, (True,))
            self._clock_timer.daemon = True
            self._clock_timer.start()
            self._timers.append(self._clock_timer)

    def _check_stable(self) -> None:
        """Connected a whole window without a drop: the identity is ours again."""
        if self.connected.is_set() and (
            not self._drops or time.monotonic() - self._drops[-1] >= TAKEOVER_WINDOW_S
        ):
            self._drops.clear()
            if (self.problem or {}).get("code") == "identity":
                self.client.reconnect_delay_set(0.2, 10)
                self._set_problem(None)

    def _check_hall_seen(self) -> None:
        if self.connected.is_set() and self.state["hall"] is None and not self.controller_online:
            log.error(
                "%s: connected to the broker, but no hall %r answers on it (no %s within "
                "%.0f s): check the hall id in this device's config, and that the broker's ACL "
                "was made for this hall (`onewindow broker-config --config HALL_FILE`)",
                self.device_id,
                self.topics.hall_id,
                self.topics.state_hall,
                NO_HALL_AFTER_S,
            )
            self._set_problem(
                "no_hall",
                f"总线上没有大厅“{self.topics.hall_id}”，请检查设备配置中的大厅编号",
                f"No hall '{self.topics.hall_id}' on this broker: check the hall id "
                "in this device's config",
            )

    def _set_problem(self, code: Optional[str], message: str = "", message_en: str = "") -> None:
        self.problem = (
            {"code": code, "message": message, "message_en": message_en} if code else None
        )
        self._notify_state("problem", self.problem)

    def _notify_connection(self, up: bool) -> None:
        if self.on_connection:
            try:
                self.on_connection(up)
            except Exception:
                log.exception("connection listener failed")

    def _on_message(self, client, userdata, msg):
        topic = msg.topic
        try:
            if topic == self.topics.status("controller"):
                self.controller_online = msg.payload.strip() == b"online"
                self._notify_state("controller", self.controller_online)
                return
            data = json.loads(msg.payload.decode("utf-8")) if msg.payload else None
        except (ValueError, UnicodeDecodeError):
            lograte.warn(log, "malformed", "ignored a malformed message on %s", topic)
            return
        root = self.topics.root
        if topic == self.topics.rep(self.device_id):
            if isinstance(data, dict):
                with self._lock:
                    pending = self._pending.get(data.get("id"))
                if pending and not pending[0].is_set():
                    pending[1].append(data)
                    pending[0].set()
        elif topic.startswith(f"{root}/evt/"):
            kind = topic.rsplit("/", 1)[1]
            if not isinstance(data, dict):
                return
            for cb in self._event_listeners.get(kind, []):
                self._safe(cb, data)
            for cb in self._event_listeners.get("*", []):
                self._safe(cb, {"kind": kind, **data})
        elif topic == self.topics.state_hall:
            self.state["hall"] = data
            if data and (self.problem or {}).get("code") == "no_hall":
                self._set_problem(None)
            self._notify_state("hall", data)
        elif topic == self.topics.state_queues:
            self.state["queues"] = data
            self._notify_state("queues", data)
        elif topic == self.topics.state_alerts:
            alerts = (data or {}).get("alerts") if isinstance(data, dict) else None
            self.state["alerts"] = alerts if isinstance(alerts, list) else []
            self._notify_state("alerts", self.state["alerts"])
        elif topic.startswith(f"{root}/state/windows/"):
            try:
                number = int(topic.rsplit("/", 1)[1])
            except ValueError:
                return
            # copy on write: a UI thread may be iterating the windows right now
            windows = dict(self.state["windows"])
            if data is None:
                windows.pop(number, None)
            else:
                windows[number] = data
            self.state["windows"] = windows
            self._notify_state(f"window:{number}", data)

    def _notify_state(self, kind: str, value) -> None:
        for cb in list(self._state_listeners):
            self._safe(cb, kind, value)

    @staticmethod
    def _safe(cb, *args) -> None:
        try:
            cb(*args)
        except Exception:  # one bad listener must not stop the bus
            log.exception("bus listener failed")
