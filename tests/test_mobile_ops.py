"""The controller's side of the citizen's phone: numbers from the entrance page (today's token,
limits per phone and per day, the ID number's check digit), call-ahead notices (sealed, masked,
due at N ahead and at the call, purged at the day's end)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from ctlutil import ELDER_ID, KIOSK, MONDAY_10, YOUNG_ID, Hall, caller
from drivers.smspdu import SINGLE_UNITS, split_units
from onewindow.domain.entrance import entrance_token
from onewindow.phonevault import available
from onewindow.roles import Device

WEB = Device("web-1", "web")
NOTIFIER = Device("notifier-1", "notifier")
PHONE_ID = "b" * 22
MOBILE = "13812341234"

needs_vault = pytest.mark.skipif(not available(), reason="cryptography not installed")


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


def token(hall, days=0):
    return entrance_token(hall.clock.at.date() + timedelta(days=days), hall.ctl.secret)


def take(hall, service="A", phone_id=PHONE_ID, **args):
    args.setdefault("entrance", token(hall))
    return hall.do(WEB, "ticket.issue", service=service, phone_id=phone_id, printed=False, **args)


def key_of(ticket):
    return ticket["status_url"].rsplit("/", 1)[1]


def test_a_number_from_a_phone_needs_todays_entrance_token(hall):
    for bad in (token(hall, -1), token(hall, 1), "A" * 16, ""):
        reply = take(hall, entrance=bad)
        assert not reply["ok"] and reply["error"]["code"] == "bad_entrance", bad
        assert "今天的二维码" in reply["error"]["message"]
    reply = take(hall)
    assert reply["ok"] and reply["result"]["ticket"]["channel"] == "web"
    assert hall.ok(Device("m", "manager"), "entrance.url")["url"].endswith("/e/" + token(hall))


def test_a_phone_takes_at_most_its_daily_numbers_and_the_hall_its_cap(hall):
    assert take(hall, "A")["ok"] and take(hall, "B")["ok"]
    third = take(hall, "F")
    assert third["error"]["code"] == "phone_limit" and "最多取号2次" in third["error"]["message"]
    assert take(hall, "F", phone_id="c" * 22)["ok"]  # another phone
    hall.clock.advance(days=1)  # a new day, a new count (and a new token)
    assert take(hall, "F")["ok"]


def test_the_daily_cap_of_numbers_from_phones(tmp_path):
    h = Hall(tmp_path, MONDAY_10, edit=lambda raw: raw["mobile"].update(daily_max=2))
    try:
        assert take(h, phone_id="c" * 22)["ok"] and take(h, phone_id="d" * 22)["ok"]
        assert take(h, phone_id="e" * 22)["error"]["code"] == "phone_quota"
        assert h.issue("A")["number"]  # the kiosks are not counted
    finally:
        h.ctl.store.close()


def test_an_id_number_from_the_phone_is_checked_and_kept_only_as_its_hash(hall):
    bad = YOUNG_ID[:-1] + ("0" if YOUNG_ID[-1] != "0" else "1")
    reply = take(hall, citizen={"id_number": bad, "name": ""})
    assert reply["error"]["code"] == "bad_id_number"
    t = take(hall, citizen={"id_number": YOUNG_ID, "name": ""})["result"]["ticket"]
    again = take(hall, phone_id="f" * 22, citizen={"id_number": YOUNG_ID, "name": ""})
    assert again["error"]["code"] == "already_waiting"  # the same citizen, from another phone
    hall.ctl.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    data = b"".join(p.read_bytes() for p in (hall.tmp / "data").glob("hall.db*"))
    assert YOUNG_ID.encode() not in data and t["number"].encode() in data


def test_an_id_number_typed_on_a_phone_declares_an_elder_and_blocks_no_card(hall):
    """Someone else's number typed on a phone: the ticket goes first only as a declared 绿色通道
    (checked at the window), and the card's holder still takes a number at the kiosk."""
    typed = take(hall, "A", citizen={"id_number": ELDER_ID, "name": ""})["result"]["ticket"]
    assert (typed["priority"], typed["declared"], typed["priority_check"]) == (
        "elder",
        "elder",
        "declared",
    )
    card = hall.issue("A", citizen={"id_number": ELDER_ID, "name": "王建国"})
    assert card["priority"] == "elder" and card["priority_check"] is None
    # the card now waits: a second card read is refused, a second phone is not told about it
    again = hall.do(KIOSK, "ticket.issue", service="A", citizen={"id_number": ELDER_ID})
    assert again["error"]["code"] == "already_waiting"
    assert again["error"]["detail"]["ticket"] == card["number"]
    other_phone = take(hall, "A", phone_id="g" * 22, citizen={"id_number": ELDER_ID, "name": ""})
    assert other_phone["error"]["code"] == "already_waiting"  # the first phone's, not the card's
    assert other_phone["error"]["detail"]["ticket"] == typed["number"]
    # at the window the staff see no card matching: withdrawn, it waits as anyone else
    hall.open(4)
    assert hall.call(4)["id"] == typed["id"]
    t = hall.ok(caller(4), "ticket.priority", window=4, decision="withdraw")["ticket"]
    assert (t["priority"], t["priority_check"]) == (None, "withdrawn")


