"""A bad rating's whole follow-up on the manager console (real hall, real bus, the console under
Xvfb driven by touches and typing): working-day deadlines across New Year's Day and a weekend,
the overdue alert, each step with its note and who did it, the trail, the follow-up rating."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from busutil import REPO, Hall, wait_for
from ctlutil import TZ, Clock
from kivyutil import shots_dir
from managerutil import PIN, unlock
from onewindow.managerpin import set_pin

# Thursday 31 December 2026; the shipped hall closes on 2027-01-01 (元旦, a Friday)
NEW_YEARS_EVE = datetime(2026, 12, 31, 10, 0, tzinfo=TZ)


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, "embedded", config=REPO / "config" / "hall.toml", clock=Clock(NEW_YEARS_EVE))
    for dev, role, windows in (
        ("kiosk-1", "kiosk", ()),
        ("manager-1", "manager", ()),
        ("caller-3", "caller", (3,)),
        ("rating-3", "rating", (3,)),
    ):
        h.add(dev, role, windows)
    set_pin(h.data_dir, PIN)
    h.start()
    yield h
    h.close()


def show_ratings(app) -> None:
    app.tap("tab-ratings")
    app.wait_screen("ratings")
    time.sleep(0.7)


def case(hall, rating_id) -> dict:
    return hall.ctl.store.rows("ratings", "id = ?", (rating_id,))[0]


def test_the_whole_follow_up_of_a_bad_rating_on_the_console(hall, manager_console):
    app, screen = manager_console
    kiosk, staff, pad = hall.client("kiosk-1"), hall.client("caller-3"), hall.client("rating-3")
    ticket = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    staff.request("window.open", {"window": 3, "staff": {"id": "S003", "name": "王五"}})
    staff.request("window.call_next", {"window": 3})
    staff.request("window.finish", {"window": 3})
    bad = pad.request("rating.submit", {"window": 3, "level": 1, "reasons": ["态度"]})["rating"]
    # contact by the next working day: 1 January is a holiday, then the weekend -> Monday 4th;
    # rectify within 15 working days -> Friday 22nd
    assert (bad["contact_by"], bad["rectify_by"]) == ("2027-01-04", "2027-01-22")

    unlock(app)
    show_ratings(app)
    row = app.wait_text(f"rating-{bad['id']}", lambda t: "待处理" in t)
    assert (
        "非常不满意" in row
        and "态度" in row
        and "回访 2027-01-04" in row
        and "整改 2027-01-22" in row
    )

    # Tuesday 5 January: the contact deadline has passed; the alert says so, the row turns red
    hall.clock.at = datetime(2027, 1, 5, 9, 0, tzinfo=TZ)
    key = f"rating_overdue:contact:{bad['id']}"
    wait_for(lambda: key in hall.ctl.alerts, 15)
    assert "超过回访期限 2027-01-04" in hall.ctl.alerts.live[key]["message"]
    app.tap("lock")  # a new day: the manager unlocks the console again
    unlock(app)
    show_ratings(app)
    app.wait_text(f"rating-{bad['id']}", lambda t: "已超回访期限" in t)
    app.tap(f"case-{bad['id']}")
    app.wait_text("case-detail", lambda t: ticket["number"] in t and "待处理" in t)

    app.tap("case-contact")  # no note: refused, nothing moves
    app.wait_text("message", lambda t: "请填写处理情况" in t)
    assert case(hall, bad["id"])["follow_status"] == "open"

    app.type_into("case-by", "李科长")
    app.type_into("case-note", "已电话联系群众并致歉，约定周五前整改")
    app.tap("case-contact")
    wait_for(lambda: case(hall, bad["id"])["follow_status"] == "rectifying", 10)
    wait_for(lambda: key not in hall.ctl.alerts, 10)
    app.wait_text("case-trail", lambda t: "李科长" in t and "已电话联系群众并致歉" in t)
    app.wait_text("case-detail", lambda t: "整改中" in t)

    app.type_into("case-note", "窗口人员已参加服务礼仪培训，培训签到表已归档")
    app.tap("case-note-add")
    app.wait_text("case-trail", lambda t: "培训签到表已归档" in t)
    screen.screenshot(shots_dir() / "manager-rating-case.png")

    # Thursday 21 January, before the rectification deadline: done
    hall.clock.at = datetime(2027, 1, 21, 10, 0, tzinfo=TZ)
    app.tap("lock")
    unlock(app)
    show_ratings(app)
    app.tap(f"case-{bad['id']}")
    app.wait_text("case-detail", lambda t: "整改中" in t)
    app.type_into("case-note", "整改完成，已回访群众确认")
    app.tap("case-rectify")
    wait_for(lambda: case(hall, bad["id"])["follow_status"] == "done", 10)
    app.wait_text("case-detail", lambda t: "已整改" in t)
    row = case(hall, bad["id"])
    assert row["contacted_at"].startswith("2027-01-05") and row["closed_at"].startswith(
        "2027-01-21"
    )

    # the full trail: every step with who, when and what; the audit log has each move
    notes = hall.ctl.store.rows("rating_notes", "rating_id = ? ORDER BY seq", (bad["id"],))
    assert [(n["action"], n["from_status"], n["to_status"], n["staff"]) for n in notes] == [
        ("contact", "open", "rectifying", "李科长"),
        ("note", "rectifying", "rectifying", "李科长"),
        ("rectify", "rectifying", "done", "李科长"),
    ]
    assert all(n["device"] == "manager-1" for n in notes)
    moves = [r for r in hall.ctl.store.audit_rows() if r["action"] == "rating_follow"]
    assert [(m["from_status"], m["device"]) for m in moves] == [
        ("open", "manager-1"),
        ("rectifying", "manager-1"),
    ]
    # the citizen may now rate the rectified service once more (追加评价)
    again = kiosk.request("rating.submit", {"ticket_id": ticket["id"], "level": 4})["rating"]
    assert again["count"] == 2
