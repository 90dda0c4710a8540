"""`onewindow entrance qr`: the day's entrance code as a PNG and an A4 PDF, scanned back with
zbarimg (the PDF rendered by poppler, as a printer would): it opens that day's entrance page,
which the controller accepts on that day and refuses the next."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from busutil import REPO, cli
from ctlutil import MONDAY_10, Hall
from onewindow.domain.entrance import entrance_ok
from onewindow.roles import Device

WEB = Device("web-1", "web")


def scan(path) -> str:
    run = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_the_printed_and_displayed_code_opens_that_days_entrance_page(tmp_path):
    hall = Hall(tmp_path, MONDAY_10)  # a hall has run on the data dir: its key exists
    data = tmp_path / "data"
    png, pdf = tmp_path / "today.png", tmp_path / "today.pdf"
    run = cli("entrance", "qr", "--data-dir", str(data), "--out", str(png), "--day", "2026-11-23")
    assert run.returncode == 0, run.stderr
    url = scan(png)
    assert url.startswith("http://127.0.0.1:8080/e/") and url in run.stdout
    token = url.rsplit("/", 1)[1]
    # the controller's own check: good on its day (Monday 10:00 at the hall), not the next
    assert hall.ok(WEB, "entrance.check", token=token)["ok"] is True
    assert entrance_ok(token, date(2026, 11, 23), hall.ctl.secret)
    assert not entrance_ok(token, date(2026, 11, 24), hall.ctl.secret)
    assert (
        cli(
            "entrance", "qr", "--data-dir", str(data), "--out", str(pdf), "--day", "2026-11-23"
        ).returncode
        == 0
    )
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    assert scan(tmp_path / "page.png") == url
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "扫码取号" in text and "2026-11-23 当日有效" in text and "示范县政务服务中心" in text
    # without --day: today at the hall (Asia/Shanghai), whatever this machine's zone
    run = cli("entrance", "qr", "--data-dir", str(data), "--out", str(png))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert f"of {today.isoformat()}" in run.stdout
    assert entrance_ok(scan(png).rsplit("/", 1)[1], today, hall.ctl.secret)
    assert not entrance_ok(scan(png).rsplit("/", 1)[1], today - timedelta(days=1), hall.ctl.secret)
    hall.ctl.store.close()


def test_no_key_or_no_entrance_url_stops_with_a_message(tmp_path):
    run = cli(
        "entrance",
        "qr",
        "--data-dir",
        str(tmp_path / "empty"),
        "--config",
        str(REPO / "config" / "hall.toml"),
        "--out",
        str(tmp_path / "x.png"),
    )
    assert run.returncode == 2 and "no hall has run" in run.stderr
    assert not (tmp_path / "x.png").exists()
    run = cli("entrance", "qr", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x.gif"))
    assert run.returncode == 2 and ".png or .pdf" in run.stderr
    no_url = tmp_path / "no-url"
    no_url.mkdir()
    hall = Hall(no_url, MONDAY_10, edit=lambda raw: raw["mobile"].pop("entrance_url"))
    hall.ctl.store.close()
    run = cli(
        "entrance", "qr", "--data-dir", str(no_url / "data"), "--out", str(tmp_path / "x.png")
    )
    assert run.returncode == 2 and "[mobile] entrance_url" in run.stderr
