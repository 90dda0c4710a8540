"""容缺受理: accepted at finish with materials missing from the service's 容缺 list, due in
working days on the hall's calendar; the citizen checks in by ID card straight to that window's
queue as 补件; the managers list open and overdue cases; reports count them (issue 14)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ctlutil import KIOSK, MANAGER, MONDAY_10, YOUNG_ID, Hall, caller
from onewindow.domain.entrance import entrance_token
from onewindow.roles import Device

CARD = {"id_number": YOUNG_ID, "name": "李小明"}
PHOTO = "近期免冠照片"


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # Monday 2026-11-23 10:00; rules.missing_days 5


def accepted(hall) -> tuple[dict, dict]:
    hall.open(4)
    t = hall.issue("A", citizen=CARD)
    hall.call(4)
    hall.ok(caller(4), "window.start", window=4)
    reply = hall.ok(caller(4), "window.finish", window=4, missing=[PHOTO])
    return t, reply["case"]


def test_a_case_is_accepted_at_finish_with_a_deadline_in_working_days(hall):
    t, case = accepted(hall)
    assert case["materials"] == [PHOTO] and case["due"] == "2026-11-30"  # Mon + 5 working days
    assert case["status"] == "open" and not case["overdue"] and case["citizen"] == "李*明"
    assert (
        case["page_url"].endswith(case["page_url"].rsplit("/", 1)[1])
        and t["id"] in case["page_url"]
    )
    audit = [
        (r["action"], json.loads(r["detail"] or "{}"))
        for r in hall.ctl.store.audit_rows()
        if r["ticket_id"] == t["id"]
    ]
    assert ("case_accept", {"materials": [PHOTO], "due": "2026-11-30", "days": 5}) in audit
    # the citizen's page (queue.status of the done ticket) tells what is missing and by when
    status = hall.ok(KIOSK, "queue.status", ticket_id=t["id"])["ticket"]
    assert status["case"]["materials"] == [PHOTO] and status["case"]["due"] == "2026-11-30"
    # the key is never stored in clear and never sent
    row = hall.ctl.store.rows("cases")[0]
    assert YOUNG_ID not in json.dumps(row) and "citizen_key" not in case


def test_the_deadline_follows_the_halls_calendar(tmp_path):
    def holidays(raw):
        raw["hours"]["closed_dates"] = ["2026-11-25", "2026-11-26"]  # Wed, Thu
        raw["hours"]["extra_days"] = {"2026-11-28": ["09:00-12:00"]}  # 调休 Saturday

    hall = Hall(tmp_path, MONDAY_10, edit=holidays)
    _, case = accepted(hall)
    assert case["due"] == "2026-12-01"  # Tue, Fri, Sat (调休), Mon, Tue
    hall.ctl.store.close()


def test_only_the_services_missing_ok_materials_and_only_with_a_card(hall):
    hall.open(4)
    hall.issue("A", citizen=CARD)
    hall.call(4)
    err = hall.do(caller(4), "window.finish", window=4, missing=["居民户口簿"])["error"]
    assert err["code"] == "bad_request" and "容缺" in err["message"]
    assert err["detail"]["allowed"] == [PHOTO]
    hall.issue("A")
    hall.call(4)
    assert (
        hall.do(caller(4), "window.finish", window=4, missing=[PHOTO])["error"]["code"]
        == "need_card"
    )


def test_a_number_typed_on_a_phone_opens_no_case(hall):
    """Anyone can type anyone's ID number on a phone: a case on it would open a stranger's 补件
    (case.find and case.checkin would then show and serve it to the card's holder). The same
    citizen with the card read at the kiosk is accepted."""
    hall.open(4)
    phone = hall.do(
        Device("web-1", "web"),
        "ticket.issue",
        service="A",
        citizen={"id_number": YOUNG_ID, "name": ""},
        entrance=entrance_token(hall.clock.at.date(), hall.ctl.secret),
        phone_id="p" * 22,
        printed=False,
    )["result"]["ticket"]
    assert hall.call(4)["id"] == phone["id"]
    err = hall.do(caller(4), "window.finish", window=4, missing=[PHOTO])["error"]
    assert err["code"] == "need_card" and "手机" in err["message"] and "刷身份证" in err["message"]
    assert hall.ctl.store.rows("cases") == []
    assert hall.ok(KIOSK, "case.find", citizen=CARD)["cases"] == []
    assert hall.do(KIOSK, "case.checkin", citizen=CARD)["error"]["code"] == "not_found"
    # nothing moved: the staff finish it without 容缺, or the citizen comes back with the card
    assert hall.ok(caller(4), "window.finish", window=4)["ticket"]["status"] == "done"
    _, case = accepted(hall)
    assert case["status"] == "open"


def test_the_citizen_checks_in_by_card_straight_to_that_window_as_supplement(hall):
    t, case = accepted(hall)
    others = [hall.issue("A"), hall.issue("A")]
    found = hall.ok(KIOSK, "case.find", citizen=CARD)["cases"]
    assert [c["id"] for c in found] == [case["id"]]
    back = hall.ok(KIOSK, "case.checkin", citizen=CARD)
    assert back["ticket"]["supplement"] is True and back["case"]["status"] == "returned"
    # straight to window 4's queue, ahead of those waiting for A
    assert hall.call(4)["id"] == back["ticket"]["id"]
    assert hall.ok(KIOSK, "case.find", citizen=CARD)["cases"] == []
    err = hall.do(KIOSK, "case.checkin", citizen=CARD)["error"]
    assert err["code"] == "not_found"
    assert others


def test_managers_see_open_and_overdue_cases_and_reports_count_them(hall):
    accepted(hall)
    hall.clock.advance(days=8)
    hall.ctl.tick()
    listed = hall.ok(MANAGER, "case.list")
    assert (listed["open"], listed["overdue"]) == (1, 1) and listed["cases"][0]["overdue"]
    row = hall.ok(MANAGER, "report.kpis", group="hall", day="2026-11-23")["rows"][0]
    assert (row["missing_cases"], row["missing_returned"], row["missing_overdue"]) == (1, 0, 1)
    assert date.fromisoformat(listed["cases"][0]["due"]) < hall.clock.at.date()
