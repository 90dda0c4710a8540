"""Test helpers for the hall bus: Mosquitto with the generated ACL, a hall in-process."""

from __future__ import annotations

import ctypes
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from onewindow.bus.client import DeviceClient
from onewindow.bus.devices import DeviceRegistry, controller_secret
from onewindow.bus.mosquitto import PrivateBroker, TlsListen
from onewindow.bus.service import HallService
from onewindow.bus.topics import Topics
from onewindow.bus.url import parse_bus_url
from onewindow.managerpin import check, set_pin
from onewindow.startup import open_hall

REPO = Path(__file__).resolve().parent.parent
TEST_PIN = "2468"  # the hall's manager PIN in tests that log a console in


def unlimited_config(tmp: Path) -> Path:
    """The shipped hall, open around the clock and without daily quotas: for load and crash runs."""
    import tomllib

    from onewindow.demo import always_open_copy
    from onewindow.hallconfig import dump

    raw = tomllib.loads(
        always_open_copy(REPO / "config" / "hall.toml", tmp).read_text(encoding="utf-8")
    )
    for item in raw.get("services", []) + raw.get("themes", []):
        item["daily_quota"] = 0
    path = tmp / "unlimited-hall.toml"
    path.write_text(dump(raw), encoding="utf-8")
    return path


def open_hall_file(tmp: Path) -> Path:
    """The shipped hall, open around the clock, its quotas kept (in tmp/open-cfg)."""
    from onewindow.demo import always_open_copy

    (tmp / "open-cfg").mkdir(exist_ok=True)
    return always_open_copy(REPO / "config" / "hall.toml", tmp / "open-cfg")


def die_with_parent() -> None:
    """Popen(preexec_fn=...): the child is ended when the test run goes, even by kill -9. A
    bridge or app left behind would go on reading its old pty, and the kernel hands that pty's
    number to a later test's device: the orphan then steals its bytes."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_bridge(proc: subprocess.Popen, timeout: float = 10) -> int:
    """A bridge or device process asked to stop (SIGTERM), as systemd does; its exit status.
    One that does not stop within `timeout` is killed, so that it is never left running after
    the test, and the TimeoutExpired raised: a bridge that ignores SIGTERM is a failure."""
    proc.terminate()  # a no-op once it has exited
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {port}")


def cli(*args: str, timeout: float = 60):
    """`onewindow ARGS` from this checkout, run to its end: its exit status and output."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "onewindow.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(pred, timeout: float = 5.0, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


class Mosquitto:
    """A Mosquitto that outlives the controller, as the systemd `onewindow-mosquitto` unit does:
    the hall's private-broker supervisor with the files `broker-config` writes, on a fixed port."""

    def __init__(self, data_dir: Path, hall_id: str):
        self.data_dir = data_dir
        self.hall_id = hall_id
        self.port = free_port()
        self.broker = None

    def start(self) -> "Mosquitto":
        self.broker = PrivateBroker(
            self.data_dir,
            Topics(self.hall_id),
            DeviceRegistry(self.data_dir),
            controller_secret(self.data_dir),
            port=self.port,
        ).start()
        return self

    def stop(self) -> None:
        if self.broker:
            self.broker.stop()
            self.broker = None

    @property
    def running(self) -> bool:
        return self.broker is not None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


class Hall:
    """A hall controller in this process, with registered devices. `kind`: "embedded" (its own
    private Mosquitto, the default of `onewindow hall`), "mosquitto" (a broker that outlives the
    controller, like the systemd unit) or an mqtt:// URL of a broker the test runs itself."""

    def __init__(
        self,
        tmp: Path,
        kind: str,
        config: Path | None = None,
        clock=None,
        tls_listen: str | None = None,
        uplink=None,
    ):
        self.tmp = tmp
        self.uplink = uplink  # bridge.Uplink: the private broker bridges to the city
        self.tls_listen = tls_listen
        self.kind = kind
        self.config = config or REPO / "config" / "hall.toml"
        self.clock = clock
        self.data_dir = tmp / "data"
        self.registry = DeviceRegistry(self.data_dir)
        self.secrets: dict[str, str] = {}
        self.mosquitto = None
        self.service = None
        self.clients: list[DeviceClient] = []

    def add(self, device_id: str, role: str, windows=()):
        self.secrets[device_id] = self.registry.add(device_id, role, list(windows))
        broker = (self.mosquitto and self.mosquitto.broker) or (
            self.service and self.service.broker
        )
        if broker:
            broker.reload()  # SIGHUP: the new passwd and acl
            time.sleep(0.2)

    def start(self) -> "Hall":
        ctl = open_hall(self.config, self.data_dir, clock=self.clock)
        self.hall_id = ctl.hall.id
        if self.kind == "mosquitto":
            if self.mosquitto is None:
                self.mosquitto = Mosquitto(self.data_dir, self.hall_id)
            if not self.mosquitto.running:
                self.mosquitto.start()
            url = parse_bus_url(self.mosquitto.url)
        elif self.kind.startswith(("mqtt://", "embedded://")):  # a broker the test runs itself,
            url = parse_bus_url(self.kind)  # or a private one on a set port
        else:
            url = parse_bus_url("embedded://127.0.0.1:0")
        tls = TlsListen.parse(self.tls_listen) if self.tls_listen else None
        self.service = HallService(
            ctl, url, self.registry, controller_secret(self.data_dir), tls, self.uplink
        )
        self.service.start()
        assert self.service.connected.wait(5), "controller did not reach the broker"
        self.port = self.service.port
        return self

    @property
    def ctl(self):
        return self.service.ctl

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def client(self, device_id: str, secret: str | None = None, wait: float = 5) -> DeviceClient:
        """A device on the bus; a manager console also logged in with the hall's PIN."""
        c = DeviceClient(self.url, device_id, secret or self.secrets[device_id], self.hall_id)
        c.start(wait=wait)
        self.clients.append(c)
        entry = self.registry.get(device_id)
        if wait and entry is not None and entry.role == "manager" and secret is None:
            if not check(self.data_dir, TEST_PIN):
                set_pin(self.data_dir, TEST_PIN)
            assert c.request("manager.login", {"pin": TEST_PIN})["ok"]
        return c

    def raw_client(self, device_id: str, secret: str | None = None):
        """A bare paho client, for sending what a well-behaved device never would."""
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id)
        c.username_pw_set(
            device_id, secret if secret is not None else self.secrets.get(device_id, "")
        )
        got = []
        c.on_message = lambda cl, ud, msg: got.append((msg.topic, msg.payload))
        c.received = got
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        return c

    def flooder(self, device_id: str) -> "Flooder":
        return Flooder(self.port, device_id, self.secrets[device_id], Topics(self.hall_id))

    def stop_service(self) -> None:
        if self.service:
            self.service.stop()
            self.service = None

    def close(self) -> None:
        for c in self.clients:
            try:
                c.stop()
            except Exception:
                pass
        self.clients = []
        self.stop_service()
        if self.mosquitto:
            self.mosquitto.stop()


