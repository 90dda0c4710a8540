"""The one wait estimate: who will be called before a ticket, and about how long that takes.

Every place that shows a wait (kiosk tiles and ticket screen, the printed ticket, the web page,
the caller, the manager console) shows what `estimate` returns, through the controller's views.

"Ahead" is a promise, not a guess: the number of tickets the windows able to serve this one
can call before it under the routing rules in force (domain/routing.py), counted so that it is
never less than what really happens while no priority, appointment or transfer arrives later:

- the windows that count are the open ones able to serve the ticket (all of those configured for
  it while none is open);
- a held (挂起) ticket counts as waiting in its queue with its queue time (it may fall back to
  it, domain/lifecycle.py), and always when it is held at one of those windows: that window may
  resume it at any moment, before anyone (one more call there);
- a waiting ticket counts when one of those windows ranks it before ours: transferred to the
  window, priority, an appointment (its slot may begin before we are called, so it counts
  whatever its slot), or an ordinary ticket routing puts first (fifo: older; service_order: a
  service the window ranks higher, or older, since fair share brings the oldest forward);
- service_order: at a window that ranks another service above ours, people arriving later for
  that service go first too, until fair share (`rules.fair_share`) brings the oldest ordinary
  ticket forward. Such a window calls at most (F + 1) x (n + 1) - 1 - streak tickets before ours,
  n being the ordinary tickets older than ours it serves; "ahead" takes the smaller of that
  bound and the plain count plus those jumps;
- a priority, transferred or appointment ticket can still wait for the ordinary tickets fair
  share brings forward: one per F jumps at each window, counted whether or not an ordinary
  ticket waits now (one may arrive). With `fair_share = 0` the ordinary tickets always go first:
  the count is those waiting now, and later ones may still go first.

The minutes: the mean measured handling time (HandlingTimes, per queue code) of the tickets
ahead, times how many they are, shared among the open windows able to serve it. With none open
there is no minute figure: the estimate says when calling starts (`opens_at`), never "no wait".

Example (the issue that asked for this): one comprehensive window open, C001 waiting, then a
一件事 ticket Y001. The window calls C001 first (fifo across its queues), so Y001 has 1 ahead,
not the 0 that counting its own queue gave.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .model import Ticket, TicketStatus
from .routing import APPOINTMENT, ORDINARY, _key, eligible


class HandlingTimes:
    """The last N handling durations (minutes) per queue code; fed as tickets finish."""

    def __init__(self, samples: int, default_min: float):
        self.samples = samples
        self.default_min = default_min
        self._recent: dict[str, deque[float]] = {}

    def add(self, code: str, minutes: float) -> None:
        if minutes < 0:
            return
        self._recent.setdefault(code, deque(maxlen=self.samples)).append(minutes)

    def mean(self, code: str) -> float:
        recent = self._recent.get(code)
        if not recent:
            return self.default_min
        return float(sum(recent) / len(recent))

    def extend(self, rows: Iterable[tuple[str, float]]) -> None:
        for code, minutes in rows:
            self.add(code, minutes)


@dataclass(frozen=True)
class Server:
    """A window as the estimate sees it; `services` as routing takes it (None: serves all)."""

    number: int
    services: Optional[tuple[str, ...]]
    open: bool
    busy: bool = False  # a ticket is at the window now
    streak: int = 0  # its queue jumps in a row (fair share)


@dataclass(frozen=True)
class Estimate:
    ahead: int
    wait_min: Optional[int]  # None: no open window serves it (see opens_at)
    open_windows: int  # open windows able to serve it
    idle: bool  # one of them is open with nobody at it
    opens_at: Optional[datetime] = None  # with none open: when calling starts, if known
    # when the windows close today (their hours' last range): a wait past it is not promised
    closes_at: Optional[datetime] = None


# a held (挂起) ticket is reserved at its window and falls back to its queue with its queue time,
# or is resumed there: it counts as if it waited (target_window None: a hold sends nobody to one
# window), and whatever its rank where its window may resume it
_COMES_BACK = (TicketStatus.WAITING, TicketStatus.HELD)


def _older(x: Ticket, t: Ticket) -> bool:
    return (x.order_at, x.seq, x.id) < (t.order_at, t.seq, t.id)


def _best_key(
    x: Ticket, window: int, now: datetime, rank: dict[str, int], by_order: bool
) -> tuple[Any, ...]:
    """The best place `x` can reach at this window: an appointment's slot may begin any time."""
    k = _key(x, window, now, rank, by_order)
    if x.appointment_id and x.slot_start is not None and k[0] == ORDINARY:
        return (APPOINTMENT, 0, (x.slot_start, x.order_at, x.seq, x.id))
    return k


