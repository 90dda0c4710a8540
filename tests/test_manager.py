"""The manager console under Xvfb against a real hall, driven by touches: PIN, live waiting counts,
window control, service assignment, alerts, session timeout."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from busutil import REPO, Hall, wait_for
from drivers.printer_sim import PrinterSimulator
from drivers.ptysim import PtyDevice
from kivyutil import (
    App,
    Screen,
    shots_dir,  # noqa: E402
)
from managerutil import PIN, device_config, enter_pin
from onewindow.demo import always_open_copy
from onewindow.managerpin import set_pin

DOCS_IMG = shots_dir()


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("manager")
    (tmp / "cfg").mkdir()
    h = Hall(tmp, "embedded", config=always_open_copy(REPO / "config" / "hall.toml", tmp / "cfg"))
    h.add("kiosk-1", "kiosk")
    h.add("manager-1", "manager")
    h.add("caller-3", "caller", [3])
    h.add("caller-5", "caller", [5])
    h.add("rating-3", "rating", [3])
    set_pin(h.data_dir, PIN)  # as `onewindow pin set` does on the controller
    h.start()
    h.tmp = tmp
    yield h
    h.close()


@pytest.fixture(scope="module")
def screen():
    s = Screen(1280, 800)
    yield s
    s.close()


def show(app: App, tab: str) -> None:
    """Touch a tab and let its layout settle before reading where things are."""
    app.tap(f"tab-{tab}")
    app.wait_screen(tab)
    time.sleep(0.7)


text_of = App.text


def test_console_end_to_end(hall, screen):
    tmp = hall.tmp
    printer = PrinterSimulator()
    printer_pty = PtyDevice(printer, tmp / "desk-printer")
    app = App(
        screen,
        [
            "manager",
            "--device-config",
            device_config(hall, tmp / "m.json"),
            "--session-min",
            "2",
            "--printer",
            str(tmp / "desk-printer"),
        ],
        tmp,
        "manager",
    )
    try:
        app.wait_screen("pin")
        wait_for(lambda: "示范县" in text_of(app, "pin-title"), 10)
        screen.screenshot(DOCS_IMG / "manager-pin.png")
        enter_pin(app, "1111")
        wait_for(lambda: text_of(app, "pin-message") == "密码不正确，还可再试 4 次", 5)
        assert app.targets()["screen"] == "pin"
        enter_pin(app, PIN)
        app.wait_screen("dashboard")

        # a kiosk issues numbers: the dashboard counts them live
        kiosk = hall.client("kiosk-1")
        for _ in range(4):
            kiosk.request("ticket.issue", {"service": "A"})
        kiosk.request("ticket.issue", {"service": "F"})
        caller = hall.client("caller-3")  # window 3 serves A001
        caller.request("window.open", {"window": 3})
        caller.request("window.call_next", {"window": 3})
        caller.request("window.finish", {"window": 3})
        bad = hall.client("rating-3").request(
            "rating.submit", {"window": 3, "level": 2, "reasons": ["等候太久"]}
        )["rating"]
        wait_for(lambda: "等候 3 人" in text_of(app, "wait-A"), 10)
        assert "等候 1 人" in text_of(app, "wait-F")
        wait_for(lambda: "全厅等候 4 人" in text_of(app, "waiting-total"), 5)
        wait_for(lambda: "A002" in text_of(app, "longest"), 10)
        assert text_of(app, "count-idle") == "空闲 1" and text_of(app, "count-closed") == "关闭 12"

        # 帮办: a kiosk asks for help; the alert shows, a touch clears it on the controller
        kiosk.request("help.request", {"place": "1号取号机"})
        key = "help:kiosk-1"
        wait_for(lambda: "帮办" in text_of(app, f"alert-{key}"), 10)
        wait_for(lambda: "取号 5  办结 1" in text_of(app, "kpi-hall"), 10)
        screen.screenshot(DOCS_IMG / "manager-dashboard.png")
        app.tap(f"clear-{key}")
        wait_for(lambda: key not in hall.ctl.alerts, 10)
        wait_for(lambda: f"alert-{key}" not in app.targets().get("targets", {}), 10)

        # 容缺受理 at window 5: the dashboard lists the open case until the citizen returns
        c5 = hall.client("caller-5")
        kiosk.request(
            "ticket.issue",
            {"service": "B", "citizen": {"id_number": "11010519491231002X", "name": "张三丰"}},
        )
        c5.request("window.open", {"window": 5})
        c5.request("window.call_next", {"window": 5})
        case = c5.request("window.finish", {"window": 5, "missing": ["原居民身份证（换领时）"]})[
            "case"
        ]
        wait_for(lambda: text_of(app, "cases").startswith("容缺受理待补件 1 件，逾期 0 件"), 10)
        assert case["due"] > case["accepted_at"][:10]

        # windows: open and pause window 2 by touch
        show(app, "windows")
        app.tap("win-2-open")
        wait_for(lambda: hall.ctl.windows[2].status.value == "open", 10)
        wait_for(lambda: text_of(app, "win-2-status") == "空闲", 10)
        app.tap("win-2-pause")
        wait_for(lambda: hall.ctl.windows[2].status.value == "paused", 10)
        wait_for(lambda: text_of(app, "win-2-status").startswith("暂停"), 10)
        assert any(
            r["action"] == "pause" and r["device"] == "manager-1"
            for r in hall.ctl.store.audit_rows()
        )
        # 挂起 at window 3: the console names whom it keeps
        caller.request("window.call_next", {"window": 3})
        caller.request("window.hold", {"window": 3})
        wait_for(lambda: text_of(app, "win-3-status") == "空闲 · 挂起 A002", 10)
        caller.request("window.resume_held", {"window": 3})
        wait_for(lambda: text_of(app, "win-3-status") == "办理中 A002", 10)

        # assign social insurance (C) to window 4 (户籍: A, B) by touch
        app.tap("win-4-edit")
        wait_for(lambda: "4号户籍窗口" in text_of(app, "win-panel-title"), 5)
        app.tap("svc-C")
        app.tap("services-save")
        wait_for(lambda: hall.ctl.hall.window(4).services == ("A", "B", "C"), 10)
        wait_for(lambda: "C" in (kiosk.state["windows"].get(4) or {}).get("services", []), 10)
        screen.screenshot(DOCS_IMG / "manager-windows.png")

        # tickets: find A002 by number and cancel it
        show(app, "tickets")
        for key_ in ("A", "0", "0", "3"):
            app.tap(f"key-{key_}")
        app.tap("find-go")
        wait_for(
            lambda: (
                "A003" in text_of(app, "ticket-info") and "等候中" in text_of(app, "ticket-info")
            ),
            10,
        )
        screen.screenshot(DOCS_IMG / "manager-tickets.png")
        app.tap("ticket-reprint")  # on the duty desk's printer, audited
        assert b"A003" in printer.wait_jobs(1, 10)[0]
        wait_for(lambda: any(r["action"] == "reprint" for r in hall.ctl.store.audit_rows()), 10)
        app.tap("ticket-cancel")
        wait_for(
            lambda: any(
                t.number == "A003" and t.status.value == "cancelled"
                for t in hall.ctl.store.tickets()
            ),
            10,
        )

        # services: quota + and the notice
        show(app, "services")
        before = hall.ctl.hall.service("A").daily_quota
        app.tap("svc-A-quota-plus")
        wait_for(lambda: hall.ctl.hall.service("A").daily_quota == before + 10, 10)
        wait_for(lambda: text_of(app, "svc-A-quota") == str(before + 10), 10)
        screen.screenshot(DOCS_IMG / "manager-services.png")

        show(app, "ratings")
        row = app.wait_target(f"rating-{bad['id']}")
        assert "不满意" in row["text"] and "等候太久" in row["text"] and "待处理" in row["text"]
        app.tap(f"case-{bad['id']}")
        wait_for(lambda: "等候太久" in text_of(app, "case-detail"), 10)
        app.type_into("case-note", "已电话联系，致歉并说明整改安排")
        screen.screenshot(DOCS_IMG / "manager-ratings.png")
        app.tap("case-contact")
        wait_for(
            lambda: (
                hall.ctl.store.rows("ratings", "id = ?", (bad["id"],))[0]["follow_status"]
                == "rectifying"
            ),
            10,
        )
        wait_for(lambda: "整改中" in text_of(app, f"rating-{bad['id']}"), 10)

        app.tap("lock")
        app.wait_screen("pin")
        assert PIN not in app.read_log()
    finally:
        app.stop()
        printer_pty.close()


def test_pin_changed_by_command_and_session_timeout(hall, screen):
    tmp = hall.tmp
    app = App(
        screen,
        [
            "manager",
            "--device-config",
            device_config(hall, tmp / "m2.json"),
            "--session-min",
            "0.05",
        ],
        tmp,
        "manager-timeout",
    )
    try:
        app.wait_screen("pin")
        # the PIN changed on the controller while the hall runs: every console takes the new one
        changed = subprocess.run(
            [
                sys.executable,
                "-m",
                "onewindow.cli",
                "pin",
                "set",
                "--data-dir",
                str(hall.data_dir),
                "--stdin",
            ],
            input="97531\n",
            text=True,
            capture_output=True,
            timeout=30,
            cwd=REPO,
        )
        assert changed.returncode == 0, changed.stderr
        enter_pin(app, PIN)
        wait_for(lambda: text_of(app, "pin-message").startswith("密码不正确"), 5)
        enter_pin(app, "97531")
        app.wait_screen("dashboard")
        app.wait_screen("pin", timeout=10)  # 3 s without a touch
        assert "自动锁定" in text_of(app, "pin-message")
    finally:
        app.stop()
        set_pin(hall.data_dir, PIN)
