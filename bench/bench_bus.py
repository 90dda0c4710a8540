"""Hall bus benchmark: 200 devices, durable ticket issues a second, call-to-display latency, memory.

Runs the controller as its own process (as in a hall), once through a private Mosquitto and once
through the embedded broker, and prints the figures. Usage:
    .venv/bin/python bench/bench_bus.py [--devices 200] [--issues 4000] [--calls 600] [--paced 300]
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

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from busutil import Mosquitto, free_port, unlimited_config, wait_for  # noqa: E402
from onewindow.bus.client import DeviceClient  # noqa: E402
from onewindow.bus.devices import DeviceRegistry  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class CallWatch:
    """When a display saw each ticket's evt/call."""

    def __init__(self, display: DeviceClient):
        self.arrivals: dict[str, float] = {}
        self.cond = threading.Condition()
        display.on_event("call", self._on_call)

    def _on_call(self, e: dict) -> None:
        with self.cond:
            self.arrivals.setdefault(e["ticket_id"], time.perf_counter())
            self.cond.notify_all()

    def seen(self, ticket_id: str, timeout: float = 10) -> float:
        with self.cond:
            self.cond.wait_for(lambda: ticket_id in self.arrivals, timeout)
            return self.arrivals[ticket_id]


def run(kind: str, n_devices: int, n_issues: int, n_calls: int, n_paced: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"ow-bench-{kind}-"))
    data = tmp / "data"
    config = unlimited_config(tmp)
    hall_id = tomllib.loads(config.read_text(encoding="utf-8"))["hall"]["id"]
    windows = [w["number"] for w in tomllib.loads(config.read_text(encoding="utf-8"))["windows"]]
    reg = DeviceRegistry(data)
    n_callers = len(windows)
    n_displays = 4
    n_kiosks = max(1, n_devices - n_callers - n_displays)
    secrets = {}
    for i in range(n_kiosks):
        secrets[f"kiosk-{i}"] = reg.add(f"kiosk-{i}", "kiosk")
    for w in windows:
        secrets[f"caller-{w}"] = reg.add(f"caller-{w}", "caller", [w])
    for i in range(n_displays):
        secrets[f"display-{i}"] = reg.add(f"display-{i}", "display")
    broker = None
    if kind == "mosquitto":
        broker = Mosquitto(data, hall_id).start()
        bus, port = broker.url, broker.port
    else:
        port = free_port()
        bus = f"embedded://127.0.0.1:{port}"
    log = open(tmp / "hall.log", "w")
    hall = subprocess.Popen([sys.executable, "-m", "onewindow.cli", "--log-level", "WARNING", "hall",
                             "--config", str(config), "--data-dir", str(data), "--mqtt", bus],
                            stdout=log, stderr=log, cwd=REPO)
    url = f"mqtt://127.0.0.1:{port}"
    clients = {}
    try:
        first = DeviceClient(url, "display-0", secrets["display-0"], hall_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not first.connected.is_set():
            first = DeviceClient(url, "display-0", secrets["display-0"], hall_id).start(wait=1)
        clients["display-0"] = first
        wait_for(lambda: first.controller_online, timeout=20)
        for dev, secret in secrets.items():
            if dev not in clients:
                # as the real apps do: a kiosk follows no events, a caller its window's, a display calls
                events = () if dev.startswith("kiosk") else ("call", "window", "alert")
                clients[dev] = DeviceClient(url, dev, secret, hall_id, events=events,
                                            windows_state=not dev.startswith("kiosk")).start()
        wait_for(lambda: all(c.connected.is_set() for c in clients.values()), timeout=60)
        kiosks = [clients[f"kiosk-{i}"] for i in range(n_kiosks)]
        codes = [s["code"] for s in tomllib.loads(config.read_text(encoding="utf-8"))["services"]]

        # 1. durable ticket issues: every kiosk at once, each waiting for its reply
        lat: list[float] = []
        per = max(1, n_issues // len(kiosks))
        lock = threading.Lock()

        def issue(k, i0):
            mine = []
            for j in range(per):
                t0 = time.perf_counter()
                k.request("ticket.issue", {"service": codes[(i0 + j) % len(codes)]}, timeout=30)
                mine.append(time.perf_counter() - t0)
            with lock:
                lat.extend(mine)
        threads = [threading.Thread(target=issue, args=(k, i)) for i, k in enumerate(kiosks)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        issue_s = time.perf_counter() - t0

        # 2. call latency: caller's window.call_next -> a display's evt/call
        calls = CallWatch(clients["display-1"])
        callers = [clients[f"caller-{w}"] for w in windows]
        for w, c in zip(windows, callers):
            c.request("window.open", {"window": w})
        call_lat: list[float] = []
        per_call = max(1, n_calls // len(callers))

        def call(c, w):
            mine = []
            for _ in range(per_call):
                t0 = time.perf_counter()
                t = c.request("window.call_next", {"window": w}, timeout=30)["ticket"]
                if t is None:
                    break
                mine.append(calls.seen(t["id"]) - t0)
            with lock:
                call_lat.extend(mine)
        threads = [threading.Thread(target=call, args=(c, w)) for c, w in zip(callers, windows)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # 3. the same path at a hall's pace: one call at a time, every window in turn, measured
        #    from a separate process (a real caller and display are other machines; here the
        #    200 load clients would otherwise share the measuring process's interpreter lock)
        n_connected = len(clients)
        probe = {"url": url, "hall": hall_id, "n": n_paced,
                 "display": ["display-2", secrets["display-2"]],
                 "callers": [[f"caller-{w}", secrets[f"caller-{w}"], w] for w in windows]}
        for dev in [f"caller-{w}" for w in windows] + ["display-2"]:
            clients.pop(dev).stop()     # the probe takes these identities over
        out = subprocess.run([sys.executable, __file__, "--probe", json.dumps(probe)],
                             capture_output=True, text=True, timeout=600)
        paced = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else []
        if not paced:
            print(out.stderr, file=sys.stderr)
        memory = rss_mb(hall.pid)
        return {"kind": kind, "devices": n_connected, "issues": len(lat),
                "issues_per_s": len(lat) / issue_s, "issue_p50_ms": pct(lat, 50),
                "issue_p99_ms": pct(lat, 99), "calls": len(call_lat),
                "call_p50_ms": pct(call_lat, 50), "call_p99_ms": pct(call_lat, 99),
                "paced": len(paced), "paced_p50_ms": pct(paced, 50), "paced_p99_ms": pct(paced, 99),
                "controller_rss_mb": memory}
    finally:
        for c in clients.values():
            c.stop()
        hall.terminate()
        hall.wait(20)
        log.close()
        if broker:
            broker.stop()


def probe(spec: dict) -> list[float]:
    display = DeviceClient(spec["url"], spec["display"][0], spec["display"][1], spec["hall"],
                           events=("call",)).start(wait=10)
    calls = CallWatch(display)
    callers = [(DeviceClient(spec["url"], dev, secret, spec["hall"], events=()).start(wait=10), w)
               for dev, secret, w in spec["callers"]]
    for c, w in callers:
        c.request("window.open", {"window": w})
    lat = []
    for i in range(spec["n"]):
        c, w = callers[i % len(callers)]
        t0 = time.perf_counter()
        t = c.request("window.call_next", {"window": w}, timeout=30)["ticket"]
        if t is None:
            continue
        lat.append(calls.seen(t["id"]) - t0)
        time.sleep(0.02)
    for c, _ in callers:
        c.stop()
    display.stop()
    return lat


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        print(json.dumps(probe(json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--issues", type=int, default=4000)
    ap.add_argument("--calls", type=int, default=600)
    ap.add_argument("--paced", type=int, default=300)
    ap.add_argument("--only", choices=("mosquitto", "embedded"))
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for kind in ([a.only] if a.only else ["mosquitto", "embedded"]):
        r = run(kind, a.devices, a.issues, a.calls, a.paced)
        print(f"{r['kind']:10} devices {r['devices']:4}  ticket.issue: {r['issues']} in "
              f"{r['issues'] / r['issues_per_s']:.1f}s = {r['issues_per_s']:.0f}/s durable, "
              f"p50 {r['issue_p50_ms']:.1f} ms p99 {r['issue_p99_ms']:.1f} ms | "
              f"call->display, every window at once: {r['calls']} calls p50 {r['call_p50_ms']:.1f} ms "
              f"p99 {r['call_p99_ms']:.1f} ms | one at a time: {r['paced']} calls "
              f"p50 {r['paced_p50_ms']:.1f} ms p99 {r['paced_p99_ms']:.1f} ms | "
              f"controller RSS {r['controller_rss_mb']:.0f} MB",
              flush=True)


if __name__ == "__main__":
    main()
