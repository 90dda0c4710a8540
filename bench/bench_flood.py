"""A flooding device against a working hall: an LED bridge sends `config.get` as fast as it can
(20,000 by default) while the duty desk issues tickets at a whole hall's pace. Prints how the
database grew, what the sign was answered, the tickets' latency meanwhile, and the alerts and
log lines the flood made.

The controller runs as its own process on the embedded broker, as in a hall. The LED bridge is
either a stock paho client publishing in a loop (--flooder paho: what a broken device on a
normal MQTT library does; it spends more of the two cores than the hall), or the cheapest flood
(--flooder raw): a paho client whose network loop has not started yet, so that all its requests
(QoS 0) go straight to the socket at once, paced by nothing and waiting for no answer
(tests/busutil.py Flooder, which tests/test_bus.py floods with too). The desk (role caller: a
kiosk may take only a busy hour's numbers at once, bus/budget.py) is OneWindow's own client, one
request at a time, every --every-ms.

Usage: .venv/bin/python bench/bench_flood.py [--requests 20000] [--every-ms 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from busutil import Flooder, free_port, unlimited_config, wait_for  # noqa: E402
from onewindow.bus.client import DeviceClient  # noqa: E402
from onewindow.bus.devices import DeviceRegistry  # noqa: E402
from onewindow.bus.topics import Topics  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return (
        values[min(len(values) - 1, int(len(values) * p / 100))] * 1000 if values else float("nan")
    )


class RawDevice:
    """The cheapest flood (busutil.Flooder): every request written at once before paho's loop
    runs; a new connection for each flood, as a Flooder floods once."""

    def __init__(self, port: int, device: str, secret: str, topics: Topics):
        self._args = (port, device, secret, topics)
        self._flooder: Flooder | None = None
        self.publishes: list[bytes] = []

    def subscribe(self, topic: str) -> None:
        """Each flood's Flooder subscribes to the device's reply topic itself."""

    def send(self, topic: str, payloads: list[bytes]) -> None:
        if self._flooder is not None:
            self._flooder.close()
        self._flooder = Flooder(*self._args)
        self._flooder.replies = self.publishes  # one list across floods, cleared by flood()
        self._flooder.flood(payloads)

    def pump(self, timeout: float) -> bool:
        """False when no reply came in `timeout`."""
        n = len(self.publishes)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.publishes) > n:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        if self._flooder is not None:
            self._flooder.close()


class PahoDevice:
    """A device on a stock paho client (in-flight window 20) publishing in a loop."""

    def __init__(self, port: int, device: str, secret: str):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        self.client.username_pw_set(device, secret)
        self.publishes: list[bytes] = []
        self._got = threading.Condition()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        with self._got:
            self.publishes.append(msg.payload)
            self._got.notify_all()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, 1)
        done.wait(10)

    def send(self, topic: str, payloads: list[bytes]) -> None:
        """Publish them all; back when the broker has taken every one."""
        for p in payloads:
            info = self.client.publish(topic, p, qos=1)
        info.wait_for_publish(120)

    def pump(self, timeout: float) -> bool:
        with self._got:
            n = len(self.publishes)
            return self._got.wait_for(lambda: len(self.publishes) > n, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("hall.db*") if p.is_file())


def _stored_replies(data: Path, device: str) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{data / 'hall.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM replies WHERE device = ?", (device,)).fetchone()[0]
    finally:
        db.close()


def run(n_requests: int, every_ms: float, flooder: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ow-bench-flood-"))
    data = tmp / "data"
    config = unlimited_config(tmp)
    hall_id = tomllib.loads(config.read_text(encoding="utf-8"))["hall"]["id"]
    reg = DeviceRegistry(data)
    secrets = {
        # the duty desk issues at a whole hall's pace: one kiosk may take only a busy hour's
        # numbers at once (bus/budget.py), far fewer than this benchmark's
        "desk-1": reg.add("desk-1", "caller", [1]),
        "led-1": reg.add("led-1", "led"),
        "manager-1": reg.add("manager-1", "manager"),
    }
    port = free_port()
    log_path = tmp / "hall.log"
    log = open(log_path, "w")
    hall = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "--log-level",
            "INFO",
            "hall",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            "--mqtt",
            f"embedded://127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
        cwd=REPO,
    )
    url = f"mqtt://127.0.0.1:{port}"
    root = f"ow/{hall_id}"
    clients = []
    sign = None
    try:
        manager = DeviceClient(
            url, "manager-1", secrets["manager-1"], hall_id, events=("alert",)
        ).start()
        clients.append(manager)
        wait_for(lambda: manager.connected.is_set() and manager.controller_online, timeout=30)
        alerts = []
        manager.on_event("alert", alerts.append)
        kiosk = DeviceClient(url, "desk-1", secrets["desk-1"], hall_id, events=()).start()
        clients.append(kiosk)
        wait_for(lambda: kiosk.connected.is_set(), timeout=30)
        kiosk.request("ticket.issue", {"service": "A"})  # the day rolled, the first commit made
        time.sleep(6)  # and a tick (bounds, checkpoint)
        size0 = db_bytes(data)

        sign = (
            RawDevice(port, "led-1", secrets["led-1"], Topics(hall_id))
            if flooder == "raw"
            else PahoDevice(port, "led-1", secrets["led-1"])
        )
        sign.subscribe(f"{root}/rep/led-1")

        def flood(tag: str) -> tuple[float, float, Counter]:
            """Write every request at once; (seconds to write them, seconds to the last answer,
            the answers by code)."""
            sign.publishes.clear()
            t0 = time.perf_counter()
            writer = threading.Thread(
                target=sign.send,
                args=(
                    f"{root}/req/led-1",
                    [
                        json.dumps(
                            {"v": 1, "id": f"{tag}-{n}", "op": "config.get", "args": {}}
                        ).encode()
                        for n in range(n_requests)
                    ],
                ),
            )
            writer.start()
            last = t0
            while writer.is_alive() or sign.pump(3.0):  # until answers stop coming
                if sign.pump(0.1) or writer.is_alive():
                    last = time.perf_counter()
            writer.join()
            answers = Counter()
            for p in sign.publishes:
                reply = json.loads(p)
                answers["ok" if reply.get("ok") else reply["error"]["code"]] += 1
            return t0, last - t0, answers

        broker_pid = int(
            subprocess.check_output(["pgrep", "-f", f"{data}/mosquitto/mosquitto.conf"]).split()[0]
        )
        # 1. the flood alone: what it costs the database
        cpu0 = (cpu_s(hall.pid), cpu_s(broker_pid), time.process_time())
        _t0, flood_s, first_answers = flood("a")
        cpu = (
            cpu_s(hall.pid) - cpu0[0],
            cpu_s(broker_pid) - cpu0[1],
            time.process_time() - cpu0[2],
        )
        time.sleep(6)  # a tick: what the controller keeps after the flood
        size1 = db_bytes(data)
        stored = _stored_replies(data, "led-1")

        # 2. once the controller has let the sign in again (after a quiet minute), the flood
        # again, a kiosk issuing tickets at a hall's pace meanwhile
        if any(a.get("key") == "rate:led-1" for a in alerts):
            wait_for(
                lambda: any(
                    a.get("event") == "cleared" and a.get("key") == "rate:led-1" for a in alerts
                ),
                timeout=120,
                step=0.5,
            )
        latencies = []
        stop = threading.Event()

        def pace():
            while not stop.is_set():
                t0 = time.perf_counter()
                kiosk.request("ticket.issue", {"service": "A"}, timeout=30)
                latencies.append((t0, time.perf_counter() - t0))
                stop.wait(max(0.0, every_ms / 1000 - (time.perf_counter() - t0)))

        pacer = threading.Thread(target=pace)
        pacer.start()
        time.sleep(2.0)  # the kiosk's pace before the flood, for comparison
        t_flood, flood2_s, _answers = flood("b")
        time.sleep(3.0)  # and the aftermath
        stop.set()
        pacer.join()
        quiet = [lat for at, lat in latencies if at < t_flood]
        during = [lat for at, lat in latencies if at >= t_flood]
        lines = [
            ln
            for ln in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            if "led-1" in ln
        ]
        return {
            "requests": n_requests,
            "flood_s": flood_s,
            "answers": dict(first_answers),
            "db_before": size0,
            "db_after": size1,
            "stored": stored,
            "flood2_s": flood2_s,
            "cpu": cpu,
            "tickets_during": len(during),
            "p50_ms": pct(during, 50),
            "p99_ms": pct(during, 99),
            "max_ms": max(during) * 1000 if during else float("nan"),
            "quiet_p99_ms": pct(quiet, 99),
            "alerts": [a["key"] for a in alerts if a.get("event") == "raised"],
            "log_lines": len(lines),
            "log_sample": lines[:3],
        }
    finally:
        if sign is not None:
            sign.close()
        for c in clients:
            c.stop()
        hall.terminate()
        hall.wait(20)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000, help="config.get sent by the LED bridge")
    ap.add_argument("--every-ms", type=float, default=20, help="the kiosk's pace")
    ap.add_argument(
        "--flooder",
        choices=("paho", "raw"),
        default="paho",
        help="paho: a stock paho client publishing in a loop; raw: the cheapest flood, every "
        "request written at once before paho's loop runs",
    )
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; flooder: {a.flooder}")
    r = run(a.requests, a.every_ms, a.flooder)
    print(
        f"LED bridge: {r['requests']} config.get sent as fast as it could, the last answer after "
        f"{r['flood_s']:.1f} s; answers received: {r['answers']}"
    )
    print(
        "CPU during the flood: controller %.1f s, mosquitto %.1f s, the benchmark (LED, kiosk) %.1f s"
        % r["cpu"]
    )
    grew = r["db_after"] - r["db_before"]
    print(
        f"database (hall.db + WAL): {r['db_before'] / 1e6:.2f} MB -> {r['db_after'] / 1e6:.2f} MB "
        f"(grew {grew / 1e6:.3f} MB); replies stored for led-1: {r['stored']}"
    )
    print(
        f"the flood again ({r['flood2_s']:.1f} s to the last answer), "
        f"ticket.issue every {a.every_ms:.0f} ms from its start to 3 s after: "
        f"{r['tickets_during']} tickets, "
        f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms "
        f"(before the flood: p99 {r['quiet_p99_ms']:.1f} ms)"
    )
    print(f"alerts raised: {r['alerts']}; hall log lines naming led-1: {r['log_lines']}")
    for line in r["log_sample"]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