class Flooder:
    """A device that writes thousands of requests at once, as a broken or hostile one would,
    at little CPU of its own: a stock paho client whose network loop has not started yet, so
    that CONNECT, SUBSCRIBE and each request (QoS 0) go straight to the socket, paced by nothing
    and waiting for no answer. The loop then starts and gathers the replies (`replies`). One
    flood per flooder: paho's loop is not made to stop and start again."""

    def __init__(self, port: int, device_id: str, secret: str, topics: Topics):
        self.device_id = device_id
        self.request_topic = topics.req(device_id)
        self.replies: list[bytes] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id)
        self.client.username_pw_set(device_id, secret)
        self.client.on_message = lambda client, userdata, msg: self.replies.append(msg.payload)
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        # the broker handles a connection's packets in order: subscribed before the first request
        self.client.subscribe(topics.rep(device_id), 0)

    def flood(self, payloads) -> None:
        """Every request written at once; back when all are in the socket (or, past what the
        socket holds, queued in paho for its loop to write as the broker reads)."""
        for payload in payloads:
            self.client.publish(self.request_topic, payload, 0)
        self.client.loop_start()
        assert self._subscribed.wait(10), f"{self.device_id} was not let in"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def hall_command(config, data_dir, *extra: str) -> list[str]:
    """`onewindow hall` as its own process, from this tree (not the installed entry point)."""
    return [
        sys.executable,
        "-m",
        "onewindow.cli",
        "--log-level",
        "WARNING",
        "hall",
        "--config",
        str(config),
        "--data-dir",
        str(data_dir),
        *extra,
    ]


def hall_process(data_dir, config, mqtt_url: str) -> subprocess.Popen:
    """A hall controller as its own process on `mqtt_url`, its output kept for the test."""
    return subprocess.Popen(
        hall_command(config, data_dir, "--mqtt", mqtt_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def session_processes(sid: int) -> list[str]:
    """The commands of the processes still alive in session `sid` (a Popen with
    start_new_session=True: its pid), however they regrouped themselves."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after ')'
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(comm)
    return found


def envelope(req_id: str, op: str, **args) -> bytes:
    return json.dumps({"v": 1, "id": req_id, "op": op, "args": args}).encode()
