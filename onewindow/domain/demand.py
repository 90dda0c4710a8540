"""What a hall's history says about one weekday: arrivals per service per 30-minute slot, handling
times, no-shows, transfers (the input of 排班建议, domain/staffing.py).

Every figure is measured from the hall's own tickets; a figure the history does not hold is left
out, never defaulted: a service with arrivals but no finished ticket has no handling time, and is
named in `Demand.unmeasured` instead of being planned for with a guess.

- Arrival rate of service S in slot k = tickets issued for S in that slot (S is what the citizen
  came for: the service before any transfer), divided by the minutes the hall was open in that
  slot on the matching weekdays that have tickets at all (a day without a single ticket is taken
  as a day the hall did not use OneWindow, not as a day nobody came).
- Handling time: finish - (start, else call) of the tickets finished without a transfer.
- No-show: the share of called tickets skipped (过号), and how long a skip held the window.
- Transfer: the share of served tickets sent on to another service, and where to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional, Sequence

SLOT_MIN = 30  # minutes per planning slot
DAY_MIN = 24 * 60

Span = tuple[float, float]  # an open range of the day, in minutes after midnight


@dataclass(frozen=True)
class PastTicket:
    """One ticket of the history, as planning needs it (no citizen data at all)."""

    day: date
    service: str  # what it was issued for (before any transfer)
    final_service: str  # where it ended
    issued_min: float  # minutes after midnight, hall time
    called: bool
    handling_min: Optional[float]  # finished without a transfer: its handling time
    skipped: bool  # 过号 at least once
    skip_min: Optional[float]  # call -> skip, when skipped
    transferred: bool
    priority: bool
    appointment: bool


@dataclass(frozen=True)
class ServiceDemand:
    code: str
    rates: dict[int, float]  # slot start (minutes) -> arrivals per open minute
    handling: tuple[float, ...]  # measured handling times, minutes
    no_show: float  # share of calls that were skipped
    skip_min: tuple[float, ...]  # how long a skip held the window
    transfer: float  # share of served tickets sent on
    transfer_to: tuple[tuple[str, float], ...]  # (service, share of the transfers)
    priority: float
    appointment: float

    def mean_handling(self) -> float:
        """Mean minutes a called ticket holds a window (skips included)."""
        full = sum(self.handling) / len(self.handling)
        skip = sum(self.skip_min) / len(self.skip_min) if self.skip_min else 0.0
        return (1 - self.no_show) * full + self.no_show * skip


@dataclass(frozen=True)
class Demand:
    weekday: int  # 0 = Monday
    days: tuple[date, ...]  # the history's days of that weekday with tickets
    spans: tuple[Span, ...]  # the hall's open ranges that weekday
    services: tuple[ServiceDemand, ...]
    unmeasured: tuple[str, ...]  # arrivals but no handling time measured: not planned

    def service(self, code: str) -> Optional[ServiceDemand]:
        return next((s for s in self.services if s.code == code), None)

    def slots(self) -> list[int]:
        """The slot starts (minutes) in which the hall is open, in order."""
        return [k for k in range(0, DAY_MIN, SLOT_MIN) if open_minutes(self.spans, k) > 0]


def open_minutes(spans: Sequence[Span], slot: int) -> float:
    """Minutes of slot [slot, slot + SLOT_MIN) inside the open spans."""
    return sum(max(0.0, min(end, slot + SLOT_MIN) - max(start, slot)) for start, end in spans)


def hhmm(minute: float) -> str:
    """Minutes after midnight as the hall says a time: 570 -> '09:30'."""
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"


def slot_of(minute: float) -> int:
    return int(minute // SLOT_MIN) * SLOT_MIN


def build(history: Iterable[PastTicket], weekday: int, spans: Sequence[Span]) -> Demand:
    """The demand of `weekday` (0 = Monday) from the history's tickets of that weekday."""
    mine = [t for t in history if t.day.weekday() == weekday]
    days = tuple(sorted({t.day for t in mine}))
    by_service: dict[str, list[PastTicket]] = defaultdict(list)
    handling: dict[str, list[float]] = defaultdict(list)
    for t in mine:
        by_service[t.service].append(t)
        if t.handling_min is not None and t.handling_min > 0:
            handling[t.final_service].append(t.handling_min)
    services, unmeasured = [], []
    for code in sorted(by_service):
        if not handling.get(code):
            unmeasured.append(code)
            continue
        services.append(_service(code, by_service[code], handling[code], len(days), spans))
    return Demand(weekday, days, tuple(spans), tuple(services), tuple(unmeasured))


def _service(
    code: str, tickets: list[PastTicket], handling: list[float], days: int, spans: Sequence[Span]
) -> ServiceDemand:
    counts = Counter(slot_of(t.issued_min) for t in tickets)
    rates = {}
    for slot, n in sorted(counts.items()):
        minutes = open_minutes(spans, slot) * days
        # tickets issued while the hall file says closed (hours changed since): spread over the slot
        rates[slot] = n / (minutes if minutes > 0 else SLOT_MIN * days)
    called = [t for t in tickets if t.called]
    skipped = [t for t in called if t.skipped]
    served = [t for t in called if not t.skipped or t.transferred or t.handling_min is not None]
    moved = [t for t in tickets if t.transferred and t.final_service != t.service]
    to = Counter(t.final_service for t in moved)
    return ServiceDemand(
        code=code,
        rates=rates,
        handling=tuple(handling),
        no_show=len(skipped) / len(called) if called else 0.0,
        skip_min=tuple(t.skip_min for t in skipped if t.skip_min is not None and t.skip_min >= 0),
        transfer=len(moved) / len(served) if served else 0.0,
        transfer_to=tuple((s, n / len(moved)) for s, n in sorted(to.items())),
        priority=sum(t.priority for t in tickets) / len(tickets),
        appointment=sum(t.appointment for t in tickets) / len(tickets),
    )
