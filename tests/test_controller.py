"""The controller on a real SQLite file with an injected clock: what a kiosk and a window see."""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import datetime, timedelta

import pytest

from busutil import REPO
from ctlutil import ELDER_ID, KIOSK, MANAGER, MONDAY_10, TZ, YOUNG_ID, Hall, caller
from onewindow.configreader import ConfigError
from onewindow.demo import always_open_copy
from onewindow.startup import open_hall


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # conftest.py: the controller on a Monday at 10:00


def test_numbers_per_prefix_zero_padded_and_reset_at_local_midnight(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 23, 23, 59, 58, tzinfo=TZ), config=cfg)
    assert [h.issue("A")["number"], h.issue("A")["number"], h.issue("F")["number"]] == [
        "A001",
        "A002",
        "F001",
    ]
    h.clock.at = datetime(2026, 11, 23, 23, 59, 59, tzinfo=TZ)
    assert h.issue("A")["number"] == "A003"
    h.clock.at = datetime(2026, 11, 24, 0, 0, 1, tzinfo=TZ)
    fresh = h.issue("A")
    assert fresh["number"] == "A001"
    # yesterday's tickets do not wait into today; the numbers stay unique per day in the store
    assert h.ctl.store.tickets("day = '2026-11-23' AND status = 'waiting'") == []
    h.reopen()
    assert h.issue("A")["number"] == "A002"
    h.ctl.store.close()


def test_quota_exhausted_is_a_clear_chinese_error(tmp_path):
    def small(raw):
        raw["services"][0]["daily_quota"] = 2

    h = Hall(tmp_path, MONDAY_10, edit=small)
    h.issue("A"), h.issue("A")
    reply = h.do(KIOSK, "ticket.issue", service="A")
    assert reply["error"]["code"] == "quota_exhausted"
    assert "号源已取完" in reply["error"]["message"]
    assert h.issue("B")["number"] == "B001"  # other services go on
    h.ctl.store.close()


@pytest.mark.parametrize(
    "at, opens",
    [
        (datetime(2026, 11, 23, 12, 30, tzinfo=TZ), "13:30"),  # lunch break
        (datetime(2026, 11, 22, 10, 0, tzinfo=TZ), "08:30"),  # Sunday: Monday morning
        (datetime(2026, 11, 25, 18, 30, tzinfo=TZ), None),  # Wednesday late opening: open
    ],
)
def test_outside_hours_says_when_windows_open(tmp_path, at, opens):
    h = Hall(tmp_path, at)
    reply = h.do(KIOSK, "ticket.issue", service="A")
    if opens is None:
        assert reply["ok"]
    else:
        assert reply["error"]["code"] == "closed"
        assert opens in reply["error"]["message"] and reply["error"]["detail"]["next_opening"]
    h.ctl.store.close()


def test_saturday_hall_open_but_real_estate_is_weekdays_only(tmp_path):
    h = Hall(tmp_path, datetime(2026, 11, 28, 10, 0, tzinfo=TZ))
    assert h.issue("A")["number"] == "A001"
    reply = h.do(KIOSK, "ticket.issue", service="F")
    assert reply["error"]["code"] == "closed"
    h.ctl.store.close()


def test_elderly_citizen_goes_first_and_name_is_masked(hall):
    hall.open(4)
    first = hall.issue("A", citizen={"id_number": YOUNG_ID, "name": "李小明"})
    elder = hall.issue("A", citizen={"id_number": ELDER_ID, "name": "王建国"})
    assert elder["priority"] == "elder" and first.get("priority") is None
    assert hall.call(4)["number"] == elder["number"]
    assert hall.call(4)["number"] == first["number"]
    reply = hall.do(
        KIOSK, "ticket.issue", service="A", citizen={"id_number": ELDER_ID, "name": "王建国"}
    )
    assert reply["ok"]  # served and gone, so a new ticket is fine
    again = hall.do(
        KIOSK, "ticket.issue", service="A", citizen={"id_number": ELDER_ID, "name": "王建国"}
    )
    assert again["error"]["code"] == "already_waiting"


