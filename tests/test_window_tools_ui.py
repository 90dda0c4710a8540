"""Issue 14's window tools end to end: the real kiosk and caller under Xvfb, touched through X,
against a real hall: a declared veteran (绿色通道) confirmed at the window, and a 容缺 case from
finish (the 告知单 printed on the window's printer) to the citizen's 补件 check-in by ID card."""

from __future__ import annotations

import json
import time

import pytest
from kioskutil import device_args, kiosk_args, target_text

from busutil import Hall, unlimited_config, wait_for
from drivers.escpos_render import render
from drivers.printer_sim import PrinterSimulator
from drivers.ptysim import PtyDevice
from kivyutil import App, Screen, shots_dir

IMG = shots_dir()


@pytest.fixture
def rig(tmp_path):
    (tmp_path / "cfg").mkdir()
    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path / "cfg"))
    hall.add("kiosk-1", "kiosk")
    hall.add("caller-1", "caller", [1])
    hall.start()
    kiosk_screen, caller_screen = Screen(1080, 1920), Screen(1024, 600)
    printer = PrinterSimulator()  # the window's receipt printer
    printer_pty = PtyDevice(printer, tmp_path / "window-printer")
    kiosk = App(
        kiosk_screen,
        kiosk_args(hall, "--simulate", "--preview-dir", str(tmp_path / "previews")),
        tmp_path,
        "kiosk",
    )
    caller = App(
        caller_screen,
        device_args(
            hall,
            "caller",
            "caller-1",
            "--window",
            "1",
            "--printer",
            str(tmp_path / "window-printer"),
        ),
        tmp_path,
        "caller",
    )
    hall.printer = printer
    kiosk.wait_screen("home", timeout=30)
    caller.wait_screen("main", timeout=30)
    yield hall, kiosk, kiosk_screen, caller, caller_screen
    caller.stop()
    kiosk.stop()
    caller_screen.close()
    kiosk_screen.close()
    printer_pty.close()
    hall.close()


def shot(screen: Screen, name: str) -> None:
    time.sleep(0.4)  # the frame after the last change reaches the X server
    screen.screenshot(IMG / f"{name}.png")


def ticket_row(hall, number: str) -> dict:
    return hall.ctl.store.rows("tickets", "number = ?", (number,))[0]


def test_a_declared_veteran_goes_first_and_is_confirmed_at_the_window(rig):
    hall, kiosk, kiosk_screen, caller, caller_screen = rig
    # someone takes an ordinary number first
    kiosk.tap("tile-A")
    kiosk.wait_screen("confirm")
    kiosk.tap("take")
    kiosk.wait_screen("ticket")
    first = target_text(kiosk, "ticket_number")
    kiosk.tap("done")
    kiosk.wait_screen("home")
    # then a veteran, who says so on the confirm screen
    kiosk.tap("tile-A")
    kiosk.wait_screen("confirm")
    kiosk.tap("declare_veteran")
    kiosk.wait_text("confirm_declared", lambda t: "军人" in t and "出示证件" in t)
    shot(kiosk_screen, "kiosk-confirm-green")
    kiosk.tap("take")
    kiosk.wait_screen("ticket")
    vet = target_text(kiosk, "ticket_number")
    marks = kiosk.wait_text("ticket_marks", lambda t: "军人优先" in t)
    assert "自报" in marks
    shot(kiosk_screen, "kiosk-ticket-green")
    row = ticket_row(hall, vet)
    assert (row["priority"], row["declared"], row["priority_check"]) == (
        "veteran",
        "veteran",
        "declared",
    )

    # the window calls the veteran first (priority lane) and checks the certificate
    caller.tap("open_close")
    wait_for(lambda: hall.ctl.windows[1].status.value == "open", 10)
    caller.tap("call_next")
    caller.wait_text("ticket_number", lambda t: t == vet, timeout=10)
    caller.wait_text("ticket_details", lambda t: "军人优先（自报，待核验）" in t)
    caller.wait_target("check_priority")
    shot(caller_screen, "caller-green-declared")
    caller.tap("check_priority")
    caller.wait_screen("priority")
    assert vet in target_text(caller, "priority_text") and "军人" in target_text(
        caller, "priority_text"
    )
    caller.tap("priority_confirm")
    wait_for(lambda: ticket_row(hall, vet)["priority_check"] == "confirmed", 10)
    caller.wait_screen("main")
    caller.wait_text("ticket_details", lambda t: "军人优先（已核验）" in t)
    caller.wait_text("status_line", lambda t: "优先已确认" in t)
    audit = [r for r in hall.ctl.store.audit_rows() if r["action"] == "priority_confirm"]
    assert [(r["device"], r["window"]) for r in audit] == [("caller-1", 1)]
    # the ordinary ticket comes next
    caller.tap("start")
    caller.wait_text("status_line", lambda t: "开始办理" in t)
    caller.tap("call_next")
    caller.wait_text("ticket_number", lambda t: t == first, timeout=10)
    kpis = hall.client("caller-1").request("report.kpis", {"group": "window", "window": 1})["rows"][
        0
    ]
    assert kpis["green"]["veteran"] == 1 and kpis["green_confirmed"] == 1


