"""Appointments from the provincial platform at the controller (op `appointment.platform`, the
one path of the uplink's down topic and of `onewindow appointments import`): a slot of the hall's
capacity, idempotent on the platform's id, cancellations, refusals with a reason, the ID number
hashed at once; and the check-in at the kiosk by card, as for a hall booking."""

from __future__ import annotations

import json

from ctlutil import KIOSK, YOUNG_ID
from onewindow.domain.identity import citizen_key
from onewindow.roles import Device

PLATFORM = Device("uplink", "platform")
SLOT = "2026-11-23T10:30:00+08:00"  # the hall's clock is Monday 10:00


def push(hall, *records) -> list[dict]:
    return hall.ok(PLATFORM, "appointment.platform", records=list(records))["results"]


def book(pid: str, **fields) -> dict:
    return {"op": "book", "id": pid, "service": "B", "slot_start": SLOT, **fields}


def events(hall) -> list[dict]:
    return [
        json.loads(body)
        for _seq, kind, _at, body in hall.ctl.store.outbox_after(0, 10_000)
        if kind == "appointment"
    ]


def test_a_platform_booking_takes_a_slot_once_and_is_acknowledged_once(ctl_hall):
    hall = ctl_hall
    before = next(
        s["free"]
        for s in hall.ok(KIOSK, "appointment.slots", service="B")["slots"]
        if s["start"] == SLOT
    )
    [r] = push(hall, book("GD-1", id_number=YOUNG_ID, name="李小明"))
    assert r["result"] == "booked" and r["appointment"]["citizen"] == "李*明"
    assert r["appointment"]["channel"] == "platform"
    after = next(
        s["free"]
        for s in hall.ok(KIOSK, "appointment.slots", service="B")["slots"]
        if s["start"] == SLOT
    )
    assert after == before - 1
    # the same record again (a re-push): nothing booked, nothing said
    [again] = push(hall, book("GD-1", id_number=YOUNG_ID, name="李小明"))
    assert again["result"] == "duplicate" and again["appointment"]["id"] == r["appointment"]["id"]
    rows = hall.ctl.store.rows("appointments")
    assert len(rows) == 1 and rows[0]["platform_id"] == "GD-1"
    assert rows[0]["citizen_key"] == citizen_key(YOUNG_ID, hall.ctl.secret)
    acks = [e for e in events(hall) if e.get("platform_id") == "GD-1"]
    assert [e["event"] for e in acks] == ["booked"] and acks[0]["appointment"] == rows[0]["id"]
    # the ID number went no further than its hash: not in the database, not in any event
    raw = b"".join(p.read_bytes() for p in hall.ctl.store.path.parent.glob("hall.db*"))
    assert YOUNG_ID.encode() not in raw and "李小明".encode() not in raw


def test_over_capacity_unknown_service_and_bad_records_are_refused_with_a_reason(ctl_hall):
    hall = ctl_hall
    key = citizen_key(YOUNG_ID, hall.ctl.secret)
    other = "0" * 64
    results = push(
        hall,
        book("P-1", citizen_key=key),
        book("P-2", citizen_key=other),
        book("P-3", citizen_key="1" * 64),  # B takes 2 a slot: full
        book("P-4", citizen_key="2" * 64, service="ZZ"),
        book("P-5", citizen_key="3" * 64, service="P"),  # takes no appointments
        book("P-6", citizen_key="4" * 64, slot_start="2026-11-23T10:10:00+08:00"),  # no slot
        book("P-7", citizen_key="5" * 64, slot_start="2026-11-23T09:00:00+08:00"),  # past
        book("P-8", citizen_key=key, slot_start="2026-11-23T11:00:00+08:00"),  # same day twice
        book("P-9"),  # no citizen
        book("P-10", citizen_key="not-a-key"),
        book("P-11", id_number="110105194912310021"),  # wrong check digit
        {"op": "move", "id": "P-12"},
        {"service": "B"},  # no id: nothing to answer to
    )
    got = {r["id"]: (r["result"], r.get("reason", {}).get("code")) for r in results}
    assert got == {
        "P-1": ("booked", None),
        "P-2": ("booked", None),
        "P-3": ("refused", "slot_full"),
        "P-4": ("refused", "unknown_service"),
        "P-5": ("refused", "no_appointments"),
        "P-6": ("refused", "bad_slot"),
        "P-7": ("refused", "bad_slot"),
        "P-8": ("refused", "already_booked"),
        "P-9": ("refused", "bad_request"),
        "P-10": ("refused", "bad_request"),
        "P-11": ("refused", "bad_id_number"),
        "P-12": ("refused", "bad_request"),
        None: ("refused", "bad_request"),
    }
    full = next(r for r in results if r["id"] == "P-3")["reason"]
    assert full["message"] == "该时段已约满，请选择其他时段" and full["message_en"]
    assert len(hall.ctl.store.rows("appointments")) == 2  # a refusal books nothing
    refusals = {e["platform_id"]: e for e in events(hall) if e["event"] == "refused"}
    assert refusals["P-3"]["reason"]["code"] == "slot_full" and refusals["P-3"]["op"] == "book"
    assert set(refusals) == {f"P-{n}" for n in range(3, 13)}