def test_bad_id_number_is_refused(hall):
    reply = hall.do(
        KIOSK,
        "ticket.issue",
        service="A",
        citizen={"id_number": "110105194912310021", "name": "王建国"},
    )
    assert reply["error"]["code"] == "bad_id_number"


def test_personal_data_never_reaches_the_database_in_clear(hall):
    hall.issue("A", citizen={"id_number": ELDER_ID, "name": "王建国"})
    hall.open(1)
    hall.call(1)
    hall.ctl.store.close()
    raw = b"".join(p.read_bytes() for p in (hall.tmp / "data").iterdir() if p.is_file())
    for secret in (
        ELDER_ID.encode(),
        "王建国".encode(),
        "王建国".encode("utf-16-le"),
        ELDER_ID[-8:].encode(),
    ):
        assert secret not in raw
    hall.ctl = open_hall(hall.config, hall.tmp / "data", clock=hall.clock)


def test_transfer_keeps_the_original_issue_time(hall):
    hall.open(4, 13)
    t = hall.issue("A")
    hall.clock.advance(minutes=5)
    later = hall.issue("P")
    assert hall.call(4)["number"] == t["number"]
    hall.clock.advance(minutes=10)
    moved = hall.ok(caller(4), "window.transfer", window=4, to_window=13)["ticket"]
    assert moved["status"] == "waiting"
    # window 13 (pickup) takes the transferred ticket before its own earlier-issued... and the
    # original issue time stands
    got = hall.call(13)
    assert got["number"] == t["number"]
    stored = hall.ctl.store.ticket(t["id"])
    assert stored.issued_at == MONDAY_10 and stored.order_at == MONDAY_10
    assert hall.call(13)["number"] == later["number"]


def test_transfer_to_a_service_queues_by_original_time(hall):
    hall.open(4, 12)
    a = hall.issue("A")
    hall.clock.advance(minutes=3)
    fund = hall.issue("L")
    hall.call(4)
    hall.ok(caller(4), "window.transfer", window=4, to_service="L")
    assert hall.call(12)["number"] == a["number"]  # issued before L001
    assert hall.call(12)["number"] == fund["number"]


def test_no_show_can_be_reinstated_behind_two_people_within_grace(hall):
    hall.open(4)
    skipped = hall.issue("A")
    others = []
    for _ in range(3):
        hall.clock.advance(minutes=1)
        others.append(hall.issue("A"))
    hall.call(4)
    hall.ok(caller(4), "window.skip", window=4)
    hall.clock.advance(minutes=10)
    hall.ok(caller(4), "ticket.reinstate", ticket_id=skipped["id"])
    order = [hall.call(4)["number"] for _ in range(4)]
    assert order == [
        others[0]["number"],
        others[1]["number"],
        skipped["number"],
        others[2]["number"],
    ]

    late = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.skip", window=4)
    hall.clock.advance(minutes=31)
    reply = hall.do(caller(4), "ticket.reinstate", ticket_id=late["id"])
    assert reply["error"]["code"] == "expired"


