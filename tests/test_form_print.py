"""The 一表申请 form as an A4 PDF (reportlab, CJK font embedded) printed through a real CUPS
daemon (a private one, started by the `cups` fixture), and printer trouble told in words."""

from __future__ import annotations

import subprocess

import pytest

from busutil import free_port
from onewindow.cupsprint import PrintError, print_pdf
from onewindow.formpdf import form_pdf

FORM = {
    "ticket_id": "abc",
    "number": "Y003",
    "title": "新生儿出生一件事联办申请表",
    "hall": "示范县政务服务中心",
    "guide_url": "http://127.0.0.1:8080/t/abcSIGNATURE",
    "items": [{"code": "A", "name": "户籍业务"}, {"code": "E", "name": "医保参保与异地就医备案"}],
    "fields": [
        {"key": "name", "label": "姓名", "type": "text", "source": "card", "value": "张小三"},
        {
            "key": "id_number",
            "label": "公民身份号码",
            "type": "text",
            "source": "card",
            "value": "620102199003070018",
        },
        {
            "key": "phone",
            "label": "联系电话",
            "type": "phone",
            "source": "contact",
            "value": "13912345678",
        },
        {"key": "baby_name", "label": "新生儿姓名", "type": "text", "source": "item", "value": ""},
        {
            "key": "relation",
            "label": "申请人与新生儿关系",
            "type": "choice",
            "source": "item",
            "options": ["父亲", "母亲"],
            "value": "父亲",
        },
    ],
}


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_form_is_an_a4_pdf_with_its_font_embedded_and_each_field_once(tmp_path):
    pdf = form_pdf(FORM)
    text = text_of(pdf, tmp_path)
    for word in (
        "新生儿出生一件事联办申请表",
        "示范县政务服务中心",
        "Y003",
        "申请人（签字）",
        "620102199003070018",
        "户籍业务",
        "医保参保与异地就医备案",
    ):
        assert word in text, word
    assert text.count("张小三") == 1 and text.count("新生儿姓名") == 1
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "form.pdf")], capture_output=True, text=True
    ).stdout
    cjk = [ln for ln in fonts.splitlines() if "WenQuanYi" in ln]
    assert cjk and cjk[0].split()[-5] == "yes"  # emb
    size = subprocess.run(["pdfinfo", str(tmp_path / "form.pdf")], capture_output=True, text=True)
    assert "595.276 x 841.89 pts (A4)" in size.stdout


def test_a_form_goes_through_cups_and_comes_out_as_the_same_pdf(cups, tmp_path):
    pdf = form_pdf(FORM)
    job = print_pdf(pdf, "hall-a4", server=cups.server, title="Y003 申请表")
    assert job.startswith("hall-a4-")
    (out,) = cups.wait_pdfs(1)
    assert out.read_bytes() == pdf


def test_printer_trouble_is_told_in_words(cups):
    pdf = form_pdf(FORM)
    with pytest.raises(PrintError) as err:
        print_pdf(pdf, "no-such-queue", server=cups.server)
    assert err.value.message == "没有名为 no-such-queue 的打印机，请检查打印机设置"
    with pytest.raises(PrintError) as err:
        print_pdf(pdf, "nopaper", server=cups.server, wait_s=10)
    assert "缺纸" in err.value.message, err.value.message
    cups.close()
    with pytest.raises(PrintError) as err:
        print_pdf(pdf, "hall-a4", server=cups.server)
    assert "连接不上打印服务" in err.value.message, err.value.message


def test_what_the_citizen_typed_prints_as_typed_markup_and_all(tmp_path):
    # reportlab's Paragraph reads markup: unescaped, "a<b" is a parse error and "R&D" loses
    # its "&"; a device could set a font of its own
    form = {
        **FORM,
        "title": "R&D <申请表>",
        "hall": "A&B 政务服务中心",
        "items": [{"code": "A", "name": "户籍<业务>"}],
        "fields": [
            {**FORM["fields"][0], "value": "张<三"},
            {**FORM["fields"][3], "label": "新生儿姓名 & 小名", "value": "R&D"},
            {**FORM["fields"][4], "value": '<font size="40">父亲</font>'},
        ],
    }
    text = text_of(form_pdf(form), tmp_path)
    for word in (
        "R&D <申请表>",
        "A&B 政务服务中心",
        "户籍<业务>",
        "张<三",
        "新生儿姓名 & 小名",
        '<font size="40">父亲</font>',
    ):
        assert word in text, (word, text)
    assert "&amp;" not in text and "&lt;" not in text


