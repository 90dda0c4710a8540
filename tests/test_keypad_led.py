"""Caller keypads, rating pads and LED strips through real ptys, several devices per line."""

from __future__ import annotations

import time

import pytest

from busutil import wait_for
from drivers import keypad, led
from drivers.keypad import KeyEvent, KeypadBus
from drivers.keypad_sim import KeypadBusSimulator
from drivers.led import GbTextStrip, LedError
from drivers.led_sim import LedLineSimulator, render_strip
from drivers.ptysim import PtyDevice


def test_frame_bytes_match_the_documented_examples():
    # beep to address AA: FF 68 02 02 68 AA 03 CS 16, CS = AA + 03
    assert keypad.beep_frame(0xAA) == bytes.fromhex("ff 68 02 02 68 aa 03 ad 16")
    assert keypad.rating_start_frame(0xAA) == bytes.fromhex("ff 68 03 03 68 aa 01 0b b6 16")
    assert keypad.show_frame(0xAA, 5, "A012") == bytes.fromhex(
        "ff 68 08 08 68 aa 02 0a 0a 05 00 01 02 c8 16"
    )


def test_stream_parser_skips_noise_and_corrupt_frames():
    good = keypad.build(3, 1, b"\x0c")
    bad = bytearray(keypad.build(4, 1, b"\x0d"))
    bad[-2] ^= 0xFF
    buf = bytearray(b"\x00\x13garbage" + bytes(bad) + good[:4])
    assert keypad.parse_stream(buf) == []
    buf += good[4:]
    frames = keypad.parse_stream(buf)
    assert [(f.addr, f.data) for f in frames] == [(3, b"\x0c")]


@pytest.fixture
def pads(tmp_path):
    sim = KeypadBusSimulator(addresses=(1, 2, 9))
    dev = PtyDevice(sim, tmp_path / "ttyKEYPAD")
    sim.device = dev
    events: list[KeyEvent] = []
    bus = KeypadBus(str(tmp_path / "ttyKEYPAD"), rating_map={0: 5, 1: 4, 2: 3, 3: 1}).start(
        events.append
    )
    wait_for(lambda: bus.link.state.value == "ready", 3)  # opening a port drops what came before
    yield sim, dev, bus, events
    bus.stop()
    dev.close()


def test_keys_from_two_windows_become_actions_and_are_acknowledged(pads):
    sim, _, bus, events = pads
    sim.press(1, 0x0C)  # window 1: call next
    sim.press(2, 0x0D)  # window 2: recall
    sim.press(1, 6)
    sim.press(1, 0x0F)  # 6 then confirm: no-show
    sim.press(2, 0)
    sim.press(2, 0x0F)  # 0 then confirm: finish
    wait_for(lambda: len(events) == 4, 3)
    assert [(e.addr, e.action) for e in events] == [
        (1, "call_next"),
        (2, "recall"),
        (1, "skip"),
        (2, "finish"),
    ]
    assert sim.wait(lambda: sim.pads[1].acks == 3 and sim.pads[2].acks == 3)


def test_rating_pad_keys_map_to_the_five_levels(pads):
    sim, _, _, events = pads
    sim.rate(9, 0)
    sim.rate(9, 3)
    sim.rate(9, 7)  # a key this model does not have: ignored
    wait_for(lambda: len(events) == 2, 3)
    assert [(e.action, e.level) for e in events] == [("rating", 5), ("rating", 1)]


def test_display_and_beep_reach_only_the_addressed_pad(pads):
    sim, _, bus, _ = pads
    bus.show(2, 7, "A012")
    bus.beep(2)
    bus.start_rating(9)
    assert sim.wait(
        lambda: (
            sim.pads[2].shown == "  7012"
            and sim.pads[2].beeps == 1
            and sim.pads[9].rating_requested == 1
        )
    )
    assert sim.pads[1].shown == "      " and sim.pads[1].beeps == 0


