"""A number from the phone, end to end: headless Chromium on a 375x812 phone scans the entrance
code, takes a number, leaves a mobile number for the SMS; the caller calls it; the notifier
sends the notices through the simulated GSM modem on a pty; and the number is nowhere in clear
in the hall's files or logs. Old and forged entrance codes are refused."""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from chromeutil import Browser

from busutil import REPO, open_hall_file, wait_for
from drivers.modem import GsmModem
from drivers.modem_sim import ModemSimulator
from drivers.ptysim import PtyDevice
from onewindow.domain.entrance import entrance_token
from onewindow.notifier import Notifier
from onewindow.phonevault import available
from onewindow.web import serve
from onewindow.webphone import live_state

MOBILE = "13912345678"
SHOTS = REPO / "docs" / "img" if os.environ.get("ONEWINDOW_DOC_SHOTS") == "1" else None


@pytest.fixture
def phone_hall(start_hall, tmp_path, caplog):
    """A hall on a real bus with the web pages, a notifier and its modem simulator on a pty."""
    caplog.set_level(logging.DEBUG)
    hall = start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        ("caller-4", "caller", [4]),
        ("web-1", "web"),
        ("notifier-1", "notifier"),
        config=open_hall_file(tmp_path),
    )
    server = serve(hall.client("web-1"), "127.0.0.1", 0).start()
    sim = ModemSimulator()
    pty = PtyDevice(sim, tmp_path / "ttyMODEM")
    modem = GsmModem(str(pty.path), retry_after_s=0.1, send_timeout_s=3)
    client = hall.client("notifier-1")  # every event kind; the notifier listens to two
    notifier = Notifier(client, modem).start()
    browser = Browser(375, 812)
    yield hall, f"http://127.0.0.1:{server.port}", sim, browser
    browser.close()
    notifier.stop()
    modem.close()
    pty.close()
    server.shutdown()


def shot(browser, name):
    if SHOTS is not None:
        browser.screenshot(SHOTS / f"phone-{name}.png")


def token(hall, days=0):
    return entrance_token(hall.ctl.today() + timedelta(days=days), hall.ctl.secret)


@pytest.mark.skipif(not available(), reason="cryptography not installed: no SMS numbers kept")
def test_a_number_from_the_phone_is_called_and_texted_and_the_number_kept_sealed(
    phone_hall, caplog, tmp_path
):
    hall, base, sim, b = phone_hall
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    for _ in range(4):
        kiosk.request("ticket.issue", {"service": "A"})  # four ahead of the phone
    b.goto(f"{base}/e/{token(hall)}")
    assert "手机取号" in b.text() and "户籍业务" in b.text()
    shot(b, "entrance")
    b.tap("input[name=service][value=A]")
    b.js("document.forms.take.elements.go.scrollIntoView({block: 'end'})")
    shot(b, "entrance-form")  # the end of the form: the ID number and 取号
    b.type("input[name=id_number]", "440524200001011234")  # a wrong check digit
    b.tap("button[name=go]", navigates=True)
    assert "身份证号码有误" in b.text("#error")
    assert b.js("document.forms.take.elements.id_number.value") == "440524200001011234"
    b.js("document.forms.take.elements.id_number.value = ''")
    b.tap("button[name=go]", navigates=True)
    page = b.text()
    number = re.search(r"\b(A\d{3})\b", page).group(1)
    assert "前面等候" in page and "4 人" in page and "叫号短信提醒" in page
    shot(b, "ticket")
    b.type("input[name=phone]", MOBILE)
    b.tap("input[name=consent]")
    b.tap("#notice button[type=submit]", navigates=True)
    assert "139****5678" in b.text("#notice") and MOBILE not in b.text()
    shot(b, "notice")
    b.tap("#sound")  # the tap that lets the page play its sound

    caller.request("window.open", {"window": 4})
    caller.request("window.call_next", {"window": 4})  # 3 ahead: the first SMS
    msgs = sim.wait_messages(1, timeout=15)
    assert msgs and msgs[0][0] == "+86" + MOBILE and f"{number}" in msgs[0][1]
    assert "前面还有3位" in msgs[0][1]
    wait_for(lambda: "即将轮到您" in b.text("#live"), timeout=10)
    shot(b, "soon")
    while True:
        called = caller.request("window.call_next", {"window": 4, "current": "done"})["ticket"]
        if called["number"] == number:
            break
    msgs = sim.wait_messages(2, timeout=15)
    assert len(msgs) == 2 and f"请{number}号到4号" in msgs[1][1]
    wait_for(lambda: "请到 4号" in b.text("#live"), timeout=10)  # live, without a reload
    assert "请到窗口办理" in b.text("#state")
    shot(b, "called")

    # never in clear: not in the hall's database (with its WAL), the broker's files or the logs
    hall.ctl.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "ttyMODEM":
            assert MOBILE.encode() not in path.read_bytes(), path
    assert MOBILE not in caplog.text
    assert "notice_sent" in [r["action"] for r in hall.ctl.store.rows("audit")]


@pytest.mark.parametrize(
    "ahead, lang, banner",
    [
        (0, "zh", "即将轮到您（前面已没有人等候），请回到等候区"),
        (2, "zh", "即将轮到您（前面还有2位），请回到等候区"),
        (0, "en", "You are next (no one ahead)"),
        (2, "en", "Nearly your turn (2 ahead)"),
    ],
)
def test_the_banner_with_nobody_ahead_reads_as_a_sentence(ahead, lang, banner):
    """The live banner near the turn: "前面还有0位" is no sentence, nobody ahead is said so."""
    t = {"status": "waiting", "ahead": ahead, "wait_kind": "next"}
    live = live_state(t, {"mobile": {"notice_ahead": 3}}, lang)
    assert live["state"] == "soon" and live["banner"] == banner


def test_yesterdays_or_a_forged_entrance_code_is_refused(phone_hall):
    hall, base, _, b = phone_hall
    for bad in (token(hall, -1), "forgedTOKEN12345"):
        b.goto(f"{base}/e/{bad}")
        assert "二维码已过期" in b.text("#error") and not b.exists("#take")
    # posted straight to the take address, the controller refuses it too
    body = b"service=A&lang=zh"
    req = urllib.request.Request(f"{base}/e/{token(hall, -1)}/take", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req)
    assert refused.value.code == 403 and "二维码已过期" in refused.value.read().decode()
    assert hall.ctl.store.phone_tickets(hall.ctl.today()) == 0


def test_the_phone_pages_in_english_on_a_small_screen(phone_hall):
    hall, base, _, b = phone_hall
    b.goto(f"{base}/e/{token(hall)}?lang=en")
    assert "Take a number" in b.text() and "One-stop themes" in b.text()
    assert b.js("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    shot(b, "entrance-en")
    b.tap("input[name=service][value=A]")
    b.tap("button[name=go]", navigates=True)
    assert "Ahead of you" in b.text() and "SMS reminder" in b.text()
    assert b.js("document.documentElement.scrollWidth") <= 375
    shot(b, "ticket-en")
    # a third number from the same phone in a day is refused, in English
    for _ in range(2):
        b.goto(f"{base}/e/{token(hall)}?lang=en")
        b.tap("input[name=service][value=B]")
        b.tap("button[name=go]", navigates=True)
    assert "A phone may take 2 numbers a day" in b.text("#error")
