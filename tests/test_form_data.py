"""一表申请 in the controller: the filled form travels with the ticket sealed under a key outside
the database, is read only by the windows that may serve the ticket and the managers (audited,
the ID number masked unless revealed), and goes when the case ends, or with its 容缺 case."""

from __future__ import annotations

import json

import pytest

from ctlutil import ELDER_ID, KIOSK, MANAGER, YOUNG_ID, caller
from onewindow.roles import Device

NAME = "李小明"
CARD = {
    "id_number": YOUNG_ID,
    "name": NAME,
    "sex": "男",
    "nation": "汉",
    "birth": "2000-01-01",
    "address": "甘肃省兰州市城关区示范路1号",
}
VALUES = {
    "phone": "13912345678",
    "relation": "父亲",
    "baby_sex": "女",
    "baby_birth": "2026-11-20",
    "birth_cert": "Q620012345",
}


@pytest.fixture
def hall(ctl_hall):
    return ctl_hall  # Monday 2026-11-23 10:00, the shipped hall


def take(hall, values=None, **extra) -> dict:
    return hall.issue(
        "T1",
        citizen=CARD,
        answers={"fund": False},
        form={"values": VALUES if values is None else values},
        **extra,
    )


def everything_on_disk(hall) -> bytes:
    hall.ctl.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    data_dir = hall.ctl.store.path.parent
    return b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())


def audit(hall, ticket_id) -> list[str]:
    return [r["action"] for r in hall.ctl.store.audit_rows() if r["ticket_id"] == ticket_id]


def test_the_template_is_the_merged_form_of_the_answers_items(hall):
    form = hall.ok(KIOSK, "form.template", service="T1", answers={"fund": True})["form"]
    assert form["title"] == "新生儿出生一件事联办申请表"
    assert [i["name"] for i in form["items"]] == [
        "户籍业务",
        "医保参保与异地就医备案",
        "社会保障卡申领补换",
        "住房公积金提取",
    ]
    assert [f["key"] for f in form["fields"]].count("baby_name") == 1
    assert hall.ok(KIOSK, "form.template", service="B")["form"] is None


def test_a_filled_form_is_sealed_with_the_ticket_and_read_by_its_window_masked(hall):
    t = take(hall)
    hall.open(1)  # 综合窗口 1 serves every theme
    assert hall.call(1)["id"] == t["id"]
    form = hall.ok(caller(1), "form.get", window=1)["form"]
    got = {f["key"]: f["value"] for f in form["fields"]}
    assert got["name"] == NAME and got["relation"] == "父亲" and got["phone"] == "13912345678"
    assert got["id_number"] == "440524********1235"  # masked unless revealed
    assert form["number"] == t["number"] and form["hall"] == "示范县政务服务中心"
    revealed = hall.ok(caller(1), "form.get", window=1, purpose="reveal")["form"]
    assert {f["key"]: f["value"] for f in revealed["fields"]}["id_number"] == YOUNG_ID
    assert audit(hall, t["id"])[-2:] == ["form_view", "form_reveal"]
    assert "form_fill" in audit(hall, t["id"])
    # nothing of it in clear anywhere in the data dir: database, WAL, key files
    disk = everything_on_disk(hall)
    for secret in (YOUNG_ID, NAME, "13912345678", "Q620012345", "示范路"):
        assert secret.encode() not in disk, secret


def test_only_the_windows_that_may_serve_it_and_managers_read_it(hall):
    t = take(hall)
    # window 4 is a 户籍 specialist: it does not serve the theme's queue
    reply = hall.do(caller(4), "form.get", ticket_id=t["id"])
    assert not reply["ok"] and reply["error"]["code"] == "forbidden"
    assert hall.ok(caller(1), "form.get", ticket_id=t["id"])["form"]["number"] == t["number"]
    assert hall.ok(MANAGER, "form.get", ticket_id=t["id"], purpose="print")
    assert hall.do(KIOSK, "form.get", ticket_id=t["id"])["error"]["code"] == "forbidden"  # view


def test_a_ticket_at_another_window_is_that_windows_alone(hall):
    t = take(hall)
    hall.open(1, 2)  # both comprehensive: both serve the theme's queue
    assert hall.ok(caller(2), "form.get", ticket_id=t["id"])  # waiting: either may take it
    assert hall.call(1)["id"] == t["id"]
    for purpose in ("view", "reveal", "print"):
        reply = hall.do(caller(2), "form.get", ticket_id=t["id"], purpose=purpose)
        assert reply["error"]["code"] == "forbidden", (purpose, reply)
    assert hall.ok(caller(1), "form.get", window=1, purpose="reveal")
    assert hall.ok(MANAGER, "form.get", ticket_id=t["id"])