BROKEN_ON_THE_LINE = {
    "frame cut at 7 of 10 bytes": lambda sim: sim.press_cut(1, 0x0C, keep=7),
    "frame cut after its header": lambda sim: sim.press_cut(1, 0x0C, keep=5),
    "stray FF": lambda sim: sim.noise(b"\xff"),
    "stray header claiming 64 bytes": lambda sim: sim.noise(b"\xff\x68\x40\x40\x68"),
    "garbage": lambda sim: sim.noise(b"\x00\x13\xffgarbage\xff\x68\x03"),
    "bad checksum": lambda sim: sim.noise(bytes.fromhex("ff 68 03 03 68 01 01 0c 00 16")),
}


@pytest.mark.parametrize("break_line", BROKEN_ON_THE_LINE.values(), ids=BROKEN_ON_THE_LINE.keys())
def test_no_press_is_lost_after_a_broken_frame(pads, break_line):
    sim, _, _, events = pads
    for _ in range(3):
        break_line(sim)
        sim.press(2, 0x0D)
    wait_for(lambda: len(events) >= 3, 3)
    assert [(e.addr, e.action) for e in events] == [(2, "recall")] * 3  # nothing invented either
    assert sim.wait(lambda: sim.pads[2].acks == 3) and sim.pads[1].acks == 0


def test_a_press_split_across_reads_after_a_cut_frame_is_recognised(pads):
    sim, dev, _, events = pads
    sim.press_cut(1, 0x0C, keep=7)
    frame = keypad.build(2, keypad.CMD_KEY, b"\x0d")
    for part in (frame[:3], frame[3:7], frame[7:]):
        dev.send(part)
        time.sleep(0.15)  # longer than one poll of the bus: each part is its own read
    wait_for(lambda: events, 3)
    assert [(e.addr, e.action) for e in events] == [(2, "recall")]


def test_keypad_line_survives_unplug(pads):
    sim, dev, bus, events = pads
    dev.unplug()
    wait_for(lambda: bus.link.state.value == "offline", 3)
    dev.plug()
    wait_for(lambda: bus.link.state.value == "ready", 5)
    sim.press(1, 0x0C)
    wait_for(lambda: events, 5)
    assert events[0].action == "call_next"


# -- LED ------------------------------------------------------------------------------------------


@pytest.fixture
def strips(tmp_path):
    sim = LedLineSimulator(addresses=(3, 4))
    dev = PtyDevice(sim, tmp_path / "ttyLED")
    s3 = GbTextStrip(str(tmp_path / "ttyLED"), addr=3)
    s4 = GbTextStrip(str(tmp_path / "ttyLED"), addr=4)
    yield sim, dev, s3, s4
    s3.close(), s4.close()
    dev.close()


def test_strips_show_gb2312_text_at_their_address(strips):
    sim, _, s3, s4 = strips
    s3.show("请A012号到3号窗口", led.FLASH)
    s4.show("暂停服务")
    assert sim.strips[3].text == "请A012号到3号窗口" and sim.strips[3].effect == led.FLASH
    assert sim.strips[4].text == "暂停服务"
    s3.clear()
    assert sim.strips[3].text == ""


def test_text_outside_gb2312_is_replaced_not_garbled():
    assert led.encode_text("A012 𠮷") == "A012 ？".encode("gb2312")


def test_corrupt_frame_is_refused_and_the_driver_retries(strips):
    sim, dev, s3, _ = strips
    original = sim.on_bytes
    hits = {"n": 0}

    def flaky(data):
        hits["n"] += 1
        if hits["n"] == 1:  # the line garbles the first frame
            data = bytearray(data)
            data[-3] ^= 0x55
            data = bytes(data)
        return original(data)

    sim.on_bytes = flaky
    s3.show("请A001号到3号窗口")
    assert sim.naks == 1 and sim.strips[3].text == "请A001号到3号窗口"


def test_strip_absent_or_unplugged_is_a_clear_error(strips):
    sim, dev, s3, _ = strips
    ghost = GbTextStrip(s3.link.port, addr=7, retries=1)
    with pytest.raises(LedError, match="LED strip 7 .*no answer"):
        ghost.show("x")
    ghost.close()
    dev.unplug()
    with pytest.raises(LedError, match="LED strip 3"):
        s3.show("x")


def test_strip_picture_lights_dots_for_the_text():
    img = render_strip("A012→3号")
    lit = sum(1 for px in img.resize((192, 32)).convert("L").histogram()[100:])
    assert img.size == (768, 128) and lit > 0
