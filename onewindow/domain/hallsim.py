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

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional, Sequence

from .demand import SLOT_MIN, Demand, slot_of
from .model import Rules, Ticket, TicketStatus, Window
from .routing import PRIORITY, REASONS, choose_next

BASE = datetime(2001, 1, 1)  # the simulated day's midnight (only differences matter)
EXTRA_NUMBER = 100_000  # windows the plan adds beyond the hall's own (only transfers to
# a given window use numbers, and the simulator has none)
APPOINTMENT, ORDINARY = PRIORITY + 1, PRIORITY + 2  # (routing's order of classes)
TICK, CLOSE, ARRIVE = 0, 1, 2  # calendar entries, in their order at the same minute

# a simulated ticket: [queue time (= issue, minutes), seq, service now, service it came for,
# class, transferred]
T_AT, T_SEQ, T_CODE, T_ORIGIN, T_CLS, T_MOVED = range(6)


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
        self.ticket: Optional[list[Any]] = None


class _Day:
    def __init__(
        self,
        groups: Sequence[Group],
        counts: dict[tuple[str, int], int],
        demand: Demand,
        rules: Rules,
        rng: random.Random,
        check: bool,
    ):
        self.demand, self.rng, self.check = demand, rng, check
        self.by_order = rules.routing == "service_order"
        self.fair_share = rules.fair_share
        self.rules = rules
        self.svc = {s.code: s for s in demand.services}
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
        self.result = DayResult()
        self.now = 0.0

    def run(self) -> DayResult:
        cal = self._calendar()
        frees = self.frees
        i, n = 0, len(cal)
        while i < n or frees:
            if frees and (i >= n or frees[0][0] < cal[i][0]):
                self.now, _, w = heapq.heappop(frees)
                self._free(w)
                continue
            at, kind, what = cal[i]
            i += 1
            self.now = at
            if kind == ARRIVE:
                h = self.heaps[what[T_CODE]][what[T_CLS]]
                heapq.heappush(h, (at, what[T_SEQ], what))
                self._dispatch(what[T_CODE])
            elif kind == TICK:
                self.open = self.slot_counts.get(what, [0] * len(self.open))
                for w in self.wins:
                    if not w.busy and w.index < self.open[w.group]:
                        self._call(w)
            else:
                self.open = [0] * len(self.open)
        close = max((end for _, end in self.demand.spans), default=0.0)
        for qs in self.heaps.values():
            for h in qs:
                for _, _, t in h:
                    if not t[T_MOVED]:  # (a transferred ticket's wait is already counted)
                        self._record(t, close)
                    self.result.left_waiting += 1
        return self.result

    def _calendar(self) -> list[tuple[float, int, Any]]:
        """The day's arrivals, slot starts (windows may open) and closings, in time order."""
        rng = self.rng
        expo, rand = rng.expovariate, rng.random
        cal: list[tuple[float, int, Any]] = []
        for start, end in self.demand.spans:
            k = start
            while k < end:
                cal.append((k, TICK, slot_of(k)))
                k = slot_of(k) + SLOT_MIN
            cal.append((end, CLOSE, None))
        arrivals: list[tuple[float, list[Any]]] = []
        for s in self.demand.services:
            for start, end in self.demand.spans:
                at = start
                while at < end:
                    slot = slot_of(at)
                    nxt = min(slot + SLOT_MIN, end)
                    rate = s.rates.get(slot, 0.0)
                    if rate > 0:
                        # memoryless: a step past the slot's end starts afresh there
                        at += expo(rate)
                        while at < nxt:
                            appointment = rand() < s.appointment
                            cls = (
                                PRIORITY
                                if rand() < s.priority
                                else (APPOINTMENT if appointment else ORDINARY)
                            )
                            arrivals.append((at, [at, 0, s.code, s.code, cls, False]))
                            at += expo(rate)
                    at = nxt
        arrivals.sort(key=lambda a: a[0])
        for seq, (at, t) in enumerate(arrivals):
            t[T_SEQ] = seq  # in time order, as the hall numbers its queue
            cal.append((at, ARRIVE, t))
        cal.sort(key=lambda e: (e[0], e[1]))
        return cal

    # -- windows ---------------------------------------------------------------------------

    def _dispatch(self, code: str) -> None:
        """After an arrival: idle open windows able to serve it call, by window number (an
        idle open window had nobody it could serve: only this queue is new)."""
        qs = self.heaps[code]
        for w in self.serving[code]:
            if not w.busy and w.index < self.open[w.group]:
                self._call(w)
                if not (qs[PRIORITY] or qs[APPOINTMENT] or qs[ORDINARY]):
                    return

    def _pick(self, w: _Win) -> Optional[tuple[list[Any], list[Any], bool, str]]:
        """routing.choose_next over the queues' heads: (heap, ticket, jumped, reason)."""
        heaps = self.heaps
        best = None  # (heap, entry)
        for cls in (PRIORITY, APPOINTMENT):
            for c in w.codes:
                h = heaps[c][cls]
                if h and (best is None or h[0] < best[1]):
                    best = (h, h[0])
            if best is not None:
                break
        oldest = None
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
                        return oldest[0], oldest[1][2], False, "fair_share"
                    return h, h[0][2], True, "service_order"
            return oldest[0], oldest[1][2], False, REASONS[ORDINARY]
        reason = REASONS[best[1][2][T_CLS]]
        if oldest is None:
            return best[0], best[1][2], False, reason
        if w.streak >= self.fair_share:
            return oldest[0], oldest[1][2], False, "fair_share"
        return best[0], best[1][2], True, reason

    def _call(self, w: _Win) -> None:
        picked = self._pick(w)
        if self.check:
            self._check(w, picked)
        if picked is None:
            return
        h, t, jumped, _reason = picked
        heapq.heappop(h)  # (the pick is always its heap's head)
        w.streak = w.streak + 1 if jumped else 0
        if not t[T_MOVED]:
            self._record(t, self.now)
        s = self.svc[t[T_CODE]]
        rand = self.rng.random
        w.busy, w.ticket = True, None
        if not t[T_MOVED] and rand() < s.no_show:
            hold = s.skip_min[int(rand() * len(s.skip_min))] if s.skip_min else 0.0
        else:
            hold = s.handling[int(rand() * len(s.handling))]
            w.ticket = t
        self.nfree += 1
        heapq.heappush(self.frees, (self.now + hold, self.nfree, w))

    def _free(self, w: _Win) -> None:
        t, w.busy, w.ticket = w.ticket, False, None
        if t is not None and not t[T_MOVED]:
            s = self.svc[t[T_CODE]]
            if s.transfer_to and self.rng.random() < s.transfer:
                to = self.rng.choices([c for c, _ in s.transfer_to], [p for _, p in s.transfer_to])[
                    0
                ]
                if to in self.heaps:  # a destination with no measured handling: leaves
                    t[T_CODE], t[T_MOVED] = to, True
                    heapq.heappush(self.heaps[to][t[T_CLS]], (t[T_AT], t[T_SEQ], t))
                    self._dispatch(to)
        if w.index < self.open[w.group] and not w.busy:
            self._call(w)

    def _record(self, t: list[Any], at: float) -> None:
        key = (slot_of(t[T_AT]), t[T_ORIGIN])
        waits = self.result.waits.get(key)
        if waits is None:
            waits = self.result.waits[key] = []
        waits.append(at - t[T_AT])

    # -- the check against routing.choose_next -------------------------------------------------

    def _check(self, w: _Win, picked: Optional[tuple[list[Any], list[Any], bool, str]]) -> None:
        tickets = [_as_ticket(t) for c in w.codes for h in self.heaps[c] for _, _, t in h]
        choice = choose_next(
            w.window.number,
            w.services,
            tickets,
            BASE + timedelta(minutes=self.now),
            self.rules.routing,
            self.fair_share,
            w.streak,
        )
        got = None if picked is None else (picked[1][T_SEQ], picked[2], picked[3])
        want = None if choice is None else (choice.ticket.seq, choice.jumped, choice.reason)
        if got != want:
            raise RoutingMismatch(
                f"window {w.window.number} at minute {self.now:.3f}: simulated {got}, "
                f"routing.choose_next {want}"
            )


