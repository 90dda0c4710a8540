"""The kiosk as a citizen uses it: the real app under Xvfb, touched through X, against a real
controller, with a simulated ticket printer and ID card reader on real ptys."""

from __future__ import annotations

import pytest
from kioskutil import ELDER_ID, kiosk_args, shot, target_text, tickets

from busutil import Hall, unlimited_config, wait_for
from drivers.idcard import FIND_CARD
from drivers.idcard_sim import IdCardSimulator
from drivers.printer_sim import PAPER_END, PAPER_OK, PrinterSimulator
from drivers.ptysim import PtyDevice
from kivyutil import REPO, App, Screen


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk")
    config = unlimited_config(tmp)
    # a hall whose priority age is not the national 60: the kiosk must say the hall's own
    config.write_text(
        config.read_text(encoding="utf-8").replace("elder_age = 60", "elder_age = 65"),
        encoding="utf-8",
    )
    assert "elder_age = 65" in config.read_text(encoding="utf-8")
    hall = Hall(tmp, "embedded", config=config)
    hall.add("kiosk-1", "kiosk")
    hall.add("callers", "caller", [1, 2, 3])
    hall.start()
    for w in (1, 2, 3):  # three comprehensive windows open: the tiles show real waits
        hall.client("callers").request("window.open", {"window": w})
    printer, card = PrinterSimulator(), IdCardSimulator()
    printer_pty = PtyDevice(printer, tmp / "printer")
    card_pty = PtyDevice(card, tmp / "idcard")
    screen = Screen(1080, 1920)
    app = App(
        screen,
        kiosk_args(hall, "--printer", str(tmp / "printer"), "--idcard", str(tmp / "idcard")),
        tmp,
        "kiosk",
    )
    # up and showing its tiles before any test (they run in any order)
    app.wait_screen("home", timeout=30)
    app.wait_target("tile-A")
    yield hall, app, screen, printer, card
    app.stop()
    screen.close()
    printer_pty.close()
    card_pty.close()
    hall.close()


def lift_card(card: IdCardSimulator) -> None:
    """Take the card off and wait for the kiosk to poll the empty reader: the same card laid
    down again (by the next test) is then read as a new one."""
    card.remove()
    asked = len(card.commands)
    wait_for(lambda: FIND_CARD in card.commands[asked:], 5)


def go_home(app: App) -> None:
    if app.targets().get("screen") != "home":
        app.tap("done" if "done" in app.targets().get("targets", {}) else "back")
    app.wait_screen("home")


