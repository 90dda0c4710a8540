"""'Call next' while the ticket at the window was called but never started: the staff choose
过号 or 已办结, the controller never guesses (issue 14)."""

from __future__ import annotations

import pytest

from ctlutil import MANAGER, caller


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # conftest.py: the controller on a Monday at 10:00


def audit_of(hall, ticket_id: str) -> list[tuple[str, dict]]:
    import json

    return [
        (r["action"], json.loads(r["detail"]) if r["detail"] else {})
        for r in hall.ctl.store.audit_rows()
        if r["ticket_id"] == ticket_id
    ]


def status(hall, ticket_id: str) -> str:
    return hall.ctl.store.rows("tickets", "id = ?", (ticket_id,))[0]["status"]


def test_a_called_ticket_is_never_finished_silently(hall):
    hall.open(4)
    first, second = hall.issue("A"), hall.issue("A")
    assert hall.call(4)["id"] == first["id"]
    reply = hall.do(caller(4), "window.call_next", window=4)
    err = reply["error"]
    assert err["code"] == "no_show_or_done"
    assert (
        "过号" in err["message"]
        and "已办结" in err["message"]
        and first["number"] in err["message"]
    )
    assert err["detail"] == {
        "ticket": first["number"],
        "ticket_id": first["id"],
        "choices": ["no_show", "done"],
    }
    # nothing moved: the first is still called at the window, the second still waits
    assert status(hall, first["id"]) == "called" and status(hall, second["id"]) == "waiting"
    assert hall.ctl.views.window(4)["serving"] == first["number"]


def test_the_staffs_choice_is_recorded_and_counted(hall):
    hall.open(4)
    a, b, c = hall.issue("A"), hall.issue("A"), hall.issue("A")
    hall.call(4)
    assert (
        hall.ok(caller(4), "window.call_next", window=4, current="no_show")["ticket"]["id"]
        == b["id"]
    )
    assert status(hall, a["id"]) == "no_show"
    assert ("skip", {"by": "call_next", "current": "no_show"}) in audit_of(hall, a["id"])
    assert (
        hall.ok(caller(4), "window.call_next", window=4, current="done")["ticket"]["id"] == c["id"]
    )
    assert status(hall, b["id"]) == "done"
    assert ("finish", {"by": "call_next", "current": "done"}) in audit_of(hall, b["id"])
    kpis = hall.ok(MANAGER, "report.kpis", group="window", window=4)["rows"][0]
    assert (kpis["served"], kpis["no_show"]) == (1, 1)


def test_a_ticket_being_served_is_finished_and_never_made_a_no_show(hall):
    hall.open(4)
    a, b = hall.issue("A"), hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.start", window=4)
    refused = hall.do(caller(4), "window.call_next", window=4, current="no_show")["error"]
    assert refused["code"] == "bad_state" and status(hall, a["id"]) == "serving"
    # served: 'call next' alone finishes it, as before
    assert hall.ok(caller(4), "window.call_next", window=4)["ticket"]["id"] == b["id"]
    assert status(hall, a["id"]) == "done"
    assert ("finish", {"by": "call_next"}) in audit_of(hall, a["id"])


def test_a_bad_choice_is_a_clear_error(hall):
    hall.open(4)
    hall.issue("A")
    hall.call(4)
    err = hall.do(caller(4), "window.call_next", window=4, current="maybe")["error"]
    assert err["code"] == "bad_request" and "current" in err["message"]