def _as_ticket(t: list[Any]) -> Ticket:
    """A simulated ticket as the controller would hold it (check=True only)."""
    at = BASE + timedelta(minutes=t[T_AT])
    return Ticket(
        id=str(t[T_SEQ]),
        day=BASE.date(),
        prefix=t[T_ORIGIN],
        seq=t[T_SEQ],
        number=f"{t[T_ORIGIN]}{t[T_SEQ]}",
        service=t[T_CODE],
        channel="kiosk",
        issued_at=at,
        order_at=at,
        status=TicketStatus.WAITING,
        priority="elder" if t[T_CLS] == PRIORITY else None,
        appointment_id="sim" if t[T_CLS] == APPOINTMENT else None,
        slot_start=BASE + timedelta(minutes=slot_of(t[T_AT])) if t[T_CLS] == APPOINTMENT else None,
        transfers=1 if t[T_MOVED] else 0,
        origin_service=t[T_ORIGIN] if t[T_MOVED] else None,
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
    return _Day(groups, counts, demand, rules, rng, check).run()


def simulate_days(
    groups: Sequence[Group],
    counts: dict[tuple[str, int], int],
    demand: Demand,
    rules: Rules,
    seeds: Sequence[int],
) -> list[DayResult]:
    """One simulated day per seed (the same seed, the same day: plans compare on equal days)."""
    return [simulate_day(groups, counts, demand, rules, random.Random(s)) for s in seeds]
