"""The caller terminal as staff use it: a real hall, the real app under Xvfb, driven by touches."""

from __future__ import annotations

import pytest
from kioskutil import device_args

from busutil import wait_for
from kivyutil import App, Screen

WINDOW = 3
from kivyutil import shots_dir  # noqa: E402

IMG = shots_dir()


@pytest.fixture(params=["embedded"])
def hall(request, start_hall):
    """`mosquitto` where a test restarts the controller: the broker and its port stay."""
    return start_hall(
        request.param,
        ("kiosk-1", "kiosk"),
        ("caller-3", "caller", [WINDOW]),
        ("rating-3", "rating", [WINDOW]),
        ("keypad-3", "caller", [WINDOW]),
    )  # a second way to work the window


@pytest.fixture
def screen():
    s = Screen(1024, 600)
    yield s
    s.close()


@pytest.fixture
def caller(hall, screen, tmp_path):
    app = App(
        screen,
        device_args(hall, "caller", "caller-3", "--window", str(WINDOW)),
        tmp_path,
        "caller",
    )
    yield app
    app.stop()


text = App.text


def wait_text(app, test_id: str, pred, timeout: float = 10) -> str:
    return app.wait_text(test_id, pred, timeout)


def window(hall) -> dict:
    return hall.ctl.views.window(WINDOW)


def ticket_row(hall, ticket_id: str) -> dict:
    return hall.ctl.store.rows("tickets", "id = ?", (ticket_id,))[0]


def id_number(birth: str, seq: str = "123") -> str:
    """A valid GB 11643 number (county 110105), so the controller accepts it."""
    body = "110105" + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def done(app, phrase: str) -> None:
    """The app has the controller's answer (it ignores touches while a request is under way)."""
    wait_text(app, "status_line", lambda t: phrase in t)


