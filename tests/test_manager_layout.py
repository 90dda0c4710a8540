"""The manager console fits the demo's small window (610x520) and a 1920x1080 touch screen:
every tab is shown at both sizes, screenshots taken, and no label or button text is cut off
(the app reports any text that does not fit its widget: onewindow/uikit.py clipped_labels)."""

from __future__ import annotations

import time

import pytest

from busutil import REPO, Hall, wait_for
from kivyutil import Screen, shots_dir
from managerutil import PIN, enter_pin, start_console
from onewindow.demo import always_open_copy
from onewindow.managerpin import set_pin

DOCS_IMG = shots_dir()
TABS = ("dashboard", "windows", "services", "tickets", "ratings", "plan", "hall")


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layout")
    (tmp / "cfg").mkdir()
    h = Hall(tmp, "embedded", config=always_open_copy(REPO / "config" / "hall.toml", tmp / "cfg"))
    h.add("kiosk-1", "kiosk")
    h.add("caller-4", "caller", [4])
    h.add("manager-1", "manager")
    set_pin(h.data_dir, PIN)
    h.start()
    kiosk, caller = h.client("kiosk-1"), h.client("caller-4")
    for code in "AAABCF":
        kiosk.request("ticket.issue", {"service": code})
    caller.request("window.open", {"window": 4, "staff": {"id": "S004", "name": "王五"}})
    caller.request("window.call_next", {"window": 4})
    caller.request("window.finish", {"window": 4})
    h.tmp = tmp
    yield h
    h.close()


@pytest.mark.parametrize("size", [(610, 520), (1920, 1080)], ids=["demo-610x520", "1920x1080"])
def test_every_tab_fits_without_cut_off_text(hall, size):
    w, h = size
    screen = Screen(w, h)
    app = start_console(hall, screen, hall.tmp, f"layout-{w}", ("--size", f"{w}x{h}"))
    try:
        app.wait_screen("pin")
        wait_for(lambda: "示范县" in app.text("pin-title"), 10)
        time.sleep(0.5)
        assert app.targets()["clipped"] == [], app.targets()["clipped"]
        screen.screenshot(DOCS_IMG / f"manager-pin-{w}x{h}.png")
        enter_pin(app)
        app.wait_screen("dashboard")
        wait_for(lambda: "示范县" in app.text("hall-name"), 10)
        problems = {}
        for tab in TABS:
            app.tap(f"tab-{tab}")
            app.wait_screen(tab)
            if tab == "windows":
                app.tap("win-4-edit")
                wait_for(lambda: "4号户籍窗口" in app.text("win-panel-title"), 5)
            if tab == "dashboard":
                wait_for(lambda: "取号 6" in app.text("kpi-hall"), 10)
            time.sleep(1.2)  # figures arrive, the layout settles
            screen.screenshot(DOCS_IMG / f"manager-{tab}-{w}x{h}.png")
            clipped = app.targets().get("clipped")
            if clipped:
                problems[tab] = clipped
        assert problems == {}, problems
    finally:
        app.stop()
        screen.close()
