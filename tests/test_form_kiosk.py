"""一表申请 at a kiosk with its own A4 printer, under Xvfb with real X touches: the baby's name
typed in pinyin on the form's letter pad through fcitx5 (the session's standard input method,
as on the manager console) with a candidate chosen by its digit, the form printed the moment it
is confirmed through a real CUPS daemon (the `cups` fixture); a printer out of paper told to
the citizen in words and raised as a hall alert; a social security card, which gives only the
name and the ID number, leaving the rest of the basic data blank for the citizen's hand."""

from __future__ import annotations

import subprocess
import time

from kioskutil import IMG, form_caller, form_pad, kiosk_args, shot, target_text, tickets
from pcscutil import wait_until

from busutil import Hall, unlimited_config, wait_for
from drivers.idcard_sim import IdCardSimulator
from drivers.ptysim import PtyDevice
from kivyutil import App, Screen

NAME = "张小三"  # the simulator's sample card (drivers/idcard_sim.RESIDENT_SAMPLE)
ID_NUMBER = "620102199003070018"
PHONE = "13912345678"


def items(app: App) -> None:
    """What the card cannot know: the phone and the two items' own fields."""
    form_pad(app, "phone", PHONE)
    app.tap("form-relation-父亲")
    app.tap("form-baby_sex-女")
    form_pad(app, "baby_birth", "20261120")
    form_pad(app, "birth_cert", "Q620012345")
    app.wait_text("form-field-birth_cert", lambda t: t == "Q620012345")


def letters(app: App, text: str) -> None:
    for c in text:
        app.tap(f"lkey-{c}")
        time.sleep(0.15)


BABY = "张小花"


def type_name(app: App, screen: Screen, tries: int = 3) -> None:
    """On a loaded machine fcitx5 can answer a key after SDL's wait and the letter goes
    through raw (docs/manager.md): 清空 and type again, as a citizen would."""
    app.tap("form-field-baby_name")
    app.wait_target("lkey-z")
    assert not app.targets().get("targets", {}).get("key-5")  # the number pad made way
    time.sleep(1.0)  # a citizen's finger moving to the pad: pinyin is on by then
    # fcitx5 loads its pinyin dictionaries at the first key: a key composed and taken back
    # (清空 takes back what is being composed, nothing is chosen, so nothing is learnt)
    letters(app, "a")
    time.sleep(1.5)
    app.tap("lkey-clear")
    app.wait_text("form-field-baby_name", lambda t: t == "", 5)
    tried = ""
    for _ in range(tries):
        app.tap("lkey-clear")
        letters(app, "zhang")
        app.tap("lkey-space")  # 选字: the first candidate
        time.sleep(0.6)
        letters(app, "xiaohua")
        time.sleep(0.8)
        shot(screen, "form-pinyin")  # fcitx5's candidate list under the field
        # 1 消化 2 笑话 3 校花 4 小花 on a fresh dictionary; once chosen, 小花 comes first
        app.tap("lkey-4" if BABY[1:] not in tried else "lkey-1")
        try:
            app.wait_text("form-field-baby_name", lambda t: t == BABY, 5)
            return
        except AssertionError:
            tried += app.text("form-field-baby_name")
            continue
    raise AssertionError(f"typed zhang xiaohua: {app.text('form-field-baby_name')!r}")


def pdf_text(pdf) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def start(hall: Hall, tmp_path, screen: Screen, *extra: str) -> App:
    app = App(screen, kiosk_args(hall, *extra), tmp_path, "kiosk")
    app.wait_screen("home", timeout=30)
    app.wait_target("tile-T1")
    return app


def to_the_form(app: App) -> None:
    app.tap("tile-T1")
    app.wait_screen("theme")
    app.tap("q-fund-no")
    app.tap("theme_take")
    app.wait_screen("form")
    app.wait_text("form_title", lambda t: t == "新生儿出生一件事联办申请表")


