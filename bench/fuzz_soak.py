"""The fuzz suite of tests/test_fuzz.py, long: tens of thousands of requests from every role.

1. Against the controller (tests/fuzzutil.py FuzzHall): every answer checked as in the tests
   (never `internal`, never a full reload, a refusal changes nothing, memory agrees with the
   database), then the hall does its everyday work.
2. Through the hall's private broker: the same kind of requests published by a device of every
   role, then a kiosk takes a ticket; every answer that came back is checked for `internal`.

Usage: .venv/bin/python bench/fuzz_soak.py [--examples 10000] [--bus 3000] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from busutil import Hall, unlimited_config, wait_for  # noqa: E402
from fuzzutil import DEVICES, FuzzHall, requests  # noqa: E402

ROUND = 1000  # examples per hypothesis run


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def soak_controller(tmp: Path, examples: int, seed_value: int) -> dict:
    """Rounds of ROUND examples, each with its own seed, against the one hall: hypothesis keeps
    every example of a run in memory, the hall keeps what all the rounds did."""
    hall = FuzzHall(tmp / "controller")
    t0 = time.perf_counter()

    def one_round(n: int, round_seed: int) -> None:
        @seed(round_seed)
        @settings(
            max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(data=st.data())
        def run(data):
            pools = hall.pools()
            for _ in range(data.draw(st.integers(1, 3), label="requests")):
                hall.check(*requests(data, pools))
            if data.draw(st.integers(0, 9), label="a citizen comes") == 0:
                hall.alive()  # tickets keep coming, for the windows to call
            if data.draw(st.integers(0, 199), label="time passes") == 0:
                hall.later(minutes=7)  # ticks: alerts, reply bounds, pad time limits

        run()

    rss = []
    try:
        for r in range(0, examples, ROUND):
            one_round(min(ROUND, examples - r), seed_value * 1000 + r // ROUND)
            rss.append(rss_mb())
        elapsed = time.perf_counter() - t0
        hall.later(minutes=40)
        hall.alive()
        db = sum(p.stat().st_size for p in (tmp / "controller" / "data").glob("hall.db*"))
        return {
            "examples": examples,
            "requests": hall.requests,
            "seconds": elapsed,
            "codes": hall.codes,
            "reloads": hall.reloads,
            "db_mb": db / 1e6,
            "tickets": len(hall.ctl.store.tickets()),
            "rss": rss,
        }
    finally:
        hall.close()


def soak_bus(tmp: Path, n: int, seed_value: int) -> dict:
    hall = Hall(tmp / "bus", "embedded", config=unlimited_config(tmp))
    for d in DEVICES:
        hall.add(d.id, d.role, sorted(d.windows))
    hall.start()
    codes: Counter = Counter()
    clients = {}
    try:
        kiosk = hall.client("kiosk-1")
        issued = [
            kiosk.request("ticket.issue", {"service": code})["ticket"]
            for code in ("A", "A", "B", "F")
        ]
        slots = [
            s["start"] for s in kiosk.request("appointment.slots", {"service": "F"})["slots"][:6]
        ]
        kiosk.stop()
        hall.clients.remove(kiosk)
        pools = {
            "tickets": [t["id"] for t in issued]
            + [t["status_url"].rsplit("/", 1)[1] for t in issued],
            "numbers": [t["number"] for t in issued],
            "appointments": [],
            "ratings": [],
            "alerts": [],
            "slots": slots,
        }
        for d in DEVICES:
            c = hall.raw_client(d.id)
            c.subscribe(f"ow/{hall.hall_id}/rep/{d.id}", 1)
            clients[d.id] = c
        time.sleep(0.5)
        sent = [0]
        t0 = time.perf_counter()

        @seed(seed_value)
        @settings(
            max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(data=st.data())
        def run(data):
            device, payload = requests(data, pools)
            clients[device.id].publish(f"ow/{hall.hall_id}/req/{device.id}", payload, 1)
            sent[0] += 1
            time.sleep(0.002)  # a busy hall's pace, not a flood (bench_flood.py is)

        run()
        time.sleep(3)
        for c in clients.values():
            for _, payload in c.received:
                reply = json.loads(payload)
                codes["ok" if reply.get("ok") else reply["error"]["code"]] += 1
        answered = sum(codes.values())
        for c in clients.values():
            c.loop_stop()
            c.disconnect()
        clients.clear()
        kiosk = hall.client("kiosk-1")
        alive = kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"]
        wait_for(lambda: hall.service._thread.is_alive())
        return {
            "sent": sent[0],
            "answered": answered,
            "seconds": time.perf_counter() - t0,
            "codes": codes,
            "alive": alive,
            "fenced": sorted(hall.service.broker.fenced),
        }
    finally:
        for c in clients.values():
            c.loop_stop()
            c.disconnect()
        hall.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=10000, help="hypothesis examples, controller")
    ap.add_argument("--bus", type=int, default=3000, help="requests through the broker")
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ow-fuzz-soak-"))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; seed {a.seed}")
    r = soak_controller(tmp, a.examples, a.seed)
    print(
        f"controller: {r['examples']} examples, {r['requests']} requests in {r['seconds']:.0f} s "
        f"({r['requests'] / r['seconds']:.0f}/s, every answer checked); full reloads: "
        f"{r['reloads']}; internal: {r['codes']['internal']}; tickets in the end: {r['tickets']}; "
        f"database {r['db_mb']:.1f} MB"
    )
    print(f"  RSS after each round of {ROUND}: {', '.join(f'{m:.0f}' for m in r['rss'])} MB")
    print(f"  answers: {dict(r['codes'].most_common())}")
    if a.bus:
        b = soak_bus(tmp, a.bus, a.seed)
        print(
            f"through the broker: {b['sent']} requests in {b['seconds']:.0f} s, {b['answered']} "
            f"answers; internal: {b['codes']['internal']}; fenced in the end: {b['fenced']}; "
            f"then a kiosk took {b['alive']}"
        )
        print(f"  answers: {dict(b['codes'].most_common())}")


if __name__ == "__main__":
    main()