def test_every_transition_is_audited_with_its_device_and_the_log_is_append_only(hall):
    hall.open(4)
    t = hall.issue("A")
    hall.call(4)
    hall.ok(caller(4), "window.recall", window=4)
    hall.ok(caller(4), "window.start", window=4)
    hall.ok(caller(4), "window.finish", window=4)
    rows = [r for r in hall.ctl.store.audit_rows() if r["ticket_id"] == t["id"]]
    assert [(r["device"], r["action"]) for r in rows] == [
        ("kiosk-1", "issue"),
        ("caller-4", "call"),
        ("caller-4", "recall"),
        ("caller-4", "start"),
        ("caller-4", "finish"),
    ]
    assert all(r["at"] for r in rows)
    db = sqlite3.connect(hall.tmp / "data" / "hall.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET device = 'someone-else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()


def test_roles_and_windows_are_enforced(hall):
    hall.open(4)
    hall.issue("A")
    assert hall.do(KIOSK, "window.call_next", window=4)["error"]["code"] == "forbidden"
    assert hall.do(caller(5), "window.call_next", window=4)["error"]["code"] == "forbidden"
    assert hall.do(caller(4), "config.notice", text="x")["error"]["code"] == "forbidden"


def test_estimated_wait_grows_with_the_queue_and_shrinks_with_open_windows(hall):
    hall.open(4)
    first = hall.issue("A")
    for _ in range(5):
        hall.issue("A")
    last = hall.issue("A")
    assert last["ahead"] == 6 and last["est_wait_min"] > first["est_wait_min"]
    hall.open(5, 1, 2, 3)
    status = hall.ok(KIOSK, "queue.status", ticket_id=last["id"])["ticket"]
    assert status["est_wait_min"] < last["est_wait_min"]


def test_managers_changes_persist_and_export_in_the_same_format(hall, tmp_path):
    hall.ok(MANAGER, "config.service", code="A", daily_quota=3)
    hall.reopen()
    assert hall.ctl.hall.service("A").daily_quota == 3
    exported = hall.ok(MANAGER, "config.export")
    raw = tomllib.loads(exported["toml"])
    assert next(s for s in raw["services"] if s["code"] == "A")["daily_quota"] == 3


def test_bad_file_names_file_section_and_option_and_nothing_is_written(tmp_path):
    def broken(raw):
        raw["services"][2]["daily_quota"] = "lots"
        raw["windows"][3]["services"] = ["A", "ZZ"]

    with pytest.raises(ConfigError) as err:
        Hall(tmp_path, MONDAY_10, edit=broken)
    text = str(err.value)
    assert "edited.toml" in text and "daily_quota" in text and "'ZZ'" in text
    # which block of the file: the 3rd [[services]], the one with code "C"
    assert '[[services]] #3 (code = "C") daily_quota' in text
    assert "[[windows]] #4 (number = 4) services: unknown service or theme 'ZZ'" in text
    assert not (tmp_path / "data" / "hall.db").exists()


def test_kpis_per_window_and_department_from_the_day(hall):
    hall.open(4, 6)
    a = hall.issue("A")
    hall.issue("C")
    hall.clock.advance(minutes=6)
    hall.call(4)
    hall.ok(caller(4), "window.start", window=4)
    hall.clock.advance(minutes=4)
    hall.ok(caller(4), "window.finish", window=4)
    hall.ok(KIOSK, "rating.submit", ticket_id=a["id"], level=5, channel="kiosk")
    hall.call(6)
    hall.ok(caller(6), "window.skip", window=6)
    rows = {r["key"]: r for r in hall.ok(MANAGER, "report.kpis", group="window")["rows"]}
    assert rows["4"]["served"] == 1 and rows["4"]["avg_wait_min"] == 6.0
    assert rows["4"]["avg_handle_min"] == 4.0 and rows["4"]["satisfaction"] == 100.0
    assert rows["6"]["no_show"] == 1
    depts = {r["key"]: r for r in hall.ok(MANAGER, "report.kpis", group="department")["rows"]}
    assert depts["县公安局"]["issued"] == 1 and depts["县人社局"]["issued"] == 1
    own = hall.ok(caller(4), "report.kpis", group="window", window=4)["rows"]
    assert [r["key"] for r in own] == ["4"]
    assert hall.do(caller(4), "report.kpis", window=6)["error"]["code"] == "forbidden"
    audit = hall.ok(MANAGER, "report.audit")["rows"]
    assert {"issue", "call", "finish", "skip"} <= {r["action"] for r in audit}


def test_help_request_alert_survives_a_restart_until_cleared(hall):
    hall.ok(KIOSK, "help.request", place="1号自助机")
    hall.reopen()
    alerts = hall.ctl.alerts.listed()
    assert [a["kind"] for a in alerts] == ["help"] and "1号自助机" in alerts[0]["message"]
    hall.ok(MANAGER, "alert.clear", key=alerts[0]["key"])
    hall.reopen()
    assert hall.ctl.alerts.listed() == []


def test_hall_switched_off_overnight_expires_yesterdays_tickets_on_start(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 23, 17, 0, tzinfo=TZ), config=cfg)
    old = [h.issue("A"), h.issue("A")]
    h.clock.at = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    h.reopen()  # no request crossed midnight in this process
    h.ctl.tick()
    assert {h.ctl.store.ticket(t["id"]).status.value for t in old} == {"cancelled"}
    fresh = h.issue("A")
    assert fresh["number"] == "A001" and fresh["ahead"] == 0
    h.open(4)
    assert h.call(4)["id"] == fresh["id"]
    h.ctl.store.close()


