"""The pages behind the ticket's QR code, served by `onewindow web` against a real hall; and the
hostile or broken clients a public Wi-Fi brings, over real sockets."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import logging
import select
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from busutil import wait_for


def key(ticket: dict) -> str:
    """The page key the ticket's QR code carries (not its bare id, which events broadcast)."""
    return ticket["status_url"].rsplit("/", 1)[1]


def get(url, data=None, timeout=10):
    try:
        with urllib.request.urlopen(url, data=data, timeout=timeout) as r:
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
    qr = base + urllib.parse.urlsplit(mine["status_url"]).path  # what the QR code opens
    code, page = get(qr)
    assert code == 200 and mine["number"] in page and "排队中" in page and "1 人" in page
    # every window closed: the page says so, never 无需等候 or 0 分钟 (issue 14)
    assert "窗口暂未开放" in page and "0 分钟" not in page and "无需等候" not in page
    caller.request("window.open", {"window": 4})
    code, page = get(qr)
    assert (
        f"约 {hall.ctl.views.ticket(hall.ctl.queues.get(mine['id']))['est_wait_min']} 分钟" in page
    )
    caller.request("window.call_next", {"window": 4})
    caller.request("window.finish", {"window": 4})
    caller.request("window.call_next", {"window": 4})
    code, page = get(qr)
    assert "请到窗口办理" in page and "4号户籍窗口" in page
    caller.request("window.finish", {"window": 4})
    code, page = get(qr)
    assert "已办结" in page and "请对本次服务作出评价" in page
    # 非常不满意 without a reason: the page comes back with the level kept, nothing is stored
    code, page = get(f"{qr}/rate", data=urllib.parse.urlencode([("level", "1")]).encode())
    assert code == 200 and "请至少选择一项不满意的原因" in page and 'value="1" checked' in page
    assert hall.ctl.store.rows("ratings", "ticket_id = ?", (mine["id"],)) == []
    form = urllib.parse.urlencode([("level", "1"), ("reason", "等候太久")]).encode()
    code, page = get(f"{qr}/rate", data=form)
    assert code == 200 and "感谢您的评价" in page and 'id="rate"' not in page  # thanks, no form
    rows = hall.ctl.store.rows("ratings", "ticket_id = ?", (mine["id"],))
    assert (
        rows[0]["level"] == 1
        and rows[0]["channel"] == "qrcode"
        and rows[0]["reasons"] == "等候太久"
    )
    code, page = get(qr)  # the page later: rated, no second form
    assert "已办结" in page and 'id="rate"' not in page
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
    assert "原件1份，复印件2份" in page


def test_unknown_pages_and_a_down_controller_get_plain_answers(site):
    hall, base = site
    assert get(f"{base}/t/nonexistent-ticket")[0] == 404
    assert get(f"{base}/guide/ZZ")[0] == 404
    assert get(f"{base}/../../etc/passwd")[0] == 404
    assert get(f"{base}/", data=b"level=5")[0] == 405
    hall.stop_service()
    code, page = get(f"{base}/t/whatever1234{'A' * 16}")  # shaped like a page key
    assert code == 503 and "系统暂时无法查询" in page


def test_a_path_not_shaped_like_a_page_key_is_a_404_without_asking_the_controller(site):
    """Anything a phone puts after /t/ would otherwise be a request on the web device's budget,
    which every citizen's page shares: one not shaped like a key is refused here, at once."""
    hall, base = site
    hall.stop_service()  # were the controller asked, the answer would be 503
    for path in ["/t/abc12345", "/t/abc12345/live", "/t/" + "x" * 65, "/t/a$b" + "c" * 20]:
        code, page = get(base + path)
        assert code == 404 and "找不到该页面" in page, path


def test_front_page_lists_every_guide_under_the_halls_name(site):
    hall, base = site
    code, page = get(f"{base}/")
    assert code == 200 and "示范县政务服务中心" in page
    assert 'href="/guide/F"' in page and "新生儿出生一件事" in page


