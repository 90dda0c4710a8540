"""The keypad bridge end to end: simulated pads on a real pty, a real hall controller on a real bus."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from busutil import REPO, die_with_parent, stop_bridge, wait_for
from callers.keypad_bridge import KeypadBridge, rating_map_arg
from drivers.keypad import KeypadBus
from drivers.keypad_sim import KeypadBusSimulator
from drivers.ptysim import PtyDevice

CALL, RECALL, INVITE, PAUSE, TRANSFER, CONFIRM = 0x0C, 0x0D, 0x0B, 0x12, 0x13, 0x0F
RATING_MAP = "0=5,1=4,2=2,3=1"


@pytest.fixture
def hall(start_hall):
    return start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        ("keypad-1", "caller", [3, 4]),
        ("rating-1", "rating", [3, 4]),
    )


@pytest.fixture
def line(tmp_path):
    sim = KeypadBusSimulator(addresses=(1, 2, 11, 12))
    dev = PtyDevice(sim, tmp_path / "ttyKEYPAD")
    sim.device = dev
    yield sim, str(tmp_path / "ttyKEYPAD")
    dev.close()


@pytest.fixture
def bridge(hall, line):
    sim, port = line
    keypads = KeypadBus(port, rating_map=rating_map_arg(RATING_MAP))
    b = KeypadBridge(
        keypads,
        hall.client("keypad-1"),
        hall.client("rating-1"),
        pads={1: 3, 2: 4},
        rating_pads={11: 3, 12: 4},
    )
    keypads.start(b.on_key)
    wait_for(lambda: keypads.link.state.value == "ready", 3)  # opening the port drops earlier input
    yield sim, b
    keypads.stop()
    b.close()


def issue(hall, service="A"):
    kiosk = next((c for c in hall.clients if c.device_id == "kiosk-1"), None) or hall.client(
        "kiosk-1"
    )
    return kiosk.request("ticket.issue", {"service": service})["ticket"]


def status(hall, ticket_id):
    """From the database: finished tickets leave the controller's working set."""
    rows = hall.ctl.store.rows("tickets", "id = ?", (ticket_id,))
    return rows[0]["status"] if rows else None


def window_state(hall, n):
    return hall.ctl.views.window(n)


def test_call_on_pad_calls_next_at_its_window_and_shows_the_digits(hall, bridge):
    sim, _ = bridge
    first, second = issue(hall), issue(hall)
    sim.press(1, CALL)  # window 3 is closed: a keypad's call opens it and calls
    wait_for(lambda: window_state(hall, 3)["serving"] == first["number"], 5)
    assert window_state(hall, 3)["status"] == "open"
    digits = first["number"][-3:]
    assert sim.wait(lambda: sim.pads[1].shown.endswith(digits) and sim.pads[1].beeps >= 1, 5)
    # the left three digits show how many wait for window 3 (the second ticket)
    assert sim.wait(lambda: sim.pads[1].shown == f"  1{digits}", 5), sim.pads[1].shown
    beeps = sim.pads[1].beeps
    sim.press(1, RECALL)
    wait_for(lambda: hall.ctl.queues.by_id[first["id"]].recalls == 1, 5)
    assert sim.wait(lambda: sim.pads[1].beeps > beeps, 5)
    sim.press(1, 6)
    sim.press(1, CONFIRM)  # 6 + confirm: no-show (过号)
    wait_for(lambda: status(hall, first["id"]) == "no_show", 5)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == second["number"], 5)
    assert sim.wait(lambda: sim.pads[1].shown.endswith(second["number"][-3:]), 5)
    # a keypad has no start key: 呼叫 on a called ticket means "办结, next" (docs/caller-keypad.md),
    # sent as an explicit choice, so the controller records it done, never a silent guess
    third = issue(hall)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == third["number"], 5)
    assert status(hall, second["id"]) == "done"


def test_finish_then_rating_key_records_the_mapped_level(hall, bridge):
    sim, b = bridge
    ticket = issue(hall)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == ticket["number"], 5)
    sim.press(1, 0)
    sim.press(1, CONFIRM)  # 0 + confirm: finish
    wait_for(lambda: status(hall, ticket["id"]) == "done", 5)
    # the controller's invitation starts window 3's rating pad, and only that one
    assert sim.wait(lambda: sim.pads[11].rating_requested == 1, 5)
    assert sim.pads[12].rating_requested == 0
    prompts = []
    b.caller.on_event("rating", lambda e: e.get("event") == "reason_prompt" and prompts.append(e))
    sim.rate(11, 2)  # key 2 -> level 2 (不满意) with this map
    # a 差评 needs its reason first: the caller screen lists them, the pad takes the next key
    wait_for(lambda: prompts, 5)
    assert prompts[0]["window"] == 3 and prompts[0]["ticket"] == ticket["number"]
    assert prompts[0]["reasons"] == ["态度", "效率", "材料反复要求", "等候太久"]  # one per key
    assert sim.wait(lambda: sim.pads[11].rating_requested == 2, 5)
    assert hall.ctl.store.rows("ratings") == []
    sim.rate(11, 1)  # the second key: 效率
    rows = wait_for(lambda: hall.ctl.store.rows("ratings", "ticket_id = ?", (ticket["id"],)), 5)
    assert rows[0]["level"] == 2 and rows[0]["window"] == 3 and rows[0]["channel"] == "pad"
    assert rows[0]["reasons"] == "效率"
    sim.press(1, INVITE)  # the invite key asks the pad again
    assert sim.wait(lambda: sim.pads[11].rating_requested == 3, 5)


