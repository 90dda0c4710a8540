"""绿色通道: a citizen declares 残疾人 / 军人 / 孕妇 at the kiosk, goes first under fair share,
and staff confirm or withdraw it at the window; audited, counted per type (issue 14)."""

from __future__ import annotations

import json

import pytest

from ctlutil import ELDER_ID, KIOSK, MANAGER, caller


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall


def audit(hall, ticket_id: str) -> list[tuple[str, str, dict]]:
    return [
        (r["device"], r["action"], json.loads(r["detail"]) if r["detail"] else {})
        for r in hall.ctl.store.audit_rows()
        if r["ticket_id"] == ticket_id
    ]


def test_a_declared_veteran_goes_first_and_is_confirmed_at_the_window(hall):
    hall.open(4)
    first = hall.issue("A")
    vet = hall.issue("A", declared="veteran")
    assert (vet["priority"], vet["declared"], vet["priority_check"]) == (
        "veteran",
        "veteran",
        "declared",
    )
    assert (
        "kiosk-1",
        "issue",
        {"channel": "kiosk", "priority": "veteran", "declared": "veteran"},
    ) in audit(hall, vet["id"])
    assert hall.call(4)["id"] == vet["id"]  # priority class, as routing says
    t = hall.ok(caller(4), "ticket.priority", window=4, decision="confirm")["ticket"]
    assert (t["priority"], t["priority_check"]) == ("veteran", "confirmed")
    assert ("caller-4", "priority_confirm", {"declared": "veteran"}) in audit(hall, vet["id"])
    assert hall.call(4)["id"] == first["id"]


def test_a_withdrawn_declaration_loses_its_priority_but_an_elder_keeps_theirs(hall):
    hall.open(4)
    preg = hall.issue("A", declared="pregnant")
    hall.call(4)
    t = hall.ok(caller(4), "ticket.priority", window=4, decision="withdraw")["ticket"]
    assert (t["priority"], t["priority_check"]) == (None, "withdrawn")
    # transferred back to a queue now, it waits as anyone else
    hall.ok(caller(4), "window.transfer", window=4, to_service="A")
    other = hall.issue("A")
    assert [x.id for x in hall.ctl.queues.waiting("A")] == [preg["id"], other["id"]]
    old = hall.issue("B", citizen={"id_number": ELDER_ID, "name": "王建国"}, declared="disabled")
    assert old["priority"] == "elder" and old["declared"] == "disabled"
    hall.open(5)
    hall.ok(caller(5), "window.call_next", window=5, current="done")
    while hall.ctl.queues.at_window(5).id != old["id"]:
        hall.ok(caller(5), "window.call_next", window=5, current="done")
    assert (
        hall.ok(caller(5), "ticket.priority", window=5, decision="withdraw")["ticket"]["priority"]
        == "elder"
    )


def test_refusals_and_the_counts_per_type(hall):
    hall.open(4)
    plain = hall.issue("A")
    hall.call(4)
    err = hall.do(caller(4), "ticket.priority", window=4, decision="confirm")["error"]
    assert err["code"] == "bad_state" and "自报" in err["message"]
    assert (
        hall.do(caller(5), "ticket.priority", window=4, decision="confirm")["error"]["code"]
        == "forbidden"
    )
    assert (
        hall.do(KIOSK, "ticket.issue", service="A", declared="vip")["error"]["code"]
        == "bad_request"
    )
    for kind in ("disabled", "veteran", "veteran", "pregnant"):
        hall.issue("A", declared=kind)
    hall.call(4)  # the first declared one
    hall.ok(caller(4), "ticket.priority", window=4, decision="withdraw")
    hall.call(4)
    hall.ok(caller(4), "ticket.priority", window=4, decision="confirm")
    row = hall.ok(MANAGER, "report.kpis", group="hall")["rows"][0]
    assert row["green"] == {"elder": 0, "disabled": 1, "veteran": 2, "pregnant": 1, "other": 0}
    assert (row["green_confirmed"], row["green_withdrawn"]) == (1, 1)
    assert plain["declared"] is None
