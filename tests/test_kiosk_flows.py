"""The kiosk's other services, in `--simulate` mode (its own printer and ID card simulators):
一件事 themes, guides and 明白卡, appointments, rating, 帮办代办, English and elderly mode."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from kioskutil import IMG, kiosk_args, shot, target_text, tickets

from busutil import Hall, unlimited_config, wait_for
from kivyutil import App, Screen


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk-flows")
    hall = Hall(tmp, "embedded", config=unlimited_config(tmp))
    hall.add("kiosk-1", "kiosk")
    hall.add("caller-1", "caller", [1])
    hall.start()
    screen = Screen(1080, 1920)
    previews = tmp / "previews"
    app = App(screen, kiosk_args(hall, "--simulate", "--preview-dir", str(previews)), tmp, "kiosk")
    app.wait_screen("home", timeout=30)
    app.wait_target("tile-A")
    yield hall, app, screen, previews
    app.stop()
    screen.close()
    hall.close()


def test_theme_questions_choose_items_and_one_ticket(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("tile-T2")
    app.wait_screen("theme")
    assert "食品经营许可" not in target_text(app, "theme_items")
    app.tap("q-food-yes")
    wait_for(lambda: "食品经营许可" in target_text(app, "theme_items"), 5)
    assert "食品安全管理制度文本" in target_text(app, "theme_materials")
    assert "公司章程" in target_text(app, "theme_materials")
    shot(screen, "theme")
    app.tap("theme_take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    t = tickets(hall, number)[0]
    assert t.service == "T2" and t.answers == {"food": True, "fund": False}
    preview = wait_for(lambda: list(previews.glob(f"*-{number}.png")), 10)[0]
    # named in the hall's time, as the ticket is (not this box's zone)
    named = datetime.strptime(preview.name[:15], "%Y%m%d-%H%M%S")
    assert abs((named - t.issued_at.replace(tzinfo=None)).total_seconds()) < 60, preview.name
    time.sleep(0.2)
    IMG.mkdir(parents=True, exist_ok=True)
    (IMG / "kiosk-printed-ticket.png").write_bytes(preview.read_bytes())
    app.tap("done")
    app.wait_screen("home")


def test_guide_shows_everything_and_prints_a_card(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("nav_guides")
    app.wait_screen("guides")
    shot(screen, "guides")
    app.tap("guide-A")
    app.wait_screen("guide")
    materials = target_text(app, "guide_materials")
    assert "居民身份证（原件1份，复印件1份）" in materials and "可容缺" in materials
    facts = target_text(app, "guide_facts")
    assert "0930-12345-101" in facts and "1 个工作日" in facts and "免费" in facts
    shot(screen, "guide")
    app.tap("guide_print")
    wait_for(lambda: "已打印" in target_text(app, "guide_status"), 10)
    assert list(previews.glob("*-guide-A.png"))
    app.tap("back")
    app.wait_screen("home")


def test_book_an_appointment_with_the_sample_card(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("nav_book")
    app.wait_screen("book")
    shot(screen, "book")
    app.tap("book-B")
    app.wait_screen("slots")
    app.tap("slot-0")  # the soonest: it can be checked in within the half hour
    assert "身份证" in target_text(app, "slots_message")
    app.tap("sample_card")
    wait_for(lambda: "张*三" in target_text(app, "citizen"), 10)
    shot(screen, "slots")
    app.tap("book_confirm")
    app.wait_screen("booked")
    booked = hall.ctl.store.rows("appointments", "service = 'B'")
    assert len(booked) == 1 and booked[0]["citizen_masked"] == "张*三"
    assert booked[0]["slot_start"][11:16] in target_text(app, "booked_when")
    shot(screen, "booked")
    app.tap("done")
    app.wait_screen("home")
    # the booking shows under 预约签到 / 查询 once the card is read again
    time.sleep(4.5)  # the sample card leaves the reader
    app.tap("nav_mine")
    app.wait_screen("mine")
    app.tap("sample_card")
    wait_for(lambda: "居民身份证办理" in target_text(app, "appt-0"), 10)
    shot(screen, "mine")
    if "checkin-0" not in app.targets().get("targets", {}):
        app.tap("back")
        app.wait_screen("home")
        pytest.skip("the first free slot is tomorrow (the hall's clock is near midnight)")
    # check in with the card: the ticket is the appointment's, served from its slot
    app.tap("checkin-0")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    ticket = tickets(hall, number)[0]
    assert ticket.appointment_id == booked[0]["id"] and ticket.channel == "appointment"
    assert (
        hall.ctl.store.rows("appointments", "id = ?", (booked[0]["id"],))[0]["status"]
        == "checked_in"
    )
    assert "预约" in target_text(app, "ticket_marks")
    app.tap("done")
    app.wait_screen("home")


def test_check_in_a_provincial_platform_booking_with_the_card(kiosk):
    """A booking made on the provincial platform (here as `appointments import` or the uplink
    sends it: op appointment.platform, the ID number hashed on arrival) is found by the card
    under 预约签到 and checked in by the same screens as a booking made at the kiosk."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from kiosk.devices import SAMPLE_CARDS

    hall, app, screen, previews = kiosk
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    slot = (now + timedelta(minutes=30 - now.minute % 30)).replace(second=0, microsecond=0)
    if slot.date() != now.date():
        pytest.skip("the next slot is tomorrow (the hall's clock is near midnight)")
    hall.add("platform-1", "platform")
    [answer] = hall.client("platform-1").request(
        "appointment.platform",
        {
            "records": [
                {
                    "id": "GD-KIOSK-1",
                    "service": "F",
                    "slot_start": slot.isoformat(),
                    "id_number": SAMPLE_CARDS["adult"]["id_number"],
                    "name": SAMPLE_CARDS["adult"]["name"],
                }
            ]
        },
    )["results"]
    assert answer["result"] == "booked", answer
    time.sleep(4.5)  # a sample card an earlier test inserted leaves the reader
    app.tap("nav_mine")
    app.wait_screen("mine")
    app.tap("sample_card")
    row = wait_for(
        lambda: next(
            (f"appt-{n}" for n in range(5) if "不动产登记" in target_text(app, f"appt-{n}")), None
        ),
        10,
    )
    assert slot.strftime("%H:%M") in target_text(app, row)
    shot(screen, "mine-platform")
    app.tap(row.replace("appt-", "checkin-"))
    app.wait_screen("ticket")
    ticket = tickets(hall, target_text(app, "ticket_number"))[0]
    assert ticket.appointment_id == answer["appointment"]["id"]
    assert ticket.channel == "appointment" and ticket.service == "F"
    row = hall.ctl.store.rows("appointments", "platform_id = 'GD-KIOSK-1'")[0]
    assert row["status"] == "checked_in" and row["ticket_id"] == ticket.id
    assert "预约" in target_text(app, "ticket_marks")
    app.tap("done")
    app.wait_screen("home")