def test_a_failing_first_request_after_midnight_does_not_undo_the_rollover(tmp_path, monkeypatch):
    from onewindow import ops_registry

    def broken(ctl, dev, a):
        raise RuntimeError("a bug in some op")

    monkeypatch.setitem(ops_registry.OPS, "test.broken", (broken, ("kiosk",)))
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 23, 23, 59, tzinfo=TZ), config=cfg)
    old = h.issue("A")
    h.clock.at = datetime(2026, 11, 24, 0, 0, 5, tzinfo=TZ)
    assert h.do(KIOSK, "test.broken")["error"]["code"] == "internal"
    assert h.ctl.store.ticket(old["id"]).status.value == "cancelled"
    assert h.issue("A")["ahead"] == 0
    h.ctl.store.close()


def test_full_width_digits_are_not_an_id_number(hall):
    reply = hall.do(
        KIOSK,
        "ticket.issue",
        service="A",
        citizen={"id_number": "１１０１０５１９４９１２３１００２X", "name": "王建国"},
    )
    assert reply["error"]["code"] == "bad_id_number"


def test_a_refused_request_changes_nothing_even_if_the_op_wrote_first(hall):
    t = hall.issue("A")
    reply = hall.do(KIOSK, "ticket.cancel", ticket_id=t["id"], reason=123)
    assert reply["error"]["code"] == "bad_request"
    assert hall.ctl.store.ticket(t["id"]).status.value == "waiting"
    assert hall.ctl.queues.by_id[t["id"]].status.value == "waiting"
    assert [w["number"] for w in [hall.ok(KIOSK, "queue.status", ticket_id=t["id"])["ticket"]]] == [
        t["number"]
    ]


def test_ratings_need_a_finished_transaction_and_a_real_window(hall):
    assert hall.do(KIOSK, "rating.submit", window=4, level=1)["error"]["code"] == "not_found"
    assert hall.do(KIOSK, "rating.submit", window=999, level=1)["error"]["code"] == "not_found"
    assert hall.ctl.store.rows("ratings") == [] and hall.ctl.alerts.live == {}


def test_device_health_takes_known_parts_only(hall):
    assert hall.do(KIOSK, "device.health", part="printer", status="paper_end")["ok"]
    assert (
        hall.do(KIOSK, "device.health", part="x" * 20, status="broken")["error"]["code"]
        == "bad_request"
    )
    assert hall.ctl.alerts.keys() == ["printer:kiosk-1"]


def test_check_in_needs_the_card_and_only_for_the_booked_service(hall):
    slots = hall.ok(KIOSK, "appointment.slots", service="F")["slots"]
    slot = next(s for s in slots if s["start"] >= "2026-11-23T10:30" and s["free"])
    citizen = {"id_number": YOUNG_ID, "name": "李小明"}
    booked = hall.ok(
        KIOSK, "appointment.book", service="F", slot_start=slot["start"], citizen=citizen
    )
    appt = booked["appointment"]
    hall.clock.advance(minutes=15)
    other = hall.issue("A", citizen=citizen)  # came for 户籍 as well
    assert other["service"] == "A" and other["appointment"] is None
    assert hall.ctl.store.rows("appointments", "id = ?", (appt["id"],))[0]["status"] == "booked"
    no_card = hall.do(KIOSK, "ticket.issue", service="F", appointment_id=appt["id"])
    assert no_card["error"]["code"] == "need_card"
    checked = hall.issue("F", appointment_id=appt["id"], citizen=citizen)
    assert checked["appointment"] == appt["slot_start"]


