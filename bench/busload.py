"""Load for the bus benchmarks: many devices (kiosks, or callers) on one thread.

A real hall's kiosks are separate machines; here they share two cores with the broker and the
controller. A thread per kiosk (a DeviceClient each) spends more CPU on the interpreter lock than
the hall spends on the tickets, so the farm drives every kiosk's paho client from one selector
loop: each kiosk sends a request, waits for its reply, then sends the next, as a kiosk does. Like
OneWindow's own devices they set TCP_NODELAY, and they subscribe to what the device reads
(`follows`: a kiosk's by default; callers also follow every window's state).
"""

from __future__ import annotations

import json
import select
import selectors
import socket
import time
from typing import Callable

import paho.mqtt.client as mqtt

# what a kiosk reads, under the hall's root ({dev}: the device's id); its reply topic included
KIOSK_FOLLOWS = ("rep/{dev}", "state/hall", "state/queues", "dev/controller/status")
CALLER_FOLLOWS = (*KIOSK_FOLLOWS, "state/windows/+")


class KioskFarm:
    def __init__(
        self,
        host: str,
        port: int,
        hall_id: str,
        secrets: dict[str, str],
        follows: tuple[str, ...] = KIOSK_FOLLOWS,
    ):
        self.root = f"ow/{hall_id}"
        self.follows = follows
        self.sel = selectors.DefaultSelector()
        self.kiosks: dict[str, mqtt.Client] = {}
        self.ready: set[str] = set()
        self._waiting: dict[str, tuple[str, float]] = {}  # device -> (request id, sent at)
        self._on_reply: Callable[[str, dict, float], None] = lambda dev, reply, sent: None
        for dev, secret in secrets.items():
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=dev, userdata=dev)
            c.username_pw_set(dev, secret)
            c.on_connect = self._connected
            c.on_subscribe = lambda cl, dev, mid, codes, props=None: self.ready.add(dev)
            c.on_message = self._message
            c.on_socket_open = lambda cl, ud, sock: sock.setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
            c.connect(host, port, keepalive=60)
            self.sel.register(c.socket(), selectors.EVENT_READ, c)
            self.kiosks[dev] = c
        self.pump_until(lambda: len(self.ready) == len(self.kiosks), 60)

    def _connected(self, client, dev, flags, reason_code, properties=None):
        if reason_code.is_failure:
            raise RuntimeError(f"{dev}: broker refused: {reason_code}")
        client.subscribe([(f"{self.root}/{t.format(dev=dev)}", 1) for t in self.follows])

    def _message(self, client, dev, msg):
        if not msg.topic.endswith(f"/rep/{dev}"):
            return
        reply = json.loads(msg.payload)
        pending = self._waiting.get(dev)
        if pending and reply.get("id") == pending[0]:
            del self._waiting[dev]
            self._on_reply(dev, reply, pending[1])

    def send(self, dev: str, req_id: str, op: str, args: dict) -> None:
        payload = json.dumps({"v": 1, "id": req_id, "op": op, "args": args}, ensure_ascii=False)
        self._waiting[dev] = (req_id, time.perf_counter())
        self.kiosks[dev].publish(f"{self.root}/req/{dev}", payload, qos=1)

    def request(self, dev: str, op: str, args: dict, timeout: float = 30) -> dict:
        """One request from `dev`, its reply's result. Only `dev`'s socket is read meanwhile, as
        on its own machine: the others' traffic waits for `pump_for` (between the measured acts)."""
        got: list[dict] = []
        self._on_reply = lambda _dev, reply, _sent: got.append(reply)
        self.send(dev, f"req-{time.perf_counter_ns()}", op, args)
        self.pump_until(lambda: bool(got), timeout, only=dev)
        if not got[0].get("ok"):
            raise RuntimeError(f"{dev} {op}: {got[0].get('error')}")
        return got[0]["result"]

    def pump_for(self, seconds: float) -> None:
        """Read and answer every device's traffic for this long."""
        end = time.monotonic() + seconds
        self.pump_until(lambda: time.monotonic() >= end, seconds + 1)

    def pump_until(self, done: Callable[[], bool], timeout: float, only: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        last_misc = 0.0
        one = self.kiosks[only] if only else None
        while not done():
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError("the kiosk farm did not finish in time")
            if one is not None:
                if one.want_write():
                    one.loop_write()
                readable, _, _ = select.select([one.socket()], [], [], 0.05)
                if readable:
                    one.loop_read()
                continue
            for c in self.kiosks.values():
                if c.want_write():
                    c.loop_write()
            for key, _ in self.sel.select(0.05):
                key.data.loop_read()
            if now - last_misc > 1.0:
                last_misc = now
                for c in self.kiosks.values():
                    c.loop_misc()

    def each(
        self, per_device: int, make: Callable[[str], tuple[str, dict]], timeout: float = 600
    ) -> list[tuple[str, dict, float, float]]:
        """Every device sends `per_device` requests back to back, the next once the last is
        answered, as a device does; `make(dev)` gives each request's (op, args). Returns
        (device, reply, when it was sent, when answered) for each, in the order answered."""
        done: list[tuple[str, dict, float, float]] = []
        left = {dev: per_device for dev in self.kiosks}
        counter = [0]

        def next_request(dev: str) -> None:
            if left[dev]:
                left[dev] -= 1
                counter[0] += 1
                op, args = make(dev)
                self.send(dev, f"farm-{counter[0]}", op, args)

        def on_reply(dev: str, reply: dict, sent: float) -> None:
            done.append((dev, reply, sent, time.perf_counter()))
            next_request(dev)

        self._on_reply = on_reply
        for dev in self.kiosks:
            next_request(dev)
        self.pump_until(lambda: not self._waiting, timeout)
        return done

    def issue(self, per_kiosk: int, codes: list[str], timeout: float = 600) -> list[float]:
        """Every kiosk issues `per_kiosk` tickets back to back; the latencies, in seconds."""
        n = [0]

        def ticket(_dev: str) -> tuple[str, dict]:
            n[0] += 1
            return "ticket.issue", {"service": codes[n[0] % len(codes)], "channel": "kiosk"}

        latencies = []
        for dev, reply, sent, answered in self.each(per_kiosk, ticket, timeout):
            if not reply.get("ok"):
                raise RuntimeError(f"{dev}: {reply.get('error')}")
            latencies.append(answered - sent)
        return latencies

    def close(self) -> None:
        for c in self.kiosks.values():
            self.sel.unregister(c.socket())
            c.disconnect()
            c.loop_write()
            c.socket() and c.socket().close()
        self.sel.close()
