"""The controller's words for citizens, worded by the apps from its facts (onewindow/hallwords.py):
the Chinese equal to the controller's own sentences, the other languages from the catalogs, and
an older controller's sentences shown as they came."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from onewindow import hallwords
from onewindow.domain import estimate as est
from onewindow.domain import hours as hours_mod

TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

CASES = [
    est.Estimate(ahead=4, wait_min=18, open_windows=2, idle=False),
    est.Estimate(ahead=0, wait_min=0, open_windows=1, idle=True),
    est.Estimate(ahead=0, wait_min=0, open_windows=1, idle=False),
    est.Estimate(ahead=3, wait_min=None, open_windows=0, idle=False),
    est.Estimate(ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW.replace(hour=13)),
    est.Estimate(
        ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW + timedelta(days=1)
    ),
    est.Estimate(
        ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW + timedelta(days=5)
    ),
]


def fields(e: est.Estimate) -> dict:
    """What the controller sends (views.wait_fields)."""
    zh, en = est.describe(e, NOW)
    return {
        "ahead": e.ahead,
        "est_wait_min": e.wait_min,
        "opens_at": e.opens_at.isoformat() if e.opens_at else None,
        "wait_kind": est.kind(e, NOW),
        "opens_in_days": (e.opens_at.date() - NOW.date()).days if e.opens_at else None,
        "wait_text": zh,
        "wait_text_en": en,
    }


@pytest.mark.parametrize("e", CASES)
def test_the_chinese_and_english_are_the_controllers_own(e):
    f = fields(e)
    assert hallwords.wait_words(f, "zh") == f["wait_text"]
    assert hallwords.wait_words(f, "en") == f["wait_text_en"]


@pytest.mark.parametrize("e", CASES)
def test_tibetan_is_worded_from_the_facts(e):
    words = hallwords.wait_words(fields(e), "bo")
    assert words and not any("\u4e00" <= ch <= "\u9fff" for ch in words), words
    if e.wait_min:
        assert str(e.wait_min) in words


def test_an_older_controller_sends_sentences_only():
    old = {
        "ahead": 4,
        "est_wait_min": 18,
        "wait_text": "约 18 分钟",
        "wait_text_en": "about 18 min",
    }
    assert hallwords.wait_words(old, "bo") == "约 18 分钟"
    assert hallwords.wait_words(old, "en") == "about 18 min"
    assert hallwords.wait_words({"wait_kind": "bogus", "wait_text": "x"}, "bo") == "x"
    assert hallwords.wait_words({"wait_kind": "minutes", "est_wait_min": "9"}, "bo") == ""


@pytest.mark.parametrize("days", [0, 1, 4])
def test_opening_words(days):
    when = NOW.replace(hour=13, minute=30) + timedelta(days=days)
    zh, en = hours_mod.describe_opening(when, NOW.date())
    hall = {"next_opening": when.isoformat(), "next_opening_in_days": days}
    assert hallwords.opening_words(hall, "zh") == zh
    assert hallwords.opening_words(hall, "en") == en
    bo = hallwords.opening_words(hall, "bo")
    assert "13:30" in bo and not any("\u4e00" <= ch <= "\u9fff" for ch in bo)
    older = {"next_opening_text": zh, "next_opening_text_en": en}
    assert hallwords.opening_words(older, "bo") == zh
    unknown = {"next_opening": None, "next_opening_in_days": None}
    assert hallwords.opening_words(unknown, "zh") == hours_mod.describe_opening(None, NOW.date())[0]


def test_refusals_in_the_citizens_language():
    full = "该时段已约满，请选择其他时段"
    assert hallwords.refusal(full, "zh", "Fully booked") == full
    bo = hallwords.refusal(full, "bo", "Fully booked")
    assert bo != full and not any("\u4e00" <= ch <= "\u9fff" for ch in bo)
    assert (
        hallwords.refusal(full, "en", "Fully booked")
        == "This time is fully booked: please choose another"
    )
    # a refusal the catalogs do not hold: the controller's English, or its Chinese
    assert hallwords.refusal("别的", "en", "Other") == "Other"
    assert hallwords.refusal("别的", "bo", "Other") == "别的"


def test_every_listed_refusal_is_one_the_controller_sends():
    """The catalog lists refusals by their Chinese: one reworded in the controller would silently
    stop being translated."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "onewindow"
    source = "".join(p.read_text(encoding="utf-8") for p in root.glob("ops_*.py"))
    for message in hallwords.REFUSALS.keys():
        assert f'"{message}"' in source, message


def test_an_open_hall_with_no_opening_ahead_says_nothing():
    # open around the clock (test mode): nothing to say, and not "另行通知" either
    always = {"open": True, "next_opening": None, "next_opening_in_days": None}
    assert all(hallwords.opening_words(always, lang) == "" for lang in ("zh", "en", "bo"))
    closed = {**always, "open": False}
    assert hallwords.opening_words(closed, "zh") == hours_mod.describe_opening(None, NOW.date())[0]


def test_a_range_that_carries_on_is_no_opening():
    from datetime import time

    from onewindow.domain.model import Hours

    end = hours_mod.DAY_END
    around = Hours(week=(((time(0), end),),) * 7, closed_dates=frozenset(), extra_days={})
    assert hours_mod.next_opening(around, NOW) is None
    assert hours_mod.next_opening(around, NOW.replace(hour=0)) is None
    # 08:30-12:00 then 12:00-17:30: no break at noon, the next opening is tomorrow's 08:30
    day = ((time(8, 30), time(12)), (time(12), time(17, 30)))
    joined = Hours(week=(day,) * 7, closed_dates=frozenset(), extra_days={})
    assert hours_mod.next_opening(joined, NOW) == (NOW + timedelta(days=1)).replace(
        hour=8, minute=30
    )
    # open until midnight, again from 00:00 after a closed day: that 00:00 is an opening
    sunday_off = Hours(
        week=(((time(0), end),),) * 6 + ((),), closed_dates=frozenset(), extra_days={}
    )
    sat = NOW + timedelta(days=5)
    assert hours_mod.next_opening(sunday_off, sat) == (sat + timedelta(days=2)).replace(hour=0)