def test_no_show_from_yesterday_cannot_be_reinstated_today(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 23, 23, 50, tzinfo=TZ), config=cfg)
    h.open(4)
    t = h.issue("A")
    h.call(4)
    h.ok(caller(4), "window.skip", window=4)
    h.clock.at = datetime(2026, 11, 24, 0, 5, tzinfo=TZ)
    assert h.do(caller(4), "ticket.reinstate", ticket_id=t["id"])["error"]["code"] in (
        "expired",
        "bad_state",
    )
    assert h.ok(KIOSK, "queue.status")["queues"]["A"]["waiting"] == 0
    h.ctl.store.close()


def test_a_clock_stepped_forward_a_day_expires_no_waiting_ticket(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 10, 0, tzinfo=TZ), config=cfg)
    before = [h.issue("A"), h.issue("A")]
    h.clock.step(days=1)  # a wrong date set: a day on, with no time passing
    h.ctl.tick()
    during = h.issue("A")
    assert during["number"] == "A003"  # the same day's numbers go on
    waiting = before + [during]
    assert {h.ctl.store.ticket(t["id"]).status.value for t in waiting} == {"waiting"}
    alerts = h.ctl.alerts.listed()
    assert [a["kind"] for a in alerts] == ["clock"] and "向前跳变" in alerts[0]["message"]
    assert "11-24" in alerts[0]["message"] and h.ctl.views.hall()["day"] == "2026-11-24"

    h.clock.advance(minutes=5)
    h.clock.step(days=-1)  # and is put right
    h.ctl.tick()
    assert h.issue("A")["number"] == "A004"
    assert h.ctl.alerts.listed() == []  # no second alert for the correction, and cleared
    h.open(4)
    assert [h.call(4)["number"] for _ in range(4)] == ["A001", "A002", "A003", "A004"]
    h.ctl.store.close()


def test_a_restart_while_the_clock_is_a_day_ahead_expires_no_waiting_ticket(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 10, 0, tzinfo=TZ), config=cfg)
    t = h.issue("A")
    h.clock.step(days=1)
    h.ctl.tick()
    h.clock.advance(minutes=1)
    h.reopen()  # the controller restarted (an upgrade, a crash) on the same boot
    h.ctl.tick()
    assert h.ctl.store.ticket(t["id"]).status.value == "waiting"
    assert h.issue("A")["number"] == "A002" and h.ctl.views.hall()["day"] == "2026-11-24"
    assert [a["kind"] for a in h.ctl.alerts.listed()] == ["clock"]
    h.clock.step(days=-1)  # put right after the restart
    h.ctl.tick()
    assert h.ctl.alerts.listed() == [] and h.ctl.store.clock_watch() is None
    h.ctl.store.close()


@pytest.mark.parametrize("stored", ["{not json", "[1, 2]", '"boot-1"', "3"])
def test_a_corrupt_clock_record_does_not_stop_the_hall(tmp_path, caplog, stored):
    """The meta row the clock watch keeps (Controller._keep_clock_watch), spoilt by a disk or a
    hand edit: the hall starts anyway, without it, and says so."""
    h = Hall(tmp_path, MONDAY_10)
    h.issue("A")
    db = sqlite3.connect(tmp_path / "data" / "hall.db")
    with db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clock_watch', ?)", (stored,))
    db.close()
    h.reopen()
    assert "unreadable clock record" in caplog.text
    assert h.ctl.watch.ahead == h.ctl.watch.behind == timedelta(0)
    assert h.issue("A")["number"] == "A002"
    h.ctl.store.close()


def test_a_step_forward_never_put_right_ends_when_no_ticket_waits(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 16, 0, tzinfo=TZ), config=cfg)
    h.issue("A")
    h.clock.step(days=1)
    h.ctl.tick()
    h.open(4)
    h.call(4)
    h.ok(caller(4), "window.finish", window=4)
    h.ctl.tick()  # nothing waits: the day follows the clock, and its roll expires nobody
    assert h.ctl.views.hall()["day"] == "2026-11-25" and h.ctl.alerts.listed() == []
    assert h.issue("A")["number"] == "A001"
    h.ctl.store.close()


