"""`onewindow devices probe/test` as an installer runs them, against simulators on ptys."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from busutil import REPO
from drivers.idcard_sim import IdCardSimulator
from drivers.keypad_sim import KeypadBusSimulator
from drivers.led_sim import LedLineSimulator
from drivers.printer_sim import PAPER_END, PrinterSimulator
from drivers.ptysim import PtyDevice


def onewindow(*args, timeout=60):
    out = subprocess.run(
        [sys.executable, "-m", "onewindow.cli", "--log-level", "ERROR", "devices", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    return out.returncode, out.stdout + out.stderr


@pytest.fixture
def rig(tmp_path):
    devices = []

    def make(sim, name):
        dev = PtyDevice(sim, tmp_path / name)
        devices.append(dev)
        return str(dev.path)

    yield make
    for d in devices:
        d.close()


def test_probe_names_what_answers_on_each_port(rig):
    printer = rig(PrinterSimulator(), "ttyPRN")
    idcard = rig(IdCardSimulator(), "ttyID")
    rc, out = onewindow("probe", "--port", printer, "--port", idcard)
    assert rc == 0
    assert f"{printer}: ESC/POS printer at 9600 baud: ready" in out
    assert f"{idcard}: ID card reader (SAM) at 115200 baud: ready" in out
    assert "PC/SC readers" in out


def test_printer_test_prints_a_ticket_or_says_why_not(rig):
    sim = PrinterSimulator()
    port = rig(sim, "ttyPRN")
    rc, out = onewindow("test", "printer", "--port", port)
    assert rc == 0 and "printed a test ticket" in out and len(sim.jobs) == 1
    sim.paper = PAPER_END
    rc, out = onewindow("test", "printer", "--port", port)
    assert rc == 1 and "out of paper (打印纸已用完)" in out


def test_idcard_test_prints_masked_fields_only(rig):
    sim = IdCardSimulator()
    port = rig(sim, "ttyID")
    rc, out = onewindow("test", "idcard", "--port", port)
    assert rc == 1 and "请将身份证放到读卡区" in out
    sim.insert(
        name="欧阳小锋",
        sex="1",
        nation="01",
        birth=date(1950, 1, 2),
        address="示范路2号",
        id_number="11010519491231002X",
        authority="示范县公安局",
        valid_from=date(2010, 1, 1),
        valid_to=None,
    )
    rc, out = onewindow("test", "idcard", "--port", port)
    assert rc == 0
    assert "110105********002X" in out or "110105" in out and "002X" in out
    assert "11010519491231002X" not in out and "欧阳小锋" not in out and "示范路2号" not in out


def test_idcard_test_on_a_hostile_card_prints_no_escape_and_names_an_odd_field(rig):
    sim = IdCardSimulator()
    port = rig(sim, "ttyID")
    sim.insert(name="\x1b]0;pw\x07欧\u202e阳\x1b[J锋")  # a window title, RLO, erase
    rc, out = onewindow("test", "idcard", "--port", port)
    assert rc == 0 and "欧*锋" in out
    assert "\x1b" not in out and "\u202e" not in out and "0;pw" not in out
    sim.insert(birth="\u0661\u0669\u0669\u06600307")  # Arabic-Indic digits
    rc, out = onewindow("test", "idcard", "--port", port)
    assert (
        rc == 1
        and "无法读取此身份证信息" in out
        and "card field birth is not a date of 8 ASCII digits" in out
    )
    assert "Traceback" not in out


def test_keypad_and_led_tests_reach_the_device(rig):
    pads = KeypadBusSimulator(addresses=(2,))
    port = rig(pads, "ttyKEY")
    rc, out = onewindow("test", "keypad", "--port", port, "--addr", "2", "--seconds", "0.5")
    assert rc == 0 and pads.pads[2].shown == "888888" and pads.pads[2].beeps == 1
    leds = LedLineSimulator(addresses=(1,))
    port = rig(leds, "ttyLED")
    rc, out = onewindow("test", "led", "--port", port)
    assert rc == 0 and leds.strips[1].text == "请A001号到1号窗口"
    rc, out = onewindow("test", "led", "--port", "/dev/nonexistent-tty")
    assert rc == 1 and "LED" in out and "Traceback" not in out


def test_a_device_bound_to_a_window_the_hall_lacks_is_refused(tmp_path):
    hall = str(REPO / "config" / "hall.toml")
    rc, out = onewindow(
        "add",
        "caller-99",
        "--role",
        "caller",
        "--window",
        "99",
        "--data-dir",
        str(tmp_path),
        "--config",
        hall,
    )
    assert rc == 2 and "no window 99" in out and "Traceback" not in out
    assert not (tmp_path / "devices.json").exists()
    rc, out = onewindow(
        "add",
        "caller-3",
        "--role",
        "caller",
        "--window",
        "3",
        "--data-dir",
        str(tmp_path),
        "--config",
        hall,
    )
    assert rc == 0 and "secret:" in out
