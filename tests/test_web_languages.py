"""The QR pages in the citizen's language: the browser's (Accept-Language) among the hall's
([hall] languages = zh, bo, en), a switch to the others that a cookie remembers, in headless
Chromium against a real hall on a real bus."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from chromeutil import Browser
from test_languages import three_language_hall

from busutil import Hall
from kivyutil import shots_dir
from onewindow.domain.entrance import entrance_token
from onewindow.phonevault import available
from onewindow.web import serve

CJK = re.compile(r"[\u4e00-\u9fff]")
TIBETAN = re.compile(r"[\u0f00-\u0fff]")


@pytest.fixture
def hall_site(tmp_path):
    config, _ = three_language_hall(tmp_path)
    hall = Hall(tmp_path, "embedded", config=config)
    hall.add("kiosk-1", "kiosk")
    hall.add("web-1", "web")
    hall.start()
    server = serve(hall.client("web-1"), "127.0.0.1", 0).start()
    yield hall, f"http://127.0.0.1:{server.port}"
    server.shutdown()
    hall.close()


def test_a_tibetan_phone_gets_tibetan_and_switches_to_chinese(hall_site):
    hall, base = hall_site
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    qr = base + urllib.parse.urlsplit(ticket["status_url"]).path
    b = Browser(375, 812, accept_language="bo,zh-CN")
    try:
        b.goto(qr)
        assert b.js("document.documentElement.lang") == "bo"
        page = b.text()
        assert "ཐེམ་ཐོའི་ལས་དོན།" in page  # the service's Tibetan name from the hall file
        assert "གྲལ་སྒྲིག་བཞིན་ཡོད།" in page  # 排队中: the status from the catalogs
        assert "排队中" not in page and "预计等候" not in page
        wait = b.text("#wait")  # the controller's facts worded in Tibetan (all windows closed)
        assert wait and TIBETAN.search(wait) and not CJK.search(wait), wait
        assert "དཔེ་མཚོན་རྫོང་གཞུང་ཞབས་ཞུ་ལྟེ་གནས།" in b.text("header")
        assert b.js("document.documentElement.scrollWidth") <= 375
        b.driver.save_screenshot(str(shots_dir() / "web-ticket-bo.png"))
        # the switch: each other language under its own name; the choice is kept by a cookie
        assert b.text("nav.langs") == "中文 · English"
        b.tap("#lang-zh", navigates=True)
        assert "排队中" in b.text() and b.js("document.documentElement.lang") == "zh-CN"
        b.goto(base + "/guide/A")  # another page, no ?lang: the cookie, not the browser
        assert b.js("document.documentElement.lang") == "zh-CN" and "办理条件" in b.text()
        b.tap("#lang-en", navigates=True)
        assert "Who can apply" in b.text() and "EN services0.guide.conditions" in b.text()
        b.goto(base + "/")
        assert b.js("document.documentElement.lang") == "en"
    finally:
        b.close()


def test_the_browsers_language_only_among_the_halls(hall_site):
    hall, base = hall_site
    b = Browser(375, 812, accept_language="fr,en,bo")
    try:
        b.goto(base + "/guide/A")
        assert b.js("document.documentElement.lang") == "en"  # French is not offered
        assert "Time limit" in b.text() or "What to bring" in b.text()
    finally:
        b.close()
    b = Browser(375, 812, accept_language="bo")
    try:
        b.goto(base + "/guide/A")
        text = b.text()
        assert b.js("document.documentElement.lang") == "bo"
        assert "རྫོང་འདིའི་ཐེམ་ཐོ་ཡོད་པའི་མི་དམངས།" in text  # conditions_bo
        assert "སྒྲུབ་པའི་ཆ་རྐྱེན།" in text  # the label from the catalogs
        b.driver.save_screenshot(str(shots_dir() / "web-guide-bo.png"))
    finally:
        b.close()


@pytest.mark.skipif(not available(), reason="cryptography not installed: no SMS numbers kept")
def test_a_tibetan_phone_takes_a_number_and_signs_up_for_the_sms(hall_site):
    """The entrance page in Tibetan, a number taken from it, and the SMS reminder left on the
    ticket's page in Tibetan: the hall offers bo, so the controller takes the notice in bo."""
    hall, base = hall_site
    token = entrance_token(hall.ctl.today(), hall.ctl.secret)
    b = Browser(375, 812, accept_language="bo,zh-CN")
    try:
        b.goto(f"{base}/e/{token}?lang=bo")
        assert b.js("document.documentElement.lang") == "bo"
        assert "ཐེམ་ཐོའི་ལས་དོན།" in b.text("#take")  # service A's Tibetan name
        assert b.js("document.documentElement.scrollWidth") <= 375
        b.screenshot(shots_dir() / "phone-entrance-bo.png")
        b.tap("input[name=service][value=A]")
        b.tap("button[name=go]", navigates=True)
        assert b.js("document.documentElement.lang") == "bo" and b.exists("#notice")
        b.type("input[name=phone]", "13812341234")
        b.tap("input[name=consent]")
        b.tap("#notice button[type=submit]", navigates=True)
        assert not b.exists("#notice-error"), b.text("#notice-error")
        assert "138****1234" in b.text("#notice")
        b.js("document.getElementById('notice').scrollIntoView()")
        b.screenshot(shots_dir() / "phone-notice-bo.png")
    finally:
        b.close()
