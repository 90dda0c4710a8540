"""The hall's outbox for the city: every event numbered without gaps in the transaction of its
change, published on ow/<hall>/up/... over a real Mosquitto bridge, sent again until the city
acknowledges it; the ACL keeps devices off the uplink's topics."""

from __future__ import annotations

import json
import time

import pytest
from cityutil import CentralBroker, Watcher

from busutil import unlimited_config, wait_for
from ctlutil import KIOSK, caller

HALL = "demo-county"


def outbox(ctl) -> list[tuple[int, str, dict]]:
    return [
        (seq, kind, json.loads(body)) for seq, kind, _at, body in ctl.store.outbox_after(0, 10_000)
    ]


def test_every_event_is_numbered_without_gaps_with_its_change(ctl_hall):
    t = ctl_hall.served(1, window=4)[0]
    # a refusal writes nothing: its number is not used (no gap for the city to chase)
    assert ctl_hall.do(caller(4), "window.skip", window=4)["error"]["code"] == "no_ticket"
    assert ctl_hall.do(KIOSK, "ticket.issue", service="nope")["ok"] is False
    rating = ctl_hall.ok(
        KIOSK, "rating.submit", ticket_id=t["id"], level=1, reasons=["态度"], channel="kiosk"
    )["rating"]
    rows = outbox(ctl_hall.ctl)
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    events = [(kind, body["event"] if "event" in body else kind) for _, kind, body in rows]
    assert events[:4] == [
        ("ticket", "issued"),
        ("window", "open"),
        ("call", "call"),
        ("ticket", "done"),
    ]
    assert ("rating", "invite") not in events  # the pad's cue stays in the hall
    submitted = next(b for _, k, b in rows if k == "rating" and b["event"] == "submitted")
    # the rating travels as the national export record (GB/T 39046: 非常不满意 is 5)
    assert submitted["record"]["rating_id"] == rating["id"]
    assert submitted["record"]["level_code"] == 5 and submitted["record"]["bad"] is True
    assert submitted["record"]["ticket"] == t["number"]
    alert = next(b for _, k, b in rows if k == "alert")
    assert alert["event"] == "raised" and alert["kind"] == "bad_rating"
    done = next(b for _, k, b in rows if k == "ticket" and b["event"] == "done")
    assert done["t"]["status"] == "done" and done["t"]["finished_at"] and done["department"]
    # the numbering survives a restart and goes on where it was
    last = rows[-1][0]
    ctl_hall.reopen()
    ctl_hall.issue()
    assert outbox(ctl_hall.ctl)[-1][0] == last + 1


@pytest.fixture
def central(tmp_path):
    broker = CentralBroker(tmp_path / "central", [HALL]).start()
    yield broker
    broker.stop()


def test_events_reach_the_city_over_the_bridge_until_acknowledged(tmp_path, central, start_hall):
    watcher = Watcher(central)
    hall = start_hall(
        "embedded", ("kiosk-1", "kiosk"), ("caller-4", "caller", [4]), uplink=central.uplink(HALL)
    )
    kiosk = hall.client("kiosk-1")
    for _ in range(3):
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    wait_for(lambda: len(watcher.seqs(HALL)) >= 3, 10)
    first = watcher.got[0]
    assert (
        first["id"] == f"{HALL}:1"
        and first["kind"] == "ticket"
        and first["data"]["t"]["number"] == "A001"
    )
    assert hall.ctl.store.outbox_state() == (3, 0)  # nothing acknowledged: all kept
    # the controller (re)connecting to its broker sends again what the city has not acknowledged
    hall.stop_service()
    hall.start()
    wait_for(lambda: len(watcher.seqs(HALL)) >= 6, 10)
    assert watcher.seqs(HALL)[:6] == [1, 2, 3, 1, 2, 3]
    # acknowledged: forgotten, and not sent again
    ack = Watcher(central, ack=True)
    kiosk = hall.client("kiosk-1")
    kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    wait_for(lambda: hall.ctl.store.outbox_state() == (4, 4), 10)
    assert hall.ctl.store.outbox_after(0, 10) == []
    watcher.close()
    ack.close()


def test_devices_cannot_write_the_uplink_topics(tmp_path, central, start_hall):
    watcher = Watcher(central)
    hall = start_hall(
        "embedded", ("kiosk-1", "kiosk"), ("manager-1", "manager"), uplink=central.uplink(HALL)
    )
    for device in ("kiosk-1", "manager-1"):
        raw = hall.raw_client(device)
        time.sleep(0.3)
        raw.publish(
            f"ow/{HALL}/up/ticket",
            json.dumps(
                {"v": 1, "id": f"{HALL}:99", "hall": HALL, "seq": 99, "kind": "ticket", "data": {}}
            ),
            1,
        )
        raw.publish(f"ow/{HALL}/ack", json.dumps({"upto": 10}), 1)  # a forged acknowledgement
        raw.publish(f"ow/{HALL}/uplink/state", b"1", 1)
    hall.client("kiosk-1").request("ticket.issue", {"service": "A", "channel": "kiosk"})
    wait_for(lambda: watcher.seqs(HALL), 10)  # the hall's own events do go up
    time.sleep(1.0)
    assert 99 not in watcher.seqs(HALL)  # the forged one never left the hall
    last, acked = hall.ctl.store.outbox_state()
    assert last >= 1 and acked == 0  # and nothing was acknowledged by a device
    assert hall.service.outbox.link_up is True  # the bridge's own word, not the forgery's
    watcher.close()


