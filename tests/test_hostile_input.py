"""What a hostile or broken device cannot do to the hall: refused cleanly, nothing kept, nothing
learnt that is not its own, and no flood of log lines or stored replies."""

from __future__ import annotations

import json
import logging
import re

import pytest

from ctlutil import ELDER_ID, KIOSK, MANAGER, YOUNG_ID, caller
from onewindow import lograte
from onewindow.roles import Device

LED = Device("led-1", "led")
DISPLAY = Device("display-1", "display")


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # conftest.py: the controller on a Monday at 10:00


def raw(req_id: str, op: str, **args) -> bytes:
    # json.dumps writes a lone surrogate as the escape "\ud800", as a hostile device would send it
    return json.dumps({"v": 1, "id": req_id, "op": op, "args": args}).encode()


def count_reloads(ctl) -> list:
    """Every full reload of the controller's memory, noted (the reload itself still runs)."""
    calls = []
    real = ctl.reload

    def noting():
        calls.append(1)
        real()

    ctl.reload = noting
    return calls


def stored_replies(hall, device: str) -> list[dict]:
    return hall.ctl.store.rows("replies", "device = ?", (device,))


def test_reads_leave_no_retry_record_and_the_records_kept_are_bounded(hall):
    for _ in range(200):
        hall.ok(LED, "config.get")
    hall.ok(KIOSK, "queue.status")
    assert stored_replies(hall, "led-1") == [] and stored_replies(hall, "kiosk-1") == []

    # what changes something is still remembered: a retry gets the same ticket
    first = hall.ctl.handle(KIOSK, raw("k-1", "ticket.issue", service="A")).reply
    again = hall.ctl.handle(KIOSK, raw("k-1", "ticket.issue", service="A")).reply
    assert again == first and len(hall.ctl.store.tickets()) == 1

    hall.ctl.reply_bounds = (10, 10**9)  # per device
    issued = [
        hall.ctl.handle(KIOSK, raw(f"k-{n}", "ticket.issue", service="A")).reply
        for n in range(2, 32)
    ]
    hall.ctl.tick()
    assert len(stored_replies(hall, "kiosk-1")) == 10
    # the newest are the ones kept: the latest retry still gets its own ticket, no second one
    assert hall.ctl.handle(KIOSK, raw("k-31", "ticket.issue", service="A")).reply == issued[-1]
    assert len(hall.ctl.store.tickets()) == 31

    hall.ctl.reply_bounds = (10, 4000)  # in all
    hall.ctl.tick()
    kept = stored_replies(hall, "kiosk-1")
    assert 0 < len(kept) < 10 and sum(len(r["reply"].encode()) for r in kept) <= 4000
    assert hall.ctl.handle(KIOSK, raw("k-31", "ticket.issue", service="A")).reply == issued[-1]


@pytest.mark.parametrize(
    "op, args, code",
    [
        ("help.request", {"place": "\ud800"}, "bad_request"),
        (
            "ticket.issue",
            {"service": "A", "citizen": {"id_number": YOUNG_ID, "name": "李\udfff"}},
            "bad_request",
        ),
        ("window.open", {"window": 4, "staff": {"id": "S1", "name": "\ud83d"}}, "bad_request"),
        (
            "appointment.book",
            {
                "service": "F",
                "slot_start": "0001-01-01T00:00:00+08:00",
                "citizen": {"id_number": YOUNG_ID, "name": "李小明"},
            },
            "bad_request",
        ),
        (
            "appointment.book",
            {
                "service": "F",
                "slot_start": "9999-12-31T23:59:59-12:00",
                "citizen": {"id_number": YOUNG_ID, "name": "李小明"},
            },
            "bad_request",
        ),
        # a foreign permanent resident card number in Arabic-Indic digits: \d would take them
        (
            "ticket.issue",
            {"service": "A", "citizen": {"id_number": "ABC" + "\u0661" * 12, "name": "Ali"}},
            "bad_id_number",
        ),
        (
            "appointment.find",
            {"citizen": {"id_number": "ABC" + "\u0661" * 12, "name": "Ali"}},
            "bad_id_number",
        ),
    ],
)
def test_bad_input_is_refused_as_such_without_a_reload(hall, op, args, code):
    waiting = hall.issue("A")
    before = hall.ctl.store.db.total_changes
    reloads = count_reloads(hall.ctl)
    reply = hall.ctl.handle(
        MANAGER if op == "window.open" else KIOSK, raw("bad-1", op, **args)
    ).reply
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    assert reloads == []
    assert hall.ctl.queues.by_id[waiting["id"]].status.value == "waiting"
    assert hall.ctl.store.db.total_changes - before <= 1  # at most its stored refusal
    assert hall.issue("A")["ahead"] == 1  # and the hall goes on