def test_a_phone_or_a_kiosk_cannot_choose_its_priority_or_channel(hall):
    for args in (
        {"priority": "elder"},
        {"priority": "other"},
        {"channel": "staff"},
        {"channel": "kiosk"},
        {"declared": "disabled"},
    ):
        reply = take(hall, "A", **args)
        assert reply["error"]["code"] == "forbidden", args
    for args in ({"channel": "staff"}, {"channel": "web"}):
        reply = hall.do(KIOSK, "ticket.issue", service="A", **args)
        assert reply["error"]["code"] == "forbidden", args
    assert hall.ctl.store.tickets() == []  # nothing was issued
    # a kiosk's own priority is ignored, not refused (kiosks of other vendors sent one): the
    # card decides; and it may still name the appointment channel for a check-in
    plain = hall.ok(KIOSK, "ticket.issue", service="A", priority="elder")["ticket"]
    assert plain["priority"] is None and plain["channel"] == "kiosk"
    no_booking = hall.do(KIOSK, "ticket.issue", service="A", channel="appointment")
    assert no_booking["error"]["code"] == "not_found"  # as ever without a booking
    hall.ok(KIOSK, "ticket.cancel", ticket_id=plain["id"])
    # the kiosk's 绿色通道 stays, declared; staff may still set a priority they saw
    assert hall.issue("A", declared="pregnant")["priority_check"] == "declared"
    staff = hall.ok(caller(4), "ticket.issue", service="A", priority="veteran")["ticket"]
    assert (staff["priority"], staff["channel"]) == ("veteran", "staff")
    assert take(hall, "A")["result"]["ticket"]["channel"] == "web"


def test_a_number_typed_on_a_phone_does_not_check_in_a_strangers_booking(hall):
    slots = hall.ok(KIOSK, "appointment.slots", service="F")["slots"]
    slot = next(s for s in slots if s["start"] >= "2026-11-23T10:30" and s["free"])
    citizen = {"id_number": YOUNG_ID, "name": "李小明"}
    appt = hall.ok(
        KIOSK, "appointment.book", service="F", slot_start=slot["start"], citizen=citizen
    )["appointment"]
    hall.clock.advance(minutes=15)  # within the check-in window
    t = take(hall, "F", citizen={"id_number": YOUNG_ID, "name": ""})["result"]["ticket"]
    assert t["channel"] == "web" and t["appointment"] is None
    assert hall.ctl.store.rows("appointments", "id = ?", (appt["id"],))[0]["status"] == "booked"
    assert hall.issue("F", citizen=citizen)["appointment"] == appt["slot_start"]  # the card
    booked = hall.do(
        WEB,
        "appointment.book",
        service="F",
        slot_start=slot["start"],
        citizen={"id_number": ELDER_ID, "name": ""},
        channel="platform",
    )
    assert booked["error"]["code"] == "forbidden"


def free_slots(hall, service="F", after="2026-11-23T10:30"):
    return [
        s["start"]
        for s in hall.ok(KIOSK, "appointment.slots", service=service)["slots"]
        if s["start"] >= after and s["free"]
    ]