def test_take_a_number_prints_the_ticket(kiosk):
    hall, app, screen, printer, card = kiosk
    go_home(app)
    shot(screen, "home")
    app.tap("tile-A")
    app.wait_screen("confirm")
    assert "户籍业务" in target_text(app, "confirm_title")
    assert "居民户口簿" in target_text(app, "confirm_materials")
    assert "65岁以上老人请先刷身份证" in target_text(app, "confirm_who")
    shot(screen, "confirm")
    before = len(printer.jobs)
    app.tap("take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    assert number.startswith("A")
    jobs = printer.wait_jobs(before + 1, 10)
    assert number.encode("ascii") in jobs[before]
    issued = tickets(hall, number)
    assert len(issued) == 1 and issued[0].printed and issued[0].channel == "kiosk"
    wait_for(lambda: "已打印" in target_text(app, "ticket_status"), 5)
    # what the controller counts ahead of it (other tests of this module may have left tickets)
    ahead = hall.ctl.views.ticket(issued[0])["ahead"]
    if ahead:
        assert f"前面还有 {ahead} 人" in target_text(app, "ticket_ahead")
        assert f"您前面还有 {ahead} 人等候".encode("gb18030") in jobs[before]
    else:  # a sentence, on screen and on paper, not "0"
        assert target_text(app, "ticket_ahead") == "您前面没有人在等候"
        assert "您前面没有人等候".encode("gb18030") in jobs[before]
    shot(screen, "ticket")
    app.tap("done")
    app.wait_screen("home")


def test_id_card_gives_elder_priority_and_shows_only_a_masked_name(kiosk):
    hall, app, screen, printer, card = kiosk
    go_home(app)
    card.insert(name="李秀英", sex="2", birth="19480512", id_number=ELDER_ID)
    wait_for(lambda: "李*英" in target_text(app, "citizen"), 10)
    app.tap("tile-B")
    app.wait_screen("confirm")
    wait_for(lambda: "李*英" in target_text(app, "confirm_who"), 5)
    shot(screen, "confirm-identified")
    raw = app.targets_path.read_text(encoding="utf-8")
    assert "李秀英" not in raw and ELDER_ID not in raw
    before = len(printer.jobs)
    app.tap("take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    issued = tickets(hall, number)[0]
    assert issued.priority == "elder" and issued.citizen_masked == "李*英"
    assert "老年人优先" in target_text(app, "ticket_marks")
    assert "李*英" in target_text(app, "ticket_who")
    job = printer.wait_jobs(before + 1, 10)[before]
    assert number.encode() in job and "老年人优先".encode("gb18030") in job
    # the kiosk forgets the citizen once the ticket is issued
    wait_for(lambda: "请将身份证" in target_text(app, "citizen"), 5)
    shot(screen, "ticket-elder")
    lift_card(card)
    log = app.read_log()
    assert "李秀英" not in log and ELDER_ID not in log
    app.tap("done")
    app.wait_screen("home")


def test_a_hostile_card_never_stops_the_kiosk(kiosk):
    hall, app, screen, printer, card = kiosk
    go_home(app)
    card.insert(name="\x1b[2J李\u202e秀英\x07", sex="2", birth="19480512", id_number=ELDER_ID)
    wait_for(lambda: "李*英" in target_text(app, "citizen"), 10)
    app.tap("citizen_clear")
    card.remove()
    wait_for(lambda: "李*英" not in target_text(app, "citizen"), 5)
    card.insert(
        name="李秀英", sex="2", birth="\u0661\u0669\u0664\u06580512", id_number=ELDER_ID
    )  # ١٩٤٨
    wait_for(lambda: "无法读取此身份证信息" in target_text(app, "citizen"), 10)
    shot(screen, "card-unreadable")
    card.remove()
    card.insert(name="李秀英", sex="2", birth="19480512", id_number=ELDER_ID)
    wait_for(lambda: "李*英" in target_text(app, "citizen"), 10)
    app.tap("citizen_clear")
    lift_card(card)
    log = app.read_log()
    assert "\x1b" not in log and "李秀英" not in log and ELDER_ID not in log


def test_printer_out_of_paper_shows_ticket_on_screen_and_alerts(kiosk):
    hall, app, screen, printer, card = kiosk
    go_home(app)
    printer.paper = PAPER_END
    wait_for(lambda: "打印纸已用完" in target_text(app, "banner"), 10)
    wait_for(lambda: "printer:kiosk-1" in hall.ctl.alerts, 5)
    shot(screen, "home-printer-fault")
    app.tap("tile-C")
    app.wait_screen("confirm")
    assert "屏幕" in target_text(app, "confirm_note")
    app.tap("take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    assert number and tickets(hall, number)[0].printed is False
    assert "未能打印" in target_text(app, "ticket_status")
    shot(screen, "ticket-not-printed")
    app.tap("done")
    app.wait_screen("home")
    # paper back: the alert clears and the banner goes
    printer.paper = PAPER_OK
    wait_for(lambda: "printer:kiosk-1" not in hall.ctl.alerts, 10)
    wait_for(lambda: "打印纸" not in target_text(app, "banner"), 10)


def test_paper_running_out_mid_ticket_is_reported(kiosk):
    hall, app, screen, printer, card = kiosk
    go_home(app)
    printer.paper_left = 0  # the next job tears: the head stops as it starts
    app.tap("tile-D")
    app.wait_screen("confirm")
    app.tap("take")
    app.wait_screen("ticket")
    number = target_text(app, "ticket_number")
    wait_for(lambda: "未能打印" in target_text(app, "ticket_status"), 10)
    wait_for(lambda: tickets(hall, number)[0].printed is False, 5)
    wait_for(lambda: "printer:kiosk-1" in hall.ctl.alerts, 5)
    printer.paper_left = None
    printer.paper = PAPER_OK
    app.tap("done")
    app.wait_screen("home")
    # paper back: the kiosk prints again (the next test finds it as it was)
    wait_for(lambda: "printer:kiosk-1" not in hall.ctl.alerts, 10)
    wait_for(lambda: "打印纸" not in target_text(app, "banner"), 10)


def test_every_text_the_kiosk_shows_is_in_the_catalog_in_both_languages():
    import re

    from kiosk.texts import TEXTS

    used = set()
    for path in list((REPO / "kiosk").rglob("*.py")) + list((REPO / "kiosk").rglob("*.kv")):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+)["']""", source))
        used |= set(re.findall(r"""text\(\s*["']([a-z_0-9]+)["']""", source))
    missing = sorted(k for k in used if k not in TEXTS.keys())
    assert not missing, missing
    for key in TEXTS.keys():
        zh, en = TEXTS(key, "zh"), TEXTS(key, "en")
        assert zh and en, key
        # the English comes from en.mo: a key it lacks would show its Chinese
        assert en != zh or not re.search(r"[\u4e00-\u9fff]", zh), key
