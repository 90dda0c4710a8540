"""The clock watch's decisions (domain/clockwatch.py), reading by reading: a step forward is not
time passed, a step back is told, putting a clock right is no step of its own, and a restart on
the same boot picks up what was known. The controller's scenarios are in test_controller.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onewindow.domain.clockwatch import CLOCK_STEP, FORWARD_STEP, ClockStep, ClockWatch

TZ = ZoneInfo("Asia/Shanghai")
TEN = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
FLOOR = datetime(2026, 11, 24, 0, 0, tzinfo=TZ)  # the start of the hall's latest day
DAY = timedelta(days=1)
T0 = 5000.0  # seconds since boot at TEN


def watched(waiting=True, boot="boot-1") -> ClockWatch:
    """A watch with its first reading at TEN."""
    w = ClockWatch(boot)
    w.read(TEN, T0, waiting)
    return w


def test_time_passing_is_no_step():
    w = watched()
    w.read(TEN + timedelta(hours=3), T0 + 3 * 3600, waiting=True)
    assert (w.ahead, w.behind, w.wrong, w.untold) == (timedelta(0), timedelta(0), False, False)
    assert w.next_step(FLOOR) is None


def test_a_step_forward_while_tickets_wait_is_held_off_and_told_once():
    w = watched()
    w.read(TEN + DAY, T0 + 60, waiting=True)  # a day on by the clock, a minute truly
    assert w.ahead == DAY - timedelta(minutes=1) and w.wrong and w.untold
    assert w.next_step(FLOOR) == ClockStep(True, TEN, TEN + DAY)
    assert w.next_step(FLOOR) is None and not w.untold  # told once
    assert w.behind == timedelta(0)


def test_a_step_forward_with_nobody_waiting_is_believed():
    w = watched(waiting=False)
    w.read(TEN + DAY, T0, waiting=False)
    assert w.ahead == timedelta(0) and w.next_step(FLOOR) is None


def test_a_gain_under_the_forward_step_is_no_step():
    w = watched()
    w.read(TEN + FORWARD_STEP, T0, waiting=True)  # exactly the bound: not more than it
    assert w.ahead == timedelta(0) and w.next_step(FLOOR) is None


def test_a_step_forward_put_right_is_no_step_back():
    w = watched()
    w.read(TEN + DAY, T0, waiting=True)
    w.next_step(FLOOR)
    w.read(TEN + timedelta(minutes=5), T0 + 300, waiting=True)  # put right five minutes on
    assert (w.ahead, w.behind, w.wrong) == (timedelta(0), timedelta(0), False)
    assert w.next_step(FLOOR) is None


def test_a_forward_step_ends_when_nobody_waits():
    w = watched()
    w.read(TEN + DAY, T0, waiting=True)
    assert not w.settle(waiting=True) and w.ahead == DAY
    assert w.settle(waiting=False) and w.ahead == timedelta(0)
    assert not w.settle(waiting=False)  # already over: nothing more to say


def test_a_step_back_is_told_and_its_alert_lasts_until_the_clock_is_back():
    w = watched()
    w.read(TEN - timedelta(hours=12), T0 + 60, waiting=True)  # 22:00 the day before
    assert w.behind == timedelta(hours=12, minutes=1) and w.ahead == timedelta(0)
    assert w.next_step(FLOOR) == ClockStep(False, TEN, TEN - timedelta(hours=12))
    assert w.next_step(FLOOR) is None
    assert not w.back_over(TEN - timedelta(minutes=1))
    assert w.back_over(TEN)
    assert w.back_over(TEN - DAY)  # once over, forgotten: no clock to wait for


def test_jitter_back_is_no_step_and_puts_nothing_right():
    w = watched()
    w.read(TEN - CLOCK_STEP, T0 + 1, waiting=True)
    assert w.behind == timedelta(0) and w.next_step(FLOOR) is None
    w.read(TEN + DAY, T0 + 1, waiting=True)
    w.next_step(FLOOR)
    w.read(TEN + DAY - timedelta(seconds=10), T0 + 1, waiting=True)  # a forward step stays
    assert w.ahead == DAY + CLOCK_STEP and w.behind == timedelta(0)


def test_a_clock_put_right_after_a_step_back_is_no_step_forward():
    w = watched()
    w.read(TEN - timedelta(hours=12), T0, waiting=True)
    w.next_step(FLOOR)
    # put right five minutes on: a gain of twelve hours on the time truly passed
    w.read(TEN + timedelta(minutes=5), T0 + 300, waiting=True)
    assert (w.ahead, w.behind, w.wrong) == (timedelta(0), timedelta(0), False)
    assert w.next_step(FLOOR) is None


def test_a_clock_put_right_too_far_after_a_step_back_steps_forward_by_the_rest():
    w = watched()
    w.read(TEN - timedelta(hours=12), T0, waiting=True)
    w.next_step(FLOOR)
    w.read(TEN + DAY, T0, waiting=True)  # twelve hours paid off, a day more on top
    assert w.behind == timedelta(0) and w.ahead == DAY
    assert w.next_step(FLOOR) == ClockStep(True, TEN - timedelta(hours=12), TEN + DAY)


def test_a_clock_found_behind_the_halls_data_at_start():
    w = ClockWatch("boot-1")
    before = FLOOR - timedelta(hours=14)  # 10:00 the day before the latest day issued for
    w.found_behind(before, FLOOR)
    assert w.behind == timedelta(hours=14) and w.untold
    assert w.next_step(FLOOR) == ClockStep(False, None, before)
    assert not w.back_over(FLOOR - timedelta(seconds=1)) and w.back_over(FLOOR)
    w.read(before, T0, waiting=True)
    # put right to the hall's day: no step forward (behind is known only as far as that day)
    w.read(FLOOR + timedelta(minutes=5), T0 + 300, waiting=True)
    assert (w.ahead, w.behind) == (timedelta(0), timedelta(0)) and w.next_step(FLOOR) is None


def test_the_record_round_trips_and_the_next_reading_measures_across_the_restart():
    w = watched()
    w.read(TEN + DAY, T0 + 60, waiting=True)
    w.next_step(FLOOR)
    record = w.to_dict()
    assert record == {
        "boot": "boot-1",
        "clock": (TEN + DAY).isoformat(),
        "elapsed": T0 + 60,
        "ahead_s": (DAY - timedelta(minutes=1)).total_seconds(),
        "behind_s": 0.0,
    }

    again = ClockWatch("boot-1")  # the restarted controller's
    assert again.restore(record)
    assert again.to_dict() == record
    # the alert went with the old process: told again, from the clock less what is ahead
    assert again.next_step(FLOOR) == ClockStep(True, TEN + timedelta(minutes=1), TEN + DAY)
    again.read(TEN + DAY + timedelta(minutes=2), T0 + 180, waiting=True)  # time passing
    assert again.ahead == DAY - timedelta(minutes=1) and again.next_step(FLOOR) is None
    again.read(TEN + timedelta(minutes=4), T0 + 240, waiting=True)  # put right
    assert not again.wrong and again.next_step(FLOOR) is None


def test_a_step_back_survives_a_restart_so_putting_it_right_is_no_step_forward():
    w = watched()
    w.read(TEN - timedelta(hours=12), T0, waiting=True)
    again = ClockWatch("boot-1")
    assert again.restore(w.to_dict())
    assert again.behind == timedelta(hours=12) and again.next_step(FLOOR) is None
    again.read(TEN + timedelta(minutes=5), T0 + 300, waiting=True)
    assert (again.ahead, again.behind) == (timedelta(0), timedelta(0))
    assert again.next_step(FLOOR) is None


def test_a_record_of_another_boot_or_unreadable_changes_nothing():
    w = watched()
    w.read(TEN + DAY, T0, waiting=True)
    record = w.to_dict()
    for other in (ClockWatch("boot-2"), ClockWatch(None)):
        assert not other.restore(record)
        assert (other.last_clock, other.ahead, other.untold) == (None, timedelta(0), False)
    not_a_table = ([record], ["boot-1"], 3, "boot-1", None)  # JSON, but not to_dict's
    for bad in (
        {**record, "clock": "yesterday"},
        {**record, "ahead_s": None},
        {"boot": "boot-1"},
        *not_a_table,
    ):
        fresh = ClockWatch("boot-1")
        with pytest.raises(ValueError):
            fresh.restore(bad)
        assert (fresh.last_clock, fresh.ahead, fresh.untold) == (None, timedelta(0), False)


def test_no_record_without_a_reading():
    with pytest.raises(ValueError):
        ClockWatch("boot-1").to_dict()