def book(hall, slot, id_number=YOUNG_ID, phone_id=PHONE_ID, service="F"):
    args = {"phone_id": phone_id} if phone_id else {}
    citizen = {"id_number": id_number, "name": ""}
    return hall.do(
        WEB, "appointment.book", service=service, slot_start=slot, citizen=citizen, **args
    )


def test_a_phone_cannot_look_up_bookings_by_an_id_number(hall):
    """A stranger's ID number typed on a phone shows none of their bookings or tickets: the
    phone sees what it booked and took itself; the card at the kiosk sees them all."""
    slots = free_slots(hall)
    card = {"id_number": YOUNG_ID, "name": "李小明"}
    theirs = hall.ok(KIOSK, "appointment.book", service="F", slot_start=slots[0], citizen=card)
    hall.issue("A", citizen=card)
    stranger = hall.do(WEB, "appointment.find", citizen=card, phone_id=PHONE_ID)
    assert stranger["error"]["code"] == "forbidden" and "刷身份证" in stranger["error"]["message"]
    assert theirs["appointment"]["id"] not in json.dumps(stranger)
    assert hall.do(WEB, "appointment.find")["error"]["code"] == "bad_request"  # no phone_id
    assert hall.ok(WEB, "appointment.find", phone_id=PHONE_ID) == {
        "appointments": [],
        "tickets": [],
    }
    mine = book(hall, slots[1], id_number=ELDER_ID)["result"]["appointment"]
    t = take(hall, "A")["result"]["ticket"]
    found = hall.ok(WEB, "appointment.find", phone_id=PHONE_ID)
    assert [a["id"] for a in found["appointments"]] == [mine["id"]]
    assert [x["id"] for x in found["tickets"]] == [t["id"]]
    assert hall.ok(WEB, "appointment.find", phone_id="h" * 22)["appointments"] == []
    # the card's holder sees every booking in their name, a phone's too (and may cancel it)
    at_kiosk = hall.ok(KIOSK, "appointment.find", citizen=card)
    assert [a["id"] for a in at_kiosk["appointments"]] == [theirs["appointment"]["id"]]


def test_a_phones_booking_is_its_own_and_never_refuses_a_card(hall):
    """A number typed on a phone books as a claim: held to the phone (phone_id, its limit) and
    against typed numbers only, so it neither blocks the card's holder nor tells the phone
    that the holder has booked."""
    slots = free_slots(hall)
    card = {"id_number": YOUNG_ID, "name": "李小明"}
    hall.ok(KIOSK, "appointment.book", service="F", slot_start=slots[0], citizen=card)
    assert book(hall, slots[1], phone_id=None)["error"]["code"] == "bad_request"
    typed = book(hall, slots[1])["result"]["appointment"]  # not already_booked: learns nothing
    assert typed["channel"] == "web"
    again = book(hall, slots[2], phone_id="i" * 22)  # the same number from another phone
    assert again["error"]["code"] == "already_booked"
    # the card's holder books on another day all the same, typed number or not
    tomorrow = free_slots(hall, after="2026-11-24T09")[0]
    assert book(hall, tomorrow)["ok"]  # the phone's second booking
    later = free_slots(hall, after="2026-11-24T10")[0]
    assert hall.ok(KIOSK, "appointment.book", service="F", slot_start=later, citizen=card)
    third = book(hall, free_slots(hall, after="2026-11-25")[0], id_number=ELDER_ID)
    assert third["error"]["code"] == "phone_limit"  # tickets_per_phone bookings at once
    rows = hall.ctl.store.rows("appointments", "channel = 'web'")
    assert {r["citizen_from"] for r in rows} == {"typed"} and all(r["phone_key"] for r in rows)
    assert PHONE_ID not in json.dumps(rows)  # only its keyed hash


