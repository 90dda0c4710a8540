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

Speed (a plan simulates hundreds of days of thousands of citizens, docs/benchmarks.md): a
simulated ticket is a small list, not a `Ticket`, and the queues are heaps per service and
routing class, so a call looks at the head of each queue instead of every waiting ticket. The
order those heads give is `routing.choose_next`'s: a ticket's class never changes in the
simulation (nobody is transferred to a given window, and an appointment's slot is the one it
arrives in, so it has begun), and within a class the order is the queue time. `check=True`
asks `choose_next` itself at every call, on the waiting tickets as the controller holds them,
and stops at the first disagreement (the tests run it).
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional, Sequence

from .demand import SLOT_MIN, Demand, ServiceDemand, slot_of
from .model import Rules, Ticket, TicketStatus, Window
from .routing import PRIORITY, REASONS, choose_next

BASE = datetime(2001, 1, 1)  # the simulated day's midnight (only differences matter)
EXTRA_NUMBER = 100_000  # windows the plan adds beyond the hall's own (only transfers to
# a given window use numbers, and the simulator has none)
APPOINTMENT, ORDINARY = PRIORITY + 1, PRIORITY + 2  # (routing's order of classes)
TICK, CLOSE, ARRIVE = 0, 1, 2  # calendar entries, in their order at the same minute

# A simulated ticket, a tuple drawn whole when it arrives (the chances it meets later too, so a
# day's citizens are the same whatever windows a plan opens): queue time (= issue, minutes),
# the service it came for, its routing class, then uniform draws for: a no-show, how long it
# holds the window, a transfer, where to, how long at the window it is transferred to.
T_AT, T_ORIGIN, T_CLS, U_NO_SHOW, U_HOLD, U_TRANSFER, U_DEST, U_HOLD2 = range(8)
# in a queue or at a window: (queue time, seq = its place in the day's arrivals, ticket,
# service now, transferred)
Calendar = tuple[list[tuple[Any, ...]], list[tuple[float, int, Optional[int]]]]


class RoutingMismatch(AssertionError):
    """check=True: the simulator's call differs from routing.choose_next's."""


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


class _Service:
    """What a window does with a service's ticket, laid out for speed: the measured times in
    arrays (a tuple of float objects scattered in memory made each draw a cache miss)."""

    __slots__ = ("no_show", "skip", "handling", "transfer", "transfer_to")

    def __init__(self, s: ServiceDemand):
        self.no_show = s.no_show
        self.skip = array("d", s.skip_min)
        self.handling = array("d", s.handling)
        self.transfer = s.transfer
        self.transfer_to = s.transfer_to


def _services(demand: Demand) -> dict[str, _Service]:
    return {s.code: _Service(s) for s in demand.services}


class _Win:
    __slots__ = ("window", "group", "index", "services", "codes", "busy", "streak", "ticket")

    def __init__(self, window: Window, group: int, index: int, codes: tuple[str, ...]):
        self.window = window
        self.group = group  # index into the day's groups
        self.index = index
        self.services = None if window.serves_all() else window.services  # as routing takes it
        self.codes = codes  # the services it calls for that have a queue, in its order
        self.busy = False
        self.streak = 0
        self.ticket: Optional[tuple[Any, ...]] = None  # the entry being served


