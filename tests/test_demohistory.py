"""The demo's made-up day (onewindow/demohistory.py `synthetic_demand`, what `./run-hall`'s crowd
and the console's month of history come from) has the shape docs/staffing.md promises: a
morning peak above its shoulders, nobody arriving while the hall is at lunch, and evening
visitors on the day the hall file keeps it open late (the demo hall's Wednesday, to 19:00).
Counted on the simulator's own days (hallsim.calendar), as the crowd draws them."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from busutil import REPO
from onewindow.demohistory import synthetic_demand
from onewindow.domain.demand import SLOT_MIN
from onewindow.domain.hallsim import T_AT, calendar
from onewindow.hallconfig import load_file

PER_DAY = 300
DAYS = 40
MON, WED = 0, 2


@pytest.fixture(scope="module")
def hall():
    return load_file(REPO / "config" / "hall.toml")[0]


def _day(hall, weekday: int) -> tuple[Counter, list[float]]:
    """Mean arrivals per half hour over DAYS made-up days, and every arrival's minute."""
    d = synthetic_demand(hall, weekday, PER_DAY)
    per_slot: Counter = Counter()
    minutes = []
    for seed in range(DAYS):
        arrivals, _ = calendar(d, random.Random(seed))
        for t in arrivals:
            minutes.append(t[T_AT])
            per_slot[int(t[T_AT] // SLOT_MIN) * SLOT_MIN] += 1
    return Counter({k: n / DAYS for k, n in per_slot.items()}), minutes


def test_the_morning_peak_stands_above_its_shoulders(hall):
    per_slot, minutes = _day(hall, MON)
    assert abs(len(minutes) / DAYS - PER_DAY) < 0.1 * PER_DAY
    peak = max(per_slot[k] for k in range(540, 720, 30))
    assert peak == max(per_slot.values())  # the day's busiest half hour is in the morning
    # 09:30-10:00 hold the peak, half again the opening half hour and the one before lunch
    assert min(per_slot[570], per_slot[600]) > 1.5 * max(per_slot[510], per_slot[690])
    # the afternoon's lower peak (14:30-15:00) above its own shoulders
    afternoon = min(per_slot[870], per_slot[900])
    assert per_slot[810] < afternoon < peak and per_slot[1020] < afternoon


def test_nobody_arrives_while_the_hall_is_at_lunch_or_closed(hall):
    # the hall file: Monday 08:30-12:00 and 13:30-17:30
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in hall.hours.week[MON]] == [
        ("08:30", "12:00"),
        ("13:30", "17:30"),
    ]
    _, minutes = _day(hall, MON)
    assert not [m for m in minutes if 720 <= m < 810]  # lunch, 12:00-13:30
    assert min(minutes) >= 510 and max(minutes) < 1050  # opening to closing
    # right up to lunch and from its end: the break is the hours', not a gap in the profile
    assert any(705 <= m < 720 for m in minutes) and any(810 <= m < 825 for m in minutes)


def test_wednesday_has_evening_visitors_when_the_hall_opens_late(hall):
    assert hall.hours.week[WED][-1][1].strftime("%H:%M") == "19:00"
    wed, minutes = _day(hall, WED)
    evening = [wed[k] for k in (1050, 1080, 1110)]  # 17:30, 18:00, 18:30
    # a tail that thins out towards closing, and nobody after it
    assert evening[0] > evening[1] > evening[2] > 0, evening
    assert max(minutes) < 19 * 60
    mon, _ = _day(hall, MON)
    assert not [k for k in mon if k >= 1050]  # Monday closes at 17:30: no evening at all
