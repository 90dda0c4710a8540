"""The hall's configuration by touch on the manager console, under Xvfb with real X clicks and
Chinese typed as pinyin through fcitx5 (the desktop's standard input method):
a service added to window 2, window 3 renamed, the lunch break moved, a 调休 day added. Every
device sees each change (a kiosk on the bus), and each survives a restart of the controller.
Then the monthly PDF exported from the console: the hall's name, every window, an embedded
Chinese font."""

from __future__ import annotations

import calendar
import subprocess
import time
from datetime import date

import pytest

from busutil import REPO, Hall, wait_for
from kivyutil import App, Screen, shots_dir
from managerutil import PIN, start_console, unlock
from onewindow.managerpin import set_pin
from onewindow.startup import open_hall

DOCS_IMG = shots_dir()


@pytest.fixture
def hall(tmp_path):
    # the shipped hall as it is: weekday hours with a lunch break, closed and 调休 days
    h = Hall(tmp_path, "embedded", config=REPO / "config" / "hall.toml")
    h.add("kiosk-1", "kiosk")
    h.add("manager-1", "manager")
    set_pin(h.data_dir, PIN)
    h.start()
    h.tmp = tmp_path
    yield h
    h.close()


def console(hall, screen, name="manager") -> App:
    app = start_console(hall, screen, hall.tmp, name)
    unlock(app)
    return app


def show(app: App, tab: str) -> None:
    app.tap(f"tab-{tab}")
    app.wait_screen(tab)
    time.sleep(0.7)


def replace_text(app: App, test_id: str, text: str) -> None:
    """Touch a field, select what it holds (ctrl+a) and type over it."""
    app.tap(test_id)
    time.sleep(0.2)
    subprocess.run(
        ["xdotool", "key", "ctrl+a", "BackSpace"], env=app.screen.env(), check=True, timeout=10
    )
    app.screen.type_text(text)


def a_saturday_this_month(hours_extra) -> date:
    today = date.today()
    for week in calendar.monthcalendar(today.year, today.month):
        day = week[5] and date(today.year, today.month, week[5])
        if day and day.isoformat() not in hours_extra:
            return day
    raise AssertionError("no free Saturday")