def serving(t: Ticket, servers: Sequence[Server]) -> list[Server]:
    """The windows that count for `t`: the open ones able to serve it, else all able to."""
    able = [s for s in servers if eligible(t, s.number, s.services)]
    return [s for s in able if s.open] or able


def ahead_of(
    t: Ticket,
    servers: Sequence[Server],
    waiting: Iterable[Ticket],
    now: datetime,
    mode: str = "fifo",
    fair_share: int = 3,
) -> tuple[int, list[Ticket]]:
    """How many the windows able to serve `t` may call before it (see the module's rule), and the
    waiting tickets counted plainly (for the minutes)."""
    by_order = mode == "service_order"
    S = serving(t, servers)
    # windows with the same services rank alike: a hall of a hundred comprehensive windows is
    # one group, and each waiting ticket is looked at once per group, not once per window
    groups: dict[Optional[tuple[str, ...]], list[Server]] = {}
    for s in S:
        groups.setdefault(s.services, []).append(s)
    G = []
    for services, members in groups.items():
        rank = {c: i for i, c in enumerate(services or ())}
        key = _key(t, members[0].number, now, rank, by_order)
        G.append(
            {
                "services": services,
                "members": members,
                "rank": rank,
                "key": key,
                "t_ord": key[0] == ORDINARY,
                "older": 0,
                "jumpers": 0,
                "plain": 0,
                "risky": (
                    by_order
                    and key[0] == ORDINARY
                    and services is not None
                    and rank.get(t.service, 0) > 0
                    and fair_share > 0
                ),
            }
        )
    numbers = {s.number for s in S}
    counted: list[Ticket] = []
    at_safe = 0  # counted at a window where nobody arriving later goes first
    for x in waiting:
        if x.id == t.id or x.status not in _COMES_BACK:
            continue
        if x.target_window is not None and x.target_window not in numbers:
            continue
        plain = x.target_window is None and not x.priority
        older = _older(x, t)
        hit = safe = False
        if x.status is TicketStatus.HELD and x.window in numbers:
            # its window may resume it at any moment, whoever waits: one more call there
            hit = safe = True
        for g in G:
            if x.target_window is not None:
                if not any(m.number == x.target_window for m in g["members"]):
                    continue
                window = x.target_window
            elif g["services"] is not None and x.service not in g["services"]:
                continue
            else:
                window = g["members"][0].number
            if plain:
                g["plain"] += 1
            if _best_key(x, window, now, g["rank"], by_order) < g["key"]:
                g["jumpers"] += 1
            elif not (g["t_ord"] and plain and older):
                continue
            if g["t_ord"] and plain and older:
                g["older"] += 1
            hit = True
            safe = safe or not g["risky"]
        if hit:
            counted.append(x)
            at_safe += safe
    n = len(counted)
    jumps = caps = 0
    for g in G:
        for s in g["members"]:
            if not g["t_ord"]:
                # a jumping ticket waits for the ordinary ones fair share brings forward, those
                # arriving later included (fair_share 0: for every ordinary ticket now waiting)
                n += (s.streak + g["jumpers"]) // fair_share if fair_share > 0 else g["plain"]
            elif g["risky"]:
                j = max(0, fair_share - s.streak) + fair_share * g["older"]
                jumps += j
                caps += g["older"] + j
    if any(g["risky"] for g in G):
        n = min(n + jumps, at_safe + caps)
    return n, counted


def estimate(
    t: Ticket,
    servers: Sequence[Server],
    waiting: Iterable[Ticket],
    now: datetime,
    handling: Callable[[str], float],
    mode: str = "fifo",
    fair_share: int = 3,
    opens_at: Optional[datetime] = None,
) -> Estimate:
    """People ahead of `t` and the minutes until it is called (see the module's rule).

    `handling(code)` is the measured mean handling time of a queue; `opens_at` is when the
    hall's (or the service's) hours next begin, told when no window able to serve it is open.
    """
    ahead, counted = ahead_of(t, servers, waiting, now, mode, fair_share)
    per_code: dict[str, int] = {}
    for x in counted:
        per_code[x.service] = per_code.get(x.service, 0) + 1
    return _finish(t, serving(t, servers), ahead, per_code, handling, opens_at)


def _finish(
    t: Ticket,
    S: Sequence[Server],
    ahead: int,
    per_code: Mapping[str, int],
    handling: Callable[[str], float],
    opens_at: Optional[datetime],
) -> Estimate:
    """The minutes: the mean handling of those counted (per queue code) for each one ahead,
    shared among the open windows (`S`: those `serving` it). One arithmetic for both ways of
    counting."""
    open_ = [s for s in S if s.open]
    idle = any(not s.busy for s in open_)
    if not open_:
        return Estimate(ahead, None, 0, False, opens_at)
    if ahead <= 0:
        return Estimate(0, 0, len(open_), idle)
    n = sum(per_code.values())
    mean = (
        sum(k * handling(c) for c, k in sorted(per_code.items())) / n if n else handling(t.service)
    )
    return Estimate(ahead, max(1, math.ceil(ahead * mean / len(open_))), len(open_), idle)


