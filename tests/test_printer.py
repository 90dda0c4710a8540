"""The ticket printer through a real pty: bytes, status before/after a job, faults, the PNG preview."""

from __future__ import annotations

import pytest

from busutil import wait_for
from drivers import escpos
from drivers.escpos_render import render
from drivers.printer import PrinterError, SerialPrinter, decode_status
from drivers.printer_sim import PAPER_END, PAPER_NEAR_END, PrinterSimulator
from drivers.ptysim import PtyDevice

TICKET = {
    "id": "x1",
    "number": "A012",
    "service": "A",
    "service_name": "户籍业务",
    "issued_at": "2026-11-23T10:05:00+08:00",
    "ahead": 4,
    "est_wait_min": 18,
    "status_url": "http://127.0.0.1:8080/t/x1",
    "priority": "elder",
    "appointment": None,
    "citizen": "欧阳*锋",
}


@pytest.fixture
def rig(tmp_path):
    sim = PrinterSimulator()
    dev = PtyDevice(sim, tmp_path / "ttyPRINTER")
    printer = SerialPrinter(str(tmp_path / "ttyPRINTER"), 115200)
    yield sim, dev, printer
    printer.close()
    dev.close()


def test_ticket_reaches_the_printer_byte_for_byte(rig):
    sim, _, printer = rig
    job = escpos.ticket(TICKET, "示范县政务服务中心")
    assert printer.print_job(job).reason == "ready"
    assert sim.wait_jobs(1) == [job]


def test_chinese_goes_as_gb18030_after_fs_ampersand_with_native_qr():
    job = escpos.ticket(dict(TICKET, citizen="𠮷*明"), "示范县政务服务中心")
    assert job.index(b"\x1c&") < job.index("户籍业务".encode("gb18030"))
    assert "【老年人优先】".encode("gb18030") in job  # full-width punctuation intact
    assert "𠮷".encode("gb18030") in job  # a name character outside GBK
    assert b"\x1d(k\x1d\x001P0http://127.0.0.1:8080/t/x1" in job
    assert b"\x1dv0" not in job  # no raster image on a serial line
    assert len(job) < 600


def test_paper_near_end_still_prints_but_says_so(rig):
    sim, _, printer = rig
    sim.paper = PAPER_NEAR_END
    assert printer.status().message == "纸将用尽，请及时更换"
    assert printer.print_job(escpos.ticket(TICKET, "厅")).can_print
    assert len(sim.wait_jobs(1)) == 1


@pytest.mark.parametrize(
    "fault, reason, zh",
    [
        ("paper", "paper_end", "打印纸已用完"),
        ("cover", "cover_open", "打印机盖未关好"),
        ("power", "offline", "打印机未连接"),
    ],
)
def test_known_before_printing(rig, fault, reason, zh):
    sim, _, printer = rig
    if fault == "paper":
        sim.paper = PAPER_END
    elif fault == "cover":
        sim.cover_open = True
    else:
        sim.offline = True
    st = printer.status()
    assert (st.reason, st.message, st.can_print) == (reason, zh, False)
    with pytest.raises(PrinterError) as err:
        printer.print_job(escpos.ticket(TICKET, "厅"))
    assert err.value.status.reason == reason
    assert sim.jobs == []


def test_paper_running_out_mid_ticket_is_reported(rig):
    sim, _, printer = rig
    sim.paper_left = 1
    printer.print_job(escpos.ticket(TICKET, "厅"))
    with pytest.raises(PrinterError) as err:
        printer.print_job(escpos.ticket(TICKET, "厅"))
    assert err.value.status.reason == "paper_end"
    assert len(sim.jobs) == 1


def test_cable_pulled_and_back(rig):
    sim, dev, printer = rig
    dev.unplug()
    assert printer.status().reason == "offline"
    with pytest.raises(PrinterError):
        printer.print_job(b"x")
    dev.plug()
    wait_for(lambda: printer.status().reason == "ready", 3)  # retried at most once a second
    assert printer.print_job(escpos.ticket(TICKET, "厅")).reason == "ready"
    assert len(sim.wait_jobs(1)) == 1


def test_status_bytes_decode():
    assert decode_status(0x16, 0x12, 0x12, 0x12).reason == "ready"
    assert decode_status(0x16, 0x12, 0x12, 0x1E).reason == "paper_near_end"
    assert decode_status(0x16, 0x32, 0x12, 0x7E).reason == "paper_end"
    assert decode_status(0x00, 0x12, 0x12, 0x12).reason == "error"  # noise, not a status


def test_preview_png_is_rendered_from_the_bytes(tmp_path):
    img = render(escpos.ticket(TICKET, "示范县政务服务中心"))
    assert img.width == 424 and 500 < img.height < 1400
    dark = sum(img.histogram()[:128])
    assert dark > 5000  # text, a big number and a QR code are there
    small = render(escpos.ticket(dict(TICKET, status_url=""), "示范县政务服务中心"))
    assert small.height < img.height - 100  # the QR takes real space
    img.save(tmp_path / "ticket.png")


def test_guide_card_lists_materials_with_counts_and_missing_ok_marks():
    service = {
        "name": "不动产登记",
        "guide": {
            "conditions": "房屋买卖转移登记",
            "time_limit_days": 3,
            "fee": "80元",
            "place": "三楼C区",
            "phone": "0930-12345",
            "url": "http://127.0.0.1:8080/guide/F",
            "materials": [
                {"name": "不动产权证书", "originals": 1, "copies": 0},
                {"name": "婚姻状况证明", "originals": 1, "copies": 1, "missing_ok": True},
            ],
        },
    }
    job = escpos.guide_card(service)
    assert "1. 不动产权证书（原件1份）".encode("gb18030") in job
    assert "2. 婚姻状况证明（原件1份，复印件1份） [可容缺]".encode("gb18030") in job
    assert "承诺时限：3 个工作日".encode("gb18030") in job
    assert render(job).height > 400
