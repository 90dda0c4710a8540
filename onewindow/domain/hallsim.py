"""A hall day, simulated: citizens arrive at random at the history's rates, and each window calls
whom the hall's own routing (`routing.choose_next`) would call, so a plan is checked against the
rules the hall really runs (comprehensive windows across queues, priority with fair share,
appointments whose slot has begun, transfers keeping their queue time, the lunch break).

Model, per service S (domain/demand.py measures each figure from the history):
- arrivals: a Poisson process with S's rate in each 30-minute slot, only while the hall is open;
  a share of them priority (绿色通道), a share appointments (their slot = the slot they come in);
- a called ticket is a no-show with S's measured share (the window is held for a measured skip
  time, and the ticket leaves: a reinstated no-show is not modelled); else it is handled for a
  handling time drawn from S's measured ones;
- after handling, a share is transferred to another service (its measured destinations), back
  into that queue with its original queue time, and handled again there;
- a window of a group is open in a slot when its index in the group is below the plan's count
  for that slot; outside the hall's open ranges (lunch, evening) no window calls, and whoever
  is still at a window is finished first;
- tickets still waiting at closing count with their wait until closing (never as met).

The wait of a ticket is from its issue to its first call (the KPI of docs: call - issue).
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional, Sequence

from .demand import SLOT_MIN, Demand, ServiceDemand, slot_of
from .model import Rules, Ticket, TicketStatus, Window
from .routing import choose_next

BASE = datetime(2001, 1, 1)  # the simulated day's midnight (only differences matter)
ARRIVE, FREE, TICK = 0, 1, 2
EXTRA_NUMBER = 100_000  # windows the plan adds beyond the hall's own (only transfers to
# a given window use numbers, and the simulator has none)


@dataclass(frozen=True)
class Group:
    """Windows that serve the same thing: every comprehensive window, or one specialist set."""

    id: str
    kind: str
    services: tuple[str, ...]  # () = every service (a comprehensive window)
    windows: tuple[Window, ...]  # the hall's windows of the group, by number
    name: str = ""

    def window(self, i: int) -> Window:
        """The group's i-th window; past the configured ones, an extra one like the first."""
        if i < len(self.windows):
            return self.windows[i]
        first = self.windows[0]
        return Window(
            number=EXTRA_NUMBER + i, name=f"{self.id}+{i}", kind=first.kind, services=first.services
        )

    def serves(self, code: str) -> bool:
        return not self.services or code in self.services


@dataclass
class DayResult:
    waits: dict[tuple[int, str], list[float]] = field(default_factory=dict)  # (slot, service)
    left_waiting: int = 0


@dataclass
class _Win:
    window: Window
    group: str
    index: int
    services: Optional[tuple[str, ...]]
    busy: bool = False
    streak: int = 0
    ticket: Optional[Ticket] = None