def test_broker_config_uplink_bridges_a_systemd_mosquitto(tmp_path, central, start_hall):
    """`broker-config --uplink` writes a bridge a stock Mosquitto runs: events go up, acks come
    back, and the central broker knows the hall by its certificate."""
    import os
    import shutil
    import subprocess
    import sys

    from busutil import REPO, free_port, wait_port
    from onewindow.bus.mosquitto import SBIN_DIRS

    data, out, port = tmp_path / "data", tmp_path / "etc-mosquitto", free_port()
    (tmp_path / "cfg").mkdir()
    config = unlimited_config(tmp_path / "cfg")
    up = central.uplink(HALL)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "devices",
            "--data-dir",
            str(data),
            "add",
            "kiosk-1",
            "--role",
            "kiosk",
            "--secret",
            "k1secret",
            "--config",
            str(config),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "broker-config",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            "--out",
            str(out),
            "--port",
            str(port),
            "--uplink",
            f"mqtts://127.0.0.1:{central.tls_port}",
            "--uplink-ca",
            up.cafile,
            "--uplink-cert",
            up.certfile,
            "--uplink-key",
            up.keyfile,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    conf = (out / "mosquitto.conf").read_text()
    for line in (
        "cleansession false",
        f"topic up/# out 1 ow/{HALL}/ ow/{HALL}/",
        f"topic ack in 1 ow/{HALL}/ ow/{HALL}/",
        f"topic down/appointments in 1 ow/{HALL}/ ow/{HALL}/",
        "max_queued_messages 100000",
        f"bridge_certfile {up.certfile}",
    ):
        assert line in conf
    conf = conf.replace("user mosquitto", f"user {os.environ.get('USER') or 'root'}")
    (out / "mosquitto.conf").write_text(conf)
    binary = shutil.which("mosquitto", path=os.pathsep.join([os.environ["PATH"], *SBIN_DIRS]))
    broker = subprocess.Popen(
        [binary, "-c", str(out / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        watcher = Watcher(central, ack=True)
        hall = start_hall(f"mqtt://127.0.0.1:{port}", config=config)
        assert hall.data_dir == data
        hall.client("kiosk-1", "k1secret").request(
            "ticket.issue", {"service": "A", "channel": "kiosk"}
        )
        wait_for(lambda: watcher.seqs(HALL) == [1], 10)
        wait_for(lambda: hall.ctl.store.outbox_state() == (1, 1), 10)  # acknowledged back
        watcher.close()
    finally:
        broker.terminate()
        broker.wait(10)


def test_a_hall_never_bridged_gives_up_old_events_and_the_city_stops_asking(
    tmp_path, central, start_hall, city_db
):
    """[uplink] keep_days bounds the outbox: events older are forgotten, and an `uplink` event
    tells the city which numbers it will never get, so that once bridged the hall's mark moves
    over them instead of asking for them again and again."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from onewindow.city.collector import Collector
    from onewindow.city.schema import connect

    shift = [timedelta(days=-40)]
    clock = lambda: datetime.now(ZoneInfo("Asia/Shanghai")) + shift[0]  # noqa: E731
    hall = start_hall("embedded", ("kiosk-1", "kiosk"), clock=clock)  # no uplink yet
    kiosk = hall.client("kiosk-1")
    for _ in range(3):
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    old, acked = hall.ctl.store.outbox_state()
    assert old >= 3 and acked == 0  # the tickets and what came with them, all kept
    shift[0] = timedelta(0)  # forty days on, never bridged: the next tick gives them up
    wait_for(lambda: hall.ctl.store.outbox_given_up() == old, 15)
    rows = outbox(hall.ctl)
    assert [(seq, kind, body["event"], body["upto"]) for seq, kind, body in rows] == [
        (old + 1, "uplink", "given_up", old)
    ]
    kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})  # today's: kept
    last = hall.ctl.store.outbox_state()[0]
    assert hall.ctl.store.outbox_state() == (last, old) and last > old + 1

    db = city_db
    collector = Collector(db, central.url, "city-collector", central.secret, client_id="c1")
    collector.start()
    try:
        hall.stop_service()
        hall.uplink = central.uplink(HALL)  # bridged at last
        hall.start()
        wait_for(lambda: hall.ctl.store.outbox_state() == (last, last), 20)  # all acknowledged
        with connect(db) as conn:
            upto, given_up = conn.execute(
                "SELECT upto, given_up FROM halls WHERE hall = %s", (HALL,)
            ).fetchone()
            seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
        # stored: the notice and today's; nothing asked for again of what was given up
        assert (upto, given_up, seqs) == (last, old, list(range(old + 1, last + 1)))
    finally:
        collector.stop()


def test_giving_up_happens_once_a_hall_day_and_the_outbox_shrinks(tmp_path, caplog):
    """A hall never bridged: events a day at a time cross keep_days; each day gives them up in
    one go (one notice, one log line), not one at every 5 s tick, and the outbox shrinks."""
    import logging
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from onewindow.bus.outbox import Outbox
    from onewindow.store import Store

    store = Store(tmp_path / "hall.db")
    t0 = datetime(2026, 10, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for n in range(960):  # a day of events, one every 30 s
        store.outbox_add("ticket", t0 + timedelta(seconds=30 * n), {"event": "issued", "n": n})
    now = [t0 + timedelta(days=30)]
    box = Outbox(store, HALL, lambda topic, data: None, hall_now=lambda: now[0])
    caplog.set_level(logging.WARNING, "onewindow.bus.outbox")
    for _ in range(17280):  # a day of 5 s ticks, thirty days on
        box.check()
        now[0] += timedelta(seconds=5)
    notices = [b for _, k, b in outbox(type("C", (), {"store": store})) if k == "uplink"]
    assert len(notices) == 1 and notices[0]["upto"] == 960 and notices[0]["count"] == 960
    assert len(store.outbox_after(0, 10_000)) == 1  # only the notice is left
    assert len([r for r in caplog.records if "given up" in r.getMessage()]) == 1
    store.close()
