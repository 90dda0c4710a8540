"""The device client through outages: broker restart, controller restart, no answer."""

from __future__ import annotations

import time

import pytest

from busutil import wait_for
from onewindow.bus.client import BusUnavailable


@pytest.fixture
def hall(start_hall):
    return start_hall("mosquitto", ("kiosk-1", "kiosk"), ("display-1", "display"))


def test_broker_restart_display_reconnects_and_sees_truth(hall):
    display = hall.client("display-1")
    kiosk = hall.client("kiosk-1")
    kiosk.request("ticket.issue", {"service": "A"})
    wait_for(lambda: (display.state["queues"] or {}).get("A", {}).get("waiting") == 1)
    hall.mosquitto.stop()  # no persistence: retained state is gone with it
    wait_for(lambda: not display.connected.is_set())
    display.state["queues"] = None
    hall.mosquitto.start()
    t0 = time.monotonic()
    wait_for(lambda: display.connected.is_set(), timeout=15)
    # the controller republishes every state topic when it is back on the broker
    wait_for(lambda: (display.state["queues"] or {}).get("A", {}).get("waiting") == 1, timeout=15)
    assert time.monotonic() - t0 < 15
    assert kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"].endswith("002")


def test_no_controller_means_unavailable_never_a_made_up_number(hall):
    kiosk = hall.client("kiosk-1")
    hall.stop_service()
    wait_for(lambda: kiosk.controller_online is False)
    with pytest.raises(BusUnavailable) as e:
        kiosk.request("ticket.issue", {"service": "A"}, timeout=0.5, retries=1, req_id="lost-1")
    assert "无法连接" in e.value.message
    hall.start()
    wait_for(lambda: kiosk.controller_online)
    # the same id again: one ticket, whether or not the first attempt reached the controller
    first = kiosk.request("ticket.issue", {"service": "A"}, req_id="lost-1")["ticket"]
    again = kiosk.request("ticket.issue", {"service": "A"}, req_id="lost-1")["ticket"]
    assert first["id"] == again["id"]
    assert len(hall.ctl.store.tickets("service = 'A'")) == 1
