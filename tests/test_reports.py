"""Reports from a real controller on a real broker: KPI and audit CSVs, the printable PDF, the
manager's follow-up ops, and the headless `onewindow manager --export-report`."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys

import pytest

from busutil import REPO, TEST_PIN, Hall
from kivyutil import shots_dir  # noqa: E402
from managerutil import device_config
from onewindow import reports
from onewindow.bus.client import BusError
from onewindow.demo import always_open_copy

DOCS_IMG = shots_dir()


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    (tmp / "cfg").mkdir()
    h = Hall(tmp, "embedded", config=always_open_copy(REPO / "config" / "hall.toml", tmp / "cfg"))
    h.add("kiosk-1", "kiosk")
    h.add("caller-4", "caller", [4])
    h.add("rating-4", "rating", [4])
    h.add("manager-1", "manager")
    h.start()
    kiosk, caller, pad = h.client("kiosk-1"), h.client("caller-4"), h.client("rating-4")
    issued = [kiosk.request("ticket.issue", {"service": s})["ticket"] for s in "AAAB"]
    caller.request("window.open", {"window": 4, "staff": {"id": "S004", "name": "王五"}})
    served = []
    for action in ("finish", "skip", "finish"):
        t = caller.request("window.call_next", {"window": 4})["ticket"]
        if action == "finish":
            caller.request("window.start", {"window": 4})
            caller.request("window.finish", {"window": 4})
            served.append(t)
        else:
            caller.request("window.skip", {"window": 4})
    # window 4 serves A before B only by queue time: the three A tickets went first
    assert [t["number"] for t in served] == [issued[0]["number"], issued[2]["number"]]
    pad.request("rating.submit", {"window": 4, "ticket_id": served[0]["id"], "level": 5})
    pad.request(
        "rating.submit",
        {"window": 4, "ticket_id": served[1]["id"], "level": 1, "reasons": ["态度"]},
    )
    h.issued = issued
    h.manager = h.client("manager-1")
    yield h
    h.close()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_kpi_csvs_have_the_right_figures(hall, tmp_path):
    day = hall.ctl.day.isoformat()
    paths = reports.export(hall.manager.request, day, tmp_path, "示范县政务服务中心")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            f"kpis-{day}-window.csv",
            f"kpis-{day}-service.csv",
            f"kpis-{day}-department.csv",
            f"kpis-{day}-staff.csv",
            f"audit-{day}.csv",
            f"report-{day}.pdf",
        ]
    )
    service = _csv((tmp_path / f"kpis-{day}-service.csv").read_bytes())
    header = service[0]
    assert header[0] == "编号 Key" and "满意率(%) Satisfaction (%)" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in service[1:]}
    a = rows["A"]
    assert a["名称 Name"] == "户籍业务"
    assert (a["取号数 Issued"], a["办结数 Served"], a["过号数 No-show"]) == ("3", "2", "1")
    assert (a["非常满意 Very satisfied"], a["非常不满意 Very dissatisfied"]) == ("1", "1")
    assert a["满意率(%) Satisfaction (%)"] == "50.0"
    assert float(a["平均等候(分钟) Avg wait (min)"]) >= 0
    assert (
        rows["B"]["仍在等候 Still waiting"] == "1" and rows["B"]["满意率(%) Satisfaction (%)"] == ""
    )
    window = {r[0]: r for r in _csv((tmp_path / f"kpis-{day}-window.csv").read_bytes())[1:]}
    assert window["4"][1] == "4号户籍窗口" and window["4"][3] == "2"  # served at window 4
    dept = {r[0]: r for r in _csv((tmp_path / f"kpis-{day}-department.csv").read_bytes())[1:]}
    assert dept["县公安局"][2] == "4" and dept["县公安局"][3] == "2"
    staff = {r[0]: r for r in _csv((tmp_path / f"kpis-{day}-staff.csv").read_bytes())[1:]}
    # the staff member who called them: issued counts the tickets S004 called (3), served 2
    assert staff["S004"][1] == "王五" and staff["S004"][2:4] == ["3", "2"]


def test_audit_csv_lists_the_days_actions_without_personal_data(hall, tmp_path):
    day = hall.ctl.day.isoformat()
    data = reports.audit_csv(hall.manager.request("report.audit", {"day": day}))
    rows = _csv(data)
    assert rows[0] == list(reports.AUDIT_COLUMNS)
    actions = [r[3] for r in rows[1:]]
    for action in ("issue", "open", "call", "start", "finish", "skip", "rate"):
        assert action in actions, action
    assert "王五" not in data.decode("utf-8-sig")  # staff names stay out of the log


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def pdf_fonts(path) -> str:
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def test_report_pdf_has_the_hall_every_window_and_an_embedded_chinese_font(hall, tmp_path):
    day = hall.ctl.day.isoformat()
    data = reports.collect(hall.manager.request, day[:7])
    from onewindow.reportpdf import report_pdf

    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(data, "示范县政务服务中心"))
    text = pdf_text(path)
    assert "示范县政务服务中心 晒成绩单（月报）" in text and f"统计期间 {day[:7]}" in text
    for row in data["kpis"]["window"]["rows"]:
        assert row["name"] in text, row["name"]
    assert "4号户籍窗口" in text and "王五" in text and "县公安局" in text
    assert re.search(r"第\s*1\s*页", text) and re.search(r"第\s*2\s*页", text)  # numbered
    fonts = pdf_fonts(path).splitlines()
    cjk = [line for line in fonts if "WenQuanYi" in line]
    assert cjk and all(" yes " in line.split("WenQuanYi", 1)[1] for line in cjk), fonts
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(DOCS_IMG / "manager-report"),
        ],
        check=True,
        timeout=60,
    )


def test_monthly_figures_cover_the_day(hall):
    month = hall.ctl.day.isoformat()[:7]
    data = reports.collect(hall.manager.request, month)
    assert "audit" not in data
    assert data["kpis"]["hall"]["rows"][0]["issued"] == 4
    with pytest.raises(ValueError):
        reports.period_args("November")


def test_bad_ratings_follow_up(hall):
    m = hall.manager
    rows = m.request("report.ratings", {})["rows"]
    assert len(rows) == 1
    bad = rows[0]
    assert bad["level"] == 1 and bad["window"] == 4 and bad["reasons"] == ["态度"]
    assert bad["follow_status"] == "open" and bad["contact_by"] < bad["rectify_by"]
    assert bad["overdue"] is None
    assert any(a["key"] == f"rating:{bad['id']}" for a in hall.ctl.alerts.listed())
    # the first release's {status: contacted} is still taken: the case is being rectified
    done = m.request("rating.follow", {"rating_id": bad["id"], "status": "contacted"})["rating"]
    assert done["follow_status"] == "rectifying" and done["contacted_at"]
    assert f"rating:{bad['id']}" not in hall.ctl.alerts
    with pytest.raises(BusError) as err:
        m.request("rating.follow", {"rating_id": bad["id"], "status": "contacted"})
    assert err.value.code == "bad_state"
    assert (
        m.request("report.ratings", {"open_only": True})["rows"][0]["follow_status"] == "rectifying"
    )
    # a step of the new contract needs its note; then the case closes and leaves the open list
    with pytest.raises(BusError) as err:
        m.request("rating.follow", {"rating_id": bad["id"], "action": "rectify"})
    assert err.value.code == "note_required"
    m.request("rating.follow", {"rating_id": bad["id"], "action": "rectify", "note": "已整改"})
    assert m.request("report.ratings", {"open_only": True})["rows"] == []
    trail = m.request("rating.case", {"rating_id": bad["id"]})["notes"]
    assert [(n["action"], n["to_status"], n["note"]) for n in trail] == [
        ("contact", "rectifying", ""),
        ("rectify", "done", "已整改"),
    ]


def test_ticket_find_and_longest_wait(hall):
    m = hall.manager
    b = hall.issued[3]
    found = m.request("ticket.find", {"number": b["number"].lower()})["tickets"]
    assert [t["id"] for t in found] == [b["id"]] and found[0]["status"] == "waiting"
    with pytest.raises(BusError) as err:
        m.request("ticket.find", {"number": "Z999"})
    assert err.value.code == "not_found"
    queues = m.request("report.waiting")["queues"]
    assert queues["B"]["waiting"] == 1 and queues["B"]["longest"] == b["number"]
    assert queues["A"]["longest"] is None
    with pytest.raises(BusError) as err:
        hall.clients[0].request("ticket.find", {"number": b["number"]})  # a kiosk may not
    assert err.value.code == "forbidden"


def test_headless_export_command(hall, tmp_path):
    config = device_config(hall, tmp_path / "manager.json")
    out = tmp_path / "out"

    def export(pin):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "onewindow.cli",
                "manager",
                "--device-config",
                str(config),
                "--export-report",
                "today",
                "--out",
                str(out),
                "--pin-stdin",
            ],
            input=f"{pin}\n",
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )

    refused = export("0000")  # reports need the hall's PIN, as on the console
    assert refused.returncode == 2 and "Wrong PIN" in refused.stdout and not out.exists()
    proc = export(TEST_PIN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    day = hall.ctl.day.isoformat()
    assert (out / f"kpis-{day}-service.csv").exists() and (out / f"audit-{day}.csv").exists()
    assert "示范县政务服务中心" in pdf_text(out / f"report-{day}.pdf")
    assert TEST_PIN not in proc.stdout + proc.stderr
    shutil.rmtree(out)
