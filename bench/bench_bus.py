"""Hall bus benchmark: 200 devices on the default hall (its private Mosquitto), durable ticket
issues a second, call-to-display latency against two bare hops through the same broker, memory.

The controller runs as its own process, as in a hall. Connected throughout: 184 kiosks (one
thread, see busload.py), 13 window callers, 2 displays and a manager console. Phases:
  1. a peak's queue (--waiting tickets, 300 by default: a busy hall's peak);
  2. calls at a hall's pace, measured from a separate process: every window in turn calls the
     next ticket, and a display that is a stock paho client (no TCP_NODELAY: a vendor's screen)
     notes when evt/call arrives. The callers set TCP_NODELAY, as OneWindow's own do, and
     follow every window's state; they run as one farm on one thread (busload.py), and only the
     calling one reads its socket during a call (the others' traffic is read between calls: on
     100 machines it would not share the hall's cores). The display, and the reader of two
     bare hops (a device publishes, another receives, through the same Mosquitto: the floor
     the broker sets), are a process of their own;
  3. a burst: every window calls at once, the callers a farm again, the same display;
  4. throughput: every kiosk issues tickets back to back, each waiting for its durable reply.

During the paced calls a stock subscriber to the hall's `state/#` and `evt/#` counts what every
device that reads the hall receives: the bytes and messages published per call.

A big hall: `--windows 100 --waiting 1000` replaces the shipped hall's windows by 100
comprehensive ones (issue 13's scale figures).

Usage: .venv/bin/python bench/bench_bus.py [--issues 6000] [--paced 300] [--waiting 300]
       [--windows N]
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
from pathlib import Path

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from busload import CALLER_FOLLOWS, KioskFarm  # noqa: E402
from busutil import free_port, hall_command, unlimited_config, wait_for  # noqa: E402
from onewindow.bus.client import DeviceClient  # noqa: E402
from onewindow.bus.devices import DeviceRegistry  # noqa: E402

N_DISPLAYS = 2


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Arrivals:
    """When the measuring display saw each ticket's evt/call, and the watcher each presence
    message: read from the listener process (`listen`), which stamps them as they arrive."""

    def __init__(self, spec: dict):
        self.arrivals: dict[str, float] = {}
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--listen", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.seen("ready")

    def _read(self) -> None:
        for line in self.proc.stdout:
            key, _, at = line.rstrip("\n").rpartition(" ")
            with self.cond:
                self.arrivals.setdefault(key, float(at))
                self.cond.notify_all()

    def seen(self, key: str, timeout: float = 10) -> float:
        with self.cond:
            self.cond.wait_for(lambda: key in self.arrivals, timeout)
            return self.arrivals[key]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


def big_hall(config: Path, n_windows: int) -> Path:
    """The same hall with `n_windows` comprehensive windows instead of its own."""
    from onewindow.hallconfig import dump

    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    raw["windows"] = [
        {
            "number": n,
            "name": f"{n}号综合窗口",
            "name_en": f"Window {n}",
            "kind": "comprehensive",
            "location": "一楼大厅",
        }
        for n in range(1, n_windows + 1)
    ]
    path = config.with_name(f"hall-{n_windows}-windows.toml")
    path.write_text(dump(raw), encoding="utf-8")
    return path


class Tally:
    """What a device reading the whole hall receives: bytes and messages."""

    def __init__(self):
        self.bytes = self.messages = 0
        self.on = False

    def __call__(self, client, userdata, msg) -> None:
        if self.on:
            self.bytes += len(msg.payload)
            self.messages += 1


def run(
    n_devices: int, n_issues: int, n_calls: int, n_paced: int, n_waiting: int, n_windows: int = 0
) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ow-bench-bus-"))
    data = tmp / "data"
    config = unlimited_config(tmp)
    if n_windows:
        config = big_hall(config, n_windows)
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    hall_id = raw["hall"]["id"]
    windows = [w["number"] for w in raw["windows"]]
    codes = [s["code"] for s in raw["services"] if not s.get("pickup")]
    reg = DeviceRegistry(data)
    n_kiosks = max(1, n_devices - len(windows) - N_DISPLAYS - 1)
    kiosks = {f"kiosk-{i}": reg.add(f"kiosk-{i}", "kiosk") for i in range(n_kiosks)}
    secrets = {f"caller-{w}": reg.add(f"caller-{w}", "caller", [w]) for w in windows}
    for i in range(N_DISPLAYS):
        secrets[f"display-{i}"] = reg.add(f"display-{i}", "display")
    secrets["manager-1"] = reg.add("manager-1", "manager")
    tally_secret = reg.add("display-tally", "display")
    port = free_port()
    log = open(tmp / "hall.log", "w")
    hall = subprocess.Popen(
        hall_command(str(config), str(data), "--mqtt", f"embedded://127.0.0.1:{port}"),
        stdout=log,
        stderr=log,
        cwd=REPO,
    )
    url = f"mqtt://127.0.0.1:{port}"
    clients: dict[str, DeviceClient] = {}
    farm = None
    try:
        first = DeviceClient(url, "display-0", secrets["display-0"], hall_id).start()
        clients["display-0"] = first
        wait_for(lambda: first.connected.is_set() and first.controller_online, timeout=30)
        broker_pid = int(
            subprocess.check_output(["pgrep", "-f", f"{data}/mosquitto/mosquitto.conf"]).split()[0]
        )
        for dev, secret in secrets.items():
            if dev not in clients:
                # as the real apps: a caller follows its window and alerts, a display the calls
                clients[dev] = DeviceClient(
                    url, dev, secret, hall_id, events=("call", "window", "alert")
                ).start()
        wait_for(lambda: all(c.connected.is_set() for c in clients.values()), timeout=60)
        farm = KioskFarm("127.0.0.1", port, hall_id, kiosks)
        n_connected = len(clients) + len(farm.kiosks)

        def top_up(calls: int) -> int:
            """A peak's queue that is still as long after `calls` calls; the length now."""
            farm.issue(max(1, (n_waiting + calls) // len(farm.kiosks)), codes)
            time.sleep(0.5)  # waiting counts are coalesced
            return sum(q["waiting"] for q in first.state["queues"].values())

        # 1. a peak's queue
        waiting = top_up(n_paced)

        # 2. calls at a hall's pace, from their own process (see the docstring)
        probe = {
            "url": url,
            "port": port,
            "hall": hall_id,
            "n": n_paced,
            "hall_pid": hall.pid,
            "tally": ["display-tally", tally_secret],
            "display": ["display-1", secrets["display-1"]],
            "watcher": ["manager-1", secrets["manager-1"]],
            "callers": [[f"caller-{w}", secrets[f"caller-{w}"], w] for w in windows],
        }
        for dev in [f"caller-{w}" for w in windows] + ["display-1", "manager-1"]:
            clients.pop(dev).stop()  # the probe takes these identities over
        spy = None
        if os.environ.get("BENCH_PYSPY"):  # where the controller spends the calls' time
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-p",
                    str(hall.pid),
                    "-f",
                    "raw",
                    "-r",
                    "1000",
                    "--threads",
                    "-o",
                    os.environ["BENCH_PYSPY"],
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
        out = subprocess.run(
            [sys.executable, __file__, "--probe", json.dumps(probe)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if out.returncode != 0:
            raise RuntimeError(f"probe failed: {out.stderr[-2000:]}")
        if spy:
            spy.send_signal(2)
            spy.wait(30)
        paced = json.loads(out.stdout.strip().splitlines()[-1])
        call_cpu_ms = paced["cpu_ms"] / max(1, len(paced["calls"]))
        per_call = {
            "bytes": paced["bytes"] / max(1, len(paced["calls"])),
            "messages": paced["messages"] / max(1, len(paced["calls"])),
        }
        # 3. a burst: every window calls at once (the callers a farm, as in the probe)
        top_up(n_calls)
        burst_farm = KioskFarm(
            "127.0.0.1",
            port,
            hall_id,
            {f"caller-{w}": secrets[f"caller-{w}"] for w in windows},
            follows=CALLER_FOLLOWS,
        )
        arrivals = Arrivals(probe)
        window_of = {f"caller-{w}": w for w in windows}
        done = burst_farm.each(
            max(1, n_calls // len(windows)),
            lambda dev: ("window.call_next", {"window": window_of[dev], "current": "done"}),
        )
        burst = [
            arrivals.seen(reply["result"]["ticket"]["id"]) - sent
            for _dev, reply, sent, _answered in done
            if reply.get("ok") and reply["result"]["ticket"] is not None
        ]
        arrivals.close()
        burst_farm.close()

        # 4. throughput
        cpu0 = {
            "controller": cpu_s(hall.pid),
            "mosquitto": cpu_s(broker_pid),
            "load": cpu_s(os.getpid()),
        }
        t0 = time.perf_counter()
        lat = farm.issue(max(1, n_issues // len(farm.kiosks)), codes)
        issue_s = time.perf_counter() - t0
        cpu = {
            k: (cpu_s(pid) - cpu0[k]) * 1000 / len(lat)
            for k, pid in (
                ("controller", hall.pid),
                ("mosquitto", broker_pid),
                ("load", os.getpid()),
            )
        }
        return {
            "devices": n_connected,
            "waiting": waiting,
            "windows": len(windows),
            "per_call": per_call,
            "paced": len(paced["calls"]),
            "paced_p50_ms": pct(paced["calls"], 50),
            "paced_p99_ms": pct(paced["calls"], 99),
            "paced_p95_ms": pct(paced["calls"], 95),
            "paced_slowest_ms": sorted(paced["calls"])[-5:],
            "call_cpu_ms": call_cpu_ms,
            "hops_p50_ms": pct(paced["hops"], 50),
            "hops_p99_ms": pct(paced["hops"], 99),
            "burst": len(burst),
            "burst_p50_ms": pct(burst, 50),
            "burst_p99_ms": pct(burst, 99),
            "issues": len(lat),
            "issues_per_s": len(lat) / issue_s,
            "issue_p50_ms": pct(lat, 50),
            "issue_p99_ms": pct(lat, 99),
            "issue_cpu_ms": cpu,
            "controller_rss_mb": rss_mb(hall.pid),
            "mosquitto_rss_mb": rss_mb(broker_pid),
        }
    finally:
        if farm:
            farm.close()
        for c in clients.values():
            c.stop()
        hall.terminate()
        hall.wait(20)
        log.close()


def stock_paho(port: int, dev: str, secret: str, topic: str, on_message) -> mqtt.Client:
    """A vendor's device: paho as it comes, no TCP_NODELAY."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=dev)
    c.username_pw_set(dev, secret)
    ready = threading.Event()
    c.on_connect = lambda cl, ud, fl, rc, pr=None: cl.subscribe(topic, 1)
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    ready.wait(10)
    return c


def listen(spec: dict) -> None:
    """The measuring display and the bare hops' reader, a process of their own (a display is a
    machine of its own in a hall): each arrival is written to stdout as `key perf_counter`
    (CLOCK_MONOTONIC, the same clock in every process of the machine). In the probe's process,
    the hundred callers' threads would hold the GIL when a message arrives, and the figure
    would measure them."""
    root = f"ow/{spec['hall']}"
    lock = threading.Lock()

    def emit(key: str) -> None:
        at = time.perf_counter()
        with lock:
            sys.stdout.write(f"{key} {at}\n")
            sys.stdout.flush()

    first_caller = spec["callers"][0][0]
    clients = [
        stock_paho(
            spec["port"],
            *spec["display"],
            f"{root}/evt/call",
            lambda c, ud, m: emit(json.loads(m.payload)["ticket_id"]),
        ),
        # two bare hops: a caller publishes on its own presence topic (it may), a manager reads
        stock_paho(
            spec["port"],
            *spec["watcher"],
            f"{root}/dev/{first_caller}/status",
            lambda c, ud, m: emit(m.payload.decode()),
        ),
    ]
    emit("ready")
    sys.stdin.read()  # until the probe is done
    for c in clients:
        c.disconnect()
        c.loop_stop()


def probe(spec: dict) -> dict:
    root = f"ow/{spec['hall']}"
    arrivals = Arrivals(spec)
    seen = arrivals.seen
    # the callers on one selector thread (busload.py): a hundred DeviceClients, a thread each,
    # would spend the two cores' time on the interpreter lock, not on what 100 machines cost
    farm = KioskFarm(
        "127.0.0.1",
        spec["port"],
        spec["hall"],
        {dev: secret for dev, secret, _w in spec["callers"]},
        follows=CALLER_FOLLOWS,
    )
    callers = [(dev, w) for dev, _secret, w in spec["callers"]]
    first_caller = spec["callers"][0][0]
    for dev, w in callers:
        farm.request(dev, "window.open", {"window": w})
    # from here on, only the calls: what the controller spends and what a device reading the
    # whole hall receives (the windows' opening and the callers' arrival settle first)
    tally = Tally()
    counter = stock_paho(spec["port"], *spec["tally"], f"{root}/state/#", tally)
    counter.subscribe(f"{root}/evt/#", 1)
    farm.pump_for(3.0)
    tally.on = True
    cpu0 = cpu_s(spec["hall_pid"])
    calls, hops = [], []
    for i in range(spec["n"]):
        dev, w = callers[i % len(callers)]
        t0 = time.perf_counter()
        t = farm.request(dev, "window.call_next", {"window": w, "current": "done"})["ticket"]
        if t is not None:
            calls.append(seen(t["id"]) - t0)
        farm.pump_for(0.02)  # the other callers read what the call sent them
        # the same path without the controller: publish -> broker -> subscriber
        key = f"online-{i}"
        t0 = time.perf_counter()
        farm.kiosks[first_caller].publish(f"{root}/dev/{first_caller}/status", key, qos=1)
        farm.kiosks[first_caller].loop_write()
        hops.append(seen(key) - t0)
        farm.pump_for(0.02)
    farm.pump_for(1.5)  # paced window lists still due
    tally.on = False
    cpu_ms = (cpu_s(spec["hall_pid"]) - cpu0) * 1000
    counter.disconnect()
    counter.loop_stop()
    farm.kiosks[first_caller].publish(
        f"{root}/dev/{first_caller}/status", "online", qos=1, retain=True
    )
    farm.close()
    arrivals.close()
    return {
        "calls": calls,
        "hops": hops,
        "cpu_ms": cpu_ms,
        "bytes": tally.bytes,
        "messages": tally.messages,
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        print(json.dumps(probe(json.loads(sys.argv[2]))))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        listen(json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--issues", type=int, default=6000)
    ap.add_argument("--calls", type=int, default=130, help="calls in the burst")
    ap.add_argument("--paced", type=int, default=300)
    ap.add_argument("--waiting", type=int, default=300, help="the queue during the paced calls")
    ap.add_argument(
        "--windows",
        type=int,
        default=0,
        help="replace the hall's windows by this many comprehensive ones",
    )
    a = ap.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{subprocess.run(['mosquitto', '-h'], capture_output=True, text=True, env={'PATH': '/usr/sbin:/usr/bin'}).stdout.splitlines()[0]}"
    )
    r = run(a.devices, a.issues, a.calls, a.paced, a.waiting, a.windows)
    cpu = r["issue_cpu_ms"]
    print(
        f"windows: {r['windows']}; devices connected: {r['devices']}; "
        f"waiting when the paced calls began: {r['waiting']}"
    )
    print(
        f"call -> display, one at a time: {r['paced']} calls p50 {r['paced_p50_ms']:.1f} ms "
        f"p99 {r['paced_p99_ms']:.1f} ms (controller CPU {r['call_cpu_ms']:.2f} ms a call) | "
        f"two bare hops: p50 {r['hops_p50_ms']:.1f} ms p99 {r['hops_p99_ms']:.1f} ms"
    )
    slowest = ", ".join(f"{s * 1000:.1f}" for s in r["paced_slowest_ms"])
    print(f"   one at a time: p95 {r['paced_p95_ms']:.1f} ms; the five slowest {slowest} ms")
    print(
        f"published per paced call (state/# and evt/#, as one device reading the hall receives "
        f"them; the calls alone): {r['per_call']['bytes']:.0f} bytes, "
        f"{r['per_call']['messages']:.1f} messages"
    )
    print(
        f"call -> display, every window at once: {r['burst']} calls p50 {r['burst_p50_ms']:.1f} ms "
        f"p99 {r['burst_p99_ms']:.1f} ms"
    )
    print(
        f"ticket.issue: {r['issues']} = {r['issues_per_s']:.0f}/s durable, p50 {r['issue_p50_ms']:.1f} ms "
        f"p99 {r['issue_p99_ms']:.1f} ms; CPU per issue: controller {cpu['controller']:.2f} ms, "
        f"mosquitto {cpu['mosquitto']:.2f} ms, load {cpu['load']:.2f} ms"
    )
    print(
        f"RSS: controller {r['controller_rss_mb']:.1f} MB, mosquitto {r['mosquitto_rss_mb']:.1f} MB",
        flush=True,
    )


if __name__ == "__main__":
    main()
