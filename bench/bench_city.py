"""City benchmark: 200 simulated halls replaying a 3,000-ticket day at 100x into one central
Mosquitto, `onewindow city` (the collector, its own process) writing them into PostgreSQL.

Each simulated hall sends what a hall's bridge forwards: uplink envelopes (docs/protocol.md §9)
numbered 1, 2, 3 ... on `ow/<hall>/up/<kind>`: per ticket `issued`, `call`, `done`
(each with the ticket's facts `t`) and, for one ticket in three, a rating with its national
record. A day is 08:30-17:30 with a midday peak; at 100x it lasts 5.4 minutes. Phases:
  1. backlog: the collector is down while BACKLOG events queue at the broker (its persistent
     session); then it starts and drains them: its ingest ceiling, events/s;
  2. live: the halls replay their day (--duration seconds of it, all of it by default) while a
     dashboard reader runs the dashboard's overview query every second: the lag from an event's
     publication to the first overview that counts it (p50, p99); and the ingest rate kept up;
  3. the database: its size per million events, and every event once, none missing.

The halls hand their events to a halls' Mosquitto (QoS 0 on loopback, as a hall's controller
hands them to its own Mosquitto), whose bridge forwards them to the central broker at QoS 1
with a persistent session, as each hall's bridge does (one bridge for the 200 here); both
brokers are Mosquitto with anonymous loopback listeners. The lag is measured from the halls'
hand-over, the bridge's hop included.

Usage: .venv/bin/python bench/bench_city.py [--halls 200] [--tickets 3000] [--speed 100]
       [--duration SECONDS] [--backlog 200000] [--collectors 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from cityutil import PG, drop_database, new_database  # noqa: E402

from onewindow.bus.mosquitto import SBIN_DIRS  # noqa: E402
from onewindow.bus.netloop import NetLoop  # noqa: E402
from onewindow.city import figures  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DAY_S = 9 * 3600  # 08:30 to 17:30
READ_S = 1.0  # the dashboard reader's pace (a city screen reloads every 5 s)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hall:
    """One simulated hall's day: its tickets' events in time order, numbered as the outbox does.
    Kept as (offset s, ticket n, stage) and made into an envelope only when sent."""

    def __init__(self, hall_id: str, tickets: int, day: datetime, rng: random.Random):
        self.id = hall_id
        self.seq = 0
        self.day = day
        self.times: dict[int, tuple[float, float, float, int]] = {}
        events: list[tuple[float, int, int]] = []
        for n in range(1, tickets + 1):
            # a midday peak: issue times drawn from a triangle over the day
            issued = rng.triangular(0, DAY_S, DAY_S * 0.4)
            called = issued + rng.expovariate(1 / 900)
            done = called + rng.uniform(120, 600)
            self.times[n] = (issued, called, done, rng.choice((5, 5, 5, 4, 4, 3, 2, 1)))
            events += [(issued, n, 0), (called, n, 1), (done, n, 2)]
            if n % 3 == 0:
                events.append((done + 30, n, 3))
        events.sort()
        self.events = events

    def _iso(self, offset: float) -> str:
        return (self.day + timedelta(seconds=offset)).isoformat()

    def envelope(self, offset: float, n: int, stage: int) -> tuple[str, bytes, int]:
        issued, called, done, level = self.times[n]
        tid = f"{self.id}-{n}"
        t = {
            "number": f"A{n:03d}",
            "service": "A",
            "channel": "kiosk",
            "window": 1 + n % 12,
            "day": self.day.date().isoformat(),
            "issued_at": self._iso(issued),
        }
        if stage >= 1:
            t["called_at"] = self._iso(called)
        if stage >= 2:
            t["finished_at"] = self._iso(done)
        t["status"] = ("waiting", "called", "done", "done")[stage]
        kind, data = [
            ("ticket", {"event": "issued"}),
            ("call", {"window": t["window"]}),
            ("ticket", {"event": "done", "window": t["window"]}),
            ("rating", {"event": "submitted"}),
        ][stage]
        if stage < 3:
            data.update(
                {
                    "ticket_id": tid,
                    "ticket": t["number"],
                    "service": "A",
                    "department": "县公安局",
                    "t": t,
                }
            )
        else:
            data.update(
                {
                    "rating": f"r{tid}",
                    "record": {
                        "rating_id": f"r{tid}",
                        "level_code": 6 - level,
                        "bad": level <= 2,
                        "count": 1,
                        "window": t["window"],
                        "service": "A",
                        "rated_at": self._iso(offset),
                    },
                }
            )
        self.seq += 1
        at = self._iso(offset)
        body = {
            "v": 1,
            "id": f"{self.id}:{self.seq}",
            "hall": self.id,
            "seq": self.seq,
            "kind": kind,
            "at": at,
            "data": {**data, "at": at},
        }
        return f"ow/{self.id}/up/{kind}", json.dumps(body, ensure_ascii=False).encode(), self.seq


class Halls:
    """The simulated halls' controllers handing their events to the halls' Mosquitto (QoS 0 on
    loopback), as one MQTT connection driven from the bench's own thread (bus/netloop.py): one
    connection and one bridge keep each hall's events in order, as a hall's bridge does."""

    SENT = "$SYS/broker/publish/messages/sent"

    def __init__(self, port: int):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-halls")
        self.client.max_queued_messages_set(0)
        self.client.on_message = self._counted
        self.client.on_connect = lambda c, *a: c.subscribe(self.SENT, 0)
        self.net = NetLoop(self.client, "127.0.0.1", port)
        self.net.connect()
        self._sent = 0  # PUBLISHes the halls' broker has sent (its bridge's, and these)
        self._told = 0
        self.unsent: deque[tuple[str, bytes]] = deque()
        self.refused = 0  # publishes paho refused (not connected): sent again later
        self.poll(0.5)

    def _counted(self, client, userdata, msg) -> None:
        self._told += 1
        self._sent = int(msg.payload)

    def publish(self, topic: str, body: bytes) -> None:
        if self.unsent:  # in order: nothing of a hall's overtakes what waits
            self.unsent.append((topic, body))
        elif self.client.publish(topic, body, 0).rc != mqtt.MQTT_ERR_SUCCESS:
            self.unsent.append((topic, body))
            self.refused += 1

    def poll(self, timeout: float) -> None:
        self.net.poll(timeout)
        # not handed over (the link to the halls' broker was down): sent again once it is up,
        # as a hall's outbox sends again what was not acknowledged
        while self.unsent and self.client.is_connected():
            topic, body = self.unsent[0]
            if self.client.publish(topic, body, 0).rc != mqtt.MQTT_ERR_SUCCESS:
                break
            self.unsent.popleft()
        self.net.flush()

    def drain(self, forwarded: int, timeout: float = 120.0) -> None:
        """Until the bridge has sent the central broker `forwarded` messages."""
        deadline = time.monotonic() + timeout
        while self._sent - self._told < forwarded and time.monotonic() < deadline:
            self.poll(0.2)
        if self._sent - self._told < forwarded:
            raise SystemExit(
                f"the halls' bridge forwarded {self._sent - self._told} of {forwarded}"
            )

    def close(self) -> None:
        self.net.close()


def start_broker(tmp: Path, name: str = "central", extra: str = "") -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = tmp / f"{name}.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 10000\nset_tcp_nodelay true\n" + extra
    )
    binary = shutil.which(
        "mosquitto", path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return proc, port


def start_halls_broker(tmp: Path, central: int) -> tuple[subprocess.Popen, int]:
    """The halls' side: a Mosquitto whose bridge forwards `ow/+/up/#` to the central broker at
    QoS 1 with a persistent session, as each hall's Mosquitto does (broker-config --uplink).
    The simulated halls hand it their events at QoS 0 on loopback (a hall's controller and its
    Mosquitto share a box); every hop the city's figures depend on is the real one."""
    return start_broker(
        tmp,
        "halls",
        # the bridge subscribes at QoS 1: what the halls hand over at QoS 0 crosses at QoS 1
        "upgrade_outgoing_qos true\nsys_interval 1\n"
        f"connection halls\naddress 127.0.0.1:{central}\ntopic ow/+/up/# out 1\n"
        "cleansession false\nbridge_protocol_version mqttv311\ntry_private false\n"
        "remote_clientid bench-halls-bridge\n",
    )