def test_a_form_with_mistakes_refuses_the_ticket_naming_the_fields(hall):
    reply = hall.do(
        KIOSK,
        "ticket.issue",
        service="T1",
        citizen=CARD,
        answers={},
        form={"values": {**VALUES, "phone": "123", "relation": "舅舅"}},
    )
    assert reply["error"]["code"] == "bad_form"
    assert set(reply["error"]["detail"]["fields"]) == {"phone", "relation"}
    assert "联系电话应为11位手机号码" in reply["error"]["message"]
    assert hall.ctl.store.rows("forms") == [] and hall.ctl.store.tickets() == []
    no_card = hall.do(KIOSK, "ticket.issue", service="T1", form={"values": VALUES})
    assert no_card["error"]["code"] == "need_card"


def test_the_form_goes_when_the_case_is_finished(hall):
    t = take(hall)
    hall.open(1)
    hall.call(1)
    hall.ok(caller(1), "window.finish", window=1)
    assert hall.ctl.store.rows("forms") == []
    assert hall.do(MANAGER, "form.get", ticket_id=t["id"])["error"]["code"] == "no_form"
    assert "form_drop" in audit(hall, t["id"])


def test_a_rongque_case_carries_the_form_until_the_citizen_returns(hall):
    take(hall)
    hall.open(1)
    hall.call(1)
    reply = hall.ok(caller(1), "window.finish", window=1, missing=["近期免冠照片"])
    due = reply["case"]["due"]
    assert [r["keep_until"] for r in hall.ctl.store.rows("forms")] == [due]
    # the next days' rolls keep it: the case is open
    hall.clock.advance(days=2)
    hall.ok(KIOSK, "queue.status")
    assert len(hall.ctl.store.rows("forms")) == 1
    back = hall.ok(KIOSK, "case.checkin", citizen=CARD)["ticket"]
    assert hall.ok(caller(1), "form.get", ticket_id=back["id"])["form"]["number"] == back["number"]
    assert "form_carry" in audit(hall, back["id"])


def test_every_form_left_goes_at_the_days_end(hall):
    t = take(hall)
    assert len(hall.ctl.store.rows("forms")) == 1
    hall.clock.advance(days=1)
    hall.ok(KIOSK, "queue.status")  # the first request of the day rolls it: the ticket expires
    assert hall.ctl.store.rows("forms") == []
    assert audit(hall, t["id"])[-2:] == ["expire", "form_drop"]


def test_a_case_never_returned_for_loses_its_form_after_its_due_day(hall):
    take(hall)
    hall.open(1)
    hall.call(1)
    due = hall.ok(caller(1), "window.finish", window=1, missing=["近期免冠照片"])["case"]["due"]
    hall.clock.advance(days=7)  # the due day (Monday + 5 working days): still kept
    assert hall.clock.at.date().isoformat() == due
    hall.ok(KIOSK, "queue.status")
    assert len(hall.ctl.store.rows("forms")) == 1
    hall.clock.advance(days=1)
    hall.ok(KIOSK, "queue.status")
    assert hall.ctl.store.rows("forms") == []
    assert [r["action"] for r in hall.ctl.store.audit_rows()].count("form_purge") == 1


def test_the_form_key_lives_outside_the_database_and_another_key_opens_nothing(hall):
    t = take(hall)
    key = hall.ctl.store.path.parent / "forms.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    key.unlink()
    hall.ctl.forms._fernet = None  # as after a restart with the key file replaced
    reply = hall.do(MANAGER, "form.get", ticket_id=t["id"])
    assert reply["error"]["code"] == "form_unavailable" and "密钥" in reply["error"]["message"]


def test_the_reply_kept_for_retries_holds_no_form(hall):
    take(hall)
    replies = json.dumps(hall.ctl.store.rows("replies"), ensure_ascii=False)
    assert NAME not in replies and YOUNG_ID not in replies and "13912345678" not in replies


