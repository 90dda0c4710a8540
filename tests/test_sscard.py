"""The social security card driver against the real stack: pyscard -> pcscd -> vpcd -> emulator."""

from __future__ import annotations

import queue

import pytest
from pcscutil import VPCD_READER, wait_until

from drivers.sscard import SocialSecurityReader, SSCardError
from drivers.sscard_sim import VirtualSSCard
from onewindow.domain.identity import id_check_digit

ID_1 = "11010519491231002X"
ID_2 = "440306199001011" + "23" + id_check_digit("44030619900101123")


@pytest.fixture
def reader(vpcd):
    r = SocialSecurityReader(vpcd)
    yield r
    r.stop()


@pytest.fixture
def make_card(reader):
    """Emulated cards, pulled at the end and the slot seen empty, so the next test starts clean."""
    cards: list[VirtualSSCard] = []

    def make(card_number="A12345678", id_number=ID_1, name="张小三", **options) -> VirtualSSCard:
        card = VirtualSSCard(card_number, id_number, name, **options)
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.remove()
    assert wait_until(lambda: not reader.card_present()), "slot still shows a card"


def _error_of(reader: SocialSecurityReader, timeout: float = 5.0) -> SSCardError:
    with pytest.raises(SSCardError) as info:
        reader.read(timeout=timeout)
    return info.value


def test_reads_card_number_id_number_and_gbk_name(reader, make_card):
    card = make_card()
    card.insert()
    got = reader.read(timeout=5)
    assert (got.card_number, got.id_number, got.name) == ("A12345678", ID_1, "张小三")
    assert got.masked() == {"name": "张*三", "id_number": "110105********002X"}
    assert ID_1 not in repr(got)
    # T=0: SELECT's FCI came through GET RESPONSE after 61xx
    assert any(resp[-2] == 0x61 for _, resp in card.apdus)


def test_wrong_le_is_corrected_after_6cxx(reader, make_card):
    card = make_card("B98765432", ID_2, "欧阳小明", name_field_len=20)
    card.insert()
    got = reader.read(timeout=5)
    assert (got.card_number, got.id_number, got.name) == ("B98765432", ID_2, "欧阳小明")
    assert got.masked()["name"] == "欧**明"
    assert any(resp[-2:] == bytes([0x6C, 22]) for _, resp in card.apdus)


def test_not_a_social_security_card(reader, make_card):
    make_card(not_sscard=True).insert()
    err = _error_of(reader)
    assert err.code == "not_sscard"
    assert err.message_zh == "这不是社保卡，请插入社会保障卡"
    assert "6A82" in err.message_en


def test_locked_ef06(reader, make_card):
    make_card(lock_ef06=True).insert()
    err = _error_of(reader)
    assert err.code == "locked"
    assert "锁定" in err.message_zh
    assert "6982" in err.message_en


def test_no_card(reader):
    err = _error_of(reader, timeout=0.3)
    assert err.code == "no_card"
    assert err.message_zh == "请插入社保卡"


def test_unknown_reader(vpcd):
    with pytest.raises(SSCardError) as info:
        SocialSecurityReader("No Such Reader 00 00").read()
    assert info.value.code == "no_reader"


def test_insert_and_remove_events(reader, make_card):
    events: queue.Queue = queue.Queue()
    reader.watch(lambda r: events.put(("in", r)), lambda r: events.put(("out", r)), poll=0.2)
    card = make_card()
    card.insert()
    assert events.get(timeout=5) == ("in", VPCD_READER)
    card.remove()
    assert events.get(timeout=5) == ("out", VPCD_READER)
    card.insert()
    assert events.get(timeout=5) == ("in", VPCD_READER)
    reader.stop()
    assert events.empty()


def test_card_removed_mid_read_then_reinserted(reader, make_card):
    card = make_card()
    card.insert()
    card.remove_after(3)  # SELECT SSSE, GET RESPONSE, SELECT EF05 answered; pulled at READ RECORD
    err = _error_of(reader)
    assert err.code == "card_removed"
    assert "拔出" in err.message_zh
    assert not card.inserted

    card.insert()
    got = reader.read(timeout=5)
    assert got.id_number == ID_1