def test_a_step_forward_still_rolls_over_when_the_true_time_reaches_midnight(tmp_path):
    """The step is not believed, but the hours are: the waiting expire at the true midnight."""
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 20, 0, tzinfo=TZ), config=cfg)
    t = h.issue("A")
    h.clock.step(hours=2)  # 22:00 by the clock at 20:00
    h.ctl.tick()
    h.clock.advance(hours=3, minutes=30)  # 01:30 by the clock, 23:30 truly
    h.ctl.tick()
    assert h.ctl.store.ticket(t["id"]).status.value == "waiting"
    h.clock.advance(hours=1)  # 00:30 truly
    h.ctl.tick()
    assert h.ctl.store.ticket(t["id"]).status.value == "cancelled"
    h.ctl.store.close()


def test_a_clock_put_right_after_a_step_back_is_no_step_forward(tmp_path):
    """Putting a clock right gains on the time truly passed, as a step forward does: the hall
    must take it for what it is, with no alert and its day rolling at the true midnight."""
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 20, 0, tzinfo=TZ), config=cfg)
    t = h.issue("A")
    h.clock.step(hours=-12)  # 08:00 by the clock at 20:00
    h.ctl.tick()
    assert [a["kind"] for a in h.ctl.alerts.listed()] == ["clock"]
    h.clock.advance(minutes=5)
    h.clock.step(hours=12)  # put right: 20:05
    h.ctl.tick()
    assert h.ctl.alerts.listed() == []  # no 向前跳变 for the correction, and the step cleared
    assert h.issue("A")["number"] == "A002" and h.ctl.views.hall()["day"] == "2026-11-24"
    h.clock.advance(hours=4)  # 00:05 truly and by the clock: the day rolls, not 12 h later
    h.ctl.tick()
    assert h.ctl.store.ticket(t["id"]).status.value == "cancelled"
    assert h.issue("A")["number"] == "A001" and h.ctl.views.hall()["day"] == "2026-11-25"
    h.ctl.store.close()


def test_window_state_lists_who_comes_next_in_call_order_without_names(hall):
    a1 = hall.issue("A")
    hall.clock.advance(minutes=1)
    b1 = hall.issue("B")
    hall.clock.advance(minutes=1)
    elder = hall.issue("A", citizen={"id_number": ELDER_ID, "name": "王建国"})
    nxt = hall.ctl.views.window(4)["next"]
    assert [n["number"] for n in nxt] == [elder["number"], a1["number"], b1["number"]]
    assert nxt[0]["reason"] == "priority" and "王" not in repr(nxt)
    hall.open(4)
    assert hall.call(4)["number"] == elder["number"]
    assert [n["number"] for n in hall.ctl.views.window(4)["next"]] == [a1["number"], b1["number"]]


def test_a_clock_stepped_back_a_day_reuses_no_number_and_its_correction_cancels_nothing(tmp_path):
    cfg = always_open_copy(REPO / "config" / "hall.toml", tmp_path)
    h = Hall(tmp_path, datetime(2026, 11, 24, 10, 0, tzinfo=TZ), config=cfg)
    before = [h.issue("A"), h.issue("A")]
    h.clock.at = datetime(2026, 11, 23, 10, 0, 30, tzinfo=TZ)  # the clock steps back a day
    during = [h.issue("A"), h.issue("A")]
    assert [t["number"] for t in before + during] == ["A001", "A002", "A003", "A004"]
    alerts = h.ctl.alerts.listed()
    assert [a["kind"] for a in alerts] == ["clock"] and "11-24" in alerts[0]["message"]
    assert h.ctl.views.hall()["day"] == "2026-11-24"

    h.clock.at = datetime(2026, 11, 24, 10, 6, tzinfo=TZ)  # and is put right
    h.ctl.tick()
    assert h.issue("A")["number"] == "A005"
    assert {h.ctl.store.ticket(t["id"]).status.value for t in before + during} == {"waiting"}
    h.open(4)
    assert [h.call(4)["number"] for _ in range(5)] == ["A001", "A002", "A003", "A004", "A005"]
    assert h.ctl.alerts.listed() == []  # caught up: cleared

    # restarted with a clock a day behind the hall's data: the same, from the database
    h.clock.at = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
    h.reopen()
    h.ctl.tick()
    assert h.issue("A")["number"] == "A006"
    assert [a["kind"] for a in h.ctl.alerts.listed()] == ["clock"]
    h.ctl.store.close()
