"""When the hall (or one service) takes live tickets, and when it opens next."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Optional

from .model import Hours, Ranges

LOOKAHEAD_DAYS = 31  # a hall closed longer than a month has no "next opening" to tell
DAY_END = time(23, 59, 59, 999999)  # "24:00" as onewindow/hallconfig.py reads it


def ranges_on(hours: Hours, day: date) -> Ranges:
    if day in hours.closed_dates:
        return ()
    if day in hours.extra_days:
        return hours.extra_days[day]
    return hours.week[day.weekday()]


def is_open(hours: Hours, now: datetime) -> bool:
    t = now.timetz().replace(tzinfo=None)
    return any(start <= t < end for start, end in ranges_on(hours, now.date()))


def next_opening(hours: Hours, now: datetime) -> Optional[datetime]:
    """The start of the next opening range after `now` (now itself if a range starts exactly now).

    A range that carries on from the one before it without a break (`12:00` after `-12:00`,
    `00:00` after the day before's `-24:00`) opens nothing: the windows never closed. So a hall
    open around the clock (test mode) has no next opening (None), rather than "明天 00:00".
    """
    t = now.timetz().replace(tzinfo=None)
    yesterday = ranges_on(hours, now.date() - timedelta(days=1))
    joined = time(0) if yesterday and yesterday[-1][1] == DAY_END else None
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = now.date() + timedelta(days=offset)
        ranges = ranges_on(hours, day)
        for start, end in ranges:
            carries_on, joined = start == joined, end
            if (offset == 0 and start < t) or carries_on:
                continue
            return datetime.combine(day, start, tzinfo=now.tzinfo)
        joined = time(0) if ranges and ranges[-1][1] == DAY_END else None
    return None


def closing_time(hours: Hours, now: datetime) -> Optional[datetime]:
    """End of the range `now` is in, or None when closed."""
    t = now.timetz().replace(tzinfo=None)
    for start, end in ranges_on(hours, now.date()):
        if start <= t < end:
            return datetime.combine(now.date(), end, tzinfo=now.tzinfo)
    return None


def last_closing(hours: Hours, now: datetime) -> Optional[datetime]:
    """When today's last opening range ends, if it is still ahead of `now`."""
    t = now.timetz().replace(tzinfo=None)
    ends = [end for _start, end in ranges_on(hours, now.date()) if end > t]
    return datetime.combine(now.date(), max(ends), tzinfo=now.tzinfo) if ends else None


def describe_opening(when: Optional[datetime], today: date) -> tuple[str, str]:
    """Next opening as citizens read it: '今天 13:30' / '明天 08:30' / '11月24日 08:30'."""
    if when is None:
        return "另行通知", "to be announced"
    hm = when.strftime("%H:%M")
    delta = (when.date() - today).days
    if delta == 0:
        return f"今天 {hm}", f"today {hm}"
    if delta == 1:
        return f"明天 {hm}", f"tomorrow {hm}"
    return f"{when.month}月{when.day}日 {hm}", f"{when:%Y-%m-%d} {hm}"


def is_working_day(hours: Hours, day: date) -> bool:
    """A working day (工作日) on the hall's calendar: Monday to Friday, less `closed_dates`
    (public holidays), plus `extra_days` (调休: a weekend worked in a holiday's place). A hall's
    own weekend service hours do not make a weekend a working day.

    >>> from datetime import date
    >>> h = Hours(week=((),) * 7, closed_dates=frozenset({date(2026, 10, 1)}),
    ...           extra_days={date(2026, 10, 10): ()})
    >>> [is_working_day(h, date(2026, 10, d)) for d in (1, 2, 3, 10)]   # Thu hol, Fri, Sat, 调休 Sat
    [False, True, False, True]
    """
    if day in hours.closed_dates:
        return False
    return day in hours.extra_days or day.weekday() < 5


def add_working_days(hours: Hours, day: date, n: int) -> date:
    """The n-th working day after `day`: a deadline "within n working days" of `day`.

    Friday 2026-11-27 + 1 -> Monday 2026-11-30; with Monday a holiday -> Tuesday 2026-12-01.
    """
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(hours, day):
            n -= 1
    return day
