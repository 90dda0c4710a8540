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


# -- bilingual printouts: Tibetan as raster lines, the rest native text ------------------------

HALL_BO = "མདོ་སྨད་རྫོང་གི་གཞུང་དོན་ཞབས་ཞུ་ལྟེ་གནས།"
SERVICE_BO = "ཐེམ་ཐོའི་ལས་དོན།"
TICKET_FACTS = dict(TICKET, wait_kind="minutes", wait_text="约 18 分钟")


def rasters(job: bytes) -> list:
    """Every GS v 0 image in a job, decoded from the bytes as the printer reads them."""
    from drivers import escpos_raster

    out, at = [], job.find(escpos_raster.RASTER)
    while at >= 0:
        out.append(escpos_raster.decode(job, at))
        at = job.find(escpos_raster.RASTER, at + escpos_raster.raster_length(job, at))
    return out


def dots_differing(a, b) -> int:
    from PIL import ImageChops

    if a.size != b.size:
        return a.width * a.height
    return sum(ImageChops.logical_xor(a, b).convert("L").histogram()[255:])


def test_tibetan_ticket_prints_its_lines_as_shaped_raster_through_the_pty(tmp_path):
    from PIL import features

    from drivers import escpos_raster
    from onewindow.i18n import translations

    assert features.check("raqm"), "Pillow without libraqm: Tibetan would print unshaped"
    sim = PrinterSimulator()
    dev = PtyDevice(sim, tmp_path / "ttyPRINTER")
    printer = SerialPrinter(str(tmp_path / "ttyPRINTER"), 9600)  # a kiosk printer's usual line
    try:
        second = escpos.Second("bo", HALL_BO, SERVICE_BO)
        job = escpos.ticket(TICKET_FACTS, "示范县政务服务中心", second=second)
        assert printer.print_job(job).reason == "ready"
        assert sim.wait_jobs(1, timeout=10) == [job]  # the image's dots end no job early
    finally:
        printer.close()
        dev.close()
    # the budget: 2.5 KB, 2.6 s at 9600 baud (8N1)
    assert len(job) <= 2500 and len(job) * 10 / 9600 <= 2.6
    # Chinese stays native text; the Tibetan lines are images of the freshly shaped words
    assert "您前面还有 4 人等候".encode("gb18030") in job
    ahead = translations("bo").pgettext("print.ahead_wait", "前面 {n} 人 · {wait}")
    assert ahead != "前面 {n} 人 · {wait}"  # the catalog's Tibetan, not the Chinese fallback
    wait = translations("bo").pgettext("hallwords.minutes", "约 {n} 分钟").format(n=18)
    expected = [SERVICE_BO, ahead.format(n=4, wait=wait)]
    images = rasters(sim.jobs[0])
    assert len(images) == len(expected)
    for got, words in zip(images, expected, strict=True):
        assert dots_differing(got, _padded(escpos_raster.line_image(words), got)) <= 2
    # and shaping shows: the same words unshaped would not match
    assert dots_differing(images[0], _padded(_unshaped(SERVICE_BO), images[0])) > 20
    # the preview is drawn from the same bytes: the images are on it
    preview = render(job)
    preview.save(tmp_path / "ticket-bo.png")
    zh_only = render(escpos.ticket(TICKET_FACTS, "示范县政务服务中心"))
    assert preview.height > zh_only.height + 60  # two raster lines, with their spacing
    import os

    if os.environ.get("ONEWINDOW_DOC_SHOTS"):
        from kivyutil import REPO

        preview.save(REPO / "docs" / "img" / "ticket-bilingual-bo.png")