class _Day:
    def __init__(
        self,
        groups: Sequence[Group],
        counts: dict[tuple[str, int], int],
        demand: Demand,
        rules: Rules,
        check: bool,
        svc: dict[str, _Service],
    ):
        self.demand, self.check = demand, check
        self.by_order = rules.routing == "service_order"
        self.fair_share = rules.fair_share
        self.rules = rules
        self.svc = svc
        # per service, a heap per routing class (indexed by it; nobody is TRANSFERRED to a
        # window here): (queue time, seq, ticket)
        self.heaps: dict[str, tuple[list[Any], ...]] = {c: ([], [], [], []) for c in self.svc}
        self.slot_counts: dict[int, list[int]] = {}  # slot -> open windows per group
        for gi, g in enumerate(groups):
            for (gid, slot), n in counts.items():
                if gid == g.id:
                    self.slot_counts.setdefault(slot, [0] * len(groups))[gi] = n
        self.open = [0] * len(groups)  # windows of each group open now (0 while closed)
        self.wins: list[_Win] = []
        for gi, g in enumerate(groups):
            most = max((n for (gid, _), n in counts.items() if gid == g.id), default=0)
            for i in range(most):
                w = g.window(i)
                codes = tuple(self.svc) if w.serves_all() else w.services
                self.wins.append(_Win(w, gi, i, tuple(c for c in codes if c in self.svc)))
        # the windows able to serve each queue, by window number
        self.serving = {c: [w for w in self.wins if c in w.codes] for c in self.svc}
        self.frees: list[tuple[float, int, _Win]] = []  # windows finishing: (at, seq, window)
        self.nfree = 0
        self.waiting = 0  # tickets in the queues
        self.count = [0, 0, 0, 0]  # ... of each routing class
        self.result = DayResult()
        self.now = 0.0

    def run(self, cal: Calendar) -> DayResult:
        frees, heaps, wins, serving = self.frees, self.heaps, self.wins, self.serving
        waits = self.result.waits
        check = self.check
        zeros = [0] * len(self.open)
        arrivals, marks = cal
        inf = math.inf
        i, n, j, m = 0, len(arrivals), 0, len(marks)
        next_arrival = arrivals[0][T_AT] if n else inf
        next_mark = marks[0][0] if m else inf
        # three calendars merged: windows finishing, arrivals, and the marks (slot starts,
        # closings), the marks first at the same minute, then arrivals, then windows finishing
        while True:
            if frees and frees[0][0] < next_arrival and frees[0][0] < next_mark:
                self.now, _, w = heapq.heappop(frees)
                self._free(w)
                continue
            if next_mark <= next_arrival:
                if next_mark == inf:
                    break
                self.now, kind, slot = marks[j]
                j += 1
                next_mark = marks[j][0] if j < m else inf
                if kind == TICK:
                    self.open = self.slot_counts.get(slot, zeros)  # type: ignore[arg-type]
                    for w in wins:
                        if not w.busy and w.index < self.open[w.group]:
                            self._call(w)
                else:
                    self.open = zeros
                continue
            t = arrivals[i]
            seq = i
            i += 1
            next_arrival = arrivals[i][T_AT] if i < n else inf
            self.now = at = t[T_AT]
            code = t[T_ORIGIN]
            key = (int(at // SLOT_MIN) * SLOT_MIN, code)
            entry = (at, seq, t, code, False)
            # an idle open window had nobody it could serve (it would have called them):
            # the first one able to serve the newcomer calls them at once, without a wait
            open_ = self.open
            for w in serving[code]:
                if not w.busy and w.index < open_[w.group]:
                    if check:
                        h = heaps[code][t[T_CLS]]
                        heapq.heappush(h, entry)
                        self._check(w, (h, entry, False, REASONS[t[T_CLS]]))
                        heapq.heappop(h)
                    w.streak = 0
                    got = waits.get(key)
                    if got is None:
                        waits[key] = [0.0]
                    else:
                        got.append(0.0)
                    self._serve(w, entry)
                    break
            else:
                heapq.heappush(heaps[code][t[T_CLS]], entry)
                self.waiting += 1
                self.count[t[T_CLS]] += 1
        close = max((end for _, end in self.demand.spans), default=0.0)
        for qs in heaps.values():
            for h in qs:
                for entry in h:
                    if not entry[4]:  # (a transferred ticket's wait is already counted)
                        self._record(entry[2], close)
                    self.result.left_waiting += 1
        return self.result

    # -- windows ---------------------------------------------------------------------------

    def _pick(self, w: _Win) -> Optional[tuple[list[Any], tuple[Any, ...], bool, str]]:
        """routing.choose_next over the queues' heads: (heap, entry, jumped, reason)."""
        heaps = self.heaps
        best = None  # (heap, entry)
        for cls in (PRIORITY, APPOINTMENT):
            if self.count[cls]:
                for c in w.codes:
                    h = heaps[c][cls]
                    if h and (best is None or h[0] < best[1]):
                        best = (h, h[0])
                if best is not None:
                    break
        oldest = None
        if self.count[ORDINARY]:
            for c in w.codes:
                h = heaps[c][ORDINARY]
                if h and (oldest is None or h[0] < oldest[1]):
                    oldest = (h, h[0])
        if best is None:
            if oldest is None:
                return None
            if self.by_order and w.services is not None:
                # the window's own order of services first, queue time within one
                h = next(heaps[c][ORDINARY] for c in w.codes if heaps[c][ORDINARY])
                if h is not oldest[0]:
                    if w.streak >= self.fair_share:
                        return oldest[0], oldest[1], False, "fair_share"
                    return h, h[0], True, "service_order"
            return oldest[0], oldest[1], False, REASONS[ORDINARY]
        reason = REASONS[best[1][2][T_CLS]]
        if oldest is None:
            return best[0], best[1], False, reason
        if w.streak >= self.fair_share:
            return oldest[0], oldest[1], False, "fair_share"
        return best[0], best[1], True, reason

    def _call(self, w: _Win) -> None:
        picked = self._pick(w) if self.waiting else None
        if self.check:
            self._check(w, picked)
        if picked is None:
            return
        h, entry, jumped, _reason = picked
        heapq.heappop(h)  # (the pick is always its heap's head)
        self.waiting -= 1
        self.count[entry[2][T_CLS]] -= 1
        w.streak = w.streak + 1 if jumped else 0
        if not entry[4]:
            self._record(entry[2], self.now)
        self._serve(w, entry)

    def _serve(self, w: _Win, entry: tuple[Any, ...]) -> None:
        """`entry` is called at window `w`: it holds the window for a skip or its handling."""
        t, moved = entry[2], entry[4]
        s = self.svc[entry[3]]
        w.busy = True
        if not moved and t[U_NO_SHOW] < s.no_show:
            hold = s.skip[int(t[U_HOLD] * len(s.skip))] if s.skip else 0.0
            w.ticket = None
        else:
            hold = s.handling[int(t[U_HOLD2 if moved else U_HOLD] * len(s.handling))]
            w.ticket = entry
        self.nfree += 1
        heapq.heappush(self.frees, (self.now + hold, self.nfree, w))

    def _free(self, w: _Win) -> None:
        entry, w.busy, w.ticket = w.ticket, False, None
        if entry is not None and not entry[4]:
            t = entry[2]
            s = self.svc[entry[3]]
            if s.transfer_to and t[U_TRANSFER] < s.transfer:
                to = _destination(s.transfer_to, t[U_DEST])
                if to in self.heaps:  # a destination with no measured handling: leaves
                    heapq.heappush(self.heaps[to][t[T_CLS]], (t[T_AT], entry[1], t, to, True))
                    self.waiting += 1
                    self.count[t[T_CLS]] += 1
                    qs = self.heaps[to]
                    for o in self.serving[to]:
                        if not o.busy and o.index < self.open[o.group]:
                            self._call(o)  # (w itself may call another: it is not idle)
                            if not (qs[PRIORITY] or qs[APPOINTMENT] or qs[ORDINARY]):
                                break
        if not w.busy and w.index < self.open[w.group]:
            self._call(w)

    def _record(self, t: tuple[Any, ...], at: float) -> None:
        key = (int(t[T_AT] // SLOT_MIN) * SLOT_MIN, t[T_ORIGIN])
        waits = self.result.waits.get(key)
        if waits is None:
            waits = self.result.waits[key] = []
        waits.append(at - t[T_AT])

    # -- the check against routing.choose_next -------------------------------------------------

    def _check(self, w: _Win, picked: Optional[tuple[Any, ...]]) -> None:
        tickets = [_as_ticket(e) for c in w.codes for h in self.heaps[c] for e in h]
        choice = choose_next(
            w.window.number,
            w.services,
            tickets,
            BASE + timedelta(minutes=self.now),
            self.rules.routing,
            self.fair_share,
            w.streak,
        )
        got = None if picked is None else (picked[1][1], picked[2], picked[3])
        want = None if choice is None else (choice.ticket.seq, choice.jumped, choice.reason)
        if got != want:
            raise RoutingMismatch(
                f"window {w.window.number} at minute {self.now:.3f}: simulated {got}, "
                f"routing.choose_next {want}"
            )


def _destination(to: tuple[tuple[str, float], ...], u: float) -> str:
    for code, share in to:
        u -= share
        if u < 0:
            return code
    return to[-1][0]


def calendar(demand: Demand, rng: random.Random) -> Calendar:
    """A day: its arrivals in time order (each ticket drawn whole), and the marks (slot starts,
    when windows may open, and closings): (minute, TICK or CLOSE, slot start or None)."""
    expo, rand = rng.expovariate, rng.random
    arrivals: list[tuple[Any, ...]] = []
    add = arrivals.append
    for s in demand.services:
        code, priority, appointment = s.code, s.priority, s.appointment
        for start, end in demand.spans:
            at = start
            while at < end:
                slot = slot_of(at)
                nxt = min(slot + SLOT_MIN, end)
                rate = s.rates.get(slot, 0.0)
                if rate > 0:
                    # memoryless: a step past the slot's end starts afresh there
                    at += expo(rate)
                    while at < nxt:
                        booked = rand() < appointment
                        cls = PRIORITY if rand() < priority else APPOINTMENT if booked else ORDINARY
                        add((at, code, cls, rand(), rand(), rand(), rand(), rand()))
                        at += expo(rate)
                at = nxt
    arrivals.sort()  # numbered in this order, as the hall numbers its queue
    marks: list[tuple[float, int, Optional[int]]] = []
    for start, end in demand.spans:
        k = start
        while k < end:
            marks.append((k, TICK, slot_of(k)))
            k = slot_of(k) + SLOT_MIN
        marks.append((end, CLOSE, None))
    marks.sort()
    return arrivals, marks


def _as_ticket(entry: tuple[Any, ...]) -> Ticket:
    """A waiting simulated ticket as the controller would hold it (check=True only)."""
    t, code, moved = entry[2], entry[3], entry[4]
    at = BASE + timedelta(minutes=t[T_AT])
    return Ticket(
        id=str(entry[1]),
        day=BASE.date(),
        prefix=t[T_ORIGIN],
        seq=entry[1],
        number=f"{t[T_ORIGIN]}{entry[1]}",
        service=code,
        channel="kiosk",
        issued_at=at,
        order_at=at,
        status=TicketStatus.WAITING,
        priority="elder" if t[T_CLS] == PRIORITY else None,
        appointment_id="sim" if t[T_CLS] == APPOINTMENT else None,
        slot_start=BASE + timedelta(minutes=slot_of(t[T_AT])) if t[T_CLS] == APPOINTMENT else None,
        transfers=1 if moved else 0,
        origin_service=t[T_ORIGIN] if moved else None,
    )


def simulate_day(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    rng: random.Random,
    check: bool = False,
) -> DayResult:
    """One simulated day with `counts[(group id, slot start)]` windows of each group open."""
    return _run(groups, counts, demand, rules, rng, check, _services(demand))


def _run(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    rng: random.Random,
    check: bool,
    svc: dict[str, _Service],
) -> DayResult:
    return _Day(groups, counts, demand, rules, check, svc).run(calendar(demand, rng))


# A plan is checked on the same days again and again (adding, then closing windows): a day's
# calendar depends on the demand and the seed only, so the last demand's are kept, up to
# CALENDAR_TICKETS simulated citizens (~270 bytes each)
CALENDAR_TICKETS = 600_000


class _Kept:
    demand: Optional[Demand] = None
    days: dict[int, Calendar] = {}
    tickets = 0


def _calendar_of(demand: Demand, seed: int) -> Calendar:
    if _Kept.demand is not demand:
        _Kept.demand, _Kept.days, _Kept.tickets = demand, {}, 0
    cal = _Kept.days.get(seed)
    if cal is None:
        cal = calendar(demand, random.Random(seed))
        if _Kept.tickets + len(cal[0]) <= CALENDAR_TICKETS:
            _Kept.days[seed] = cal
            _Kept.tickets += len(cal[0])
    return cal


def simulate_days(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    seeds: Sequence[int],
) -> list[DayResult]:
    """One simulated day per seed (the same seed, the same day: plans compare on equal days)."""
    # a day allocates a tuple per citizen and frees them all: the cyclic collector, walking
    # them over and over meanwhile, finds nothing (nothing here makes a cycle)
    was = gc.isenabled()
    gc.disable()
    try:
        svc = _services(demand)
        return [
            _Day(groups, counts, demand, rules, False, svc).run(_calendar_of(demand, s))
            for s in seeds
        ]
    finally:
        if was:
            gc.enable()
