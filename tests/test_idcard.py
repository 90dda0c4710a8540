"""ID card reader driver against the simulated SAM module, through a real pseudo-terminal."""
from __future__ import annotations

from datetime import date

import pytest

import drivers.serialport
from drivers.idcard import (
    FIND_CARD, NATIONS, READ_TEXT_PHOTO, SELECT_CARD, SW_MESSAGES, FrameAssembler, IdCardError,
    IdCardReader, build_frame, build_reply, parse_reply, parse_text_block,
)
from drivers.idcard_sim import SAMPLE_PHOTO, IdCardSimulator, make_foreign_text_block, make_text_block
from drivers.ptysim import PtyDevice

CARD = dict(name="张小三", sex="1", nation="05", birth=date(1990, 3, 7),
            address="甘肃省兰州市城关区示范路1号", id_number="620102199003070018",
            authority="兰州市公安局城关分局", valid_from=date(2015, 6, 1), valid_to=None)


@pytest.fixture
def sim():
    return IdCardSimulator()


@pytest.fixture
def device(sim, tmp_path):
    dev = PtyDevice(sim, tmp_path / "ttyIDCARD")
    yield dev
    dev.close()


@pytest.fixture
def reader(device):
    r = IdCardReader(str(device.path), timeout=0.2, read_timeout=0.3, attempts=3)
    yield r
    r.close()


# --- frames (pure) ------------------------------------------------------------------------

def test_find_card_frame_is_exactly_the_spec_example():
    assert build_frame(*FIND_CARD) == bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")


def test_assembler_resynchronises_after_garbage_and_split_reads():
    reply = build_reply(0x9F, bytes(4))
    asm = FrameAssembler()
    stream = b"\x13\xAA\xAA\x96" + b"\xAA\xAA\xAA\x96\x69\xFF\xFF" + reply  # noise, a false preamble
    frames = []
    for b in stream:
        frames += asm.feed(bytes([b]))
    assert frames == [reply]
    assert parse_reply(frames[0]).sw3 == 0x9F


def test_simulator_handles_split_frames_and_answers_bad_checksum_with_0x10(sim):
    frame = build_frame(*FIND_CARD)
    assert sim.on_bytes(frame[:4]) == b""
    assert parse_reply(sim.on_bytes(frame[4:])).sw3 == 0x80          # no card yet
    bad = frame[:-1] + b"\x00"
    assert parse_reply(sim.on_bytes(bad)).sw3 == 0x10


def test_every_status_has_a_chinese_message():
    for code in (0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47,
                 0x60, 0x66, 0x80, 0x81, 0x91):
        err = IdCardError.from_status(code)
        assert err.code == f"{code:02X}" and err.message_zh and err.message_en
    assert SW_MESSAGES[0x80][0] == "请将身份证放到读卡区"
    assert len(NATIONS) == 56 and NATIONS["01"] == "汉" and NATIONS["56"] == "基诺"


# --- through the tty ----------------------------------------------------------------------

def test_reads_a_card_end_to_end(sim, reader):
    sim.insert(**CARD)
    info = reader.read_card()
    assert (info.name, info.sex, info.nation) == ("张小三", "男", "维吾尔")
    assert info.birth == date(1990, 3, 7)
    assert info.address == "甘肃省兰州市城关区示范路1号"
    assert info.id_number == "620102199003070018"
    assert info.authority == "兰州市公安局城关分局"
    assert info.valid_from == date(2015, 6, 1)
    assert info.valid_to is None                                   # 长期
    assert info.foreign is False
    assert info.photo == SAMPLE_PHOTO
    assert sim.commands == [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]


def test_dated_validity_and_female(sim, reader):
    sim.insert(**{**CARD, "sex": "2", "nation": "01", "valid_to": date(2035, 6, 1)})
    info = reader.read_card()
    assert (info.sex, info.nation, info.valid_to) == ("女", "汉", date(2035, 6, 1))


