"""好差评 at the controller: a bad rating is refused without a reason on every channel, one rating
per transaction plus one follow-up rating after rectification."""

from __future__ import annotations

import sqlite3

import pytest

from busutil import REPO
from ctlutil import KIOSK, MANAGER, MONDAY_10, Hall, caller
from onewindow.domain.pagekey import page_key
from onewindow.roles import Device

PAD4 = Device("rating-4", "rating", frozenset({4}))
WEB = Device("web-1", "web")


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


CHANNELS = {
    "pad": lambda h, t: (PAD4, {"window": 4, "ticket_id": t["id"]}),
    "kiosk": lambda h, t: (KIOSK, {"ticket_id": t["id"]}),
    "qrcode": lambda h, t: (
        WEB,
        {"ticket_id": page_key(t["id"], h.ctl.secret), "channel": "qrcode"},
    ),
}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_bad_rating_without_a_reason_is_refused_on_every_channel(hall, channel):
    t = hall.served()[0]
    dev, args = CHANNELS[channel](hall, t)
    for level in (2, 1):
        for extra in ({}, {"reasons": []}, {"text": "不好"}):
            reply = hall.do(dev, "rating.submit", level=level, **args, **extra)
            assert reply["error"]["code"] == "reason_required", reply
            assert "至少选择一项" in reply["error"]["message"]
            assert reply["error"]["detail"]["reasons"][0] == "态度"  # what to offer instead
    # a reason the hall does not offer, and 其他 without the citizen's words
    assert (
        hall.do(dev, "rating.submit", level=1, reasons=["态度不好"], **args)["error"]["code"]
        == "bad_request"
    )
    assert (
        hall.do(dev, "rating.submit", level=1, reasons=["其他"], text="  ", **args)["error"]["code"]
        == "reason_required"
    )
    assert hall.ctl.store.rows("ratings") == [] and hall.ctl.alerts.live == {}
    rated = hall.ok(
        dev, "rating.submit", level=1, reasons=["效率", "其他"], text="等了很久没人管", **args
    )["rating"]
    assert rated["bad"] and rated["follow_status"] == "open"
    row = hall.ctl.store.rows("ratings")[0]
    assert (
        row["channel"] == channel
        and row["reasons"] == "效率,其他"
        and row["text"] == "等了很久没人管"
    )


def test_reasons_come_from_the_hall_file(tmp_path):
    h = Hall(
        tmp_path,
        MONDAY_10,
        edit=lambda raw: raw.setdefault("rating", {}).update(reasons=["排队太久", "其他"]),
    )
    try:
        t = h.served()[0]
        assert h.do(KIOSK, "rating.submit", ticket_id=t["id"], level=2, reasons=["态度"])["error"][
            "detail"
        ]["reasons"] == ["排队太久", "其他"]
        assert h.ok(KIOSK, "config.get")["rating"]["reasons"] == ["排队太久", "其他"]
        h.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=2, reasons=["排队太久"])
    finally:
        h.ctl.store.close()


def test_a_good_rating_needs_no_reason_and_keeps_none(hall):
    t = hall.served()[0]
    hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=3, reasons=["态度"])
    row = hall.ctl.store.rows("ratings")[0]
    assert row["reasons"] == "" and row["follow_status"] is None and hall.ctl.alerts.live == {}


def test_one_rating_per_transaction_then_one_follow_up_rating_after_rectification(hall):
    t = hall.served()[0]
    first = hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=1, reasons=["态度"])["rating"]
    assert first["count"] == 1
    # no second rating while the case is open or being rectified
    assert (
        hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"]
        == "already_rated"
    )
    hall.ok(
        MANAGER,
        "rating.follow",
        rating_id=first["id"],
        action="contact",
        note="已电话联系，致歉并说明整改安排",
    )
    assert (
        hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"]
        == "already_rated"
    )
    hall.ok(
        MANAGER,
        "rating.follow",
        rating_id=first["id"],
        action="rectify",
        note="窗口人员已培训；整改记录见第12号台账",
    )
    status = hall.ok(WEB, "queue.status", ticket_id=page_key(t["id"], hall.ctl.secret))["ticket"]
    assert status["rating"] == {"rated": True, "count": 1, "follow_up_open": True}
    again = hall.ok(
        WEB,
        "rating.submit",
        ticket_id=page_key(t["id"], hall.ctl.secret),
        channel="qrcode",
        level=4,
    )["rating"]
    assert again["count"] == 2 and again["follow_status"] is None
    assert (
        hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"]
        == "already_rated"
    )
    rows = hall.ctl.store.rows("ratings", "ticket_id = ? ORDER BY count", (t["id"],))
    assert [(r["count"], r["level"]) for r in rows] == [(1, 1), (2, 4)]


