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
