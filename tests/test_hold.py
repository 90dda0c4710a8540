"""挂起 (hold): the citizen steps away, the window serves others, then resumes them; a hold that
runs out puts the citizen back in their queue with their queue time (issue 14)."""

from __future__ import annotations

import json

import pytest

from ctlutil import MANAGER, caller


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # conftest.py: the controller on a Monday at 10:00 (hold_min 15)


def row(hall, ticket_id: str) -> dict:
    return hall.ctl.store.rows("tickets", "id = ?", (ticket_id,))[0]


def actions(hall, ticket_id: str) -> list[tuple[str, str, str]]:
    return [
        (r["device"], r["action"], r["to_status"])
        for r in hall.ctl.store.audit_rows()
        if r["ticket_id"] == ticket_id
    ]


def test_hold_serve_others_then_resume(hall):
    hall.open(4)
    a, b = hall.issue("A"), hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.start", window=4)
    held = hall.ok(caller(4), "window.hold", window=4)["ticket"]
    assert held["status"] == "held" and held["held_until"].startswith("2026-11-23T10:15")
    view = hall.ctl.views.window(4)
    assert view["serving"] is None
    assert view["held"] == [
        {"number": a["number"], "ticket_id": a["id"], "service": "A", "until": held["held_until"]}
    ]
    # the window serves the next citizen meanwhile; nobody else can call the held one
    assert hall.call(4)["id"] == b["id"]
    hall.open(5)
    assert hall.ok(caller(5), "window.call_next", window=5)["ticket"] is None
    busy = hall.do(caller(4), "window.resume_held", window=4)["error"]
    assert busy["code"] == "busy"
    hall.ok(caller(4), "window.finish", window=4)
    hall.clock.advance(minutes=10)
    hall.ctl.tick()  # not yet run out
    back = hall.ok(caller(4), "window.resume_held", window=4)["ticket"]
    assert back["status"] == "called" and back["held_until"] is None
    assert hall.ctl.views.window(4)["serving"] == a["number"]
    assert hall.ctl.views.window(4)["held"] == []
    hall.ok(caller(4), "window.finish", window=4)
    assert [x[1:] for x in actions(hall, a["id"])] == [
        ("issue", "waiting"),
        ("call", "called"),
        ("start", "serving"),
        ("hold", "held"),
        ("resume", "called"),
        ("finish", "done"),
    ]
    kpis = hall.ok(MANAGER, "report.kpis", group="window", window=4)["rows"][0]
    assert (kpis["served"], kpis["held"], kpis["holds"]) == (2, 1, 1)


def test_a_hold_that_runs_out_falls_back_to_the_queue_keeping_its_queue_time(hall):
    hall.open(4)
    a = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.hold", window=4)
    later = hall.issue("A")
    # the estimate counts the held citizen: they come back before anyone who came later
    assert later["ahead"] == 1
    hall.clock.advance(minutes=15)
    hall.ctl.tick()
    r = row(hall, a["id"])
    assert (r["status"], r["window"], r["held_until"]) == ("waiting", None, None)
    assert ("controller", "release", "waiting") in actions(hall, a["id"])
    reason = [
        json.loads(x["detail"])
        for x in hall.ctl.store.audit_rows()
        if x["ticket_id"] == a["id"] and x["action"] == "release"
    ]
    assert reason == [{"reason": "hold_expired"}]
    # their queue time is kept: called before the one who came later, at any window serving A
    hall.open(5)
    assert hall.ok(caller(5), "window.call_next", window=5)["ticket"]["id"] == a["id"]


def test_closing_the_window_puts_its_held_citizens_back_in_the_queue(hall):
    hall.open(4)
    a = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.hold", window=4)
    hall.ok(caller(4), "window.close", window=4)
    assert row(hall, a["id"])["status"] == "waiting"


def test_hold_refusals_are_clear(hall):
    hall.open(4)
    assert hall.do(caller(4), "window.hold", window=4)["error"]["code"] == "no_ticket"
    assert hall.do(caller(4), "window.resume_held", window=4)["error"]["code"] == "no_ticket"
    a, b = hall.issue("A"), hall.issue("A")
    for _ in (a, b):
        hall.call(4)
        hall.ok(caller(4), "window.hold", window=4)
    err = hall.do(caller(4), "window.resume_held", window=4)["error"]
    assert err["code"] == "bad_request" and "ticket_id" in err["message"]
    assert (
        hall.ok(caller(4), "window.resume_held", window=4, ticket_id=b["id"])["ticket"]["id"]
        == b["id"]
    )
    hall.open(5)
    assert (
        hall.do(caller(5), "window.resume_held", window=5, ticket_id=a["id"])["error"]["code"]
        == "not_found"
    )


def test_a_held_ticket_survives_a_restart_and_expires_with_the_day(hall):
    hall.open(4)
    a = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.hold", window=4)
    hall.reopen()
    assert [t.id for t in hall.ctl.queues.held(4)] == [a["id"]]
    hall.clock.advance(hours=14)  # past midnight
    hall.ctl.tick()
    assert row(hall, a["id"])["status"] == "cancelled"