def test_a_shift_at_the_window(hall, caller, screen):
    kiosk = hall.client("kiosk-1")
    first = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    caller.wait_screen("main")
    wait_text(caller, "window_title", lambda t: "3号" in t)
    # a closed window: open it with one touch
    wait_text(caller, "window_status", lambda t: t == "已关窗")
    caller.tap("open_close")
    wait_for(lambda: window(hall)["status"] == "open", 10)
    done(caller, "窗口已开启")
    wait_text(caller, "waiting_count", lambda t: t == "1 人")

    caller.tap("call_next")
    wait_for(lambda: window(hall)["serving"] == first["number"], 10)
    done(caller, f"已呼叫 {first['number']}")
    wait_text(caller, "ticket_number", lambda t: t == first["number"])
    wait_text(caller, "ticket_service", lambda t: t == "户籍业务")

    caller.tap("recall")
    wait_for(lambda: hall.ctl.queues.by_id[first["id"]].recalls == 1, 10)
    done(caller, "已重呼")
    wait_text(caller, "ticket_details", lambda t: "已重呼 1 次" in t)

    caller.tap("skip")  # 过号 asks first: it cannot be undone here
    caller.wait_screen("confirm")
    assert first["number"] in text(caller, "confirm_text")
    caller.tap("confirm_ok")
    wait_for(lambda: ticket_row(hall, first["id"])["status"] == "no_show", 10)
    caller.wait_screen("main")
    done(caller, "已记为过号")

    # an elder (priority from the ID card's birth date) and others waiting behind
    second = kiosk.request(
        "ticket.issue",
        {"service": "B", "citizen": {"id_number": id_number("19480312"), "name": "张三丰"}},
    )["ticket"]
    others = [kiosk.request("ticket.issue", {"service": s})["ticket"] for s in ("C", "D", "C")]
    caller.tap("call_next")
    wait_for(lambda: window(hall)["serving"] == second["number"], 10)
    done(caller, f"已呼叫 {second['number']}")
    wait_text(caller, "ticket_number", lambda t: t == second["number"])
    details = wait_text(caller, "ticket_details", lambda t: "老年人优先" in t)
    assert "张*丰" in details and "张三丰" not in details
    wait_text(caller, "kpi_no_show", lambda t: t == "1")
    wait_text(caller, "waiting_count", lambda t: t == "3 人")
    wait_text(caller, "queue_lines", lambda t: "社会保险参保登记   2 人" in t and "身份证" not in t)
    # the waiting list: who the next presses call, in that order
    order = "  ".join(t["number"] for t in others)
    wait_text(caller, "queue_lines", lambda t: f"接下来：{order}" in t)
    screen.screenshot(IMG / "caller-main.png")

    caller.tap("transfer")
    caller.wait_screen("transfer")
    caller.wait_target("transfer_window_4")
    assert "transfer_window_3" not in caller.targets()["targets"]
    screen.screenshot(IMG / "caller-transfer.png")
    caller.tap("transfer_window_4")
    wait_for(
        lambda: (
            ticket_row(hall, second["id"])["status"] == "waiting"
            and ticket_row(hall, second["id"])["target_window"] == 4
        ),
        10,
    )
    assert window(hall)["serving"] is None
    wait_for(lambda: hall.ctl.views.window(4)["waiting"] >= 1, 5)
    caller.wait_screen("main")
    done(caller, "4号")
    wait_text(caller, "ticket_number", lambda t: t == "暂无")

    caller.tap("pause")
    caller.wait_screen("pause")
    screen.screenshot(IMG / "caller-pause.png")
    caller.tap("pause_reason_0")
    wait_for(lambda: window(hall)["status"] == "paused" and window(hall)["reason"] == "午休", 10)
    done(caller, "窗口已暂停")
    wait_text(caller, "window_status", lambda t: "暂停" in t and "午休" in t)
    caller.tap("pause")  # the same button now resumes
    wait_for(lambda: window(hall)["status"] == "open", 10)
    done(caller, "恢复服务")

    third = others[0]
    caller.tap("call_next")
    done(caller, f"已呼叫 {third['number']}")
    # 'call next' again before starting: the staff say what happened to the one called
    caller.tap("call_next")
    caller.wait_screen("current_choice")
    assert third["number"] in text(caller, "current_choice_text")
    screen.screenshot(IMG / "caller-current-choice.png")
    caller.tap("current_cancel")  # changed their mind: nothing moved
    caller.wait_screen("main")
    assert ticket_row(hall, third["id"])["status"] == "called"
    caller.tap("call_next")
    caller.wait_screen("current_choice")
    caller.tap("current_no_show")
    wait_for(lambda: ticket_row(hall, third["id"])["status"] == "no_show", 10)
    third = others[1]
    done(caller, f"已呼叫 {third['number']}")
    wait_text(caller, "kpi_no_show", lambda t: t == "2")
    caller.tap("start")
    wait_for(lambda: hall.ctl.queues.by_id[third["id"]].status.value == "serving", 10)
    done(caller, "开始办理")
    caller.tap("finish")
    caller.wait_screen("confirm")
    caller.tap("confirm_ok")
    wait_for(lambda: ticket_row(hall, third["id"])["status"] == "done", 10)
    done(caller, "已办结")
    wait_text(caller, "ticket_number", lambda t: t == "暂无")
    wait_text(caller, "kpi_served", lambda t: t == "1")
    # the day's figures side by side, each apart: rated on the window's pad, then any reply
    # (a call with nobody waiting) has the terminal read its figures again
    hall.client("rating-3").request("rating.submit", {"window": WINDOW, "level": 5})
    caller.tap("call_next")
    wait_text(caller, "kpi_satisfaction", lambda t: t == "100%")
    assert wait_text(caller, "kpi_handle", lambda t: t.endswith(" 分"))
    screen.screenshot(shots_dir() / "caller-figures.png")


@pytest.mark.parametrize("hall", ["mosquitto"], indirect=True)
def test_refusals_english_and_offline(hall, caller, screen):
    caller.wait_screen("main")
    wait_text(caller, "window_status", lambda t: t == "已关窗", 15)
    wait_for(lambda: "offline_banner" not in caller.targets().get("targets", {}), 10)
    caller.tap("open_close")
    wait_for(lambda: window(hall)["status"] == "open", 10)
    wait_text(caller, "window_status", lambda t: t == "服务中")
    done(caller, "窗口已开启")
    caller.tap("call_next")  # nobody waits: said plainly, nothing breaks
    wait_text(caller, "status_line", lambda t: "暂无等候的群众" in t)
    caller.tap("lang_toggle")
    wait_text(caller, "call_next", lambda t: t == "Call next")
    wait_text(caller, "window_status", lambda t: t == "Open")
    wait_text(caller, "status_line", lambda t: "Nobody is waiting" in t)
    screen.screenshot(IMG / "caller-en.png")
    caller.tap("lang_toggle")
    wait_text(caller, "call_next", lambda t: t == "呼叫下一位")

    hall.stop_service()  # the controller goes away, the broker stays
    wait_text(caller, "offline_banner", lambda t: "无法连接" in t, 20)
    assert "call_next" in caller.targets()["targets"]
    screen.screenshot(IMG / "caller-offline.png")
    caller.tap("open_close")  # disabled while offline: nothing is sent
    hall.start()
    wait_for(lambda: "offline_banner" not in caller.targets().get("targets", {}), 20)
    assert hall.ctl.views.window(WINDOW)["status"] == "open"
    wait_text(caller, "window_status", lambda t: t == "服务中")


