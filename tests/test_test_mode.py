"""Commissioning out of hours: `onewindow hall --test-mode` opens the hall around the clock (staff still
open their windows), marks every screen
and ticket 测试/TEST, and its tickets are gone, counted nowhere, once the hall starts for real."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest

from busutil import REPO, free_port, hall_command, wait_for
from ctlutil import MONDAY_10, Clock
from drivers.printer_sim import PrinterSimulator
from drivers.ptysim import PtyDevice
from kivyutil import App, Screen, shots_dir
from onewindow.bus.client import BusError, DeviceClient
from onewindow.bus.devices import DeviceRegistry
from onewindow.hallwords import opening_words
from onewindow.startup import open_hall
from onewindow.store import Store

MARK = "【测试 TEST】"
# the shipped hall, closed at night and on Sunday afternoons: test mode must not care
CONFIG = REPO / "config" / "hall.toml"


class HallProcess:
    def __init__(self, data, *extra):
        self.port = free_port()
        self.proc = subprocess.Popen(
            hall_command(
                str(CONFIG), str(data), "--mqtt", f"embedded://127.0.0.1:{self.port}", *extra
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(self.proc.stdout), daemon=True
        )
        self.reader.start()
        self.banner = wait_for(
            lambda: (
                next((ln for ln in self.lines if "OneWindow hall" in ln), None)
                or self.proc.poll() is not None
            ),
            30,
        )
        assert "OneWindow hall demo-county" in str(self.banner), self.lines

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(20)
        self.reader.join(5)
        self.proc.stdout.close()
        assert code == 0, self.lines


@pytest.fixture
def devices(tmp_path):
    reg = DeviceRegistry(tmp_path / "data")
    return {
        d: reg.add(d, role, windows)
        for d, role, windows in (
            ("kiosk-1", "kiosk", []),
            ("display-1", "display", []),
            ("caller-3", "caller", [3]),
        )
    }


def test_test_mode_marks_every_screen_and_ticket_and_leaves_nothing_behind(tmp_path, devices):
    data = tmp_path / "data"
    hall = HallProcess(data, "--test-mode")
    assert "TEST MODE" in hall.banner
    screen, kiosk_screen = Screen(1920, 1080), Screen(1080, 1920)  # taps reach the kiosk alone
    printer = PrinterSimulator()
    printer_pty = PtyDevice(printer, tmp_path / "printer")

    def app(name, *args, on=screen):
        return App(
            on,
            [
                name,
                "--mqtt",
                hall.url,
                "--device",
                f"{name}-{'3' if name == 'caller' else '1'}",
                "--secret",
                devices[f"{name}-{'3' if name == 'caller' else '1'}"],
                "--hall",
                "demo-county",
                *args,
            ],
            tmp_path,
            name,
        )

    apps = [
        app("display", "--voice", "none", "--size", "960x540"),
        app("caller", "--window", "3", "--size", "960x540"),
        app("kiosk", "--printer", str(tmp_path / "printer"), on=kiosk_screen),
    ]
    display, caller, kiosk = apps
    try:
        kiosk.wait_screen("home", timeout=40)
        for a, label in ((kiosk, "hall_name"), (display, "hall_name"), (caller, "window_title")):
            a.wait_text(label, lambda t: t.startswith(MARK), timeout=20)
        # any hour, any day: every window opens, a number can be taken
        kiosk.tap("tile-A")
        kiosk.wait_screen("confirm")
        kiosk.tap("take")
        kiosk.wait_screen("ticket")
        number = kiosk.text("ticket_number")
        job = printer.wait_jobs(1, 10)[0]
        assert number.encode() in job and "测试号票 TEST".encode("gb18030") in job
        with DeviceClient(hall.url, "caller-3", devices["caller-3"], "demo-county") as c3:
            c3.start(wait=10)
            c3.request("window.open", {"window": 3})
            called = c3.request("window.call_next", {"window": 3})["ticket"]
            test_ticket = called["id"]
            assert called["number"] == number and called["test"] is True
            display.wait_text("call_ticket", lambda t: t == number, timeout=10)
            time.sleep(0.5)
            screen.screenshot(shots_dir() / "test-mode-display-caller.png")
            kiosk_screen.screenshot(shots_dir() / "test-mode-kiosk.png")
    finally:
        for a in apps:
            a.stop()
        screen.close()
        kiosk_screen.close()
        printer_pty.close()
        hall.stop()

    # the hall for real: the test tickets are gone and numbering is the hall's own
    hall = HallProcess(data)
    try:
        assert "TEST MODE" not in hall.banner
        assert not list(data.glob("hall-test.db*"))
        with DeviceClient(hall.url, "kiosk-1", devices["kiosk-1"], "demo-county") as kiosk:
            kiosk.start(wait=10)
            wait_for(lambda: kiosk.state["hall"], 10)
            assert kiosk.state["hall"]["test_mode"] is False
            try:
                kiosk.request("ticket.issue", {"service": "A"})
            except BusError as exc:
                assert exc.code == "closed"  # the real hours apply again
    finally:
        hall.stop()
    store = Store(data / "hall.db")
    try:
        assert store.ticket(test_ticket) is None  # counted nowhere
        assert not [t for t in store.tickets() if t.window == 3]
        assert not [
            r
            for r in store.audit_rows()
            if r["action"] in ("issue", "call") and r["device"] != "kiosk-1"
        ]
    finally:
        store.close()


def test_the_help_says_what_test_mode_does_and_every_demo_option_is_explained():
    from onewindow.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    hall_help = " ".join(sub["hall"].format_help().split())
    assert "staff still open their windows" in hall_help and "every window open" not in hall_help
    demo = sub["demo"]
    unexplained = [a.option_strings for a in demo._actions if a.option_strings and not a.help]
    assert unexplained == []


@pytest.mark.parametrize("hour", [0, 10, 23])
def test_open_around_the_clock_publishes_no_next_opening(tmp_path, hour):
    """Test mode opens the hall 00:00-24:00 every day: it never opens "明天 00:00", it never
    closed. The hall state says no next opening, and no sentence for it; a real hall's does."""
    clock = Clock(MONDAY_10.replace(hour=hour))
    ctl = open_hall(CONFIG, tmp_path / "data", clock=clock, test_mode=True)
    try:
        hall = ctl.views.hall()
    finally:
        ctl.store.close()
    assert hall["open"] is True
    assert hall["next_opening"] is None and hall["next_opening_in_days"] is None
    assert hall["next_opening_text"] == "" and hall["next_opening_text_en"] == ""
    assert all(opening_words(hall, lang) == "" for lang in ("zh", "en", "bo"))
    real = open_hall(CONFIG, tmp_path / "real", clock=Clock(MONDAY_10))
    try:
        hall = real.views.hall()  # open at 10:00, again at 13:30 after the lunch break
    finally:
        real.store.close()
    assert hall["open"] is True and hall["next_opening_text"] == "今天 13:30"
