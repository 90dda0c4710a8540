"""Ticket numbers: a prefix and a daily sequence, reset at the hall's local midnight."""

from __future__ import annotations

from datetime import date, datetime

MIN_DIGITS = 3


def service_day(now: datetime) -> date:
    """The day a ticket belongs to: the local calendar date in the hall's time zone.

    `now` must be aware and already in the hall's zone (the clock gives it so), so 23:59:59 and
    00:00:01 fall on different days whatever the server's own zone is.
    """
    if now.tzinfo is None:
        raise ValueError("service_day needs an aware datetime in the hall's time zone")
    return now.date()


def format_number(prefix: str, seq: int) -> str:
    """A001 ... A999, then A1000: never wraps, so a number is never handed out twice in a day."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{prefix}{seq:0{MIN_DIGITS}d}"