# -- hostile and broken clients ----------------------------------------------------------------


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def raw(base: str, request: bytes, timeout: float = 10) -> tuple[int, str]:
    """Send bytes exactly as given; the status and page that came back."""
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=timeout) as s:
        s.sendall(request)
        r = http.client.HTTPResponse(s)
        r.begin()
        return r.status, r.read().decode("utf-8")


def connect(base: str, source: str) -> socket.socket:
    """A connection from another address of the loopback network: another phone, to the
    server's per-address limit."""
    return socket.create_connection(
        ("127.0.0.1", port_of(base)), timeout=10, source_address=(source, 0)
    )


def get_from(base: str, path: str, source: str, timeout: float = 10) -> tuple[int, str]:
    """GET on a connection from `source`, an address of the loopback network."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port_of(base), timeout=timeout, source_address=(source, 0)
    )
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8")
    finally:
        conn.close()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_a_huge_body_with_content_length_minus_one_is_refused_without_being_read(site):
    hall, base = site
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := RSS now
    before = peak_rss_mb()
    chunk, sent = b"level=5&" + b"x" * ((1 << 20) - 8), 0
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=10) as s:
        s.sendall(
            f"POST /t/{key(ticket)}/rate HTTP/1.1\r\nHost: hall\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: -1\r\n\r\n".encode()
        )
        try:
            while sent < 64 << 20 and not select.select([s], [], [], 0)[0]:  # until answered
                s.sendall(chunk)
                sent += len(chunk)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server hung up on the body
        r = http.client.HTTPResponse(s)
        r.begin()
        page = r.read().decode("utf-8")
    assert peak_rss_mb() - before < 16, (
        f"{sent >> 20} MB sent grew the process by {peak_rss_mb() - before:.0f} MB"
    )
    assert r.status == 400 and "请求格式有误" in page


@pytest.mark.parametrize("length", ["abc", "-5", "0x10", "1.5"])
def test_a_malformed_content_length_gets_400_not_a_dropped_connection(site, length):
    _, base = site
    status, page = raw(
        base,
        f"POST /t/abcdef123/rate HTTP/1.1\r\nHost: hall\r\n"
        f"Content-Length: {length}\r\n\r\nlevel=5".encode(),
    )
    assert status == 400 and "请求格式有误" in page


def test_a_post_without_content_length_gets_411(site):
    _, base = site
    shaped_like_a_key = b"abcdef123" + b"A" * 16
    status, page = raw(
        base, b"POST /t/" + shaped_like_a_key + b"/rate HTTP/1.1\r\nHost: hall\r\n\r\n"
    )
    assert status == 411 and "缺少长度" in page


def test_a_chunked_rating_is_taken_and_oversized_headers_get_431(site):
    hall, base = site
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    status, page = raw(
        base,
        f"POST /t/{key(ticket)}/rate HTTP/1.1\r\nHost: hall\r\n"
        "Transfer-Encoding: chunked\r\n\r\n7\r\nlevel=4\r\n0\r\n\r\n".encode(),
    )
    assert status == 200 and ticket["number"] in page
    status, page = raw(
        base, b"GET / HTTP/1.1\r\nHost: hall\r\nCookie: " + b"x" * 9000 + b"\r\n\r\n"
    )
    assert status == 431 and "请求头过大" in page


def test_a_body_of_64_kb_is_taken_and_one_byte_more_gets_413(site):
    hall, base = site
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    form = b"level=4&note="
    exact = form + b"x" * (64 * 1024 - len(form))
    head = f"POST /t/{key(ticket)}/rate HTTP/1.1\r\nHost: hall\r\nContent-Length: {{}}\r\n\r\n"
    status, page = raw(base, head.format(len(exact)).encode() + exact)
    assert status == 200 and ticket["number"] in page
    status, page = raw(base, head.format(len(exact) + 1).encode() + exact + b"x")
    assert status == 413 and "提交的内容过大" in page


def test_half_sent_requests_are_dropped_after_the_timeout_and_hold_no_thread(site):
    _, base = site
    threads_before = threading.active_count()
    slow = []
    try:
        for _ in range(50):  # from an address of their own, which may hold 50
            s = connect(base, source="127.0.0.3")
            s.sendall(b"GET / HTTP/1.1\r\nHost: hall\r\nUser-Agent: slo")  # and nothing more
            slow.append(s)
        assert get(f"{base}/")[0] == 200  # everyone else is still served
        assert threading.active_count() < threads_before + 10
        assert not select.select(slow, [], [], 0.2)[0], "dropped before the timeout"
        dropped = set()
        deadline = time.monotonic() + 15
        while len(dropped) < len(slow) and time.monotonic() < deadline:
            for s in select.select([s for s in slow if s not in dropped], [], [], 0.5)[0]:
                try:
                    gone = s.recv(1) == b""
                except OSError:
                    gone = True
                assert gone, "a half-sent request got an answer"
                dropped.add(s)
        assert len(dropped) == len(slow)
        assert get(f"{base}/")[0] == 200
    finally:
        for s in slow:
            s.close()


_servers = itertools.count(2)


@contextlib.contextmanager
def serving(hall, **limits) -> Iterator[str]:
    """A second server of the hall's pages with limits of the test's own: its base URL. It is a
    web device of its own: a second connection as web-1 would take turns with the first."""
    from onewindow.web import serve

    device = f"web-{next(_servers)}"
    hall.add(device, "web")
    server = serve(hall.client(device), "127.0.0.1", 0, **limits).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()


def closed_by_server(s: socket.socket, wait_s: float) -> bool:
    """Whether the server closes this connection within wait_s, with no answer."""
    if not select.select([s], [], [], wait_s)[0]:
        return False
    try:
        data = s.recv(1024)
    except OSError:  # reset
        return True
    assert data == b"", f"the server answered: {data[:80]!r}"
    return True


@pytest.mark.parametrize(
    "head, deadline",
    [
        (b"GET / HTTP/1.1\r\nHost: hall\r\nUser-Agent: ", 2),  # headers never end
        (b"POST /t/abcdef123/rate HTTP/1.1\r\nHost: hall\r\nContent-Length: 900\r\n\r\n", 3),
    ],
    ids=["headers", "body"],
)
def test_a_request_trickled_a_byte_at_a_time_is_cut_at_its_deadline(site, head, deadline):
    """Slowloris: a byte every 0.3 s is never silent for the idle timeout (5 s here), but the
    request must be whole by its deadline (2 s for headers, 3 s for the body here); meanwhile
    another phone is served."""
    hall, _ = site
    with serving(hall, idle_timeout_s=5, header_deadline_s=2, body_deadline_s=3) as base:
        with socket.create_connection(("127.0.0.1", port_of(base)), timeout=10) as s:
            s.sendall(head)
            began = time.monotonic()
            cut = False
            while not cut and time.monotonic() - began < deadline + 5:
                try:
                    s.sendall(b"x")
                except OSError:  # the server hung up
                    cut = True
                    break
                cut = closed_by_server(s, 0.3)
                if time.monotonic() - began < deadline - 0.5:
                    assert not cut, "cut before its deadline"
                    assert get(f"{base}/guide/F")[0] == 200  # another phone meanwhile
            held = time.monotonic() - began
        assert cut, f"still held after {held:.1f} s of trickling"
        assert get(f"{base}/guide/F")[0] == 200


def test_one_address_holds_at_most_fifty_connections_and_others_are_still_served(site):
    hall, _ = site
    with serving(hall, idle_timeout_s=30, per_client_limit=50) as base:
        port = port_of(base)
        held = []
        try:
            for _ in range(50):  # each keeps its connection open after a page
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET /nothing HTTP/1.1\r\nHost: hall\r\n\r\n")
                r = http.client.HTTPResponse(s)
                r.begin()
                r.read()
                assert r.status == 404
                held.append(s)
            extra = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(extra)
            try:
                extra.sendall(b"GET /guide/F HTTP/1.1\r\nHost: hall\r\n\r\n")
            except OSError:
                pass  # already closed
            assert closed_by_server(extra, 5), "a 51st connection from one address was served"
            # another phone, from another address of its own
            other = connect(base, source="127.0.0.2")
            held.append(other)
            other.sendall(b"GET /guide/F HTTP/1.1\r\nHost: hall\r\n\r\n")
            r = http.client.HTTPResponse(other)
            r.begin()
            assert r.status == 200 and "不动产登记" in r.read().decode("utf-8")
            held.pop(0).close()  # one of the fifty leaves: the address may open one again
            status, until = None, time.monotonic() + 10
            while status != 200 and time.monotonic() < until:  # once the server saw it go
                try:
                    status, _ = raw(
                        base,
                        b"GET /guide/F HTTP/1.1\r\nHost: hall\r\nConnection: close\r\n\r\n",
                    )
                except OSError:
                    time.sleep(0.1)
            assert status == 200
        finally:
            for s in held:
                s.close()


def test_a_phone_flooding_the_pages_gets_429_and_another_phone_is_served(site):
    """Every phone's page goes through one web device with one budget: a phone asking for page
    after page is stopped at its own budget (the test's: 2 a second, bursts of 20), told so in
    zh-CN, and another phone's ticket page is served meanwhile."""
    hall, _ = site
    rate, burst = 2.0, 20
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    with serving(hall, phone_budget=(rate, burst)) as base:
        flooder = http.client.HTTPConnection(
            "127.0.0.1", port_of(base), timeout=10, source_address=("127.0.0.5", 0)
        )
        codes = []
        began = time.monotonic()
        try:
            for _ in range(burst * 10):
                flooder.request("GET", f"/t/flood{len(codes):07d}{'A' * 16}")
                r = flooder.getresponse()
                page = r.read().decode("utf-8")
                codes.append(r.status)
                if r.status == 429:
                    break
        finally:
            flooder.close()
        took = time.monotonic() - began
        assert codes[-1] == 429, f"{len(codes)} pages and never refused"
        # its burst, and what refilled while it asked
        assert burst < len(codes) <= burst + rate * took + 2, (len(codes), took)
        assert "请求过于频繁" in page and r.getheader("Retry-After") is not None
        code, page = get_from(base, f"/t/{key(ticket)}", "127.0.0.6")
        assert code == 200 and ticket["number"] in page
        code, _ = get_from(base, "/", "127.0.0.5")  # the flooder itself, still over its budget
        assert code == 429


PHONE_PATIENCE_S = 5  # a page not there by then has failed, to the person holding the phone


def test_a_hundred_phones_at_once_all_get_their_own_pages(site):
    hall, base = site
    # from the duty desk: a kiosk takes a busy hour's numbers at once, not a hundred (budget.py)
    desk = hall.client("caller-4")
    tickets = [
        desk.request("ticket.issue", {"service": "ABF"[i % 3]})["ticket"] for i in range(100)
    ]
    together = threading.Barrier(len(tickets), timeout=60)
    failures = []

    def phone(i, t):
        pages = [(f"/t/{key(t)}", t["number"]), ("/guide/F", "不动产登记"), ("/", "办事指南")] * 3
        for path, expected in pages:
            together.wait()  # every phone asks at the same moment
            try:
                # each from its own address, as phones on the Wi-Fi are
                code, page = get_from(base, path, f"127.0.1.{i + 1}", PHONE_PATIENCE_S)
            except OSError as exc:  # refused, reset, or no page while the phone waited
                failures.append(f"{path}: {exc!r}")
                continue
            if code != 200 or expected not in page:
                failures.append(f"{path}: {code}")

    phones = [threading.Thread(target=phone, args=(i, t)) for i, t in enumerate(tickets)]
    for p in phones:
        p.start()
    for p in phones:
        p.join()
    assert failures == []


def test_logs_name_the_action_never_the_ticket_or_the_query(site, caplog):
    hall, base = site
    ticket = hall.client("kiosk-1").request("ticket.issue", {"service": "A"})["ticket"]
    with caplog.at_level(logging.DEBUG):
        assert get(f"{base}/t/{key(ticket)}?from=wechat&phone=13800138000")[0] == 200
        assert get(f"{base}/t/{key(ticket)}/rate", data=b"level=9")[0] == 200
        assert get(f"{base}/t/{key(ticket)}/rate")[0] == 405
    web = [
        r
        for r in caplog.records
        if r.name.startswith(("onewindow.web", "onewindow.wsgi", "waitress"))
    ]
    assert any("ticket" in r.getMessage() for r in web)
    for r in caplog.records:
        if r.levelno >= logging.INFO or r in web:
            text = r.getMessage()
            assert (
                ticket["id"] not in text
                and key(ticket) not in text
                and "13800138000" not in text
                and "wechat" not in text
            )


def test_onewindow_web_serves_the_pages_and_stops_cleanly_on_sigterm(site, tmp_path):
    import json
    import subprocess
    import sys

    from busutil import REPO, free_port, wait_port

    hall, _ = site
    hall.add("web-2", "web")
    cfg = tmp_path / "web.json"
    cfg.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "device": "web-2",
                "secret": hall.secrets["web-2"],
                "hall": hall.hall_id,
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "web",
            "--device-config",
            str(cfg),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_port(port, timeout=20)
        code, page = get(f"http://127.0.0.1:{port}/guide/F")
        assert code == 200 and "不动产登记" in page
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err[-2000:]
    assert f"127.0.0.1:{port}" in out and "Traceback" not in err


def test_the_missing_material_notices_qr_opens_what_to_bring_and_by_when(site):
    """容缺受理: the 告知单's QR code (the case's page_url) shows the missing materials, the
    deadline and how to check in; after the 补件 check-in, that it was done."""
    hall, base = site
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    card = {"id_number": "440524200001011235", "name": "王小二"}
    kiosk.request("ticket.issue", {"service": "A", "citizen": card})
    caller.request("window.open", {"window": 4})
    caller.request("window.call_next", {"window": 4, "current": "done"})
    case = caller.request("window.finish", {"window": 4, "missing": ["近期免冠照片"]})["case"]
    code, page = get(base + urllib.parse.urlsplit(case["page_url"]).path)
    assert code == 200 and 'id="case"' in page and "近期免冠照片" in page
    assert f"请于 <b>{case['due']}</b> 前补齐" in page and "4号户籍窗口" in page
    assert "王小二" not in page
    kiosk.request("case.checkin", {"citizen": card})
    code, page = get(base + urllib.parse.urlsplit(case["page_url"]).path)
    assert "签到补件" in page


def test_a_phone_over_its_budget_waits_while_another_address_goes_on():
    """PhoneBudgets by address, on an injected clock: 1 a second in bursts of 2."""
    from onewindow.phonebudget import PhoneBudgets, parse_budget

    now = [0.0]
    limit = PhoneBudgets((1.0, 2), clock=lambda: now[0])
    assert [limit("10.0.0.5") for _ in range(3)] == [None, None, 1.0]
    assert limit("10.0.0.6") is None  # another phone is not held back by the first
    now[0] = 1.0
    assert limit("10.0.0.5") is None  # a second later the first may go on
    assert parse_budget("20/80") == parse_budget("20") == (20.0, 80)  # a burst of 4 s of it
    assert parse_budget("0") is None and parse_budget("off") is None


def test_the_phone_budget_option_takes_rate_and_burst_or_none():
    import argparse

    from onewindow.web import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["--phone-budget", "20/80"]).phone_budget == (20.0, 80)
    assert p.parse_args(["--phone-budget", "0"]).phone_budget is None  # phones behind one NAT
    assert p.parse_args([]).phone_budget == (50.0, 200)
    with pytest.raises(SystemExit):
        p.parse_args(["--phone-budget", "fast"])
