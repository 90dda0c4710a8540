"""The city dashboard in headless Chromium, fed by real halls over the bridge and a collector:
log in by role, every hall live, a hall's drill-down, the month's ranking, overdue 差评."""

from __future__ import annotations

import base64
import os
from zoneinfo import ZoneInfo

import pytest
from chromeutil import CHROMIUM, Browser
from cityutil import two_bridged_halls

from busutil import REPO, wait_for
from onewindow.city.dashboard import add_user, serve
from onewindow.city.schema import connect

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
TZ = ZoneInfo("Asia/Shanghai")


def shot(browser: Browser, name: str) -> None:
    """docs/img/city-NAME.png when ONEWINDOW_DOC_SHOTS=1 (refreshing the docs on purpose)."""
    if os.environ.get("ONEWINDOW_DOC_SHOTS"):
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        (REPO / "docs" / "img" / f"city-{name}.png").write_bytes(base64.b64decode(data))


@pytest.fixture
def city(tmp_path, start_hall, city_db):
    db = city_db
    # county-a runs today; town-b's clock is ten days back (its follow-ups are late, its
    # ratings in another period)
    halls, central, collector = two_bridged_halls(tmp_path, start_hall, db)
    with connect(db, autocommit=True) as conn:
        add_user(conn, "li", "city-pass-1", "city", [])
        add_user(conn, "wang", "super-pass-2", "supervisor", [])
        add_user(conn, "zhao", "hall-pass-3", "hall", ["county-a"])
    server = serve(db, "127.0.0.1", 0).start()
    browser = Browser(width=1280, height=800)
    yield halls, f"http://127.0.0.1:{server.port}", browser
    browser.close()
    server.shutdown()
    collector.stop()
    central.stop()


def login(browser: Browser, base: str, name: str, password: str) -> None:
    browser.goto(base + "/")
    assert browser.exists("form.login")  # no session: the login page
    browser.type("#name", name)
    browser.type("#password", password)
    browser.tap("#submit", navigates=True)


def logout(browser: Browser) -> None:
    browser.tap("#logout", navigates=True)


def work(hall, tickets: int, finished: int, bad: bool = False):
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    for _ in range(tickets):
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    caller.request("window.open", {"window": 4})
    for _ in range(finished):
        t = caller.request("window.call_next", {"window": 4})["ticket"]
        caller.request("window.finish", {"window": 4})
        kiosk.request(
            "rating.submit",
            {
                "ticket_id": t["id"],
                "level": 1 if bad else 5,
                "reasons": ["态度"] if bad else [],
                "channel": "kiosk",
            },
        )
    caller.request("window.call_next", {"window": 4})  # one at the window now
    return kiosk


def row(browser: Browser, hall: str) -> str:
    return browser.text(f'tr[data-hall="{hall}"]')


def test_city_staff_see_their_halls_live_by_role(city):
    halls, base, browser = city
    kiosk = work(halls["county-a"], tickets=5, finished=2)
    work(halls["town-b"], tickets=3, finished=1, bad=True)
    for hall in halls.values():
        wait_for(lambda h=hall: h.ctl.store.outbox_state()[0] == h.ctl.store.outbox_state()[1], 15)

    login(browser, base, "li", "wrong")
    assert "用户名或密码错误" in browser.text("#failed")
    browser.type("#name", "li")
    browser.type("#password", "city-pass-1")
    browser.tap("#submit", navigates=True)
    # county-a: 5 issued, 2 done, 1 at the window -> 2 waiting; 1 window open and busy; 100 %
    cells = row(browser, "county-a").split("\t")
    assert cells[:7] == ["county-a", "2", cells[2], "1", "1", "2", "100.0%"]
    assert "town-b" in browser.text("#halls")
    shot(browser, "overview")
    # live: new tickets show without anyone touching the page (it reloads itself)
    for _ in range(3):
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    wait_for(lambda: row(browser, "county-a").split("\t")[1] == "5", 15, 0.2)

    browser.tap('tr[data-hall="county-a"] a', navigates=True)
    windows = browser.text("#windows")
    assert "开放 open" in windows and "A003" in windows  # A003 is at window 4 now
    departments = browser.text("#departments")
    assert "公安" in departments or "户籍" in departments, departments
    shot(browser, "hall")
    browser.goto(base + "/ranking")
    ranking = browser.text("#ranking")
    assert ranking.index("county-a") < ranking.index("town-b")  # 100 % before 0 %
    shot(browser, "ranking")
    browser.goto(base + "/followups")
    assert "无权" in browser.text()  # follow-ups are the supervisors'
    logout(browser)

    login(browser, base, "wang", "super-pass-2")
    browser.goto(base + "/followups")
    overdue = browser.text("#overdue")
    assert "town-b" in overdue and "未按期回访" in overdue and "非常不满意" in overdue
    assert "county-a" not in overdue
    shot(browser, "followups")
    logout(browser)

    login(browser, base, "zhao", "hall-pass-3")
    assert "county-a" in browser.text("#halls") and "town-b" not in browser.text("#halls")
    browser.goto(base + "/hall/town-b")
    assert "town-b" not in browser.text()  # not hers: no such page
    browser.goto(base + "/ranking")
    assert "无权" in browser.text()