def test_the_kiosk_that_filled_it_prints_it_at_once_and_no_other_reader_may(hall):
    t = take(hall)
    form = hall.ok(KIOSK, "form.get", ticket_id=t["id"], purpose="print")["form"]
    got = {f["key"]: f["value"] for f in form["fields"]}
    assert got["id_number"] == YOUNG_ID and got["name"] == NAME  # in full: the citizen signs it
    assert audit(hall, t["id"])[-1] == "form_print"
    assert [r["device"] for r in hall.ctl.store.audit_rows() if r["action"] == "form_print"] == [
        "kiosk-1"
    ]
    # a kiosk only prints: no viewing, no reading by window, no other kiosk's form
    for args in ({"ticket_id": t["id"]}, {"ticket_id": t["id"], "purpose": "reveal"}):
        assert hall.do(KIOSK, "form.get", **args)["error"]["code"] == "forbidden"
    other = Device("kiosk-2", "kiosk")
    assert (
        hall.do(other, "form.get", ticket_id=t["id"], purpose="print")["error"]["code"]
        == "forbidden"
    )
    # once called, or minutes later, the form is the windows' alone
    hall.open(1)
    assert hall.call(1)["id"] == t["id"]
    called = hall.do(KIOSK, "form.get", ticket_id=t["id"], purpose="print")
    assert called["error"]["code"] == "forbidden"
    later = hall.issue(
        "T1", citizen={**CARD, "id_number": ELDER_ID}, answers={}, form={"values": VALUES}
    )
    hall.clock.advance(minutes=6)
    late = hall.do(KIOSK, "form.get", ticket_id=later["id"], purpose="print")
    assert late["error"]["code"] == "forbidden" and "刚填写" in late["error"]["message"]


def test_the_forms_qr_leads_to_the_guide_of_what_was_applied_for(hall):
    t = take(hall)
    form = hall.ok(MANAGER, "form.get", ticket_id=t["id"])["form"]
    # a theme: its guide page on the hall's web pages (beside /t/<ticket> of status_url)
    assert form["guide_url"] == "http://127.0.0.1:8080/guide/T1"
    a = hall.issue("A", citizen=CARD, form={"values": {**VALUES, "baby_name": "张小花"}})
    guide = hall.ctl.hall.service("A").guide.url
    got = hall.ok(MANAGER, "form.get", ticket_id=a["id"])["form"]["guide_url"]
    assert got == (guide or "http://127.0.0.1:8080/guide/A")


def test_a_social_security_card_leaves_sex_nation_birth_and_address_for_the_hand(hall, tmp_path):
    import subprocess

    from onewindow.formpdf import form_pdf

    sscard = {"id_number": YOUNG_ID, "name": NAME}  # all a social security card gives
    t = hall.issue("T1", citizen=sscard, answers={"fund": False}, form={"values": VALUES})
    form = hall.ok(MANAGER, "form.get", ticket_id=t["id"], purpose="print")["form"]
    got = {f["key"]: f["value"] for f in form["fields"]}
    assert got["name"] == NAME and got["id_number"] == YOUNG_ID
    # nothing made up from the ID number (its birth date digits) or anywhere else
    assert [got[k] for k in ("sex", "nation", "birth", "address")] == ["", "", "", ""]
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(form_pdf(form))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    rows = {ln.split()[0]: ln.split()[1:] for ln in text.splitlines() if ln.split()}
    for label in ("性别", "民族", "出生日期", "住址"):
        assert rows[label] == [], (label, rows[label])  # a blank box for the citizen's hand
    assert rows["姓名"] == [NAME] and "2000-01-01" not in text


def test_a_form_printers_trouble_is_a_hall_alert_cleared_when_a_form_prints(hall):
    hall.ok(
        caller(1),
        "device.health",
        part="form_printer",
        status="failed",
        reason="hall-a4：打印机缺纸，请装入A4纸",
    )
    (alert,) = [a for a in hall.ctl.alerts.listed() if a["key"] == "form_printer:caller-1"]
    assert alert["kind"] == "printer"
    assert alert["message"] == "caller-1 A4申请表打印机 故障：hall-a4：打印机缺纸，请装入A4纸"
    hall.ok(caller(1), "device.health", part="form_printer", status="ok")
    assert "form_printer:caller-1" not in hall.ctl.alerts


def test_a_refused_form_writes_nothing_and_reloads_nothing(hall, caplog):
    """Checked before the ticket is written: a flood of bad forms costs the hall no reload from
    the database (each took the others' time), and no number is spent."""
    reloads = []
    real = hall.ctl.reload
    hall.ctl.reload = lambda: (reloads.append(1), real())
    card = {"citizen": CARD, "answers": {"fund": False}}
    for service, args, code in (
        ("B", {**card, "form": {"values": VALUES}}, "bad_request"),  # B has no form
        ("T1", {**card, "form": {"values": {**VALUES, "phone": "123"}}}, "bad_form"),
        ("T1", {"form": {"values": VALUES}}, "need_card"),
        ("T1", {**card, "form": {"values": ["not", "a", "dict"]}}, "bad_request"),
    ):
        reply = hall.do(KIOSK, "ticket.issue", service=service, **args)
        assert reply["error"]["code"] == code, (service, reply)
    assert reloads == [] and "refused after writing" not in caplog.text
    assert hall.ctl.store.tickets() == [] and hall.ctl.store.rows("forms") == []
    assert hall.issue("B")["number"] == "B001"  # no number was spent on the refusals