def test_a_form_that_cannot_be_made_a_pdf_is_told_in_words_and_as_device_health(cups, caplog):
    from onewindow.formprint import print_form

    # one box too tall for an A4 page: reportlab gives up on the layout
    form = {**FORM, "fields": [{**FORM["fields"][4], "value": "父亲" * 20000}]}
    told: list = []
    problem = print_form(form, "hall-a4", cups.server, lambda op, args: told.append((op, args)))
    assert problem is not None
    assert problem.message.startswith("申请表无法生成"), problem.message
    assert told == [
        ("device.health", {"part": "form_printer", "status": "failed", "reason": problem.message})
    ]
    assert cups.pdfs() == []
    assert "no PDF made" in caplog.text and "父亲" not in caplog.text  # the kind, not the text


def test_a_job_cups_aborts_is_told_in_words_not_as_printed(cups):
    from onewindow.formprint import print_form

    # the backend fails the job and the queue's error policy is abort-job: the job leaves the
    # queue as a printed one does, and the printer stays ready
    with pytest.raises(PrintError) as err:
        print_pdf(form_pdf(FORM), "jobfails", server=cups.server)
    assert err.value.message.startswith("jobfails：申请表没有打印出来"), err.value.message
    assert "the printer dropped the job" in err.value.message  # what the backend said
    told: list = []
    problem = print_form(FORM, "jobfails", cups.server, lambda op, args: told.append(args))
    assert problem is not None and problem.message == err.value.message
    assert told == [{"part": "form_printer", "status": "failed", "reason": problem.message}]


def test_a_job_asked_over_the_local_socket_is_told_as_over_tcp(cups):
    from onewindow.ippjob import job_state

    # a hall PC's own CUPS: `lpstat -H` names its socket, which ipptool reaches only as the
    # %-encoded host of the job's URI
    with pytest.raises(PrintError) as err:
        print_pdf(form_pdf(FORM), "jobfails", server=str(cups.socket))
    assert err.value.message.startswith("jobfails：申请表没有打印出来"), err.value.message
    assert "the printer dropped the job" in err.value.message
    assert job_state(str(cups.socket), "hall-a4-999") is None  # a job CUPS does not know


def test_no_ipptool_or_no_print_service_is_told_in_words_not_as_printed(cups, monkeypatch):
    from onewindow import ippjob
    from onewindow.ippjob import IppError, job_state

    down = f"127.0.0.1:{free_port()}"
    with pytest.raises(IppError, match=f"cannot ask {down}: Unable to connect"):
        job_state(down, "hall-a4-1")
    monkeypatch.setattr(ippjob, "IPPTOOL", "/nonexistent/ipptool")
    with pytest.raises(IppError, match="install the Debian package cups-ipp-utils"):
        job_state(cups.server, "hall-a4-1")
    # the form went to the printer, but whether it printed cannot be asked: never "printed"
    with pytest.raises(PrintError) as err:
        print_pdf(form_pdf(FORM), "hall-a4", server=cups.server)
    assert err.value.message == "申请表已送往 hall-a4，但无法确认是否打印出来，请查看打印机"
    assert "cups-ipp-utils" in err.value.message_en


def test_a_printed_form_leaves_no_document_in_the_cups_spool(cups, caplog):
    print_pdf(form_pdf(FORM), "hall-a4", server=cups.server, title="Y003 申请表")
    assert cups.wait_pdfs(1)  # it printed
    assert cups.spooled() == []  # and the spool kept no copy, ID number in full
    assert "PreserveJobFiles" not in caplog.text


def test_a_cups_that_keeps_printed_documents_is_warned_of_in_the_log(
    cups_keeping_documents, caplog
):
    cups = cups_keeping_documents
    job = print_pdf(form_pdf(FORM), "hall-a4", server=cups.server, title="Y003 申请表")
    assert cups.spooled()  # CUPS's default: a day
    (warning,) = [r for r in caplog.records if "PreserveJobFiles No" in r.getMessage()]
    assert warning.levelname == "WARNING" and job in warning.getMessage()