def test_a_very_long_tibetan_service_name_never_takes_the_ticket_past_its_budget():
    """Smaller Tibetan first; still over, the Tibetan wait line goes (the Chinese one stays);
    still over, the Tibetan name is cut between syllables, ending in "…"."""
    from drivers import escpos_raster

    syllables = SERVICE_BO[:-1] + "་"
    chinese = "示范县政务服务中心"
    for times, cut in ((4, False), (30, True)):
        name = syllables * times + "།"
        job = escpos.ticket(TICKET_FACTS, chinese, second=escpos.Second("bo", HALL_BO, name))
        assert len(job) <= escpos.TICKET_BUDGET, (times, len(job))
        assert "您前面还有 4 人等候".encode("gb18030") in job  # the Chinese wait line stays
        assert TICKET["service_name"].encode("gb18030") in job  # and the Chinese name, whole
        images = rasters(job)
        if not cut:  # the name whole, at the smallest size, and no Tibetan wait line after it
            want = escpos_raster.line_images(name, px=escpos.TICKET_PX[-1])
        else:  # its first syllables and "…": as many as fit
            points = escpos_raster.wrap_points(name)
            at = next(
                i
                for i in reversed(range(len(points)))
                if escpos_raster.width(name[: points[i]] + "…", 18) <= escpos.MAX_NAME_DOTS
                and same_dots(images, escpos_raster.line_images(name[: points[i]] + "…", px=18))
            )
            shown = name[: points[at]] + "…"
            assert len(shown) > len(syllables), shown  # more than one word of it is left
            want = escpos_raster.line_images(shown, px=18)
            # and not one syllable fewer than fit: the cut one syllable longer, drawn as
            # `ticket` draws each cut it tries (smallest size, no Tibetan wait line), is over
            longer = escpos.Second("bo", HALL_BO, name[: points[at + 1]] + "…")
            over = escpos._ticket(TICKET_FACTS, chinese, "", longer, 18, wait_line=False)
            assert len(over) > escpos.TICKET_BUDGET, (len(shown), len(job), len(over))
        assert same_dots(images, want)


def same_dots(images, drawn) -> bool:
    """The printed rasters are these drawn lines (but for a dot or two of rounding)."""
    return len(images) == len(drawn) and all(
        dots_differing(got, _padded(img, got)) <= 2 for got, img in zip(images, drawn, strict=True)
    )


def _padded(img, like):
    """`img` on white the size of `like` (a raster's rows are padded to whole bytes)."""
    from PIL import Image

    out = Image.new("1", like.size, 1)
    out.paste(img, (0, 0))
    return out


def _unshaped(words: str):
    """The same line drawn without HarfBuzz (Pillow's basic layout): stacks come apart."""
    from PIL import Image, ImageDraw, ImageFont

    from onewindow.fonts import find_font

    font = ImageFont.truetype(
        find_font("regular", "tibetan"), 22, layout_engine=ImageFont.Layout.BASIC
    )
    img = Image.new("1", (400, 60), 1)
    ImageDraw.Draw(img).text((0, 30), words, font=font, fill=0, anchor="ls")
    box = Image.eval(img.convert("L"), lambda v: 255 - v).getbbox()
    return img.crop(box)


def test_english_second_language_is_native_text_only():
    second = escpos.Second("en", "Demo County Service Centre", "Household registration")
    job = escpos.ticket(TICKET_FACTS, "示范县政务服务中心", second=second)
    assert b"\x1dv0" not in job
    assert b"Demo County Service Centre\n" in job and b"Household registration\n" in job
    assert b"4 ahead \xa1\xa4 wait about 18 min\n" in job  # the middle dot in GB18030
    assert len(job) < 700