def test_pinyin_on_the_letter_pad_and_the_form_printed_at_once(tmp_path, cups):
    IMG.mkdir(parents=True, exist_ok=True)
    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.start()
    card = IdCardSimulator()
    pty = PtyDevice(card, tmp_path / "idcard")
    screen = Screen(1080, 1920)
    app = None
    try:
        screen.start_input_method(tmp_path, kiosk=True)  # fcitx5 + pinyin in the kiosk's session
        app = start(
            hall,
            tmp_path,
            screen,
            "--idcard",
            str(tmp_path / "idcard"),
            "--pinyin",
            "--form-printer",
            "hall-a4",
            "--cups-server",
            cups.server,
        )
        card.insert()
        wait_for(lambda: "张*三" in target_text(app, "citizen"), 10)
        to_the_form(app)
        items(app)
        # 新生儿姓名: touched, the letter pad replaces the number pad; pinyin typed key by key,
        # 张 the first candidate (选字 = space), 小花 the fourth of xiaohua's, by its digit
        type_name(app, screen)
        app.tap("lkey-done")
        app.wait_target("key-5")  # the number pad is back
        app.tap("form_confirm")
        app.wait_screen("ticket", timeout=15)
        number = target_text(app, "ticket_number")
        # printed at once on the kiosk's own A4 printer, through CUPS
        (pdf,) = cups.wait_pdfs(1, timeout=30)
        app.wait_text("ticket_form", lambda t: t == "申请表已打印，请取走，核对后签字", 15)
        shot(screen, "form-printed")
        text = pdf_text(pdf)
        for value in (NAME, ID_NUMBER, PHONE, BABY):
            assert text.count(value) == 1, (value, text)
        assert f"排队号：{number}" in text
        assert "新生儿出生一件事联办申请表" in text and "扫码查看办事指南" in text
        (t,) = tickets(hall, number)
        reads = [
            (r["device"], r["action"])
            for r in hall.ctl.store.audit_rows()
            if r["ticket_id"] == t.id and r["action"].startswith("form_")
        ]
        assert reads == [("kiosk-1", "form_fill"), ("kiosk-1", "form_print")]
        assert not [a for a in hall.ctl.alerts.listed() if a["kind"] == "printer"]
        for secret in (NAME, ID_NUMBER, PHONE):
            assert secret not in app.read_log(), secret
    finally:
        if app:
            app.stop()
        screen.close()
        pty.close()
        hall.close()


def test_a_printer_out_of_paper_is_told_in_words_and_raised_as_a_hall_alert(tmp_path, cups, vpcd):
    """At the kiosk and at the window; and a social security card's form leaves the basic data
    it does not hold for the citizen's hand."""
    from drivers.sscard import SocialSecurityReader
    from drivers.sscard_sim import VirtualSSCard

    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.add("caller-1", "caller", [1])
    hall.start()
    screen, caller_screen = Screen(1080, 1920), Screen(1024, 600)
    card = VirtualSSCard("B98765432", ID_NUMBER, NAME)
    apps = []
    try:
        app = start(
            hall,
            tmp_path,
            screen,
            "--sscard",
            "--form-printer",
            "nopaper",
            "--cups-server",
            cups.server,
        )
        apps.append(app)
        card.insert()
        wait_for(lambda: "张*三" in target_text(app, "citizen"), 15)
        to_the_form(app)
        # the social security card gives the name and the number; the rest by hand
        assert app.text("form-card-name") == "张*三"
        assert app.text("form-card-id_number") == "620102********0018"
        for key in ("sex", "nation", "birth", "address"):
            assert app.text(f"form-card-{key}") == "请在打印的申请表上手写", key
        items(app)
        assert app.text("form-field-baby_name") == "请在打印的申请表上手写"  # no --pinyin
        shot(screen, "form-sscard")
        app.tap("form_confirm")
        app.wait_screen("ticket", timeout=15)
        number = target_text(app, "ticket_number")
        told = app.wait_text("ticket_form", lambda t: t.startswith("申请表未能打印"), 30)
        assert "缺纸" in told and "窗口可为您打印" in told, told
        assert "继续打印" not in told  # cancelled: it will not come out for the next person
        jobs = subprocess.run(
            ["lpstat", "-h", cups.server, "-o", "nopaper"], capture_output=True, text=True
        )
        assert jobs.stdout.strip() == "", jobs.stdout
        shot(screen, "form-not-printed")
        wait_for(lambda: "form_printer:kiosk-1" in hall.ctl.alerts, 10)
        (alert,) = [a for a in hall.ctl.alerts.listed() if a["key"] == "form_printer:kiosk-1"]
        assert alert["kind"] == "printer" and "缺纸" in alert["message"]
        assert alert["message"].startswith("kiosk-1 A4申请表打印机 故障：")

        # the window calls the ticket and its printer is out of paper too: the staff read it
        # on the status line, and the manager sees it among the hall's alerts
        caller = form_caller(caller_screen, hall, cups.server, "nopaper", tmp_path, number)
        apps.append(caller)
        line = caller.wait_text("status_line", lambda s: "申请表未打印" in s, 30)
        assert "缺纸" in line, line
        wait_for(lambda: "form_printer:caller-1" in hall.ctl.alerts, 10)
        assert not cups.pdfs()
    finally:
        for a in apps:
            a.stop()
        card.remove()
        wait_until(lambda: not SocialSecurityReader(vpcd).card_present())
        screen.close()
        caller_screen.close()
        hall.close()
