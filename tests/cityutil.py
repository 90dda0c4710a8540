"""Test helpers for the city: a central Mosquitto with its CA and hall certificates, a watcher
that reads every hall's uplink as the collectors do, and PostgreSQL databases of their own."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from busutil import free_port, wait_port
from onewindow.bus.bridge import Uplink
from onewindow.bus.central import COLLECTOR_USER, central_files
from onewindow.bus.mosquitto import SBIN_DIRS

PG = "postgresql://postgres@127.0.0.1:5432"


class CentralBroker:
    """The city's Mosquitto as `onewindow city-broker` writes it, on free ports."""

    def __init__(self, out: Path, halls: list[str]):
        self.out = out
        self.tls_port, self.port = free_port(), free_port()
        self.halls = halls
        # as the test's own user (a Mosquitto run as root would drop to `mosquitto`, which
        # cannot enter pytest's private temporary directories)
        self.made = central_files(out, ["127.0.0.1"], self.tls_port, halls, self.port, "127.0.0.1",
                                  run_as=pwd.getpwuid(os.geteuid()).pw_name)
        self.secret = self.made["secret"]
        self.proc = None

    def start(self) -> "CentralBroker":
        binary = shutil.which("mosquitto", path=os.pathsep.join([os.environ.get("PATH", ""),
                                                                 *SBIN_DIRS]))
        self.proc = subprocess.Popen([binary, "-c", str(self.made["conf"])],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def uplink(self, hall_id: str, host: str = "127.0.0.1") -> Uplink:
        tls = self.out / "tls"
        return Uplink.from_args(f"mqtts://{host}:{self.tls_port}", str(tls / "ca.crt"),
                                str(tls / f"{hall_id}.crt"), str(tls / f"{hall_id}.key"))


class Watcher:
    """Reads `ow/+/up/#` at the central broker (as a collector would) and can acknowledge."""

    def __init__(self, central: CentralBroker, ack: bool = False):
        self.got: list[dict] = []
        self.ack = ack
        self.lock = threading.Lock()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:6]}")
        self.c.username_pw_set(COLLECTOR_USER, central.secret)
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, *a: c.subscribe("ow/+/up/#", 1)
        self.c.connect("127.0.0.1", central.port)
        self.c.loop_start()

    def _on_message(self, client, userdata, msg):
        body = json.loads(msg.payload)
        with self.lock:
            self.got.append(body)
        if self.ack:
            client.publish(f"ow/{body['hall']}/ack", json.dumps({"upto": body["seq"]}), 1)

    def seqs(self, hall: str) -> list[int]:
        with self.lock:
            return [e["seq"] for e in self.got if e["hall"] == hall]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def new_database(name_hint: str = "owtest") -> str:
    """A fresh database on the machine's PostgreSQL; its URL. Dropped by drop_database."""
    import psycopg
    name = f"{name_hint}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def drop_database(url: str) -> None:
    import psycopg
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(pred, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")