def test_a_second_box_with_the_same_identity_is_named_on_screen(hall, caller, screen):
    caller.wait_screen("main")
    wait_text(caller, "window_status", lambda t: t == "已关窗", 15)
    clone = hall.client("caller-3", wait=0)  # a copied device config on another box
    wait_text(caller, "offline_banner", lambda t: "caller-3" in t and "另一台设备" in t, 20)
    screen.screenshot(IMG / "caller-identity.png")
    assert "probably using the same device id 'caller-3'" in caller.read_log()
    clone.stop()
    hall.clients.remove(clone)


def test_a_rating_pads_bad_rating_asks_for_the_reason_on_the_caller_screen(hall, caller, screen):
    kiosk, staff, pad = hall.client("kiosk-1"), hall.client("keypad-3"), hall.client("rating-3")
    caller.wait_target("call_next")
    t = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    staff.request("window.open", {"window": WINDOW})
    staff.request("window.call_next", {"window": WINDOW})
    staff.request("window.finish", {"window": WINDOW})
    # what the keypad bridge does at a pad's 非常不满意 key (tests/test_keypad_bridge.py)
    pad.request("rating.prompt", {"window": WINDOW, "level": 1, "keys": 4})
    caller.wait_screen("reason_prompt")
    shown = wait_text(caller, "reason_prompt_text", lambda x: "第1键" in x)
    assert "非常不满意" in shown and "第1键  态度" in shown and "第4键  等候太久" in shown
    assert "其他" not in shown.split("也可")[0] and "二维码" in shown
    shot = screen.screenshot(IMG / "caller-reason-prompt.png")
    assert shot.exists()
    pad.request("rating.submit", {"window": WINDOW, "level": 1, "reasons": ["等候太久"]})
    wait_text(caller, "reason_prompt_text", lambda x: "感谢您的评价" in x)
    caller.wait_screen("main", timeout=10)
    rows = hall.ctl.store.rows("ratings", "ticket_id = ?", (t["id"],))
    assert rows[0]["reasons"] == "等候太久" and rows[0]["channel"] == "pad"


def test_hold_serve_another_then_resume(hall, caller, screen):
    """挂起: the citizen steps away for a material, the window serves the next, then resumes them."""
    kiosk = hall.client("kiosk-1")
    first, second = (kiosk.request("ticket.issue", {"service": s})["ticket"] for s in ("A", "B"))
    caller.wait_screen("main")
    wait_text(caller, "window_status", lambda t: t == "已关窗", 15)
    caller.tap("open_close")
    done(caller, "窗口已开启")
    caller.tap("call_next")
    done(caller, f"已呼叫 {first['number']}")
    caller.tap("start")
    done(caller, "开始办理")
    caller.tap("hold")
    wait_for(lambda: ticket_row(hall, first["id"])["status"] == "held", 10)
    done(caller, "已挂起")
    wait_text(caller, "ticket_number", lambda t: t == "暂无")
    wait_text(caller, "queue_lines", lambda t: f"挂起：{first['number']}（" in t)
    caller.tap("call_next")  # the window serves the next meanwhile
    done(caller, f"已呼叫 {second['number']}")
    screen.screenshot(IMG / "caller-held.png")
    caller.tap("resume_held")  # disabled while someone is at the window
    import time

    time.sleep(0.5)
    assert ticket_row(hall, first["id"])["status"] == "held"
    caller.tap("start")
    done(caller, "开始办理")
    caller.tap("finish")
    caller.wait_screen("confirm")
    caller.tap("confirm_ok")
    wait_for(lambda: ticket_row(hall, second["id"])["status"] == "done", 10)
    caller.wait_screen("main")
    done(caller, "已办结")
    caller.tap("resume_held")  # the citizen is back with the material
    wait_for(lambda: ticket_row(hall, first["id"])["status"] == "called", 10)
    done(caller, f"已恢复 {first['number']}")
    wait_text(caller, "ticket_number", lambda t: t == first["number"])
    wait_text(caller, "queue_lines", lambda t: "挂起" not in t)
    actions = [r["action"] for r in hall.ctl.store.audit_rows() if r["ticket_id"] == first["id"]]
    assert actions == ["issue", "call", "start", "hold", "resume"]