def test_a_cancellation_frees_the_slot_and_is_done_once(ctl_hall):
    hall = ctl_hall
    push(hall, book("C-1", citizen_key="a" * 64), book("C-2", citizen_key="b" * 64))
    [full] = push(hall, book("C-3", citizen_key="c" * 64))
    assert full["reason"]["code"] == "slot_full"
    [c] = push(hall, {"op": "cancel", "id": "C-1"})
    assert c["result"] == "cancelled" and c["appointment"]["status"] == "cancelled"
    [again] = push(hall, {"op": "cancel", "id": "C-1"})
    assert again["result"] == "duplicate"
    # the freed slot is the next booking's; a cancelled id is not booked again
    assert push(hall, book("C-3", citizen_key="c" * 64))[0]["result"] == "booked"
    assert push(hall, book("C-1", citizen_key="a" * 64))[0]["result"] == "duplicate"
    [unknown] = push(hall, {"op": "cancel", "id": "C-404"})
    assert unknown["reason"]["code"] == "not_found"
    acks = [(e["event"], e["platform_id"]) for e in events(hall) if e.get("platform_id")]
    assert acks == [
        ("booked", "C-1"),
        ("booked", "C-2"),
        ("refused", "C-3"),
        ("cancelled", "C-1"),
        ("booked", "C-3"),
        ("refused", "C-404"),
    ]


def test_checked_in_by_card_at_the_kiosk_like_a_hall_booking(ctl_hall):
    """The kiosk's 预约签到 (appointment.find, then ticket.issue with the card and the booking):
    the same ops as for a booking made at the kiosk; tested in a real window in
    test_kiosk_flows.py."""
    hall = ctl_hall
    citizen = {"id_number": YOUNG_ID, "name": "李小明"}
    push(hall, book("K-1", id_number=YOUNG_ID))
    found = hall.ok(KIOSK, "appointment.find", citizen=citizen)["appointments"]
    assert [(a["service"], a["slot_start"], a["channel"]) for a in found] == [
        ("B", SLOT, "platform")
    ]
    ticket = hall.issue("B", appointment_id=found[0]["id"], citizen=citizen)
    assert ticket["appointment"] == SLOT
    [late] = push(hall, {"op": "cancel", "id": "K-1"})
    assert late["result"] == "refused" and late["reason"]["code"] == "checked_in"


def test_only_the_platform_role_and_managers_send_platform_records(ctl_hall):
    reply = ctl_hall.do(KIOSK, "appointment.platform", records=[book("X-1", citizen_key="a" * 64)])
    assert reply["error"]["code"] == "forbidden"
    too_many = [book(f"X-{n}", citizen_key="a" * 64) for n in range(201)]
    assert ctl_hall.do(PLATFORM, "appointment.platform", records=too_many)["ok"] is False