def test_a_phone_cancels_and_checks_in_only_what_it_booked(hall):
    """A booking id and a matching typed number are not the citizen: a phone cancels or checks
    in only the bookings it made; a card booking is cancelled with the card."""
    slots = free_slots(hall)
    card = {"id_number": YOUNG_ID, "name": "李小明"}
    theirs = hall.ok(KIOSK, "appointment.book", service="F", slot_start=slots[0], citizen=card)
    theirs_id = theirs["appointment"]["id"]
    typed = {"id_number": YOUNG_ID, "name": ""}
    for args in ({"citizen": typed, "phone_id": PHONE_ID}, {"citizen": typed}):
        reply = hall.do(WEB, "appointment.cancel", appointment_id=theirs_id, **args)
        assert not reply["ok"], args
    hall.clock.advance(minutes=20)  # within the card booking's check-in window
    spent = take(hall, "F", citizen=typed, appointment_id=theirs_id)
    assert spent["error"]["code"] == "forbidden"
    assert hall.ctl.store.appointment(theirs_id)["status"] == "booked"
    # a phone's own booking: another phone can neither cancel it nor check it in
    mine = book(hall, slots[2], id_number=ELDER_ID)["result"]["appointment"]
    elder = {"id_number": ELDER_ID, "name": ""}
    other = "j" * 22
    assert (
        hall.do(WEB, "appointment.cancel", appointment_id=mine["id"], phone_id=other)["error"][
            "code"
        ]
        == "forbidden"
    )
    hall.clock.at = datetime.fromisoformat(mine["slot_start"])  # its slot begins
    assert (
        take(hall, "F", phone_id=other, citizen=elder, appointment_id=mine["id"])["error"]["code"]
        == "forbidden"
    )
    t = take(hall, "F", citizen=elder, appointment_id=mine["id"])
    assert t["ok"], t
    t = t["result"]["ticket"]
    assert t["channel"] == "appointment"
    # a checked-in phone booking carries its typed number: no 容缺 case on it either
    assert hall.ctl.store.ticket(t["id"]).citizen_from == "typed"


@needs_vault
def test_a_notice_is_sealed_masked_due_at_n_ahead_and_at_the_call_then_purged(hall):
    ahead = [hall.issue("A") for _ in range(5)]
    mine = take(hall, "A")["result"]["ticket"]
    refused = hall.do(WEB, "notice.subscribe", ticket_id=key_of(mine), phone=MOBILE)
    assert refused["error"]["code"] == "consent_required"
    sub = hall.ok(WEB, "notice.subscribe", ticket_id=key_of(mine), phone=MOBILE, consent=True)
    assert sub["notice"]["phone"] == "138****1234"
    status = hall.ok(WEB, "queue.status", ticket_id=key_of(mine))["ticket"]
    assert status["notice"]["phone"] == "138****1234" and status["ahead"] == 5
    assert hall.ok(NOTIFIER, "notice.pending")["due"] == []
    hall.open(4)
    hall.call(4)
    hall.call(4)  # 3 ahead now
    (due,) = hall.ok(NOTIFIER, "notice.pending")["due"]
    assert due["stage"] == "ahead" and due["phone"] == MOBILE
    assert f"{mine['number']}" in due["text"] and "前面还有3位" in due["text"]
    hall.ok(NOTIFIER, "notice.sent", ticket_id=mine["id"], stage="ahead", ok=True)
    assert hall.ok(NOTIFIER, "notice.pending")["due"] == []
    for _ in range(4):
        hall.call(4)
    (due,) = hall.ok(NOTIFIER, "notice.pending")["due"]
    assert due["stage"] == "call" and "请" + mine["number"] + "号到4号" in due["text"]
    hall.ok(NOTIFIER, "notice.sent", ticket_id=mine["id"], stage="call", ok=False, reason="无信号")
    assert any(a["key"] == "sms:notifier-1" for a in hall.ctl.alerts.live.values())
    assert hall.ok(NOTIFIER, "notice.pending")["due"] == []  # a failure is not sent again
    # nowhere in the database in clear, and gone with the day
    hall.ctl.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    data = b"".join(p.read_bytes() for p in (hall.tmp / "data").glob("hall.db*"))
    assert MOBILE.encode() not in data and b"138****1234" in data
    assert ahead
    hall.clock.advance(days=1)
    hall.issue("A")  # the first request of the day rolls it
    assert hall.ctl.store.notice(mine["id"]) is None


