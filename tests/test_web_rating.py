"""The ticket's QR page rated in headless Chromium, as a phone does: the reasons at 不满意 and
非常不满意 before the submit button works, the thanks after (no second form), the phone only with
consent."""

from __future__ import annotations

import urllib.parse

import pytest
from chromeutil import Browser


@pytest.fixture
def browsing(site):
    """The QR pages against a real hall (conftest.py's `site`), and a headless Chromium."""
    browser = Browser()
    yield (*site, browser)
    browser.close()


def done_ticket(hall) -> dict:
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    t = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    caller.request("window.open", {"window": 4})
    while caller.request("window.call_next", {"window": 4})["ticket"]["id"] != t["id"]:
        caller.request("window.finish", {"window": 4})
    caller.request("window.finish", {"window": 4})
    return t


def test_a_bad_rating_on_the_qr_page_needs_a_reason_before_it_can_be_sent(browsing):
    hall, base, b = browsing
    t = done_ticket(hall)
    b.goto(base + urllib.parse.urlsplit(t["status_url"]).path)
    assert "请对本次服务作出评价" in b.text()
    assert b.js("document.forms.rate.elements.go.disabled") is True  # no level yet
    assert not b.visible("#bad")
    b.tap("input[name=level][value='1']")  # 非常不满意
    assert b.visible("#bad") and b.visible("#need")
    assert b.js("document.forms.rate.elements.go.disabled") is True  # no reason yet
    b.tap("input[name=reason][value='其他']")
    assert b.js("document.forms.rate.elements.go.disabled") is True  # 其他 needs words
    b.tap("input[name=reason][value='其他']")  # untick
    b.tap("input[name=reason][value='等候太久']")
    assert b.js("document.forms.rate.elements.go.disabled") is False and not b.visible("#need")
    assert hall.ctl.store.rows("ratings") == []  # nothing sent yet
    phone_asked = b.exists("input[name=phone]")
    assert phone_asked == (hall.ctl.phones is not None)  # only where it can be kept encrypted
    b.tap("button[name=go]", navigates=True)
    page = b.text()
    assert "感谢您的评价" in page and not b.exists("#rate")  # thanks, no form
    rows = hall.ctl.store.rows("ratings")
    assert [(r["level"], r["reasons"], r["channel"]) for r in rows] == [(1, "等候太久", "qrcode")]
    b.goto(base + urllib.parse.urlsplit(t["status_url"]).path)  # later: still no form
    assert "已办结" in b.text() and not b.exists("#rate")


def test_a_good_rating_goes_at_once_and_shows_thanks(browsing):
    hall, base, b = browsing
    t = done_ticket(hall)
    b.goto(base + urllib.parse.urlsplit(t["status_url"]).path)
    b.tap("input[name=level][value='4']")
    assert not b.visible("#bad")
    b.tap("button[name=go]", navigates=True)
    assert "感谢您的评价" in b.text() and not b.exists("#rate")
    assert [r["level"] for r in hall.ctl.store.rows("ratings")] == [4]


@pytest.mark.skipif(
    __import__("onewindow.phonevault", fromlist=["x"]).available() is False,
    reason="the cryptography package is not installed: no phone is taken",
)
def test_the_phone_goes_only_with_consent_and_is_shown_masked(browsing):
    hall, base, b = browsing
    t = done_ticket(hall)
    b.goto(base + urllib.parse.urlsplit(t["status_url"]).path)
    b.tap("input[name=level][value='2']")
    b.tap("input[name=reason][value='态度']")
    b.type("input[name=phone]", "13812345678")
    b.tap("button[name=go]", navigates=True)
    assert "请勾选同意" in b.text() and hall.ctl.store.rows("ratings") == []
    assert b.js("document.querySelector(\"input[name=reason][value='态度']\").checked")  # kept
    b.type("input[name=phone]", "13812345678")
    b.tap("input[name=consent]")
    b.tap("button[name=go]", navigates=True)
    page = b.text()
    assert "138****5678" in page and "13812345678" not in page
    row = hall.ctl.store.rows("ratings")[0]
    assert row["phone_masked"] == "138****5678" and "13812345678" not in row["phone_token"]


def test_after_rectification_the_page_takes_one_follow_up_rating(browsing):
    hall, base, b = browsing
    t = done_ticket(hall)
    page = base + urllib.parse.urlsplit(t["status_url"]).path
    b.goto(page)
    b.tap("input[name=level][value='2']")
    b.tap("input[name=reason][value='效率']")
    b.tap("button[name=go]", navigates=True)
    rating = hall.ctl.store.rows("ratings")[0]
    hall.add("manager-1", "manager")
    manager = hall.client("manager-1")
    for action, note in (("contact", "已电话联系"), ("rectify", "已增开窗口")):
        manager.request(
            "rating.follow", {"rating_id": rating["id"], "action": action, "note": note}
        )
    b.goto(page)
    assert "整改后请再次评价" in b.text()  # 追加评价
    b.tap("input[name=level][value='4']")
    b.tap("button[name=go]", navigates=True)
    assert "感谢您的评价" in b.text() and not b.exists("#rate")
    rows = hall.ctl.store.rows("ratings", "ticket_id = ? ORDER BY count", (t["id"],))
    assert [(r["count"], r["level"]) for r in rows] == [(1, 2), (2, 4)]
