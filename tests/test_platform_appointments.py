"""Appointments from the provincial platform at the controller (op `appointment.platform`, the
one path of the uplink's down topic and of `onewindow appointments import`): a slot of the hall's
capacity, idempotent on the platform's id, cancellations, refusals with a reason, the ID number
hashed at once; and the check-in at the kiosk by card, as for a hall booking."""

from __future__ import annotations

import json

from busutil import cli
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


def test_appointments_import_takes_a_json_or_csv_file_at_the_running_hall(tmp_path, start_hall):
    """`onewindow appointments import FILE`, a hall without the uplink: the same records, the
    same answers, a file imported twice books nothing twice."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    day = datetime.now(tz).date() + timedelta(days=1)
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz).isoformat()
    hall = start_hall("embedded", ("importer", "platform"), ("kiosk-1", "kiosk"))
    device = tmp_path / "importer.json"
    device.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "device": "importer",
                "secret": hall.secrets["importer"],
                "hall": hall.hall_id,
            }
        )
    )
    as_json = tmp_path / "platform.json"
    as_json.write_text(
        json.dumps(
            {
                "appointments": [
                    {"id": "J-1", "service": "B", "slot_start": at, "id_number": YOUNG_ID},
                    {"id": "J-2", "service": "ZZ", "slot_start": at, "citizen_key": "a" * 64},
                ]
            }
        ),
        encoding="utf-8",
    )
    run = cli("appointments", "import", str(as_json), "--device-config", str(device))
    assert run.returncode == 1, run.stderr  # one refused: a script notices
    out = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in run.stdout.splitlines() if "\t" in ln}
    assert out["J-1"][0] == "booked" and out["J-2"][:2] == ["refused", "unknown_service"]
    assert run.stdout.splitlines()[-1] == "1 booked, 0 cancelled, 0 duplicate, 1 refused"
    # CSV, with the first booking again and a cancellation of it
    as_csv = tmp_path / "platform.csv"
    as_csv.write_text(
        "op,id,service,slot_start,citizen_key,id_number,name\n"
        f"book,J-1,B,{at},,{YOUNG_ID},\n"
        f"book,C-1,B,{at},{'c' * 64},,王五\n"
        "cancel,J-1,,,,,\n",
        encoding="utf-8",
    )
    run = cli("appointments", "import", str(as_csv), "--device-config", str(device))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "1 booked, 1 cancelled, 1 duplicate, 0 refused"
    rows = {r["platform_id"]: r for r in hall.ctl.store.rows("appointments")}
    assert rows["J-1"]["status"] == "cancelled" and rows["C-1"]["citizen_masked"] == "王*"
    assert len(rows) == 2
    # a file that is not records: named, nothing sent
    bad = tmp_path / "bad.csv"
    bad.write_text("booking,when\nx,y\n", encoding="utf-8")
    run = cli("appointments", "import", str(bad), "--device-config", str(device))
    assert run.returncode == 2 and "unknown: booking, when" in run.stderr
    # a kiosk's identity may not import
    kiosk = tmp_path / "kiosk.json"
    kiosk.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "device": "kiosk-1",
                "secret": hall.secrets["kiosk-1"],
                "hall": hall.hall_id,
            }
        )
    )
    run = cli("appointments", "import", str(as_json), "--device-config", str(kiosk))
    assert run.returncode == 3 and "forbidden" in run.stderr and "--role platform" in run.stderr
    assert len(hall.ctl.store.rows("appointments")) == 2