def test_deadlines_count_working_days_on_the_halls_calendar():
    from datetime import date

    from onewindow.domain.hours import add_working_days
    from onewindow.domain.model import Hours

    # 2026 National Day: 1-7 October closed, 10 October (a Saturday) worked instead (调休)
    hours = Hours(
        week=((),) * 7,
        closed_dates=frozenset(date(2026, 10, d) for d in range(1, 8)),
        extra_days={date(2026, 10, 10): ()},
    )
    assert add_working_days(hours, date(2026, 9, 30), 1) == date(2026, 10, 8)  # after the holiday
    assert add_working_days(hours, date(2026, 10, 9), 1) == date(2026, 10, 10)  # the 调休 Saturday
    assert add_working_days(hours, date(2026, 10, 10), 1) == date(2026, 10, 12)
    assert add_working_days(hours, date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon


def test_a_case_past_its_rectify_deadline_raises_an_alert_until_it_closes(hall):
    t = hall.served()[0]
    rated = hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=2, reasons=["效率"])["rating"]
    assert (rated["contact_by"], rated["rectify_by"]) == ("2026-11-24", "2026-12-14")
    contact, rectify = (f"rating_overdue:{k}:{rated['id']}" for k in ("contact", "rectify"))
    hall.clock.advance(days=1, hours=1)
    hall.ctl.tick()
    assert contact not in hall.ctl.alerts  # the 24th is still in time
    hall.clock.advance(days=1)
    hall.ctl.tick()
    assert contact in hall.ctl.alerts
    hall.ok(MANAGER, "rating.follow", rating_id=rated["id"], action="contact", note="已联系")
    assert contact not in hall.ctl.alerts and f"rating:{rated['id']}" not in hall.ctl.alerts
    hall.clock.advance(days=20)  # 15 December
    hall.ctl.tick()
    assert (
        rectify in hall.ctl.alerts
        and "整改期限 2026-12-14" in hall.ctl.alerts.live[rectify]["message"]
    )
    view = hall.ok(MANAGER, "report.ratings", open_only=True)["rows"][0]
    assert view["overdue"] == "rectify" and view["status_name"] == "整改中"
    assert (
        hall.do(MANAGER, "rating.follow", rating_id=rated["id"], action="contact", note="再次")[
            "error"
        ]["code"]
        == "bad_state"
    )
    hall.ok(
        MANAGER,
        "rating.follow",
        rating_id=rated["id"],
        action="cannot",
        note="涉及法定材料，依法不能减免；已向群众解释",
    )
    assert rectify not in hall.ctl.alerts
    assert hall.ok(MANAGER, "report.ratings", open_only=True)["rows"] == []
    with pytest.raises(sqlite3.DatabaseError):  # the trail cannot be rewritten
        hall.ctl.store.db.execute("DELETE FROM rating_notes")


def test_config_check_names_what_is_wrong_in_the_rating_options(tmp_path):
    from onewindow.configreader import ConfigError
    from onewindow.hallconfig import load_file, parse

    _, raw = load_file(REPO / "config" / "hall.toml")
    raw["hall"]["area_code"] = "62290"
    raw["services"][0]["basic_code"] = "a b"
    raw["rating"] = {"reasons": ["态度", "态度", "a,b"], "rectify_days": 0, "contact_dayz": 1}
    with pytest.raises(ConfigError) as err:
        parse(raw, "hall.toml")
    text = "\n".join(err.value.problems)
    assert "[hall] area_code: '62290' does not match" in text
    assert "[[services]] #1 (code = \"A\") basic_code: 'a b' does not match" in text
    assert "[rating] reasons: '态度' is listed twice" in text
    assert "[rating] reasons: item 'a,b' does not match" in text
    assert "[rating] rectify_days: 0 is below the minimum 1" in text
    assert "[rating] contact_dayz: unknown option (misspelt?)" in text
    raw["rating"] = {"reasons": [f"r{i}" for i in range(10)]}
    raw["hall"]["area_code"], raw["services"][0]["basic_code"] = "622901", ""
    with pytest.raises(ConfigError) as err:
        parse(raw, "hall.toml")
    assert err.value.problems == [
        "hall.toml: [rating] reasons: give 1 to 9 reasons (a rating pad's "
        "keys 1-9 pick them), not 10"
    ]


def test_the_days_figures_count_each_transactions_first_rating_once(hall):
    t = hall.served()[0]
    first = hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=1, reasons=["态度"])["rating"]
    for action in ("contact", "rectify"):
        hall.ok(MANAGER, "rating.follow", rating_id=first["id"], action=action, note="ok")
    hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=5)  # 追加评价
    row = hall.ok(MANAGER, "report.kpis", group="hall")["rows"][0]
    assert row["ratings"] == {"5": 0, "4": 0, "3": 0, "2": 0, "1": 1} and row["satisfaction"] == 0.0


def test_a_pads_second_press_is_already_rated_and_never_rates_the_citizen_before(hall):
    """Two citizens finished at window 4; the second rates on the pad and presses again: the
    answer says it was rated (not 'nothing to rate'), and the first citizen's ticket, still
    unrated, is not rated in their place."""
    first, second = hall.issue("A"), hall.issue("A")
    hall.open(4)
    for _ in (first, second):
        hall.call(4)
        hall.clock.advance(minutes=4)
        hall.ok(caller(4), "window.finish", window=4)
    rated = hall.ok(PAD4, "rating.submit", window=4, level=5)["rating"]
    assert rated["ticket"] == second["number"]
    for op, args in (("rating.submit", {"level": 4}), ("rating.prompt", {"level": 1})):
        again = hall.do(PAD4, op, window=4, **args)
        assert again["error"]["code"] == "already_rated", again
        assert again["error"]["message"] == "该笔业务已评价，感谢您的参与"
    assert [r["ticket_id"] for r in hall.ctl.store.rows("ratings")] == [second["id"]]
    assert hall.ok(KIOSK, "rating.submit", ticket_id=first["id"], level=5)["rating"]["count"] == 1


def test_a_phone_rates_only_the_ticket_whose_qr_code_it_holds(hall):
    """ "The last ticket finished at window 4" is a stranger's transaction to a phone: the web
    pages rate by the page key only; the window's pad and a kiosk still rate by window."""
    t = hall.served()[0]
    reply = hall.do(WEB, "rating.submit", window=4, level=1, reasons=["态度"])
    assert reply["error"]["code"] == "forbidden" and "二维码" in reply["error"]["message"]
    assert hall.ctl.store.rows("ratings") == []
    mine = hall.ok(WEB, "rating.submit", ticket_id=page_key(t["id"], hall.ctl.secret), level=5)
    assert mine["rating"]["ticket"] == t["number"]