class _Day:
    def __init__(
        self,
        groups: Sequence[Group],
        counts: dict[tuple[str, int], int],
        demand: Demand,
        rules: Rules,
        rng: random.Random,
    ):
        self.demand, self.rules, self.rng = demand, rules, rng
        self.counts = counts
        self.svc = {s.code: s for s in demand.services}
        self.queues: dict[str, list[Ticket]] = {s.code: [] for s in demand.services}
        self.wins: list[_Win] = []
        for g in groups:
            most = max((n for (gid, _), n in counts.items() if gid == g.id), default=0)
            for i in range(most):
                w = g.window(i)
                self.wins.append(_Win(w, g.id, i, None if w.serves_all() else w.services))
        # the windows able to serve each queue, by window number
        self.serving = {
            c: [w for w in self.wins if w.services is None or c in w.services] for c in self.queues
        }
        self.events: list[tuple[float, int, int, object]] = []
        self.seq = itertools.count()
        self.result = DayResult()
        self.now = 0.0
        self.issued: dict[str, float] = {}  # exact minutes (a datetime rounds to microseconds)

    # -- the day's calendar ---------------------------------------------------------------

    def push(self, at: float, kind: int, what: object = None) -> None:
        heapq.heappush(self.events, (at, next(self.seq), kind, what))

    def is_open(self, at: float) -> bool:
        return any(start <= at < end for start, end in self.demand.spans)

    def win_open(self, w: _Win, at: float) -> bool:
        return self.is_open(at) and w.index < self.counts.get((w.group, slot_of(at)), 0)

    def run(self) -> DayResult:
        for s in self.demand.services:
            self._arrivals(s)
        for start, end in self.demand.spans:
            k = start
            while k < end:  # every slot boundary may open windows
                self.push(k, TICK)
                k = slot_of(k) + SLOT_MIN
        while self.events:
            self.now, _, kind, what = heapq.heappop(self.events)
            if kind == ARRIVE:
                assert isinstance(what, Ticket)
                self.queues[what.service].append(what)
                self._dispatch(what.service)
            elif kind == FREE:
                assert isinstance(what, _Win)
                self._free(what)
            else:
                self._dispatch(None)
        close = max((end for _, end in self.demand.spans), default=0.0)
        for q in self.queues.values():
            for t in q:
                if t.called_at is None:  # (a transferred ticket's wait is already counted)
                    self._record(t, close)
                self.result.left_waiting += 1
        return self.result

    def _arrivals(self, s: ServiceDemand) -> None:
        for start, end in self.demand.spans:
            at = start
            while True:
                rate = s.rates.get(slot_of(at), 0.0)
                nxt = min(slot_of(at) + SLOT_MIN, end)
                if rate <= 0:
                    at = nxt
                else:
                    step = self.rng.expovariate(rate)
                    if at + step >= nxt:  # memoryless: start afresh at the slot's end
                        at = nxt
                    else:
                        at += step
                        self.push(at, ARRIVE, self._ticket(s, at))
                        continue
                if at >= end:
                    break

    def _ticket(self, s: ServiceDemand, at: float) -> Ticket:
        when = BASE + timedelta(minutes=at)
        appointment = self.rng.random() < s.appointment
        n = next(self.seq)
        self.issued[str(n)] = at
        return Ticket(
            id=str(n),
            day=BASE.date(),
            prefix=s.code,
            seq=n,
            number=f"{s.code}{n}",
            service=s.code,
            channel="kiosk",
            issued_at=when,
            order_at=when,
            priority="elder" if self.rng.random() < s.priority else None,
            appointment_id="sim" if appointment else None,
            slot_start=BASE + timedelta(minutes=slot_of(at)) if appointment else None,
        )

    # -- windows ---------------------------------------------------------------------------

    def _dispatch(self, code: Optional[str]) -> None:
        """Idle open windows (able to serve `code`, or all when None) call, by window number."""
        if not self.is_open(self.now):
            return
        slot = slot_of(self.now)
        queue = self.queues[code] if code is not None else None
        for w in self.wins if code is None else self.serving[code]:
            # an idle open window has nobody it can serve waiting (it would have called them):
            # after an arrival, only that queue is new
            if queue is not None and not queue:
                return
            if not w.busy and w.index < self.counts.get((w.group, slot), 0):
                self._call(w)

    def _call(self, w: _Win) -> None:
        codes = w.services if w.services is not None else tuple(self.queues)
        if not any(self.queues.get(c) for c in codes):
            return
        waiting = itertools.chain.from_iterable(self.queues.get(c, ()) for c in codes)
        choice = choose_next(
            w.window.number,
            w.services,
            waiting,
            BASE + timedelta(minutes=self.now),
            self.rules.routing,
            self.rules.fair_share,
            w.streak,
        )
        if choice is None:
            return
        t = choice.ticket
        w.streak = w.streak + 1 if choice.jumped else 0
        self.queues[t.service].remove(t)
        if t.called_at is None:
            self._record(t, self.now)
        t.called_at, t.status, t.window = (
            BASE + timedelta(minutes=self.now),
            TicketStatus.CALLED,
            w.window.number,
        )
        s = self.svc[t.service]
        w.busy, w.ticket = True, None
        if t.transfers == 0 and self.rng.random() < s.no_show:
            hold = self.rng.choice(s.skip_min) if s.skip_min else 0.0
        else:
            hold = self.rng.choice(s.handling)
            w.ticket = t
        self.push(self.now + hold, FREE, w)

    def _free(self, w: _Win) -> None:
        t, w.busy, w.ticket = w.ticket, False, None
        if t is not None and t.transfers == 0:
            s = self.svc[t.service]
            if s.transfer_to and self.rng.random() < s.transfer:
                to = self.rng.choices([c for c, _ in s.transfer_to], [p for _, p in s.transfer_to])[
                    0
                ]
                if to in self.queues:  # a destination with no measured handling: leaves
                    t.service, t.status, t.transfers = to, TicketStatus.WAITING, 1
                    t.origin_service = s.code
                    self.queues[to].append(t)
                    self._dispatch(to)
        if self.win_open(w, self.now):
            self._call(w)

    def _record(self, t: Ticket, at: float) -> None:
        issued = self.issued[t.id]
        self.result.waits.setdefault((slot_of(issued), t.origin_service or t.service), []).append(
            at - issued
        )


def simulate_day(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    rng: random.Random,
) -> DayResult:
    """One simulated day with `counts[(group id, slot start)]` windows of each group open."""
    return _Day(groups, counts, demand, rules, rng).run()


def simulate_days(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    seeds: Sequence[int],
) -> list[DayResult]:
    """One simulated day per seed (the same seed, the same day: plans compare on equal days)."""
    return [simulate_day(groups, counts, demand, rules, random.Random(s)) for s in seeds]
