"""The 晒成绩单 PDF downloaded from `onewindow web` by a manager: the manager PIN with every
download, wrong ones refused (and counted towards the lockout), the right one gets a real PDF."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.parse
import urllib.request

from onewindow.managerpin import set_pin

PIN = "8642"


def post(url: str, form: dict) -> tuple[int, dict, bytes]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
        e.close()
        return e.code, dict(e.headers), body


def test_a_manager_downloads_the_monthly_pdf_with_the_pin(site, tmp_path):
    hall, base = site
    set_pin(hall.data_dir, PIN)
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    kiosk.request("ticket.issue", {"service": "A"})
    caller.request("window.open", {"window": 4, "staff": {"id": "S004", "name": "王五"}})
    caller.request("window.call_next", {"window": 4})
    caller.request("window.finish", {"window": 4})
    month = hall.ctl.day.isoformat()[:7]

    with urllib.request.urlopen(base + "/reports", timeout=10) as r:
        page = r.read().decode("utf-8")
    assert "管理密码" in page and f'value="{month}"' in page

    code, headers, body = post(base + "/reports", {"period": month, "pin": "1111"})
    assert code == 400 and "管理密码不正确" in body.decode("utf-8")
    assert not body.startswith(b"%PDF")
    code, _, body = post(base + "/reports", {"period": "2026-13", "pin": PIN})
    assert code == 400 and "统计期间" in body.decode("utf-8")

    code, headers, body = post(base + "/reports", {"period": month, "pin": PIN})
    assert code == 200 and headers["Content-Type"] == "application/pdf", (code, body[:300])
    assert f"report-{month}.pdf" in headers["Content-Disposition"] and body.startswith(b"%PDF")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "示范县政务服务中心" in text and "4号户籍窗口" in text and "王五" in text
    for w in hall.ctl.hall.windows:
        assert w.name in text
    # a report is a read: nothing of the request (nor the PIN) is kept as a stored reply
    assert all(PIN not in repr(r) for r in hall.ctl.store.rows("replies"))
