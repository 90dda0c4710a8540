"""ID card reader driver against the simulated SAM module, through a real pseudo-terminal."""

from __future__ import annotations

import logging
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drivers.serialport
from drivers.cardtext import clean_text
from drivers.idcard import (
    FIND_CARD,
    NATIONS,
    READ_TEXT_PHOTO,
    SELECT_CARD,
    SW_MESSAGES,
    FrameAssembler,
    IdCardError,
    IdCardReader,
    build_frame,
    build_reply,
    parse_reply,
    parse_text_block,
)
from drivers.idcard_sim import (
    SAMPLE_PHOTO,
    IdCardSimulator,
    make_foreign_text_block,
    make_text_block,
)
from drivers.ptysim import PtyDevice

CARD = dict(
    name="张小三",
    sex="1",
    nation="05",
    birth=date(1990, 3, 7),
    address="甘肃省兰州市城关区示范路1号",
    id_number="620102199003070018",
    authority="兰州市公安局城关分局",
    valid_from=date(2015, 6, 1),
    valid_to=None,
)


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
    stream = (
        b"\x13\xaa\xaa\x96" + b"\xaa\xaa\xaa\x96\x69\xff\xff" + reply
    )  # noise, a false preamble
    frames = []
    for b in stream:
        frames += asm.feed(bytes([b]))
    assert frames == [reply]
    assert parse_reply(frames[0]).sw3 == 0x9F


def test_simulator_handles_split_frames_and_answers_bad_checksum_with_0x10(sim):
    frame = build_frame(*FIND_CARD)
    assert sim.on_bytes(frame[:4]) == b""
    assert parse_reply(sim.on_bytes(frame[4:])).sw3 == 0x80  # no card yet
    bad = frame[:-1] + b"\x00"
    assert parse_reply(sim.on_bytes(bad)).sw3 == 0x10


def test_every_status_has_a_chinese_message():
    for code in (
        0x10,
        0x11,
        0x21,
        0x23,
        0x24,
        0x31,
        0x32,
        0x33,
        0x40,
        0x41,
        0x47,
        0x60,
        0x66,
        0x80,
        0x81,
        0x91,
    ):
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
    assert info.valid_to is None  # 长期
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
    assert info.masked() == {
        "name": "张*三",
        "sex": "男",
        "nation": "维吾尔",
        "id_number": "620102********0018",
        "valid_to": "长期",
        "foreign": False,
    }
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
    assert sim.commands.count(FIND_CARD) == 3  # tried again before giving up


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
    for _ in range(2):  # open port dies, then no port at all
        with pytest.raises(IdCardError) as err:
            reader.read_card()
        assert err.value.code == "offline"
        assert err.value.message_zh.startswith("读卡器未连接")
    device.plug()
    assert reader.read_card().id_number == CARD["id_number"]


def test_foreign_permanent_resident_card(sim, reader):
    sim.insert(
        make_foreign_text_block(
            english_name="SMITH, JOHN",
            name="史密斯",
            sex="1",
            nationality="GBR",
            id_number="GBR110085030720",
            birth=date(1985, 3, 7),
            valid_from=date(2018, 1, 2),
            valid_to=date(2028, 1, 1),
        )
    )
    info = reader.read_card()
    assert info.foreign is True
    assert (info.english_name, info.name, info.sex, info.nationality) == (
        "SMITH, JOHN",
        "史密斯",
        "男",
        "GBR",
    )
    assert info.id_number == "GBR110085030720"
    assert (info.birth, info.valid_from, info.valid_to) == (
        date(1985, 3, 7),
        date(2018, 1, 2),
        date(2028, 1, 1),
    )
    assert info.masked()["name"] == "史*斯"


def test_foreign_card_with_malformed_number_is_refused():
    assert parse_text_block(make_text_block(foreign=True)).id_number == "GBR110085030720"
    with pytest.raises(IdCardError) as err:
        parse_text_block(make_text_block(foreign=True, id_number="GB1110085030720"))
    assert err.value.code == "bad_id"


# --- hostile card contents ----------------------------------------------------------------


