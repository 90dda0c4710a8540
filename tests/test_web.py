"""The pages behind the ticket's QR code, served by `onewindow web` against a real hall."""
from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

from onewindow.demo import always_open_copy
from onewindow.web import WebApp, make_handler

from busutil import REPO, Hall, wait_for


@pytest.fixture
def site(tmp_path):
    (tmp_path / "cfg").mkdir()
    hall = Hall(tmp_path, "embedded", config=always_open_copy(REPO / "config" / "hall.toml", tmp_path / "cfg"))
    for dev, role, windows in (("kiosk-1", "kiosk", ()), ("caller-4", "caller", (4,)), ("web-1", "web", ())):
        hall.add(dev, role, windows)
    hall.start()
    web = hall.client("web-1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(WebApp(web)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield hall, base
    server.shutdown()
    server.server_close()
    hall.close()


def get(url, data=None):
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8")
        e.close()
        return e.code, body


def test_ticket_page_shows_progress_then_window_then_takes_a_rating(site):
    hall, base = site
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    first = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    mine = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    qr = base + urllib.parse.urlsplit(mine["status_url"]).path     # what the QR code opens
    code, page = get(qr)
    assert code == 200 and mine["number"] in page and "排队中" in page and "1 人" in page
    caller.request("window.open", {"window": 4})
    caller.request("window.call_next", {"window": 4})
    caller.request("window.finish", {"window": 4})
    caller.request("window.call_next", {"window": 4})
    code, page = get(qr)
    assert "请到窗口办理" in page and "4号户籍窗口" in page
    caller.request("window.finish", {"window": 4})
    code, page = get(qr)
    assert "已办结" in page and "请对本次服务作出评价" in page
    form = urllib.parse.urlencode([("level", "1"), ("reason", "等候时间长")]).encode()
    code, page = get(f"{qr}/rate", data=form)
    assert code == 200 and "感谢您的评价" in page
    rows = hall.ctl.store.rows("ratings", "ticket_id = ?", (mine["id"],))
    assert rows[0]["level"] == 1 and rows[0]["channel"] == "qrcode" and "等候时间长" in rows[0]["reasons"]
    assert first["number"] != mine["number"]


def test_the_ticket_id_that_events_carry_opens_no_page(site):
    """Every device sees ticket ids (evt/call, evt/ticket, window state): only the page key in
    the ticket's own QR code opens its status and rating pages."""
    hall, base = site
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    mine = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    caller.request("window.open", {"window": 4})
    called = []
    caller.on_event("call", called.append)
    caller.request("window.call_next", {"window": 4})
    caller.request("window.finish", {"window": 4})
    seen = wait_for(lambda: called and called[0]["ticket_id"])
    assert seen == mine["id"] and not mine["status_url"].endswith("/" + seen)
    assert get(f"{base}/t/{seen}")[0] == 404
    form = urllib.parse.urlencode([("level", "1")]).encode()
    assert "感谢" not in get(f"{base}/t/{seen}/rate", data=form)[1]
    assert hall.ctl.store.rows("ratings") == []
    assert get(base + urllib.parse.urlsplit(mine["status_url"]).path)[0] == 200


def test_guide_page_lists_materials_with_missing_ok_marks(site):
    _, base = site
    code, page = get(f"{base}/guide/F")
    assert code == 200 and "不动产登记" in page and "婚姻状况证明" in page and "[可容缺]" in page
    assert "原件1份 复印件2份" in page


def test_unknown_pages_and_a_down_controller_get_plain_answers(site):
    hall, base = site
    assert get(f"{base}/t/nonexistent-ticket")[0] == 404
    assert get(f"{base}/guide/ZZ")[0] == 404
    assert get(f"{base}/../../etc/passwd")[0] == 404
    hall.stop_service()
    code, page = get(f"{base}/t/whatever123")
    assert code == 503 and "系统暂时无法查询" in page


def test_front_page_lists_every_guide_under_the_halls_name(site):
    hall, base = site
    code, page = get(f"{base}/")
    assert code == 200 and "示范县政务服务中心" in page
    assert 'href="/guide/F"' in page and "新生儿出生一件事" in page
