"""一表申请 end to end, as a citizen and the window staff live it: an ID card read at the real
kiosk (simulated reader on a pty), the 新生儿出生一件事 theme, the merged form completed on the
kiosk's number pad and confirmed; the window's caller app calls the ticket and its A4 form comes
out of a real CUPS daemon (private, started by the `cups` fixture) as a PDF. Nothing of the
citizen is in clear in the database file, the logs or the retained topics."""

from __future__ import annotations

import json
import logging
import subprocess

import pytest
from kioskutil import IMG, form_caller, form_pad, kiosk_args, shot, target_text, tickets

from busutil import Hall, unlimited_config, wait_for
from drivers.idcard_sim import IdCardSimulator
from drivers.printer_sim import PrinterSimulator
from drivers.ptysim import PtyDevice
from kivyutil import App, Screen

NAME = "张小三"  # the simulator's sample card (drivers/idcard_sim.RESIDENT_SAMPLE)
ID_NUMBER = "620102199003070018"
PHONE = "13912345678"


class Everything(logging.Handler):
    """Every log record of this process (the hall runs in it), as formatted text."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def logs():
    handler = Everything()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def test_card_theme_form_call_and_the_a4_form_out_of_cups(tmp_path, cups, logs):
    IMG.mkdir(parents=True, exist_ok=True)
    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.add("caller-1", "caller", [1])
    hall.add("display-1", "display")
    hall.start()
    printer, card = PrinterSimulator(), IdCardSimulator()
    ptys = [PtyDevice(printer, tmp_path / "printer"), PtyDevice(card, tmp_path / "idcard")]
    kiosk_screen, caller_screen = Screen(1080, 1920), Screen(1024, 600)
    apps = []
    try:
        watcher = hall.client("display-1")  # sees every retained topic, as a display does
        kiosk = App(
            kiosk_screen,
            kiosk_args(
                hall, "--printer", str(tmp_path / "printer"), "--idcard", str(tmp_path / "idcard")
            ),
            tmp_path,
            "kiosk",
        )
        apps.append(kiosk)
        kiosk.wait_screen("home", timeout=30)
        kiosk.wait_target("tile-T1")

        # the citizen lays the ID card down, picks 新生儿出生一件事, says no to 公积金
        card.insert()
        wait_for(lambda: "张*三" in target_text(kiosk, "citizen"), 10)
        kiosk.tap("tile-T1")
        kiosk.wait_screen("theme")
        kiosk.tap("q-fund-no")
        kiosk.tap("theme_take")
        kiosk.wait_screen("form")
        assert kiosk.wait_text("form_title", lambda t: t == "新生儿出生一件事联办申请表")
        # the card's data is filled in, masked for whoever stands behind the citizen
        assert kiosk.text("form-card-name") == "张*三"
        assert kiosk.text("form-card-id_number") == "620102********0018"
        assert kiosk.text("form-card-sex") == "男" and kiosk.text("form-card-birth") == "1990-03-07"
        # what the card cannot know: the phone and the two items' own fields
        form_pad(kiosk, "phone", PHONE)
        kiosk.tap("form-relation-父亲")
        kiosk.tap("form-baby_sex-女")
        form_pad(kiosk, "baby_birth", "20261120")
        form_pad(kiosk, "birth_cert", "Q620012345")
        kiosk.wait_text("form-field-baby_birth", lambda t: t == "2026-11-20")
        kiosk.wait_text("form-field-phone", lambda t: t == PHONE)
        shot(kiosk_screen, "form")
        kiosk.tap("form_confirm")
        kiosk.wait_screen("ticket", timeout=15)
        number = target_text(kiosk, "ticket_number")
        (t,) = tickets(hall, number)
        assert t.service == "T1" and hall.ctl.store.has_form(t.id)

        # the window calls: its caller prints the form on the hall's A4 queue at once
        caller = form_caller(caller_screen, hall, cups.server, "hall-a4", tmp_path, number)
        apps.append(caller)
        (pdf,) = cups.wait_pdfs(1, timeout=20)
        caller.wait_text("status_line", lambda s: "申请表已打印" in s, 10)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert text.count(NAME) == 1 and text.count(ID_NUMBER) == 1 and text.count(PHONE) == 1
        for label in (
            "姓名",
            "公民身份号码",
            "联系电话",
            "申请人与新生儿关系",
            "新生儿姓名",
            "新生儿性别",
            "新生儿出生日期",
            "出生医学证明编号",
            "缴费银行卡号",
        ):
            assert len([ln for ln in text.splitlines() if ln.strip().startswith(label)]) == 1, label
        # the items' own fields once each, as the citizen gave them
        for value in ("父亲", "2026-11-20", "Q620012345", "户籍业务", "医保参保与异地就医备案"):
            assert text.count(value) == 1, (value, text.count(value))
        assert number in text
        # the QR code leads to the guide of what was applied for: the theme's guide page
        subprocess.run(
            ["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
            check=True,
        )
        qr = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", tmp_path / "page.png"],
            capture_output=True,
            text=True,
        )
        assert qr.stdout.split() == ["http://127.0.0.1:8080/guide/T1"], (qr.stdout, qr.stderr)
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-singlefile", str(pdf), str(IMG / "form-printed")],
            check=True,
        )

        # staff see the fields on the caller; the ID number only when they reveal it
        caller.tap("form_show")
        caller.wait_screen("form")
        shown = caller.wait_text("form_text", lambda s: "620102********0018" in s, 10)
        assert ID_NUMBER not in shown and "Q620012345" in shown and PHONE in shown
        caller_screen.screenshot(IMG / "caller-form.png")
        caller.tap("form_reveal")
        caller.wait_text("form_text", lambda s: ID_NUMBER in s, 10)
        caller.tap("form_close")
        caller.wait_screen("main")
        # reopened, it is masked again: seeing the number once more is another audited reveal
        caller.tap("form_show")
        caller.wait_screen("form")
        again = caller.wait_text("form_text", lambda s: "Q620012345" in s, 10)
        assert ID_NUMBER not in again and "620102********0018" in again
        caller.tap("form_close")
        actions = [r["action"] for r in hall.ctl.store.audit_rows() if r["ticket_id"] == t.id]
        assert {"form_fill", "form_view", "form_print", "form_reveal"} <= set(actions)
        assert actions.count("form_reveal") == 1

        # nowhere in clear: the database file (and its WAL), the logs, the retained topics
        hall.ctl.store.db.execute("PRAGMA wal_checkpoint(FULL)")
        db = b"".join(p.read_bytes() for p in hall.data_dir.glob("hall.db*"))
        retained = json.dumps(watcher.state, ensure_ascii=False)
        everything = "\n".join(logs.lines) + kiosk.read_log() + caller.read_log()
        for secret in (NAME, ID_NUMBER, PHONE):
            assert secret.encode() not in db, secret
            assert secret not in retained, secret
            assert secret not in everything, secret
    finally:
        for app in apps:
            app.stop()
        kiosk_screen.close()
        caller_screen.close()
        for p in ptys:
            p.close()
        hall.close()