def test_a_missing_material_case_from_finish_to_the_citizens_return(rig):
    hall, kiosk, kiosk_screen, caller, caller_screen = rig
    # a citizen identified by card takes an A number (户籍: its 容缺 list has the photo)
    kiosk.tap("sample_card")
    wait_for(lambda: "张*三" in target_text(kiosk, "citizen"), 10)
    kiosk.tap("tile-A")
    kiosk.wait_screen("confirm")
    kiosk.tap("take")
    kiosk.wait_screen("ticket")
    number = target_text(kiosk, "ticket_number")
    kiosk.tap("done")
    kiosk.wait_screen("home")

    caller.tap("open_close")
    wait_for(lambda: hall.ctl.windows[1].status.value == "open", 10)
    caller.tap("call_next")
    caller.wait_text("ticket_number", lambda t: t == number, timeout=10)
    caller.tap("start")
    caller.wait_text("status_line", lambda t: "开始办理" in t)
    caller.tap("finish")
    caller.wait_screen("confirm")
    caller.tap("finish_missing")  # 容缺受理…
    caller.wait_screen("missing")
    assert number in target_text(caller, "missing_title")
    assert target_text(caller, "missing_0") == "近期免冠照片"
    caller.tap("missing_0")
    shot(caller_screen, "caller-missing")
    caller.tap("missing_ok")
    wait_for(lambda: hall.ctl.store.rows("cases"), 10)
    case = hall.ctl.store.rows("cases")[0]
    assert json.loads(case["materials"]) == ["近期免冠照片"] and case["window"] == 1
    caller.wait_text("status_line", lambda t: "告知单已打印" in t and case["due"] in t, timeout=15)
    notice = hall.printer.wait_jobs(1, 10)[-1]
    assert "容缺受理告知单".encode("gb18030") in notice
    assert f"请于 {case['due']} 前补齐".encode("gb18030") in notice
    render(notice).save(IMG / "missing-notice.png")
    assert ticket_row(hall, number)["status"] == "done"

    # later the citizen is back: the card on the kiosk finds the case, one touch checks in
    time.sleep(4.5)  # the sample card has left the reader
    kiosk.tap("sample_card")
    label = kiosk.wait_text("checkin_case", lambda t: "补件签到" in t and number in t, timeout=10)
    assert "近期免冠照片" in label
    shot(kiosk_screen, "kiosk-home-case")
    kiosk.tap("checkin_case")
    kiosk.wait_screen("ticket")
    back = target_text(kiosk, "ticket_number")
    kiosk.wait_text("ticket_marks", lambda t: "补件" in t)
    shot(kiosk_screen, "kiosk-ticket-supplement")
    assert hall.ctl.store.rows("cases")[0]["status"] == "returned"
    # straight to window 1's queue, ahead of an ordinary number taken before it
    caller.tap("call_next")
    caller.wait_text("ticket_number", lambda t: t == back, timeout=10)
    caller.wait_text("ticket_details", lambda t: "补件" in t)
    shot(caller_screen, "caller-supplement")
