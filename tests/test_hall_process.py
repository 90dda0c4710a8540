"""`onewindow hall` as an operator runs it: a real process, signals, a bad file, a busy port."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from busutil import REPO, Mosquitto, hall_process, unlimited_config, wait_for
from onewindow.bus.client import BusError, DeviceClient
from onewindow.bus.devices import DeviceRegistry

HALL_ID = "demo-county"


@pytest.fixture
def setup(tmp_path):
    data = tmp_path / "data"
    config = unlimited_config(tmp_path)
    secret = DeviceRegistry(data).add("kiosk-1", "kiosk")
    broker = Mosquitto(data, HALL_ID).start()
    yield data, config, secret, broker
    broker.stop()


def test_bad_config_is_refused_naming_file_section_option(tmp_path):
    bad = tmp_path / "hall.toml"
    text = (REPO / "config" / "hall.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace("[rules]", "[rules]\nfair_shair = 3", 1), encoding="utf-8")
    proc = hall_process(tmp_path / "data", bad, "embedded://127.0.0.1:0")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert str(bad) in err and "[rules]" in err and "fair_shair" in err
    assert not (tmp_path / "data" / "hall.db").exists()


def test_sigterm_stops_cleanly_and_says_offline(setup):
    data, config, secret, broker = setup
    proc = hall_process(data, config, broker.url)
    kiosk = DeviceClient(broker.url, "kiosk-1", secret, HALL_ID).start(wait=5)
    try:
        wait_for(lambda: kiosk.controller_online, timeout=10)
        kiosk.request("ticket.issue", {"service": "A"})
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in out
        wait_for(lambda: kiosk.controller_online is False, timeout=5)
    finally:
        kiosk.stop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_kill_9_loses_no_acknowledged_ticket(setup):
    data, config, secret, broker = setup
    acknowledged = []
    for _ in range(2):
        proc = hall_process(data, config, broker.url)
        kiosk = DeviceClient(broker.url, "kiosk-1", secret, HALL_ID).start(wait=5)
        wait_for(lambda k=kiosk: k.controller_online, timeout=10)
        deadline = time.monotonic() + 1.0
        taken = 0
        # within the kiosk's ticket.issue budget (bus/budget.py), so that the 20 below reach
        # the controller and are in flight when it is killed
        while time.monotonic() < deadline and taken < 30:
            taken += 1
            try:
                acknowledged.append(
                    kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"]
                )
            except BusError as exc:  # faster than a kiosk's request budget (bus/budget.py)
                assert exc.code == "rate_limited", exc
                break
        # kill while requests are in flight
        for _ in range(20):
            kiosk.request_async(
                "ticket.issue",
                {"service": "A"},
                callback=lambda r, e: r and acknowledged.append(r["ticket"]["number"]),
            )
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=5)
        time.sleep(0.5)
        kiosk.stop()
    from onewindow.store import Store

    store = Store(data / "hall.db")
    numbers = [t.number for t in store.tickets("service = 'A'")]
    store.close()
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    assert set(acknowledged) <= set(numbers), "an acknowledged ticket was lost"
    assert len(acknowledged) > 20


def test_embedded_port_taken_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = hall_process(
            tmp_path / "data", REPO / "config" / "hall.toml", f"embedded://127.0.0.1:{port}"
        )
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert str(port) in err and "in use" in err


def test_second_controller_on_the_same_data_dir_is_refused(setup):
    data, config, secret, broker = setup
    first = hall_process(data, config, broker.url)
    try:
        wait_for(lambda: (data / "hall.db").exists(), timeout=15)
        time.sleep(0.5)
        second = hall_process(data, config, broker.url)
        out, err = second.communicate(timeout=30)
        assert second.returncode == 3
        assert "another OneWindow controller is using this data dir" in err
        assert "Traceback" not in err
        assert first.poll() is None  # the running hall is untouched
    finally:
        first.terminate()
        first.communicate(timeout=20)


def test_a_broker_made_for_another_hall_stops_the_hall_within_10_s_naming_it(tmp_path):
    """The silently dead hall: an ACL written for the demo hall, the controller of another."""
    data = tmp_path / "data"
    config = unlimited_config(tmp_path)
    other = tmp_path / "linxia.toml"
    other.write_text(
        config.read_text(encoding="utf-8").replace('id = "demo-county"', 'id = "linxia-zhou"', 1),
        encoding="utf-8",
    )
    broker = Mosquitto(data, HALL_ID).start()  # ACL for ow/demo-county/#
    try:
        t0 = time.monotonic()
        proc = hall_process(data, other, broker.url)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        broker.stop()
    assert proc.returncode == 4 and took < 10, (took, err)
    assert "'linxia-zhou'" in err and "broker-config" in err and "Traceback" not in err
