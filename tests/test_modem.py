"""The GSM modem driver against the modem simulator on a real pty: PDUs, long Chinese notices
split and reassembled, and every fault a hall's SMS cat has (no SIM, PIN, no signal, the
network refusing, unplugged, powered off), with retries bounded."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest

from busutil import REPO
from drivers.modem import GsmModem, ModemError, registration
from drivers.modem_sim import ModemSimulator
from drivers.ptysim import PtyDevice
from drivers.serialport import RETRY_OPEN_AFTER_S
from drivers.smspdu import PART_UNITS, Reassembler, parse_submit, split_units, submit_pdus

MOBILE = "13812341234"
NOTICE = (
    "【示范县政务服务中心】您的号码A012前面还有3位，请回到大厅留意叫号。"
    "如已离开大厅，请尽快返回，过号后可在30分钟内到服务台恢复排队；"
    "办理户籍业务请携带本人身份证原件、户口簿及近期免冠照片。𠮷祥如意，"
    "本短信由大厅叫号系统自动发送，请勿回复。English: please come back to the hall."
)


@pytest.fixture
def rig(tmp_path):
    sim = ModemSimulator()
    dev = PtyDevice(sim, tmp_path / "ttyMODEM")
    modem = GsmModem(str(dev.path), attempts=3, retry_after_s=0, send_timeout_s=3)
    yield sim, dev, modem
    modem.close()
    dev.close()


def test_a_short_chinese_notice_is_one_ucs2_sms(rig):
    sim, _, modem = rig
    assert modem.send(MOBILE, "请A012号到3号窗口办理") == 1
    assert sim.messages == [("+86" + MOBILE, "请A012号到3号窗口办理")]
    assert sim.parts[0].ref is None
    assert "AT+CMGF=0" in sim.commands  # PDU mode, never text mode


def test_a_long_chinese_notice_is_split_and_reassembled(rig):
    sim, _, modem = rig
    assert len(NOTICE) > 140
    sent = modem.send(MOBILE, NOTICE)
    assert sent == len(sim.parts) == 3
    assert {p.ref for p in sim.parts} == {sim.parts[0].ref} and sim.parts[0].ref is not None
    assert [(p.seq, p.total) for p in sim.parts] == [(1, 3), (2, 3), (3, 3)]
    assert all(len(p.raw) <= PART_UNITS * 2 for p in sim.parts)  # 134 octets after the UDH
    assert sim.messages == [("+86" + MOBILE, NOTICE)]


def test_a_character_outside_the_bmp_is_never_cut_between_parts():
    text = "甲" * (PART_UNITS - 1) + "𠮷" + "乙" * 10  # the pair straddles the 67-unit cut
    payloads = split_units(text)
    assert len(payloads) == 2 and len(payloads[0]) == (PART_UNITS - 1) * 2
    assert b"".join(payloads).decode("utf-16-be") == text
    r = Reassembler()
    got = [r.add(parse_submit(pdu)) for _, pdu in submit_pdus(MOBILE, text, 7)]
    assert got == [None, ("+86" + MOBILE, text)]


def test_the_pdu_says_what_a_modem_expects():
    ((length, pdu),) = submit_pdus("13812341234", "你好", 0)
    # no SMSC, SUBMIT, MR 0, 13 digits international, PID 0, UCS-2, 4 octets: 4F60 597D
    assert pdu == "0001000D91683118321432F4000804" + "4F60597D"
    assert length == len(pdu) // 2 - 1


def test_no_sim_is_named_and_not_retried(rig):
    sim, _, modem = rig
    sim.sim = "absent"
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "测试")
    assert exc.value.code == "no_sim" and exc.value.message_zh == "短信猫未插SIM卡"
    assert sim.commands.count("AT+CPIN?") == 1 and sim.messages == []


def test_a_sim_waiting_for_its_pin_is_named(rig):
    sim, _, modem = rig
    sim.sim = "pin"
    with pytest.raises(ModemError) as exc:
        modem.status()
    assert exc.value.code == "sim_locked"


def test_setup_asks_for_the_short_registration_answer(rig):
    """AT+CREG=0 at setup, after numbered errors and before PDU mode: a modem left in mode 2 by
    other software answers `+CREG: 0,1` again, and sends no unsolicited +CREG lines."""
    sim, _, modem = rig
    sim.creg_mode = 2
    assert modem.status().signal == 21
    assert sim.commands[:4] == ["ATE0", "AT+CMEE=1", "AT+CREG=0", "AT+CMGF=0"]
    assert sim.creg_mode == 0
    assert modem.send(MOBILE, "测试") == 1 and sim.commands.count("AT+CREG=0") == 1  # once


def test_a_modem_that_refuses_creg_0_is_used_in_its_own_mode(rig, caplog):
    """Some modems refuse AT+CREG=<n>: the hall still gets its SMS. A modem keeping mode 2
    (other software set it, or it keeps it across power cycles) adds the cell to every answer:
    `+CREG: 2,1,"1A2B","00C3D4E5"` is registered, however many fields follow."""
    sim, _, modem = rig
    sim.creg_mode, sim.creg_settable = 2, False
    with caplog.at_level(logging.INFO, logger="drivers.modem"):
        assert modem.status().signal == 21
    assert sim.creg_mode == 2 and "AT+CREG=0 refused (+CME ERROR: 4)" in caplog.text
    assert modem.send(MOBILE, "测试") == 1 and len(sim.messages) == 1
    sim.registered = False  # +CREG: 2,2 (searching)
    with pytest.raises(ModemError) as exc:
        modem.status()
    assert exc.value.code == "not_registered"


@pytest.mark.parametrize(
    "line, stat",
    [
        ("+CREG: 0,1", "1"),  # AT+CREG? in mode 0: <n>,<stat>
        ("+CREG: 1,5", "5"),
        ('+CREG: 2,1,"1A2B","00C3D4E5"', "1"),  # mode 2: <n>,<stat>,<lac>,<ci>
        ('+CREG: 2,5,"1A2B","00C3D4E5",7', "5"),  # and the access technology
        ("+CREG: 2,2", "2"),  # mode 2, searching: no cell
        ("+CREG: 3", "3"),  # unsolicited in mode 1: <stat> only
        ('+CREG: 1,"1A2B","00C3D4E5"', "1"),  # unsolicited in mode 2: <stat>,<lac>,<ci>
        ('+CGREG: 2,1,"1A2B","00C3D4E5"', "1"),  # the packet domain's, the same shape
        ("+CREG:", ""),
        ("", ""),
    ],
)
def test_the_registration_state_is_the_stat_field_of_every_creg_form(line, stat):
    assert registration(line) == stat


@pytest.mark.parametrize("state", ["NOT INSERTED", "NOT READY"])
def test_a_sim_not_inserted_or_not_ready_is_no_sim_and_not_retried(rig, state):
    """Modems that answer AT+CPIN? instead of +CME ERROR: 10 when the SIM is missing (SIMCom,
    Quectel): the managers are told to insert the SIM, not to type a PIN."""
    sim, _, modem = rig
    sim.sim = state
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "测试")
    assert exc.value.code == "no_sim" and exc.value.message_zh == "短信猫未插SIM卡"
    assert exc.value.detail == f"+CPIN: {state}"  # named by the SIM check, before any part
    assert sim.commands.count("AT+CPIN?") == 1 and sim.messages == []
    assert not [c for c in sim.commands if c.startswith("AT+CMGS")]


def test_a_part_the_modem_took_but_never_confirmed_is_not_sent_again(tmp_path):
    """After the PDU and Ctrl-Z the part may be on its way: a timeout then is no reason to send
    it again (the citizen would get it twice). It is reported as unconfirmed, not retried."""
    sim = ModemSimulator()
    dev = PtyDevice(sim, tmp_path / "ttyMODEM")
    modem = GsmModem(str(dev.path), attempts=3, retry_after_s=0, send_timeout_s=0.5)
    try:
        sim.unconfirmed = 1  # delivered, but no +CMGS/OK comes back
        with pytest.raises(ModemError) as exc:
            modem.send(MOBILE, "请A012号到3号窗口办理")
        assert exc.value.code == "unconfirmed" and not exc.value.retry
        assert "可能已发出" in exc.value.message_zh and "not sent again" in exc.value.message_en
        assert len(sim.messages) == 1 and len(sim.parts) == 1  # once, never twice
        assert [c for c in sim.commands if c.startswith("AT+CMGS")] == ["AT+CMGS=40"]
        assert modem.send(MOBILE, "第二条") == 1  # the next message goes as ever
        assert [t for _, t in sim.messages] == ["请A012号到3号窗口办理", "第二条"]
    finally:
        modem.close()
        dev.close()


def test_no_signal_is_retried_up_to_the_limit_then_named(rig):
    sim, _, modem = rig
    sim.signal = 99
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "测试")
    assert exc.value.code == "no_signal" and "无信号" in str(exc.value)
    assert sim.commands.count("AT+CSQ") == 3 and sim.messages == []


def test_signal_back_between_tries_sends_the_message(rig):
    sim, _, modem = rig
    sim.signal = 99
    modem._sleep = lambda s: setattr(sim, "signal", 18)  # the signal returns while it waits
    assert modem.send(MOBILE, "测试") == 1
    assert len(sim.messages) == 1


def test_a_refused_part_is_sent_again_from_that_part_only(rig):
    sim, _, modem = rig
    state = {"n": 0}

    def refuse_second_part(data, real=sim.on_bytes):
        # the network refuses the second part twice, then takes it
        if b"\x1a" in data and len(sim.parts) == 1 and state["n"] < 2:
            state["n"] += 1
            sim.refuse = (1, 500)
        return real(data)

    sim.on_bytes = refuse_second_part
    assert modem.send(MOBILE, NOTICE) == 3
    assert [p.seq for p in sim.parts] == [1, 2, 3]  # part 1 not sent twice
    assert sim.messages == [("+86" + MOBILE, NOTICE)]


def test_a_network_that_keeps_refusing_gives_up_after_the_limit(rig):
    sim, _, modem = rig
    sim.refuse = (10, 500)
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "测试")
    assert exc.value.code == "rejected" and "+CMS ERROR: 500" in exc.value.detail
    assert sim.refuse == (7, 500)  # three tries, no more
    assert sim.messages == []


def test_a_wrong_number_refused_by_the_network_is_not_retried(rig):
    sim, _, modem = rig
    sim.refuse = (5, 1)  # unassigned number
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "测试")
    assert exc.value.code == "bad_number" and sim.refuse == (4, 1)


def test_an_unplugged_modem_is_named_and_works_again_once_replugged(rig):
    sim, dev, modem = rig
    assert modem.send(MOBILE, "第一条") == 1
    dev.unplug()
    with pytest.raises(ModemError) as exc:
        modem.send(MOBILE, "第二条")
    assert exc.value.code == "offline" and "未连接" in exc.value.message_zh
    dev.plug()
    sim.echo, sim.pdu_mode = True, False  # a replugged modem starts afresh
    time.sleep(RETRY_OPEN_AFTER_S)  # the next notice comes later than a port is retried
    assert modem.send(MOBILE, "第三条") == 1
    assert [t for _, t in sim.messages] == ["第一条", "第三条"]


def test_a_modem_that_does_not_answer_is_offline(rig):
    sim, _, modem = rig
    sim.silent = True
    with pytest.raises(ModemError) as exc:
        modem.status()
    assert exc.value.code == "offline"


def test_devices_test_modem_reports_status_and_sends_a_test_sms(rig):
    sim, dev, modem = rig
    modem.close()

    def run(*args):
        out = subprocess.run(
            [sys.executable, "-m", "onewindow.cli", "--log-level", "ERROR", "devices", "test"]
            + list(args),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        return out.returncode, out.stdout + out.stderr

    rc, out = run("modem", "--port", str(dev.path))
    assert rc == 0 and "signal 21 (-71 dBm)" in out and sim.messages == []
    rc, out = run("modem", "--port", str(dev.path), "--to", MOBILE)
    assert rc == 0 and "sent a test SMS (1 part) to 138****1234" in out
    assert MOBILE not in out
    assert sim.messages[0][1].startswith("OneWindow 一窗")
    sim.sim = "absent"
    rc, out = run("modem", "--port", str(dev.path))
    assert rc == 1 and "no SIM card in the modem (短信猫未插SIM卡)" in out