def test_clean_text_removes_escapes_controls_and_bidi_marks_but_keeps_rare_hanzi():
    table = {
        "张\u202e小三": "张小三",  # right-to-left override
        "\x1b[2J\x1b[31m张小三\x1b[0m": "张小三",  # CSI: erase, colour
        "\x1b]0;pwned\x07SMITH\x1b]8;;http://x\x1b\\": "SMITH",  # OSC: window title, hyperlink
        "\x9b31m李\x85四\x7f": "李四",  # C1 CSI, NEL, DEL
        "\x1bc王\x1b(0五": "王五",  # reset, charset switch
        "\u2066赵\u2069\u200e六\u200f\u061c": "赵六",  # isolates, LRM, RLM, ALM
        "\ufeff钱\u200b七\u200d\u2028\u2029": "钱七",  # BOM, zero-width, separators
        "示范路\t1号\r\n": "示范路1号",
        "\ue000军": "\ue000军",  # private use: rare hanzi stay
        "SMITH, JOHN": "SMITH, JOHN",
        "\x1b[张三": "张三",  # an unfinished escape
    }
    for raw, clean in table.items():
        assert clean_text(raw) == clean, repr(raw)


# text fields that are cleaned, and what the citizen's record shows
CLEANED = [
    ("name", "\x1b[2J张\u202e小三\x07", "张小三"),
    ("address", "甘肃省\u2066兰州市\u2069示范路\x1b[31m1号", "甘肃省兰州市示范路1号"),
    ("authority", "\u200f兰州市公安局\x9b0m", "兰州市公安局"),
]


@pytest.mark.parametrize("field,hostile,clean", CLEANED, ids=[c[0] for c in CLEANED])
def test_text_fields_lose_control_and_bidi_characters(field, hostile, clean):
    info = parse_text_block(make_text_block(**{field: hostile}))
    assert getattr(info, field) == clean


def test_foreign_card_names_are_cleaned():
    info = parse_text_block(
        make_foreign_text_block(english_name="\x1b]0;x\x07SMITH,\u202e JOHN", name="史\u200b密斯")
    )
    assert (info.english_name, info.name) == ("SMITH, JOHN", "史密斯")


ARABIC_1990 = "\u0661\u0669\u0669\u0660"  # ١٩٩٠
ODD = [
    # (card kind, field, value, code, what the message says)
    (
        "resident",
        "birth",
        ARABIC_1990 + "0307",
        "bad_data",
        "birth is not a date of 8 ASCII digits",
    ),
    ("resident", "birth", "１９９０0307", "bad_data", "birth is not a date"),
    ("resident", "birth", "19900230", "bad_data", "birth is not a calendar date"),
    ("resident", "valid_from", "2015\u202e601", "bad_data", "valid_from is not a date"),
    ("resident", "valid_to", "长期\x1b", "bad_data", "valid_to is not a date"),
    ("resident", "sex", "\x1b", "bad_data", "sex is not one of the codes"),
    ("resident", "sex", "X", "bad_data", "sex is not one of the codes"),
    (
        "resident",
        "nation",
        "\u0660\u0661",
        "bad_data",
        "nation is not a nation code of 2 ASCII digits",
    ),
    (
        "resident",
        "id_number",
        "６２０１０２１９９００３０７００１８",
        "bad_id",
        "id_number is not 17 ASCII digits",
    ),
    (
        "resident",
        "id_number",
        "62010219900307001\x1f",
        "bad_id",
        "id_number is not 17 ASCII digits",
    ),
    (
        "resident",
        "id_number",
        "62010219900307001\u0668",
        "bad_id",
        "id_number is not 17 ASCII digits",
    ),
    ("resident", "name", "\x1b[2J\u202e\x07", "bad_data", "name is empty"),
    (
        "foreign",
        "id_number",
        "GBR" + "\u0661\u0661\u0660\u0660\u0668\u0665\u0660\u0663\u0660\u0667\u0662\u0660",
        "bad_id",
        "nor 3 letters and 12 digits",
    ),
    (
        "foreign",
        "id_number",
        "\ufb00R110085030720",
        "bad_id",
        "nor 3 letters and 12 digits",
    ),  # ﬀ: "FF" in upper()
    ("foreign", "birth", ARABIC_1990 + "0307", "bad_data", "birth is not a date of 8 ASCII digits"),
    ("foreign", "valid_to", "２０２８0101", "bad_data", "valid_to is not a date"),
    (
        "foreign",
        "nationality",
        "G\u202eB",
        "bad_data",
        "nationality is not 3 ASCII capital letters",
    ),
]


