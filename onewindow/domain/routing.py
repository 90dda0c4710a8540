"""Which waiting ticket a window gets on 'call next': one pure function, documented in docs/routing.md.

Order, for window W:
  1. tickets transferred to W itself (前台受理、后台审批、统一窗口出件);
  2. priority tickets (elderly, disabled, veterans, pregnant: 绿色通道);
  3. appointment tickets whose slot has begun;
  4. everyone else: by queue time across W's services ("fifo"), or W's service order first
     and queue time within a service ("service_order").
Within each class the earliest queue time goes first (a transfer keeps the original issue time).

Held tickets (挂起) are nobody's to call: they stay reserved at the window that held them until
it resumes them or their hold runs out (`rules.hold_min`); then they are waiting again with
their original queue time, so they rank where they stood (the estimate counts them meanwhile).

Fair share: a pick that is not the longest-waiting ordinary ticket "jumps the queue". After
`fair_share` jumps in a row at one window, that window's next call goes to the longest-waiting
ordinary ticket, so no ordinary ticket is passed over forever, whatever arrives.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional, Sequence

from .model import Ticket, TicketStatus

TRANSFERRED, PRIORITY, APPOINTMENT, ORDINARY = range(4)
REASONS = {
    TRANSFERRED: "transferred",
    PRIORITY: "priority",
    APPOINTMENT: "appointment",
    ORDINARY: "queue",
}


@dataclass(frozen=True)
class Choice:
    ticket: Ticket
    jumped: bool  # passed over a longer-waiting ordinary ticket
    reason: str


def ticket_class(t: Ticket, window: int, now: datetime) -> int:
    if t.target_window == window:
        return TRANSFERRED
    if t.priority:
        return PRIORITY
    if t.appointment_id and t.slot_start is not None and t.slot_start <= now:
        return APPOINTMENT
    return ORDINARY


def eligible(t: Ticket, window: int, services: Optional[Sequence[str]]) -> bool:
    """services None = a comprehensive window serving everything. Only waiting tickets: a held
    one is reserved at its window until resumed or released."""
    if t.status is not TicketStatus.WAITING:
        return False
    if t.target_window is not None:
        return t.target_window == window
    return services is None or t.service in services


def _key(
    t: Ticket, window: int, now: datetime, rank: dict[str, int], by_order: bool
) -> tuple[Any, ...]:
    """Class first, then (service_order) the window's order, then queue time."""
    cls = ticket_class(t, window, now)
    qk = (t.order_at, t.seq, t.id)
    if cls == ORDINARY:
        return (cls, rank.get(t.service, len(rank)) if by_order else 0, qk)
    if cls == APPOINTMENT:
        return (cls, 0, (t.slot_start, *qk))
    return (cls, 0, qk)


def upcoming(
    window: int,
    services: Optional[Sequence[str]],
    waiting: Iterable[Ticket],
    now: datetime,
    mode: str = "fifo",
    n: int = 5,
) -> list[tuple[Ticket, str]]:
    """The next `n` tickets this window would call, with why (for the caller's waiting list).

    The order of the rule above; the fair-share guard may still move the longest-waiting ordinary
    ticket forward at the moment of the call.
    """
    rank = {code: i for i, code in enumerate(services or ())}
    by_order = mode == "service_order"
    keyed = (
        (_key(t, window, now, rank, by_order), t) for t in waiting if eligible(t, window, services)
    )
    return [(t, REASONS[k[0]]) for k, t in heapq.nsmallest(n, keyed, key=lambda kt: kt[0])]


def choose_next(
    window: int,
    services: Optional[Sequence[str]],
    waiting: Iterable[Ticket],
    now: datetime,
    mode: str = "fifo",
    fair_share: int = 3,
    streak: int = 0,
) -> Optional[Choice]:
    """The ticket window `window` should call now, or None when nobody waits for it.

    `streak` is how many queue jumps this window made in a row (the caller keeps it:
    streak + 1 after a jump, 0 otherwise).
    """
    rank = {code: i for i, code in enumerate(services or ())}
    by_order = mode == "service_order"
    best = best_key = None
    oldest_ordinary = oldest_key = None
    # one pass, each ticket's keys built once: a window may look at a thousand tickets per call
    for t in waiting:
        if not eligible(t, window, services):
            continue
        key = _key(t, window, now, rank, by_order)
        if key[0] == ORDINARY and (oldest_key is None or key[2] < oldest_key):
            oldest_ordinary, oldest_key = t, key[2]
        if best_key is None or key < best_key:
            best, best_key = t, key
    if best is None or best_key is None:  # (together: both set by the same line)
        return None
    if oldest_ordinary is None or best is oldest_ordinary:
        return Choice(best, False, REASONS[best_key[0]])
    if streak >= fair_share:
        return Choice(oldest_ordinary, False, "fair_share")
    return Choice(best, True, "service_order" if best_key[0] == ORDINARY else REASONS[best_key[0]])


def reinstate_order(waiting_order: Sequence[datetime], after: int, now: datetime) -> datetime:
    """Queue time for a reinstated no-show: just behind the `after`-th person now waiting.

    `waiting_order` is the queue times of the tickets now waiting for the same service, sorted.
    """
    if len(waiting_order) <= after:
        return now
    nxt = waiting_order[after]
    if after <= 0:
        return nxt - timedelta(microseconds=1)
    # halfway between the two neighbours keeps everyone else's position unchanged
    ahead = waiting_order[after - 1]
    return ahead + (nxt - ahead) / 2
