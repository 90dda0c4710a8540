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

# the PostgreSQL `scripts/citydb` (run by .ci/run) makes sure answers; another with ONEWINDOW_PG
PG = os.environ.get("ONEWINDOW_PG", "postgresql://postgres@127.0.0.1:5432")


class CentralBroker:
    """The city's Mosquitto as `onewindow city-broker` writes it, on free ports."""

    def __init__(self, out: Path, halls: list[str], hosts: tuple[str, ...] = ("127.0.0.1",)):
        self.out = out
        self.tls_port, self.port = free_port(), free_port()
        self.halls = halls
        # as the test's own user (a Mosquitto run as root would drop to `mosquitto`, which
        # cannot enter pytest's private temporary directories)
        self.made = central_files(
            out,
            list(hosts),
            self.tls_port,
            halls,
            self.port,
            "127.0.0.1",
            run_as=pwd.getpwuid(os.geteuid()).pw_name,
        )
        self.secret = self.made["secret"]
        self.platform_secret = self.made["platform_secret"]  # city-appointments push
        self.proc = None

    def start(self) -> "CentralBroker":
        binary = shutil.which(
            "mosquitto", path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
        )
        self.proc = subprocess.Popen(
            [binary, "-c", str(self.made["conf"])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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
        return Uplink.from_args(
            f"mqtts://{host}:{self.tls_port}",
            str(tls / "ca.crt"),
            str(tls / f"{hall_id}.crt"),
            str(tls / f"{hall_id}.key"),
        )


class Watcher:
    """Reads `ow/+/up/#` at the central broker (as a collector would) and can acknowledge."""

    def __init__(self, central: CentralBroker, ack: bool = False):
        self.got: list[dict] = []
        self.ack = ack
        self.lock = threading.Lock()
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:6]}"
        )
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


SECRET = "city-test-secret"  # every test device's secret in the city tests


def hall_config(tmp: Path, hall_id: str) -> Path:
    """The shipped hall, open around the clock without quotas, under another id."""
    import tomllib

    from busutil import unlimited_config
    from onewindow.hallconfig import dump

    here = tmp / f"cfg-{hall_id}"
    here.mkdir(parents=True, exist_ok=True)
    raw = tomllib.loads(unlimited_config(here).read_text(encoding="utf-8"))
    raw["hall"]["id"] = hall_id
    path = here / "hall.toml"
    path.write_text(dump(raw), encoding="utf-8")
    return path


def onewindow(*args: str, netns: str | None = None, **kw) -> subprocess.Popen:
    """`onewindow ...` from this checkout, as a process (inside `netns` when given)."""
    import sys

    from busutil import REPO

    cmd = [sys.executable, "-m", "onewindow.cli", *args]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.Popen(cmd, cwd=REPO, **kw)


class HallProcess:
    """`onewindow hall` with its private Mosquitto bridged to the city, as a process."""

    def __init__(
        self,
        tmp: Path,
        hall_id: str,
        central: CentralBroker,
        netns: str | None = None,
        city_host: str = "127.0.0.1",
    ):
        import sys

        from busutil import REPO

        self.hall_id = hall_id
        self.dir = tmp / hall_id
        self.data = self.dir / "data"
        self.config = hall_config(tmp, hall_id)
        self.netns = netns
        self.port = free_port()
        for dev, role, extra in (
            ("desk-1", "caller", ["--window", "4"]),  # issues as a hall's kiosks do: citydriver.py
            ("caller-4", "caller", ["--window", "4"]),
        ):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "onewindow.cli",
                    "devices",
                    "--data-dir",
                    str(self.data),
                    "add",
                    dev,
                    "--role",
                    role,
                    *extra,
                    "--secret",
                    SECRET,
                    "--config",
                    str(self.config),
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        up = central.uplink(hall_id, city_host)
        self.args = [
            "hall",
            "--config",
            str(self.config),
            "--data-dir",
            str(self.data),
            "--mqtt",
            f"embedded://127.0.0.1:{self.port}",
            "--uplink",
            f"mqtts://{city_host}:{central.tls_port}",
            "--uplink-ca",
            up.cafile,
            "--uplink-cert",
            up.certfile,
            "--uplink-key",
            up.keyfile,
        ]
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "hall.log"

    def start(self) -> "HallProcess":
        with open(self.log, "ab") as log:  # the process has its own copy
            self.proc = onewindow(
                *self.args, netns=self.netns, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def drive(self, duration: float, interval: float = 0.2) -> subprocess.Popen:
        import sys

        from busutil import REPO

        cmd = [
            sys.executable,
            str(REPO / "tests" / "citydriver.py"),
            "--port",
            str(self.port),
            "--hall",
            self.hall_id,
            "--secret",
            SECRET,
            "--duration",
            str(duration),
            "--interval",
            str(interval),
        ]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        with open(self.dir / "driver.log", "ab") as log:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)

    def outbox(self) -> tuple[int, int]:
        """(last numbered, acknowledged), read beside the running hall."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.data / 'hall.db'}?mode=ro", uri=True, timeout=5)
        try:
            last, acked = db.execute("SELECT last_seq, acked FROM uplink").fetchone()
        finally:
            db.close()
        return last, acked

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class NetNs:
    """A network namespace joined to this one by a veth pair: CITY_ADDR here, HALL_ADDR there.
    Taking the link down is a real cut: packets stop, TCP finds out by itself."""

    def __init__(self, name: str, subnet: int):
        self.name = name
        self.here, self.there = f"{name}-c", f"{name}-h"
        self.city_addr, self.hall_addr = f"10.77.{subnet}.1", f"10.77.{subnet}.2"
        self._ip("netns", "add", name)
        self._ip("link", "add", self.here, "type", "veth", "peer", "name", self.there)
        self._ip("link", "set", self.there, "netns", name)
        self._ip("addr", "add", f"{self.city_addr}/30", "dev", self.here)
        self._ip("link", "set", self.here, "up")
        self._ip(
            "netns", "exec", name, "ip", "addr", "add", f"{self.hall_addr}/30", "dev", self.there
        )
        self._ip("netns", "exec", name, "ip", "link", "set", self.there, "up")
        self._ip("netns", "exec", name, "ip", "link", "set", "lo", "up")

    @staticmethod
    def _ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def cut(self) -> None:
        self._ip("link", "set", self.here, "down")

    def restore(self) -> None:
        self._ip("link", "set", self.here, "up")

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.here], capture_output=True)


def netns_available() -> str | None:
    """None when this machine lets the tests make namespaces; else why not."""
    import os

    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"owprobe{os.getpid() % 100000}"
    run = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if run.returncode != 0:
        return f"ip netns add failed: {run.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def two_bridged_halls(tmp_path, start_hall, db: str):
    """County-a (today) and town-b (its clock ten days back), each with a kiosk and window 4's
    caller, bridged to a central broker whose collector writes `db`; (halls, central,
    collector). The caller stops collector and central."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from onewindow.city.collector import Collector

    central = CentralBroker(tmp_path / "central", ["county-a", "town-b"]).start()
    collector = Collector(db, central.url, "city-collector", central.secret, client_id="c1").start()
    tz = ZoneInfo("Asia/Shanghai")
    halls = {
        hall_id: start_hall(
            "embedded",
            ("kiosk-1", "kiosk"),
            ("caller-4", "caller", [4]),
            config=hall_config(tmp_path, hall_id),
            uplink=central.uplink(hall_id),
            **({"clock": lambda: datetime.now(tz) - timedelta(days=10)} if back else {}),
        )
        for hall_id, back in (("county-a", False), ("town-b", True))
    }
    return halls, central, collector