def start_collectors(n: int, port: int, db: str, tmp: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        with open(tmp / f"collector-{i}.log", "ab") as log:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "onewindow.cli",
                        "--log-level",
                        "WARNING",
                        "city",
                        "--mqtt",
                        f"mqtt://127.0.0.1:{port}",
                        "--db",
                        db,
                        "--client-id",
                        f"bench-c{i}",
                    ],
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stored(db: psycopg.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM events").fetchone()[0])


def missing(db: psycopg.Connection, halls: list[Hall]) -> list[str]:
    """The events sent and not stored, hall by hall, the first five of each
    ("hall-007: 5123, 5124 (its mark 5122)")."""
    have = dict(db.execute("SELECT hall, count(*) FROM events GROUP BY hall").fetchall())
    out = []
    for h in halls:
        if have.get(h.id, 0) < h.seq:
            seqs = [
                r[0]
                for r in db.execute(
                    "SELECT s FROM generate_series(1, %s) AS s WHERE NOT EXISTS "
                    "(SELECT 1 FROM events WHERE hall = %s AND seq = s) ORDER BY s LIMIT 5",
                    (h.seq, h.id),
                )
            ]
            mark = db.execute("SELECT upto FROM halls WHERE hall = %s", (h.id,)).fetchone()
            out.append(f"{h.id}: {', '.join(map(str, seqs))} (its mark {mark and mark[0]})")
    return out


def dropped(port: int) -> int:
    """What a broker says it has dropped (queue or in-flight limits): its retained $SYS count."""
    got: list[int] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sys-{port}")
    c.on_connect = lambda cl, *a: cl.subscribe("$SYS/broker/publish/messages/dropped", 0)
    c.on_message = lambda cl, u, msg: got.append(int(msg.payload))
    c.connect("127.0.0.1", port)
    deadline = time.monotonic() + 12  # a broker's $SYS interval is 10 s by default
    while not got and time.monotonic() < deadline:
        c.loop(0.2)
    c.disconnect()
    return got[-1] if got else -1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--halls", type=int, default=200)
    p.add_argument("--tickets", type=int, default=3000)
    p.add_argument("--speed", type=float, default=100)
    p.add_argument("--duration", type=float, default=DAY_S / 100)
    p.add_argument("--backlog", type=int, default=200_000)
    p.add_argument("--collectors", type=int, default=1)
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-city-"))
    url = new_database("owbench")
    broker, port = start_broker(tmp)
    brokers = [broker]
    collectors: list[subprocess.Popen] = []
    try:
        rng = random.Random(17)
        day = datetime.now(TZ).replace(hour=8, minute=30, second=0, microsecond=0)
        t0 = time.monotonic()
        halls = [Hall(f"hall-{n:03d}", a.tickets, day, rng) for n in range(a.halls)]
        total_day = sum(len(h.events) for h in halls)
        print(
            f"{a.halls} halls, {a.tickets} tickets each: {total_day} events in the day "
            f"(made in {time.monotonic() - t0:.1f} s)"
        )
        halls_broker, halls_port = start_halls_broker(tmp, port)
        brokers.insert(0, halls_broker)
        pubs = Halls(halls_port)
        # the collector's persistent session and its shared subscription exist before the backlog
        collectors = start_collectors(1, port, url, tmp)
        db = psycopg.connect(url, autocommit=True)
        for _ in range(100):
            try:
                if db.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()[0]:
                    break
            except psycopg.Error:
                pass
            time.sleep(0.1)
        time.sleep(1.0)
        collectors[0].kill()
        collectors[0].wait()

        # 1. backlog: events queued at the broker while no collector runs, then drained
        backlog = []
        per_hall = max(1, a.backlog // a.halls)
        sent_backlog = 0
        for h in halls:
            for offset, n, stage in h.events[:per_hall]:
                topic, body, _seq = h.envelope(offset, n, stage)
                # one hall, one connection, as its bridge: its events stay in order
                pubs.publish(topic, body)
                sent_backlog += 1
                if sent_backlog % 500 == 0:
                    pubs.poll(0)
            h.events = h.events[per_hall:]
        backlog = range(sent_backlog)
        pubs.drain(sent_backlog)
        time.sleep(1)
        start = time.monotonic()
        collectors = start_collectors(a.collectors, port, url, tmp)
        while stored(db) < len(backlog):
            pubs.poll(0.05)
            if time.monotonic() - start > 600:
                raise SystemExit("the backlog did not drain in 10 minutes")
        drain = time.monotonic() - start
        print(
            f"1. backlog: {len(backlog)} events drained in {drain:.1f} s (collector start "
            f"included): {len(backlog) / drain:.0f} events/s"
        )

        # 2. live: the rest of the day at --speed, the dashboard's query every 200 ms
        published: dict[tuple[str, int], float] = {}
        lock = threading.Lock()
        stop = threading.Event()
        lags: list[float] = []
        queries: list[float] = []  # the overview query's own time
        seen = {h.id: h.seq for h in halls}

        def reader() -> None:
            rdb = psycopg.connect(url, autocommit=True)
            while not stop.is_set():
                now = datetime.now(TZ)
                asked = time.monotonic()
                rows = figures.overview(rdb, now.date(), now)
                at = time.monotonic()
                queries.append(at - asked)
                with lock:
                    for r in rows:
                        for s in range(seen.get(r["hall"], 0) + 1, r["upto"] + 1):
                            sent = published.pop((r["hall"], s), None)
                            if sent is not None:
                                lags.append(at - sent)
                        seen[r["hall"]] = max(seen.get(r["hall"], 0), r["upto"])
                time.sleep(READ_S)
            rdb.close()

        queue_ = sorted(
            ((off, hi, n, stage) for hi, h in enumerate(halls) for off, n, stage in h.events),
            key=lambda e: e[0],
        )
        base_off = queue_[0][0] if queue_ else 0
        # encoded before the clock starts: 200 halls' bridges encode on 200 machines, not on
        # the two cores the collector and PostgreSQL are measured on
        t0 = time.monotonic()
        encoded = [
            (due, hi, halls[hi].id, *halls[hi].envelope(off, n, stage))
            for off, hi, n, stage in queue_
            if (due := (off - base_off) / a.speed) <= a.duration
        ]
        print(f"   the live phase's {len(encoded)} events encoded in {time.monotonic() - t0:.0f} s")
        threading.Thread(target=reader, daemon=True).start()
        start = time.monotonic()
        before = stored(db)
        sent = 0
        for due, _hi, hall_id, topic, body, seq in encoded:
            if start + due > time.monotonic():
                while (wait := start + due - time.monotonic()) > 0:
                    pubs.poll(wait)  # the broker's acknowledgements meanwhile
            elif sent % 200 == 0:  # behind: the acknowledgements all the same
                pubs.poll(0)
            with lock:
                published[(hall_id, seq)] = time.monotonic()
            pubs.publish(topic, body)
            sent += 1
        del encoded
        live_s = time.monotonic() - start
        total = len(backlog) + sent
        deadline = time.monotonic() + 120
        while stored(db) < total and time.monotonic() < deadline:
            pubs.poll(0.1)
        time.sleep(0.6)
        stop.set()
        got = stored(db) - before
        print(
            f"2. live: {sent} events in {live_s:.0f} s ({sent / live_s:.0f}/s offered), "
            f"{got} stored"
            + (f"; {pubs.refused} handed over again after a lost link" if pubs.refused else "")
        )
        if lags:
            lags.sort()
            p99 = lags[int(len(lags) * 0.99) - 1]
            print(
                f"   event -> dashboard overview lag: p50 {statistics.median(lags) * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms ({len(lags)} events)"
            )
        if queries:
            print(
                f"   the overview query ({a.halls} halls): median "
                f"{statistics.median(queries) * 1000:.0f} ms, last {queries[-1] * 1000:.0f} ms, "
                f"max {max(queries) * 1000:.0f} ms ({len(queries)} queries)"
            )

        # 3. the database
        n = stored(db)
        size = db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        dup = db.execute("SELECT count(*) - count(DISTINCT (hall, seq)) FROM events").fetchone()[0]
        gaps = db.execute("SELECT count(*) FROM halls WHERE upto <> top").fetchone()[0]
        print(
            f"3. PostgreSQL: {n} events, {size / 2**20:.0f} MiB in all: "
            f"{size / n * 1e6 / 2**30:.2f} GiB per million events (events + dashboard tables "
            f"+ indexes); duplicates {dup}, halls with a gap {gaps}; all sent stored: {n == total}"
        )
        if n != total:
            lost = missing(db, halls)
            print(f"   not stored, in {len(lost)} halls: {'; '.join(lost[:5])}")
            print(
                f"   messages the brokers dropped: halls' {dropped(halls_port)}, "
                f"central {dropped(port)}"
            )
            for log in sorted(tmp.glob("collector-*.log")):
                said = log.read_text(errors="replace").splitlines()
                print(
                    f"   {log.name}: {len(said)} lines" + "".join(f"\n     {x}" for x in said[-5:])
                )
        db.close()
        pubs.close()
    finally:
        for c in collectors:
            c.terminate()
            c.wait(10)
        for b in brokers:  # the halls' first: its bridge goes before the central broker
            b.terminate()
            b.wait(10)
        drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    print(f"PostgreSQL: {PG}")
    sys.exit(main())