def test_two_pads_on_one_line_act_on_their_own_windows(hall, bridge):
    sim, _ = bridge
    a = issue(hall, "A")  # windows 3 (all services) and 4 (A, B) both serve A
    b = issue(hall, "A")
    sim.press(2, CALL)
    wait_for(lambda: window_state(hall, 4)["serving"] == a["number"], 5)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == b["number"], 5)
    assert sim.wait(
        lambda: (
            sim.pads[2].shown.endswith(a["number"][-3:])
            and sim.pads[1].shown.endswith(b["number"][-3:])
        ),
        5,
    )
    sim.press(2, TRANSFER)  # back to queue A, keeping its queue time
    wait_for(lambda: status(hall, a["id"]) == "waiting", 5)
    # the test reads the controller's memory from its own thread: the row can be seen first
    wait_for(lambda: window_state(hall, 4)["serving"] is None, 5)
    sim.press(2, PAUSE)
    wait_for(lambda: window_state(hall, 4)["status"] == "paused", 5)
    assert window_state(hall, 4)["reason"] == "临时离开"
    assert (
        window_state(hall, 3)["status"] == "open"
        and window_state(hall, 3)["serving"] == b["number"]
    )
    sim.press(2, PAUSE)  # the same key resumes
    wait_for(lambda: window_state(hall, 4)["status"] == "open", 5)


def test_refusals_are_logged_and_the_bridge_keeps_going(hall, bridge, caplog):
    sim, _ = bridge
    sim.press(1, RECALL)  # nothing at window 3 (closed, no ticket): refused
    wait_for(lambda: any("no_ticket" in r.getMessage() for r in caplog.records), 5)
    ticket = issue(hall)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == ticket["number"], 5)


def test_pads_are_repainted_when_the_line_returns(hall, bridge):
    sim, b = bridge
    ticket = issue(hall)
    sim.press(1, CALL)
    digits = ticket["number"][-3:]
    assert sim.wait(lambda: sim.pads[1].shown.endswith(digits), 5)
    sim.device.unplug()
    wait_for(lambda: b.keypads.link.state.value == "offline", 5)
    with sim.changed:
        sim.pads[1].digits = [0x0A] * 6  # a pad powered down with its line
    sim.device.plug()
    assert sim.wait(lambda: sim.pads[1].shown.endswith(digits), 8), sim.pads[1].shown


def test_keypad_command_runs_as_a_process(hall, line, tmp_path):
    sim, port = line
    ticket = issue(hall)
    # both identities in the device config, as the systemd unit has it (no secret in `ps`)
    cfg = tmp_path / "keypad.json"
    cfg.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "hall": hall.hall_id,
                "device": "keypad-1",
                "secret": hall.secrets["keypad-1"],
                "rating_device": "rating-1",
                "rating_secret": hall.secrets["rating-1"],
            }
        ),
        encoding="utf-8",
    )
    log = open(tmp_path / "keypad.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "keypad",
            "--device-config",
            str(cfg),
            "--port",
            port,
            "--pad",
            "1=3",
            "--rating-pad",
            "11=3",
            "--rating-map",
            RATING_MAP,
        ],
        cwd=REPO,
        preexec_fn=die_with_parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # ready once connected: its retained-state refresh lights the pad's display
        sim.wait(lambda: sim.pads[1].digits != [0x0A] * 6, 10)
        wait_for(
            lambda: (
                b"keypad bus on" in (tmp_path / "keypad.log").read_bytes()
                and b"ready" in (tmp_path / "keypad.log").read_bytes()
            ),
            10,
        )
        sim.press(1, CALL)
        wait_for(lambda: window_state(hall, 3)["serving"] == ticket["number"], 10)
        assert sim.wait(lambda: sim.pads[1].shown.endswith(ticket["number"][-3:]), 5)
    finally:
        stop_bridge(proc)
        log.close()
    assert proc.returncode == 0, (tmp_path / "keypad.log").read_text()


def test_a_pads_bad_rating_answered_on_the_qr_page_ends_the_wait(hall, bridge):
    from onewindow.domain.pagekey import page_key

    sim, b = bridge
    ticket = issue(hall)
    sim.press(1, CALL)
    wait_for(lambda: window_state(hall, 3)["serving"] == ticket["number"], 5)
    sim.press(1, 0)
    sim.press(1, CONFIRM)
    wait_for(lambda: status(hall, ticket["id"]) == "done", 5)
    assert sim.wait(lambda: sim.pads[11].rating_requested == 1, 5)
    sim.rate(11, 3)  # 非常不满意: the pad waits for the reason
    assert sim.wait(lambda: sim.pads[11].rating_requested == 2, 5)
    hall.add("web-1", "web")
    hall.client("web-1").request(
        "rating.submit",
        {
            "ticket_id": page_key(ticket["id"], hall.ctl.secret),
            "level": 1,
            "channel": "qrcode",
            "reasons": ["其他"],
            "text": "窗口人员玩手机",
        },
    )
    wait_for(lambda: not b._prompts, 5)
    sim.rate(11, 0)  # a later key is a rating of its own: nothing left to rate
    time.sleep(0.5)
    rows = hall.ctl.store.rows("ratings", "ticket_id = ?", (ticket["id"],))
    assert [(r["level"], r["channel"], r["reasons"]) for r in rows] == [(1, "qrcode", "其他")]