def test_a_lone_surrogate_in_the_op_or_a_key_is_a_bad_request_that_says_no_more(hall):
    for payload in (raw("s-1", "\ud800"), raw("s-2", "queue.status", **{"\udfff": 1})):
        reply = hall.ctl.handle(KIOSK, payload).reply
        assert reply["error"]["code"] == "bad_request" and "Unicode" in reply["error"]["message_en"]
        json.dumps(reply, ensure_ascii=False).encode("utf-8")  # fit to send


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize(
    "payload,zh,en",
    [
        (b'{"v": true, "id": "b-1", "op": "queue.status"}', "协议版本 true", "version true"),
        (b'{"v": 1.0, "id": "b-2", "op": "queue.status"}', "协议版本 1.0", "version 1.0"),
        (
            b'{"v": 1, "id": "b-3", "op": "queue.status", "args": {"x": ' + b"[" * 30000 + b"]}",
            "嵌套层数过多",
            "nested too deeply",
        ),
        (
            b'{"v": 1, "id": "b-4", "op": "queue.status", "args": {"n": ' + b"7" * 5000 + b"}}",
            "数字过长",
            "number too long",
        ),
        (b'{"v": 1, "id": "b-5", "op": "queue.status",', "不是有效的 JSON", "not valid JSON"),
        (b'{"v": 1, "id": "b-6", "op": "\xff"}', "UTF-8", "UTF-8"),
        (
            raw("b-7", "ticket.issue", service=7),
            "参数 service 应为字符串",
            "service must be a string",
        ),
        (raw("b-8", "ticket.issue"), "缺少参数 service", "argument service is missing"),
        (
            raw("b-9", "ticket.issue", service="A", channel="fax"),
            "参数 channel 取值不在",
            "argument channel must be one of",
        ),
        (raw("b-10", "ticket.issue", service="A" * 5000), "参数 service 过长", "too long"),
    ],
    ids=[
        "v-true",
        "v-float",
        "deep",
        "long-int",
        "truncated",
        "not-utf8",
        "type",
        "missing",
        "choice",
        "long",
    ],
)
def test_a_malformed_request_is_told_what_is_wrong_in_chinese_and_in_english(hall, payload, zh, en):
    reply = hall.ctl.handle(KIOSK, payload).reply
    assert reply is not None and reply["ok"] is False, reply
    error = reply["error"]
    assert error["code"] == "bad_request"
    assert zh in error["message"] and en in error["message_en"], error
    assert not CJK.search(error["message_en"]), error["message_en"]
    assert hall.ctl.store.tickets() == []


def test_a_rating_pad_rates_only_its_own_windows_and_only_what_was_just_finished(hall):
    pad3 = Device("rating-3", "rating", frozenset({3}))
    hall.open(3, 4)
    elsewhere = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.finish", window=4)
    reply = hall.do(pad3, "rating.submit", window=3, ticket_id=elsewhere["id"], level=1)
    assert reply["error"]["code"] == "forbidden"
    assert hall.ctl.store.rows("ratings") == [] and hall.ctl.alerts.live == {}

    mine = hall.issue("A")
    hall.call(3)
    hall.ok(caller(3), "window.finish", window=3)
    hall.clock.advance(minutes=31)
    late = hall.do(pad3, "rating.submit", window=3, ticket_id=mine["id"], level=1)
    assert late["error"]["code"] == "expired" and hall.ctl.store.rows("ratings") == []

    now = hall.issue("A")
    hall.call(3)
    hall.ok(caller(3), "window.finish", window=3)
    rated = hall.ok(pad3, "rating.submit", window=3, ticket_id=now["id"], level=5)["rating"]
    assert rated["ticket"] == now["number"] and rated["window"] == 3
    # the citizen can still rate the late one from the ticket's QR page
    assert hall.ok(KIOSK, "rating.submit", ticket_id=mine["id"], level=4)["rating"]["window"] == 3


def test_queue_status_tells_names_and_page_links_only_to_those_who_need_them(hall):
    t = hall.issue("A", citizen={"id_number": ELDER_ID, "name": "王建国"})
    assert t["citizen"] == "王*国" and t["status_url"]
    for dev in (DISPLAY, LED, Device("rating-3", "rating", frozenset({3}))):
        seen = hall.ok(dev, "queue.status", ticket_id=t["id"])["ticket"]
        assert seen["number"] == t["number"] and seen["ahead"] == 0
        assert seen["citizen"] is None and seen["status_url"] is None
    assert hall.ok(caller(4), "queue.status", ticket_id=t["id"])["ticket"]["citizen"] == "王*国"
    managed = hall.ok(MANAGER, "queue.status", ticket_id=t["id"])["ticket"]
    assert managed["citizen"] == "王*国" and managed["status_url"] == t["status_url"]


def test_the_web_pages_reach_a_ticket_only_by_its_qr_page_key(hall):
    web = Device("web-1", "web")
    t = hall.issue("A")
    key = t["status_url"].rsplit("/", 1)[1]
    assert key != t["id"] and key.startswith(t["id"])
    assert hall.do(web, "queue.status", ticket_id=t["id"])["error"]["code"] == "not_found"
    assert hall.do(web, "ticket.cancel", ticket_id=t["id"])["error"]["code"] == "not_found"
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert hall.do(web, "queue.status", ticket_id=forged)["error"]["code"] == "not_found"
    assert hall.ok(web, "queue.status", ticket_id=key)["ticket"]["number"] == t["number"]
    assert hall.ctl.queues.by_id[t["id"]].status.value == "waiting"


def test_twenty_thousand_bad_requests_make_two_log_lines(hall, caplog, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(lograte, "_DEFAULT", lograte.LogRate(clock=lambda: now[0]))
    caplog.set_level(logging.WARNING)
    for _ in range(20_000):
        assert hall.ctl.handle(LED, b"\xff not json").reply is None
    assert len(caplog.records) == 1 and "bad request from led-1" in caplog.text
    now[0] += 61
    lograte.flush()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[1].endswith("(and 19,999 more like it in the last minute)")