def test_rate_the_ticket_of_this_session(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("tile-C")
    app.wait_screen("confirm")
    app.tap("take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    caller = hall.client("caller-1")
    caller.request("window.open", {"window": 1})
    while True:  # earlier tests left tickets waiting: serve up to ours
        called = caller.request("window.call_next", {"window": 1})["ticket"]
        caller.request("window.finish", {"window": 1})
        if called["number"] == number:
            break
    app.tap("done")
    app.wait_screen("home")
    app.tap("nav_rate")
    app.wait_screen("rating")
    assert number in target_text(app, "target-ticket")
    app.tap("target-ticket")
    app.tap("level-1")
    # a bad rating cannot be sent before a reason is picked
    app.wait_text("rate_reasons", lambda t: "至少选择一项原因" in t)
    app.tap("rate_submit")  # disabled: nothing goes
    time.sleep(0.5)
    assert app.targets()["screen"] == "rating"
    assert hall.ctl.store.rows("ratings", "ticket_id = ?", (tickets(hall, number)[0].id,)) == []
    assert "其他" not in target_text(app, "reason-6") and "reason-6" not in app.targets()["targets"]
    app.tap("reason-4")
    app.tap("reason-1")
    app.wait_text("rate_reasons", lambda t: "至少" not in t and "原因" in t)
    shot(screen, "rating")
    app.tap("rate_submit")
    app.wait_screen("message")
    assert "感谢" in target_text(app, "message")
    rows = hall.ctl.store.rows("ratings", "ticket_id = ?", (tickets(hall, number)[0].id,))
    assert rows and rows[0]["level"] == 1 and rows[0]["channel"] == "kiosk"
    assert rows[0]["reasons"].split(",") == ["态度", "等候太久"]  # in the hall's order
    wait_for(lambda: any(a["kind"] == "bad_rating" for a in hall.ctl.alerts.listed()), 5)
    app.tap("message_ok")
    app.wait_screen("home")


def test_help_request_raises_an_alert(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("help")
    app.wait_screen("message")
    assert "工作人员" in target_text(app, "message")
    wait_for(lambda: "help:kiosk-1" in hall.ctl.alerts, 5)
    shot(screen, "help")
    app.tap("message_ok")
    app.wait_screen("home")


def test_english_and_elderly_mode(kiosk):
    hall, app, screen, previews = kiosk
    app.tap("lang")
    wait_for(lambda: target_text(app, "nav_guides") == "Service guides", 5)
    wait_for(lambda: "Household registration" in target_text(app, "tile-A"), 5)  # the tiles too
    shot(screen, "home-en")
    # the shipped hall gives every text in English: guides, materials, FAQ, places
    app.tap("nav_guides")
    app.wait_screen("guides")
    app.tap("guide-A")
    app.wait_screen("guide")
    wait_for(lambda: "registering a birth" in target_text(app, "guide_conditions"), 5)
    materials = target_text(app, "guide_materials")
    assert "Household register (hukou booklet)" in materials and "Resident ID card" in materials
    assert "Can I move my household registration here?" in target_text(app, "guide_faq")
    assert "Floor 1, Zone A" in target_text(app, "guide_facts")
    shot(screen, "guide-en")
    app.tap("back")
    app.wait_screen("home")
    app.tap("lang")
    wait_for(lambda: target_text(app, "nav_guides") == "办事指南", 5)
    before = app.wait_target("nav_guides")
    app.tap("elder")
    wait_for(lambda: target_text(app, "elder") == "标准模式", 5)
    time.sleep(0.5)
    shot(screen, "home-elder")
    after = app.targets()["targets"]["nav_guides"]
    assert after["y"] != before["y"]  # larger targets: the layout changed
    app.tap("elder")
    wait_for(lambda: target_text(app, "elder") == "长辈模式", 5)