@needs_vault
def test_a_notice_is_taken_in_every_language_the_hall_offers_tibetan_texted_in_chinese(tmp_path):
    """The ticket page asks in the citizen's language; a hall offering Tibetan takes the notice
    from a Tibetan page and texts it in Chinese (docs/phone.md: GSM phones rarely show
    Tibetan); a language the hall does not offer is refused."""
    h = Hall(tmp_path, MONDAY_10, edit=lambda raw: raw["hall"].update(languages=["zh", "bo", "en"]))
    try:
        for _ in range(3):
            h.issue("A")
        mine = take(h, "A")["result"]["ticket"]
        args = {"ticket_id": key_of(mine), "phone": MOBILE, "consent": True}
        refused = h.do(WEB, "notice.subscribe", lang="fr", **args)
        assert refused["error"]["code"] == "bad_request"
        sub = h.ok(WEB, "notice.subscribe", lang="bo", **args)
        assert sub["notice"]["phone"] == "138****1234"
        (due,) = h.ok(NOTIFIER, "notice.pending")["due"]  # three ahead: due at once
        assert due["stage"] == "ahead" and "前面还有3位" in due["text"]
    finally:
        h.ctl.store.close()


@needs_vault
def test_a_notice_with_nobody_ahead_reads_as_a_sentence_no_longer_than_with_some(hall):
    """A citizen first in the queue is told there is nobody ahead, not "前面还有0位", in a text
    that takes no more SMS parts than the one with a figure (drivers/smspdu.py splits what the
    modem sends): the Chinese fits one SMS either way; with some ahead it reads as it always
    did, in Chinese and in English."""
    said = {}
    for lang in ("zh", "en"):
        for phone_id in ("c" * 22, "d" * 22):  # the first in the queue, then one behind it
            mine = take(hall, "A", phone_id=phone_id)["result"]["ticket"]
            args = {"ticket_id": key_of(mine), "phone": MOBILE, "consent": True}
            hall.ok(WEB, "notice.subscribe", lang=lang, **args)
            ahead = hall.ok(WEB, "queue.status", ticket_id=key_of(mine))["ticket"]["ahead"]
            (due,) = hall.ok(NOTIFIER, "notice.pending")["due"]
            said[lang, ahead] = due["text"]
            hall.ok(NOTIFIER, "notice.sent", ticket_id=mine["id"], stage="ahead", ok=True)
        hall.clock.advance(days=1)  # a new day: the next language's first number is first again
    zh = said["zh", 0]
    assert "）前面没有人了，请回到大厅留意叫号。" in zh and "0位" not in zh
    assert "）前面还有1位，请回到大厅留意叫号。" in said["zh", 1]
    for text in (zh, said["zh", 1]):  # UCS-2: SINGLE_UNITS UTF-16 units in one SMS
        assert len(text.encode("utf-16-be")) // 2 <= SINGLE_UNITS, text
    en = said["en", 0]
    assert ": you are next. Please come back to the hall" in en and "0 ahead" not in en
    assert ": 1 ahead of you. Please come back to the hall" in said["en", 1]
    # the English, with the hall's name, is past one SMS either way: nobody ahead adds no part
    assert len(split_units(en)) <= len(split_units(said["en", 1]))


def test_only_the_notifier_reads_numbers_and_the_web_only_by_page_key(hall):
    mine = take(hall, "A")["result"]["ticket"]
    for dev in (WEB, Device("m", "manager"), Device("kiosk-1", "kiosk")):
        assert hall.do(dev, "notice.pending")["error"]["code"] == "forbidden"
    reply = hall.do(WEB, "notice.subscribe", ticket_id=mine["id"], phone=MOBILE, consent=True)
    assert reply["error"]["code"] == "not_found"  # the bare id is not the QR's key
    assert caller(4)


def test_the_shipped_hall_caps_numbers_from_phones_that_send_no_cookie(tmp_path):
    """A script sends no cookie, so every request is a new phone (docs/phone.md): what stops it
    is the shipped hall's cap on all phones together, and the kiosks go on."""
    import secrets
    import tomllib

    from busutil import REPO

    shipped = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    cap = shipped["mobile"]["daily_max"]
    assert 0 < cap <= 500
    h = Hall(tmp_path, MONDAY_10, edit=lambda raw: raw["services"][0].update(daily_quota=0))
    try:
        codes = [take(h, "A", phone_id=secrets.token_urlsafe(16)) for _ in range(cap + 5)]
        assert sum(r["ok"] for r in codes) == cap
        assert {r["error"]["code"] for r in codes if not r["ok"]} == {"phone_quota"}
        assert h.issue("A")["number"]
    finally:
        h.ctl.store.close()
