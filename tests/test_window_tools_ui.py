"""Issue 14's window tools end to end: the real kiosk and caller under Xvfb, touched through X,
against a real hall: a declared veteran (绿色通道) confirmed at the window."""
from __future__ import annotations

import time

import pytest

from busutil import Hall, unlimited_config, wait_for
from kivyutil import App, Screen, shots_dir
from kioskutil import kiosk_args, target_text

IMG = shots_dir()


@pytest.fixture
def rig(tmp_path):
    (tmp_path / "cfg").mkdir()
    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path / "cfg"))
    hall.add("kiosk-1", "kiosk")
    hall.add("caller-1", "caller", [1])
    hall.start()
    kiosk_screen, caller_screen = Screen(1080, 1920), Screen(1024, 600)
    kiosk = App(kiosk_screen, kiosk_args(hall, "--simulate", "--preview-dir",
                                         str(tmp_path / "previews")), tmp_path, "kiosk")
    caller = App(caller_screen, ["caller", "--mqtt", hall.url, "--hall", hall.hall_id,
                                 "--device", "caller-1", f"--secret={hall.secrets['caller-1']}",
                                 "--window", "1"], tmp_path, "caller")
    kiosk.wait_screen("home", timeout=30)
    caller.wait_screen("main", timeout=30)
    yield hall, kiosk, kiosk_screen, caller, caller_screen
    caller.stop()
    kiosk.stop()
    caller_screen.close()
    kiosk_screen.close()
    hall.close()


def shot(screen: Screen, name: str) -> None:
    time.sleep(0.4)          # the frame after the last change reaches the X server
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
    assert (row["priority"], row["declared"], row["priority_check"]) == ("veteran", "veteran", "declared")

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
    assert vet in target_text(caller, "priority_text") and "军人" in target_text(caller, "priority_text")
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
    kpis = hall.client("caller-1").request("report.kpis", {"group": "window", "window": 1})["rows"][0]
    assert kpis["green"]["veteran"] == 1 and kpis["green_confirmed"] == 1