def test_masked_output_and_repr_hide_the_citizen(sim, reader):
    sim.insert(**CARD)
    info = reader.read_card()
    assert info.masked() == {"name": "张*三", "sex": "男", "nation": "维吾尔",
                             "id_number": "620102********0018", "valid_to": "长期", "foreign": False}
    text = repr(info)
    assert "张小三" not in text and "620102199003070018" not in text
    assert "示范路" not in text and "photo" not in text


def test_no_card_says_where_to_put_it(reader):
    with pytest.raises(IdCardError) as err:
        reader.read_card()
    assert err.value.code == "80"
    assert err.value.message_zh == "请将身份证放到读卡区"


def test_corrupt_checksum_once_is_retried(sim, reader):
    sim.insert(**CARD)
    sim.corrupt_checksum_once(READ_TEXT_PHOTO)
    assert reader.read_card().id_number == CARD["id_number"]
    assert sim.commands.count(READ_TEXT_PHOTO) == 2


def test_truncated_reply_is_retried(sim, reader):
    sim.insert(**CARD)
    sim.truncate_reply_once(READ_TEXT_PHOTO)
    assert reader.read_card().name == "张小三"
    assert sim.commands.count(READ_TEXT_PHOTO) == 2


def test_garbage_before_the_preamble_is_skipped(sim, reader):
    sim.insert(**CARD)
    sim.garbage_before_next_reply()
    assert reader.read_card().name == "张小三"
    assert sim.commands.count(FIND_CARD) == 1


def test_card_pulled_mid_read_gives_a_clear_error_after_retries(sim, reader):
    sim.insert(**CARD)
    sim.pull_card_mid_read()
    with pytest.raises(IdCardError) as err:
        reader.read_card()
    assert err.value.code == "card_moved"
    assert "重新放置身份证" in err.value.message_zh
    assert sim.commands.count(FIND_CARD) == 3                    # tried again before giving up


def test_bad_check_digit_is_refused(sim, reader):
    sim.insert(**{**CARD, "id_number": "620102199003070017"})
    with pytest.raises(IdCardError) as err:
        reader.read_card()
    assert err.value.code == "bad_id"
    assert "620102" not in str(err.value)


def test_unplugged_reader_is_offline_and_comes_back(sim, device, reader, monkeypatch):
    monkeypatch.setattr(drivers.serialport, "RETRY_OPEN_AFTER_S", 0.0)
    sim.insert(**CARD)
    assert reader.read_card().name == "张小三"
    device.unplug()
    for _ in range(2):                                           # open port dies, then no port at all
        with pytest.raises(IdCardError) as err:
            reader.read_card()
        assert err.value.code == "offline"
        assert err.value.message_zh.startswith("读卡器未连接")
    device.plug()
    assert reader.read_card().id_number == CARD["id_number"]


def test_foreign_permanent_resident_card(sim, reader):
    sim.insert(make_foreign_text_block(english_name="SMITH, JOHN", name="史密斯", sex="1",
                                       nationality="GBR", id_number="GBR110085030720",
                                       birth=date(1985, 3, 7), valid_from=date(2018, 1, 2),
                                       valid_to=date(2028, 1, 1)))
    info = reader.read_card()
    assert info.foreign is True
    assert (info.english_name, info.name, info.sex, info.nationality) == ("SMITH, JOHN", "史密斯", "男", "GBR")
    assert info.id_number == "GBR110085030720"
    assert (info.birth, info.valid_from, info.valid_to) == (date(1985, 3, 7), date(2018, 1, 2), date(2028, 1, 1))
    assert info.masked()["name"] == "史*斯"


def test_foreign_card_with_malformed_number_is_refused():
    assert parse_text_block(make_text_block(foreign=True)).id_number == "GBR110085030720"
    with pytest.raises(IdCardError) as err:
        parse_text_block(make_text_block(foreign=True, id_number="GB1110085030720"))
    assert err.value.code == "bad_id"