def test_a_ticket_with_nobody_ahead_says_so_rather_than_zero():
    from drivers import escpos_raster
    from onewindow.i18n import translations

    first = dict(TICKET_FACTS, ahead=0)
    hall = "示范县政务服务中心"
    job = escpos.ticket(first, hall)
    assert "您前面没有人等候".encode("gb18030") in job
    assert "0 人".encode("gb18030") not in job
    en = escpos.ticket(first, hall, second=escpos.Second("en", "Demo", "Household registration"))
    assert b"no one ahead \xa1\xa4 wait about 18 min\n" in en and b"0 ahead" not in en
    # in Tibetan the line is an image: the catalog's words drawn, within the ticket's budget,
    # with the longest wait the controller words (a date) too
    none = translations("bo").pgettext("print.none_ahead_wait", "前面没有人 · {wait}")
    assert none != "前面没有人 · {wait}"  # the catalog's draft, not the Chinese fallback
    wait = translations("bo").pgettext("hallwords.minutes", "约 {n} 分钟").format(n=18)
    second = escpos.Second("bo", HALL_BO, SERVICE_BO)
    bo = escpos.ticket(first, hall, second=second)
    assert len(bo) <= escpos.TICKET_BUDGET
    assert same_dots(
        rasters(bo), [escpos_raster.line_image(w) for w in (SERVICE_BO, none.format(wait=wait))]
    )
    opens = dict(first, wait_kind="opens", opens_at="2026-11-30T08:30:00+08:00", opens_in_days=3)
    assert len(escpos.ticket(opens, hall, second=second)) <= escpos.TICKET_BUDGET
    # one ahead keeps its count
    assert "您前面还有 1 人等候".encode("gb18030") in escpos.ticket(
        dict(TICKET_FACTS, ahead=1), hall
    )


def test_a_hall_without_a_second_language_prints_chinese_only():
    assert escpos.second_lang(["zh"], "zh") == "zh"
    assert escpos.Second.of("zh", {"name_bo": HALL_BO}) is None
    assert escpos.second_lang(["zh", "bo", "en"], "en") == "en"  # the citizen's own first
    assert escpos.second_lang(["zh", "bo", "en"], "zh") == "bo"
    assert escpos.ticket(TICKET, "厅", second=None) == escpos.ticket(TICKET, "厅")


def test_raster_never_asks_the_printer_for_its_status():
    from PIL import Image

    from drivers import escpos_raster

    img = Image.new("1", (24, 1), 1)
    # dots 3, 13, 21 black: bytes 10 04 04, i.e. DLE EOT 4 inside the image
    for x in (3, 13, 21):
        img.putpixel((x, 0), 0)
    data = escpos_raster.raster(img)
    assert b"\x10\x04\x04" not in data
    assert dots_differing(escpos_raster.decode(data), img) == 1


def test_bilingual_guide_card_and_missing_notice():
    service = {
        "code": "F",
        "name": "不动产登记",
        "name_bo": "ས་ཁང་ཐོ་འགོད།",
        "guide": {
            "time_limit_days": 3,
            "url": "http://127.0.0.1:8080/guide/F",
            "materials": [
                {"name": "不动产权证书", "name_bo": "ས་ཁང་དབང་ཆའི་ལག་ཁྱེར།", "originals": 1},
                {"name": "婚姻状况证明", "originals": 1, "copies": 1, "missing_ok": True},
            ],
        },
    }
    job = escpos.guide_card(service, escpos.Second.of("bo", {}, service))
    images = rasters(job)
    assert len(images) >= 6  # name, title, heading, a material with its counts, limit, QR line
    assert "1. 不动产权证书（原件1份）".encode("gb18030") in job
    en = escpos.guide_card(dict(service, name_en="Property registration"), escpos.Second("en"))
    assert b"Property registration\n" in en and b"3 working days" in en
    assert b"2. \xbb\xe9" in en  # the material with no English stays Chinese, once
    assert render(job).height > render(escpos.guide_card(service)).height + 150
    case = {
        "service": "F",
        "service_name": "不动产登记",
        "number": "F003",
        "window_name": "3号窗口",
        "accepted_at": "2026-11-23T10:05:00+08:00",
        "materials": ["婚姻状况证明"],
        "materials_en": ["Marriage certificate"],
        "due": "2026-11-30",
    }
    note = escpos.missing_notice(case, "示范县政务服务中心", escpos.Second("en", "Demo Centre", ""))
    assert b"Bring them by 2026-11-30" in note and b"   Marriage certificate\n" in note
    bo = escpos.missing_notice(case, "示范县政务服务中心", escpos.Second("bo", HALL_BO, ""))
    assert len(rasters(bo)) >= 5 and "请于 2026-11-30 前补齐".encode("gb18030") in bo
