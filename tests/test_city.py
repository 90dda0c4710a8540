"""Every hall's events reach the city: three halls, each with its own Mosquitto bridged to a
central Mosquitto, two collectors sharing the load into PostgreSQL. A hall's link cut for a
minute (a real cut: its veth taken down between network namespaces) and a collector killed -9
mid-stream: every event arrives once, in sequence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import psycopg
import pytest
from cityutil import (
    CentralBroker,
    HallProcess,
    NetNs,
    netns_available,
    onewindow,
    wait_until,
)


def collector(tmp_path, central, db, name):
    with open(tmp_path / f"{name}.log", "ab") as log:
        return onewindow(
            "city",
            "--mqtt",
            central.url,
            "--mqtt-secret",
            central.secret,
            "--db",
            db,
            "--client-id",
            name,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stored(db, hall):
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT seq, kind, event, data->>'ticket', received_by FROM events "
            "WHERE hall = %s ORDER BY seq",
            (hall,),
        ).fetchall()


def upto(db, hall):
    with psycopg.connect(db) as conn:
        if conn.execute("SELECT to_regclass('halls')").fetchone()[0] is None:
            return 0  # no collector has made the schema yet (a slow start on a loaded machine)
        row = conn.execute("SELECT upto FROM halls WHERE hall = %s", (hall,)).fetchone()
    return row[0] if row else 0


def assert_once_in_sequence(db, hall: HallProcess):
    last, acked = hall.outbox()
    rows = stored(db, hall.hall_id)
    assert [r[0] for r in rows] == list(range(1, last + 1))  # each once, none missing
    assert acked == last == upto(db, hall.hall_id)  # and the hall was told
    issued = [r[3] for r in rows if r[1] == "ticket" and r[2] == "issued"]
    assert issued == sorted(issued) and len(issued) == len(set(issued))  # numbers in order
    return rows


def stop_all(*procs):
    for p in procs:
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p is not None and p.stdout:
            p.stdout.close()


@pytest.mark.skipif(netns_available() is not None, reason=str(netns_available()))
def test_three_halls_a_minute_cut_off_every_event_once_in_sequence(tmp_path, city_db):
    ns = NetNs(f"ow{os.getpid() % 10000}", 1 + os.getpid() % 250)
    names = ["county-a", "county-b", "town-c"]
    central = CentralBroker(tmp_path / "central", names, hosts=("127.0.0.1", ns.city_addr)).start()
    halls = [
        HallProcess(tmp_path, "county-a", central),
        HallProcess(tmp_path, "county-b", central),
        HallProcess(tmp_path, "town-c", central, netns=ns.name, city_host=ns.city_addr),
    ]
    collectors, drivers = [], []
    try:
        collectors = [collector(tmp_path, central, city_db, f"c{n}") for n in (1, 2)]
        for h in halls:
            h.start()
        time.sleep(2)
        drivers = [h.drive(duration=95, interval=0.25) for h in halls]
        cut_hall = halls[2]
        wait_until(lambda: upto(city_db, cut_hall.hall_id) > 5, 30)
        ns.cut()
        cut_at = time.monotonic()
        time.sleep(5)  # what was in flight when the link went settles
        frozen = upto(city_db, cut_hall.hall_id)
        others = [upto(city_db, h.hall_id) for h in halls[:2]]
        time.sleep(55)
        # cut off: nothing of town-c got through, while the others went on, and town-c itself
        # went on serving (its events wait in its outbox and its bridge's queue)
        assert upto(city_db, cut_hall.hall_id) == frozen
        assert all(
            upto(city_db, h.hall_id) > before + 50
            for h, before in zip(halls[:2], others, strict=True)
        )
        assert cut_hall.outbox()[0] > frozen + 50
        ns.restore()
        assert time.monotonic() - cut_at >= 60
        for d in drivers:
            done = json.loads(d.communicate(timeout=120)[0])
            assert done["issued"] > 100 and done["errors"] == 0
        for h in halls:
            wait_until(lambda h=h: h.outbox()[0] == h.outbox()[1] > 0, 90, 0.5)
        rows = []
        for h in halls:
            rows += assert_once_in_sequence(city_db, h)
        # two collectors shared the load (one shared subscription), without a duplicate row
        by = {r[4] for r in rows}
        assert by == {"c1", "c2"}
    finally:
        stop_all(*drivers, *collectors)
        for h in halls:
            h.stop()
        central.stop()
        ns.delete()


def test_collector_killed_mid_stream_loses_and_duplicates_nothing(tmp_path, city_db):
    central = CentralBroker(tmp_path / "central", ["county-a"]).start()
    hall = HallProcess(tmp_path, "county-a", central)
    first = second = driver = None
    try:
        first = collector(tmp_path, central, city_db, "c1")
        hall.start()
        time.sleep(2)
        driver = hall.drive(duration=20, interval=0.02)
        wait_until(lambda: upto(city_db, "county-a") > 100, 30)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(5)
        at_kill = len(stored(city_db, "county-a"))
        time.sleep(3)
        assert hall.outbox()[0] > at_kill  # the hall went on meanwhile
        second = collector(tmp_path, central, city_db, "c1")  # the same session, back
        assert json.loads(driver.communicate(timeout=60)[0])["errors"] == 0
        wait_until(lambda: hall.outbox()[0] == hall.outbox()[1], 90, 0.5)
        rows = assert_once_in_sequence(city_db, hall)
        assert len(rows) > at_kill
    finally:
        stop_all(driver, first, second)
        hall.stop()
        central.stop()


def test_schema_is_versioned_and_upgraded_once(city_db):
    from onewindow.city.schema import SCHEMA_VERSION, connect, migrate

    with connect(city_db, autocommit=True) as db:
        assert migrate(db) == 0
        assert migrate(db) == SCHEMA_VERSION  # nothing more to do
        assert db.execute("SELECT version FROM schema_log ORDER BY version").fetchall() == [
            (v,) for v in range(1, SCHEMA_VERSION + 1)
        ]  # each step once, in order
        db.execute(
            "INSERT INTO schema_log (version, what) VALUES (%s, 'future')", (SCHEMA_VERSION + 1,)
        )
        from onewindow.city.schema import SchemaError

        with pytest.raises(SchemaError, match="newer"):
            migrate(db)


def test_a_city_database_of_schema_1_is_upgraded_with_its_rows(city_db):
    from onewindow.city.schema import MIGRATIONS, SCHEMA_VERSION, connect, migrate

    with connect(city_db, autocommit=True) as db:
        version, what, statements = MIGRATIONS[0]
        for sql in statements:  # the database as the first collector left it
            db.execute(sql)
        db.execute("INSERT INTO schema_log (version, what) VALUES (%s, %s)", (version, what))
        db.execute("INSERT INTO halls (hall, upto, top) VALUES ('county-a', 41, 41)")
        assert migrate(db) == 1
        assert db.execute("SELECT hall, upto, given_up FROM halls").fetchall() == [
            ("county-a", 41, 0)
        ]
        assert migrate(db) == SCHEMA_VERSION


def test_the_city_database_gone_for_seconds_costs_no_event(tmp_path, start_hall, city_db):
    """PostgreSQL drops the collector's connection and refuses new ones for a while, as a
    restart would: what the hall sends meanwhile waits at the collector and the broker, and is
    stored once when the database is back; the hall is acknowledged all of it."""
    from cityutil import PG, hall_config

    from onewindow.city.collector import Collector

    central = CentralBroker(tmp_path / "central", ["county-a"]).start()
    collector = Collector(city_db, central.url, "city-collector", central.secret, "city", "c1")
    collector.start()
    hall = start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        config=hall_config(tmp_path, "county-a"),
        uplink=central.uplink("county-a"),
    )
    admin = psycopg.connect(f"{PG}/postgres", autocommit=True)
    name = city_db.rsplit("/", 1)[1]
    try:
        kiosk = hall.client("kiosk-1")
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
        wait_until(lambda: hall.ctl.store.outbox_state()[1] > 0, 20)  # the link works
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        for _ in range(10):
            kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
        time.sleep(3)  # the collector has met the closed connection and is retrying
        sent, acked = hall.ctl.store.outbox_state()
        assert acked < sent  # nothing acknowledged that is not stored
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        wait_until(lambda: hall.ctl.store.outbox_state() == (sent, sent), 30)
        with psycopg.connect(city_db) as db:
            seqs = [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")]
            assert seqs == list(range(1, sent + 1))  # each once, none missing
            assert db.execute("SELECT upto FROM halls").fetchone()[0] == sent
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
        collector.stop()
        central.stop()