def last_in_line(t: Ticket, mode: str) -> bool:
    """Whether `estimate_from_counts` may stand for `estimate`: fifo routing and a plain ticket
    (no priority, appointment or transfer). The caller also knows that no plain ticket waiting
    in the queues of the windows able to serve it is newer (true of every ticket just issued,
    and of someone taking a number now)."""
    return mode == "fifo" and not t.priority and not t.appointment_id and t.target_window is None


def estimate_from_counts(
    t: Ticket,
    servers: Sequence[Server],
    counts: Mapping[str, int],
    sent: Mapping[int, Sequence[str]],
    handling: Callable[[str], float],
    opens_at: Optional[datetime] = None,
    held: Sequence[tuple[str, Optional[int]]] = (),
) -> Estimate:
    """`estimate` for a ticket last in line (see `last_in_line`), from counts alone: under fifo
    every ticket its windows could call goes before it, so "ahead" is how many wait in their
    queues (`counts`: per code, every code of the hall, `t` itself not counted), how many were
    sent to them (`sent`: per window, the codes of the tickets transferred to it) and those held
    (`held`: each held ticket's queue and window) in their queues or at them. A big hall
    computes this for every ticket it issues and every queue, in time that does not grow with the
    people waiting. tests/test_estimate.py holds it equal to `estimate`."""
    S = serving(t, servers)
    codes: dict[str, None] = {}
    every_code = False  # a hundred comprehensive windows: the hall's codes merged once
    for s in S:
        if s.services is not None:
            codes.update(dict.fromkeys(s.services))
        elif not every_code:
            every_code = True
            codes.update(dict.fromkeys(counts))
    per_code = {c: counts.get(c, 0) for c in codes if counts.get(c, 0)}
    for s in S:
        for c in sent.get(s.number, ()):
            per_code[c] = per_code.get(c, 0) + 1
    numbers = {s.number for s in S}
    for code, window in held:  # (queue, window) of each held ticket: it comes back first
        if code in codes or window in numbers:
            per_code[code] = per_code.get(code, 0) + 1
    return _finish(t, S, sum(per_code.values()), per_code, handling, opens_at)


def newcomer(code: str, now: datetime, day: date) -> Ticket:
    """The ticket someone taking a number for `code` now would get (for the queues' estimates):
    behind everyone, no priority."""
    return Ticket(
        id="",
        day=day,
        prefix="",
        seq=1 << 62,
        number="",
        service=code,
        channel="kiosk",
        issued_at=now,
        order_at=datetime.max.replace(tzinfo=now.tzinfo),
    )


def kind(e: Estimate, now: datetime) -> str:
    """Which of describe's sentences the wait is, for devices to word it in any language
    (onewindow/hallwords.py): minutes, no_wait, next, not_open, opens (at `opens_at`) or
    past_closing (the minutes run past today's closing: the hall cannot promise today)."""
    if e.wait_min is None:
        return "not_open" if e.opens_at is None or e.opens_at <= now else "opens"
    if e.ahead == 0:
        return "no_wait" if e.idle else "next"
    if e.closes_at is not None and now + timedelta(minutes=e.wait_min) > e.closes_at:
        return "past_closing"
    return "minutes"


def describe(e: Estimate, now: datetime) -> tuple[str, str]:
    """The wait as citizens read it (zh, en), the same words on every screen and ticket."""
    if e.wait_min is None:
        if e.opens_at is None or e.opens_at <= now:
            return "窗口暂未开放", "No window open yet"
        hm = e.opens_at.strftime("%H:%M")
        days = (e.opens_at.date() - now.date()).days
        when_zh = (
            hm
            if days == 0
            else ("明天 " + hm if days == 1 else f"{e.opens_at.month}月{e.opens_at.day}日 {hm}")
        )
        when_en = (
            hm if days == 0 else ("tomorrow " + hm if days == 1 else f"{e.opens_at:%Y-%m-%d} {hm}")
        )
        return (
            f"窗口暂未开放，预计 {when_zh} 开始叫号",
            f"No window open yet; calling starts about {when_en}",
        )
    if e.ahead == 0:
        return ("无需等候", "No wait") if e.idle else ("即将叫号", "You are next")
    if kind(e, now) == "past_closing":
        return (
            "今天可能轮不到，建议预约其他时间",
            "You may not be reached today; consider booking another time",
        )
    return f"约 {e.wait_min} 分钟", f"about {e.wait_min} min"
