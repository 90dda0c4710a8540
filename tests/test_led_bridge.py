"""The LED bridge against a real hall and simulated strips on real ptys."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib

import pytest

from busutil import REPO, die_with_parent, stop_bridge, unlimited_config
from callers.led_bridge import LedBridge, parse_strip
from drivers import led
from drivers.led_sim import LedLineSimulator
from drivers.ptysim import PtyDevice
from onewindow.bus.client import DeviceClient
from onewindow.hallconfig import dump


@pytest.fixture
def hall(start_hall):
    return start_hall(
        "embedded", ("kiosk-1", "kiosk"), ("caller-3", "caller", [3]), ("led-1", "led")
    )


@pytest.fixture
def line(tmp_path):
    sim = LedLineSimulator(addresses=(3, 4, 9))
    dev = PtyDevice(sim, tmp_path / "ttyLED")
    yield sim, dev
    dev.close()


def test_parse_strip_option():
    assert parse_strip("3=/dev/ttyUSB0:4") == (3, "/dev/ttyUSB0", 4)
    assert parse_strip("12=/dev/ttyS1") == (12, "/dev/ttyS1", 1)
    with pytest.raises(ValueError):
        parse_strip("/dev/ttyUSB0")


def test_call_pause_and_unplug_replug_on_the_strips(hall, line, tmp_path):
    sim, dev = line
    port = str(tmp_path / "ttyLED")
    client = DeviceClient(
        hall.url, "led-1", hall.secrets["led-1"], hall.hall_id, events=("call",), windows_state=True
    )
    bridge = LedBridge(client, {3: (port, 3), 4: (port, 4)}, hall_screen=(port, 9)).start()
    client.start(wait=5)
    try:
        s3, s4, screen = sim.strips[3], sim.strips[4], sim.strips[9]
        assert sim.wait(
            lambda: s3.text == "窗口关闭" and s4.text == "窗口关闭" and screen.text == "欢迎光临"
        )
        kiosk, caller = hall.client("kiosk-1"), hall.client("caller-3")
        number = kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"]
        caller.request("window.open", {"window": 3})
        caller.request("window.call_next", {"window": 3})
        assert sim.wait(
            lambda: s3.text == f"请{number}号" and screen.text == f"请{number}号到3号窗口"
        )
        assert s3.effect == led.FLASH and s4.text == "窗口关闭"

        frames = s3.frames
        caller.request("window.recall", {"window": 3})  # same text, sent (flashed) again
        assert sim.wait(lambda: s3.frames > frames)
        caller.request("window.start", {"window": 3})
        assert sim.wait(lambda: s3.text == number and s3.effect == led.STATIC)
        caller.request("window.finish", {"window": 3})
        assert sim.wait(lambda: s3.text == "欢迎光临")
        caller.request("window.pause", {"window": 3, "reason": "午休"})
        assert sim.wait(lambda: s3.text == "暂停服务")

        dev.unplug()  # the cable is pulled...
        caller.request("window.resume", {"window": 3})
        time.sleep(1.5)  # ...the bridge fails, logs, retries
        assert s3.text == "暂停服务"
        dev.plug()  # ...and plugged back in
        assert sim.wait(lambda: s3.text == "欢迎光临", timeout=6)
        number2 = kiosk.request("ticket.issue", {"service": "B"})["ticket"]["number"]
        caller.request("window.call_next", {"window": 3})
        assert sim.wait(
            lambda: s3.text == f"请{number2}号" and screen.text == f"请{number2}号到3号窗口"
        )
    finally:
        client.stop()
        bridge.stop()


def test_onewindow_led_command_drives_a_strip(hall, line, tmp_path):
    sim, _ = line
    port = str(tmp_path / "ttyLED")
    log_path = tmp_path / "led.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "onewindow.cli",
                "led",
                "--mqtt",
                hall.url,
                "--device",
                "led-1",
                "--secret",
                hall.secrets["led-1"],
                "--hall",
                hall.hall_id,
                "--strip",
                f"3={port}:3",
                "--strip",
                f"4={port}:4",
                "--hall-screen",
                f"{port}:9",
                "--strip",
                f"5={tmp_path / 'ttyMISSING'}:1",
            ],  # a strip not plugged in
            cwd=REPO,
            preexec_fn=die_with_parent,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            assert sim.wait(lambda: sim.strips[4].text == "窗口关闭", timeout=10), (
                log_path.read_text()
            )
            kiosk, caller = hall.client("kiosk-1"), hall.client("caller-3")
            number = kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"]
            caller.request("window.open", {"window": 3})
            caller.request("window.call_next", {"window": 3})
            assert sim.wait(
                lambda: (
                    sim.strips[3].text == f"请{number}号"
                    and sim.strips[9].text == f"请{number}号到3号窗口"
                )
            )
            assert proc.poll() is None  # the missing strip did not stop it
        finally:
            assert stop_bridge(proc) == 0
    out = log_path.read_text(encoding="utf-8")
    assert "strip of window 5" in out and "Traceback" not in out


def hall_speaking(tmp_path, languages: list[str]):
    raw = tomllib.loads(unlimited_config(tmp_path).read_text(encoding="utf-8"))
    raw["hall"]["languages"] = languages
    path = tmp_path / "languages-hall.toml"
    path.write_text(dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("languages", [["zh", "en"], ["zh", "bo"]])
def test_a_bilingual_hall_strips_take_turns_in_english_never_in_tibetan(
    start_hall, line, tmp_path, languages
):
    """zh+en: each text alternates with its English, frame by frame; zh+bo: Chinese only (no
    strip has a Tibetan font), sent once and left there."""
    sim, _ = line
    hall = start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        ("caller-3", "caller", [3]),
        ("led-1", "led"),
        config=hall_speaking(tmp_path, languages),
    )
    port = str(tmp_path / "ttyLED")
    client = DeviceClient(
        hall.url, "led-1", hall.secrets["led-1"], hall.hall_id, events=("call",), windows_state=True
    )
    bridge = LedBridge(client, {3: (port, 3)}, hall_screen=(port, 9), alternate_s=0.3).start()
    client.start(wait=5)
    english = "en" in languages
    try:
        s3, screen = sim.strips[3], sim.strips[9]
        assert sim.wait(lambda: s3.text == "窗口关闭" and screen.text == "欢迎光临")
        if english:
            assert sim.wait(lambda: s3.text == "Closed" and screen.text == "Welcome")
        number = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"][
            "number"
        ]
        caller = hall.client("caller-3")
        caller.request("window.open", {"window": 3})
        caller.request("window.call_next", {"window": 3})
        assert sim.wait(
            lambda: s3.text == f"请{number}号" and screen.text.startswith(f"请{number}")
        )
        assert s3.effect == led.FLASH
        if english:
            assert sim.wait(lambda: s3.text == f"Number {number}" and s3.effect == led.FLASH)
            assert sim.wait(lambda: screen.text == f"{number} to window 3")
            assert sim.wait(lambda: s3.text == f"请{number}号")  # and round again
        else:
            frames = s3.frames, screen.frames
            time.sleep(1.0)  # more than three turns: nothing else is sent
            assert (s3.frames, screen.frames) == frames
            assert s3.text == f"请{number}号" and screen.text == f"请{number}号到3号窗口"
        caller.request("window.start", {"window": 3})
        assert sim.wait(lambda: s3.text == number and s3.effect == led.STATIC)
        frames = s3.frames
        time.sleep(1.0)  # the number reads the same in both: not sent again and again
        assert s3.frames == frames
    finally:
        client.stop()
        bridge.stop()
