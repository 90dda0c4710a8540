"""The wait a citizen is told, end to end: the real kiosk and caller under Xvfb, touched through X,
against a real hall (issue 14: a theme ticket told 0 ahead while the only open window listed
another ticket before it; tiles saying 无需等候 while every window was closed), and nobody ahead
said in words, not "前面 0 人"."""

from __future__ import annotations

import time

import pytest
from kioskutil import device_args
from test_kiosk import kiosk_args, shot, target_text

from busutil import Hall, unlimited_config, wait_for
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
    kiosk = App(
        kiosk_screen,
        kiosk_args(hall, "--simulate", "--preview-dir", str(tmp_path / "previews")),
        tmp_path,
        "kiosk",
    )
    caller = App(
        caller_screen,
        device_args(hall, "caller", "caller-1", "--window", "1"),
        tmp_path,
        "caller",
    )
    yield hall, kiosk, kiosk_screen, caller, caller_screen
    caller.stop()
    kiosk.stop()
    caller_screen.close()
    kiosk_screen.close()
    hall.close()


def take(kiosk: App, tile: str) -> str:
    """Take a number from the home screen by touch; the ticket screen's number."""
    kiosk.tap(tile)
    if tile.startswith("tile-T"):
        kiosk.wait_screen("theme")
        kiosk.tap("theme_take")
    else:
        kiosk.wait_screen("confirm")
        kiosk.tap("take")
    kiosk.wait_screen("ticket")
    return target_text(kiosk, "ticket_number")


def test_all_closed_hall_then_a_theme_behind_another_queue_at_a_comprehensive_window(rig):
    hall, kiosk, kiosk_screen, caller, caller_screen = rig
    kiosk.wait_screen("home", timeout=30)
    caller.wait_screen("main", timeout=30)

    # every window closed, within the hours: nobody is told there is no wait
    kiosk.wait_text("tile-C", lambda t: "窗口暂未开放" in t, timeout=10)
    shown = " ".join(t["text"] for t in kiosk.targets()["targets"].values())
    assert "无需等候" not in shown and "0 分钟" not in shown
    shot(kiosk_screen, "home-all-closed")
    # nobody ahead is said in words, not "前面 0 人", before and after taking the number
    kiosk.tap("tile-C")
    kiosk.wait_screen("confirm")
    assert target_text(kiosk, "confirm_waiting") == "现在取号，前面没有人 · 窗口暂未开放"
    kiosk.tap("back")
    kiosk.wait_screen("home")
    c = take(kiosk, "tile-C")
    assert target_text(kiosk, "ticket_estimate") == "预计等候：窗口暂未开放"
    assert target_text(kiosk, "ticket_ahead") == "您前面没有人在等候"
    shot(kiosk_screen, "ticket-all-closed")
    kiosk.tap("done")
    kiosk.wait_screen("home")

    # the comprehensive window opens (a touch on the caller): C001 can be called at once
    caller.tap("open_close")
    wait_for(lambda: hall.ctl.windows[1].status.value == "open", 10)
    kiosk.wait_text("tile-T1", lambda t: "前面 1 人" in t, timeout=10)  # C001 goes first
    # with someone ahead the confirm screen still gives the count
    kiosk.tap("tile-C")
    kiosk.wait_screen("confirm")
    assert target_text(kiosk, "confirm_waiting").startswith("现在取号，前面 1 人 · ")
    kiosk.tap("back")
    kiosk.wait_screen("home")
    y = take(kiosk, "tile-T1")
    assert y.startswith("Y")
    assert "您前面还有 1 人" in target_text(kiosk, "ticket_ahead")
    estimate = target_text(kiosk, "ticket_estimate")
    assert estimate.startswith("预计等候：约 ") and estimate.endswith(" 分钟")
    shot(kiosk_screen, "ticket-theme-estimate")
    # the caller lists C001 before Y001, as the estimate said; its queue lines carry the same
    # wait as the kiosk tiles
    lines = caller.wait_text("queue_lines", lambda t: c in t and y in t, timeout=10)
    assert lines.index(c) < lines.index(y)
    view = hall.ctl.views.ticket(next(t for t in hall.ctl.queues.waiting() if t.number == y))
    assert view["ahead"] == 1 and estimate == f"预计等候：{view['wait_text']}"
    time.sleep(0.4)
    caller_screen.screenshot(IMG / "caller-estimate.png")
    kiosk.tap("done")
    kiosk.wait_screen("home")

    # the window calls C001: Y001 is next, and the kiosk's "my tickets" would say so
    caller.tap("call_next")
    caller.wait_text("ticket_number", lambda t: t == c, timeout=10)
    wait_for(
        lambda: (
            hall.ctl.views.ticket(next(t for t in hall.ctl.queues.waiting() if t.number == y))[
                "ahead"
            ]
            == 0
        ),
        5,
    )