@pytest.mark.parametrize(
    "kind,field,value,code,says", ODD, ids=[f"{o[0]}-{o[1]}-{i}" for i, o in enumerate(ODD)]
)
def test_odd_fields_are_reported_by_name_without_their_content(kind, field, value, code, says):
    block = make_text_block(foreign=kind == "foreign", **{field: value})
    with pytest.raises(IdCardError) as err:
        parse_text_block(block)
    assert err.value.code == code
    assert says in err.value.message_en
    assert err.value.message_zh.endswith("请到人工窗口办理")
    assert value not in str(err.value) and "620102" not in str(err.value)


def test_a_name_that_is_not_utf16_is_reported():
    block = bytearray(make_text_block())
    block[2:4] = b"\x00\xd8"  # a lone high surrogate in the name
    with pytest.raises(IdCardError) as err:
        parse_text_block(bytes(block))
    assert err.value.code == "bad_data" and "name is not UTF-16 text" in err.value.message_en


def test_a_check_digit_that_does_not_add_up_keeps_its_own_message():
    with pytest.raises(IdCardError) as err:
        parse_text_block(make_text_block(id_number="620102199003070017"))
    assert err.value.message_en == "ID number fails its check digit"


HOSTILE = [
    "\x1b",
    "\x9b",
    "[",
    "]",
    "\x07",
    "\u202e",
    "\u2066",
    "\u200f",
    "\ufeff",
    "\x85",
    "\u2028",
    "１",
    "\u0661",
    "0",
    "1",
    "9",
    "X",
    "长期",
]


def hostile(chars: int, bmp: bool = True):
    """Text that fits `chars` UTF-16 units: anything, and the characters most likely to get through."""
    anything = st.characters(max_codepoint=0xFFFF if bmp else 0x10FFFF, exclude_categories=["Cs"])
    return (
        st.lists(st.one_of(anything, st.sampled_from(HOSTILE)), max_size=chars)
        .map("".join)
        .filter(lambda s: len(s.encode("utf-16-le")) <= 2 * chars)
    )


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "name": hostile(15, bmp=False),
            "address": hostile(35, bmp=False),
            "authority": hostile(15, bmp=False),
            "sex": hostile(1),
            "nation": hostile(2),
            "birth": hostile(8),
            "id_number": hostile(18),
            "valid_to": hostile(8),
        },
    )
)
def test_whatever_a_card_holds_the_parser_gives_clean_fields_or_its_own_error(fields):
    try:
        info = parse_text_block(make_text_block(**fields))
    except IdCardError as exc:
        assert exc.code in ("bad_data", "bad_id") and exc.message_zh
        return
    for text in (info.name, info.address, info.authority):
        assert clean_text(text) == text
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)
    assert info.name
    assert info.id_number.isascii() and info.id_number.isalnum()
    assert info.sex in ("男", "女", "未知", "未说明")


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=256, max_size=256), st.sampled_from([b"", "I".encode("utf-16-le")]))
def test_any_256_bytes_give_a_card_or_the_drivers_own_error(block, card_type):
    block = block[:248] + card_type + block[248 + len(card_type) :]
    try:
        parse_text_block(block)
    except IdCardError as exc:
        assert exc.code in ("bad_data", "bad_id")


def test_reader_hands_over_a_hostile_card_cleaned_through_the_tty(sim, reader, caplog):
    sim.insert(
        **{
            **CARD,
            "name": "\x1b[2J张\u202e小三",
            "address": "示范路\x1b]0;pwned\x07\u20661号\u2069",
        }
    )
    with caplog.at_level(logging.INFO, logger="drivers.idcard"):
        info = reader.read_card()
    assert (info.name, info.address) == ("张小三", "示范路1号")
    assert info.masked()["name"] == "张*三"
    assert "removed from the name" in caplog.text and "removed from the address" in caplog.text
    assert "张" not in caplog.text and "pwned" not in caplog.text


@pytest.mark.parametrize(
    "field,value",
    [
        ("birth", ARABIC_1990 + "0307"),
        ("id_number", "６２０１０２１９９００３０７００１８"),
        ("sex", "\x1b"),
    ],
    ids=["birth", "id_number", "sex"],
)
def test_reader_reports_an_odd_card_through_the_tty_and_reads_the_next_one(
    sim, reader, field, value
):
    sim.insert(**{**CARD, field: value})
    with pytest.raises(IdCardError) as err:
        reader.read_card()
    assert err.value.code in ("bad_data", "bad_id") and field in err.value.message_en
    assert sim.commands.count(READ_TEXT_PHOTO) == 1  # a bad card is not read again and again
    sim.insert(**CARD)
    assert reader.read_card().name == "张小三"