def test_services_windows_hours_by_touch_seen_everywhere_and_kept(hall):
    screen = Screen(1280, 800)
    kiosk = hall.client("kiosk-1")
    app = None
    try:
        screen.start_input_method(hall.tmp)  # fcitx5 + pinyin, as on the hall's console
        app = console(hall, screen)
        # a service added, to window 2 (a comprehensive window) and to window 4 (户籍)
        show(app, "services")
        app.tap("svc-add")
        app.wait_target("form-code")
        time.sleep(0.5)
        app.type_into("form-code", "R")
        app.type_pinyin("form-name", ["canjirenzheng", "banli"], "残疾人证办理")
        app.type_pinyin("form-department", ["canlian"], "残联")
        assert app.text("form-quota") == "不限"
        app.tap("form-quota-plus")  # off while 不限: nothing jumps to 10
        time.sleep(0.3)
        assert app.text("form-quota") == "不限"
        app.tap("form-win-2")
        app.tap("form-win-4")
        screen.screenshot(DOCS_IMG / "manager-service-form.png")
        app.tap("form-save")
        wait_for(lambda: hall.ctl.hall.service("R") is not None, 10)
        r = hall.ctl.hall.service("R")
        assert (r.name, r.department, r.daily_quota) == ("残疾人证办理", "残联", 0)
        assert hall.ctl.hall.window(4).services == ("A", "B", "R")
        wait_for(lambda: "R" in (kiosk.state["windows"].get(2) or {}).get("services", []), 10)
        assert any(
            s["code"] == "R" and s["name"] == "残疾人证办理"
            for s in kiosk.request("config.get")["services"]
        )
        at = app.wait_target("svc-A-name")  # the list scrolled to its end by the wheel
        for _ in range(3):
            subprocess.run(
                ["xdotool", "mousemove", str(at["x"]), str(at["y"]), "click", "--repeat", "8", "5"],
                env=screen.env(),
                check=True,
                timeout=10,
            )
        wait_for(lambda: app.text("svc-R-name") == "R 残疾人证办理", 10)
        assert app.text("svc-R-quota") == "不限"
        screen.screenshot(DOCS_IMG / "manager-services-list.png")

        # window 3 renamed
        show(app, "windows")
        app.tap("win-3-edit")
        wait_for(lambda: "3号综合窗口" in app.text("win-panel-title"), 5)
        app.type_pinyin("win-name", ["canjiren", "fuwu", "chuangkou"], "残疾人服务窗口")
        app.tap("win-save")
        wait_for(lambda: hall.ctl.hall.window(3).name == "残疾人服务窗口", 10)
        wait_for(lambda: (kiosk.state["windows"].get(3) or {}).get("name") == "残疾人服务窗口", 10)
        wait_for(lambda: app.text("win-3-name") == "残疾人服务窗口", 10)
        screen.screenshot(DOCS_IMG / "manager-windows-edit.png")

        # the lunch break: 12:00-13:30 becomes 12:00-13:00
        show(app, "hall")
        wait_for(lambda: app.text("lunch-end") == "13:30", 10)
        app.tap("lunch-end-minus")
        app.tap("lunch-end-minus")
        wait_for(lambda: app.text("lunch-end") == "13:00", 5)
        app.tap("lunch-save")
        wait_for(lambda: hall.ctl.raw["hours"]["mon"] == ["08:30-12:00", "13:00-17:30"], 10)
        wait_for(
            lambda: (
                kiosk.request("config.get")["hall"]["hours"]["tue"]
                == ["08:30-12:00", "13:00-17:30"]
            ),
            10,
        )

        # a 调休 working day on a Saturday of this month, on the calendar
        saturday = a_saturday_this_month(hall.ctl.raw["hours"].get("extra_days", {}))
        app.tap(f"day-{saturday.isoformat()}")
        wait_for(lambda: saturday.isoformat() in app.text("cal-picked"), 5)
        app.tap("day-extra")
        wait_for(lambda: saturday in hall.ctl.hall.hours.extra_days, 10)
        wait_for(lambda: app.text(f"day-{saturday.isoformat()}") == f"{saturday.day}班", 10)
        assert saturday.isoformat() in kiosk.request("config.get")["hall"]["hours"]["extra_days"]
        time.sleep(0.5)
        screen.screenshot(DOCS_IMG / "manager-hall.png")
        # the monthly 晒成绩单 exported from the console into a chosen folder (a USB stick's)
        folder = hall.tmp / "usb"
        replace_text(app, "report-dir", str(folder))
        app.tap("report-month")
        month = hall.ctl.day.isoformat()[:7]
        pdf = folder / f"report-{month}.pdf"
        assert (
            app.wait_text("message", lambda m: "已导出" in m or "失败" in m, 30) and pdf.exists()
        ), (app.text("message"), app.text("report-dir"))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert "示范县政务服务中心 晒成绩单（月报）" in text
        for w in hall.ctl.hall.windows:
            assert w.name in text, w.name  # every window's row, 残疾人服务窗口 too
        fonts = subprocess.run(
            ["pdffonts", str(pdf)], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        assert any("WenQuanYi" in line and " yes yes " in line for line in fonts.splitlines()), (
            fonts
        )
        actions = {
            row["action"] for row in hall.ctl.store.audit_rows() if row["device"] == "manager-1"
        }
        assert {"config_service_add", "config_window", "config_lunch", "config_day"} <= actions
    finally:
        if app:
            app.stop()
        screen.close()

    # the controller restarts on the same hall file: every change is still there
    hall.close()
    ctl = open_hall(hall.config, hall.data_dir)
    try:
        assert ctl.hall.service("R").name == "残疾人证办理"
        assert ctl.hall.window(4).services == ("A", "B", "R")
        assert ctl.hall.window(3).name == "残疾人服务窗口"
        assert ctl.raw["hours"]["fri"] == ["08:30-12:00", "13:00-17:30"]
        assert saturday in ctl.hall.hours.extra_days
    finally:
        ctl.store.close()
