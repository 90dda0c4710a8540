"""The hall's open tickets in memory, indexed so that a call or a window's view looks at a handful
of tickets, not at everyone waiting (a big hall has a thousand waiting and a hundred windows).

Per queue code the waiting tickets' call-order keys are kept sorted: priority first, then by
queue time. Routing (domain/routing.py) picks the best ticket of each class, and of the
ordinary ones the longest-waiting: so a window's candidates are the first few of each class in
each of its queues, plus what was transferred to it and the appointments (few). Held (挂起)
tickets are kept apart: nobody can call them, but the estimates count them (they come back). Routing over
those candidates gives what it would give over everyone (tests/test_open_tickets.py checks it).
"""

from __future__ import annotations

import bisect
import itertools
from typing import Iterable, Optional, Sequence

from .domain.model import Ticket, TicketStatus


def order_key(t: Ticket) -> tuple:
    """How a queue sorts its waiting tickets: priority first, then queue time."""
    return (not t.priority, t.order_at, t.seq, t.id)


class OpenTickets:
    def __init__(self, tickets: Iterable[Ticket] = ()):
        self.by_id: dict[str, Ticket] = {}
        self._to_window: dict[int, dict[str, Ticket]] = {}  # transferred to one window
        self._order: dict[str, list] = {}  # code -> sorted order keys
        self._appts: dict[str, dict[str, Ticket]] = {}  # code -> waiting appointments
        self._at_window: dict[int, Ticket] = {}  # window -> its called/serving one
        self._held: dict[str, Ticket] = {}  # held (挂起) at a window: few
        self._where: dict[str, tuple] = {}  # id -> where it is indexed
        # bumped by every change to a queue, to what was sent to a window, or to who is at it:
        # a window's view can only have changed if one of its counters moved
        self.version: dict[tuple, int] = {}
        self.changes = 0  # every bump, in all
        self._memo: dict = {}  # versions() while none moves
        for t in tickets:
            self.put(t)

    # -- keeping the indexes -------------------------------------------------------------------

    def put(self, t: Ticket) -> None:
        """After any change to `t` (or when it is new): memory and indexes follow it."""
        self._unindex(t.id)
        if t.status.final:
            self.by_id.pop(t.id, None)
            return
        self.by_id[t.id] = t
        if t.status is TicketStatus.WAITING:
            key = order_key(t)
            self._bump(
                ("to", t.target_window) if t.target_window is not None else ("queue", t.service)
            )
            if t.target_window is not None:
                self._to_window.setdefault(t.target_window, {})[t.id] = t
            else:
                bisect.insort(self._order.setdefault(t.service, []), key)
                if t.appointment_id:
                    self._appts.setdefault(t.service, {})[t.id] = t
            self._where[t.id] = ("waiting", t.target_window, t.service, key)
        elif t.status.at_window and t.window is not None:
            self._bump(("at", t.window))
            self._at_window[t.window] = t
            self._where[t.id] = ("window", t.window)
        elif t.status is TicketStatus.HELD:
            # shown at its window, and counted by the estimates of its queue (it comes back)
            self._bump(("at", t.window))
            self._bump(("queue", t.service))
            self._held[t.id] = t
            self._where[t.id] = ("held", t.window, t.service)

    def _unindex(self, ticket_id: str) -> None:
        where = self._where.pop(ticket_id, None)
        if where is None:
            return
        if where[0] == "window":
            self._bump(("at", where[1]))
            if (
                self._at_window.get(where[1]) is not None
                and self._at_window[where[1]].id == ticket_id
            ):
                del self._at_window[where[1]]
            return
        if where[0] == "held":
            self._bump(("at", where[1]))
            self._bump(("queue", where[2]))
            del self._held[ticket_id]
            return
        _, target, service, key = where
        self._bump(("to", target) if target is not None else ("queue", service))
        if target is not None:
            self._to_window[target].pop(ticket_id, None)
            return
        keys = self._order[service]
        del keys[bisect.bisect_left(keys, key)]
        self._appts.get(service, {}).pop(ticket_id, None)

    def _bump(self, what: tuple) -> None:
        self.version[what] = self.version.get(what, 0) + 1
        self.changes += 1

    def versions(self, codes: Sequence[str]) -> tuple:
        """The queues' counters, for a window's view (see Views.window_deps)."""
        memo = self._memo
        if memo.get("at") != self.changes:
            memo.clear()
            memo["at"] = self.changes
        key = id(codes)
        got = memo.get(key)
        if got is None or got[0] is not codes:
            got = memo[key] = (codes, tuple(self.version.get(("queue", c), 0) for c in codes))
        return got[1]

    # -- reading -------------------------------------------------------------------------------

    def get(self, ticket_id: str) -> Optional[Ticket]:
        return self.by_id.get(ticket_id)

    def at_window(self, window: int) -> Optional[Ticket]:
        return self._at_window.get(window)

    def held(self, window: Optional[int] = None) -> list[Ticket]:
        """Held (挂起) tickets, at one window or all, the soonest to fall back first."""
        out = [t for t in self._held.values() if window is None or t.window == window]
        return sorted(out, key=lambda t: (t.held_until or t.order_at, t.seq, t.id))

    def waiting(self, code: Optional[str] = None) -> list[Ticket]:
        """Waiting tickets, of one code or all (transferred ones included)."""
        codes = [code] if code is not None else list(self._order)
        out = [self.by_id[key[3]] for c in codes for key in self._order.get(c, ())]
        for sent in self._to_window.values():
            out.extend(t for t in sent.values() if code is None or t.service == code)
        return out

    def count(self, code: str) -> int:
        """Waiting for a queue code, those transferred to a window included."""
        return len(self._order.get(code, ())) + sum(
            1 for sent in self._to_window.values() for t in sent.values() if t.service == code
        )

    def count_for(self, window: int, codes: Sequence[str]) -> int:
        """How many tickets this window could call, from the indexes."""
        return len(self._to_window.get(window, {})) + sum(
            len(self._order.get(c, ())) for c in codes
        )

    def shape(self) -> tuple:
        """What a newcomer's estimate depends on: per queue how many wait and how many of them
        with priority, and how many were sent to each window (views.py memoises on it)."""
        return (
            tuple((c, len(k), bisect.bisect_left(k, (True,))) for c, k in self._order.items()),
            tuple((w, len(sent)) for w, sent in self._to_window.items()),
            tuple(sorted((t.service, bool(t.priority)) for t in self._held.values())),
        )

    def last_in(self, t: Ticket, codes: Iterable[str]) -> bool:
        """No ticket of these queues without priority is behind `t` (itself aside): true of a
        ticket just issued, and of someone taking a number now."""
        mine = (t.order_at, t.seq, t.id)
        for c in codes:
            keys = self._order.get(c)
            if keys and keys[-1][0] and keys[-1][3] != t.id and keys[-1][1:] >= mine:
                return False
        wanted = set(codes)
        return not any(
            h.service in wanted
            and not h.priority
            and h.target_window is None
            and (h.order_at, h.seq, h.id) >= mine
            for h in self._held.values()
        )

    def counts(self) -> dict[str, int]:
        """How many wait in each queue (not those sent to a window)."""
        return {c: len(keys) for c, keys in self._order.items() if keys}

    def sent(self) -> dict[int, list[str]]:
        """Per window, the queue codes of the tickets transferred to it."""
        return {w: [t.service for t in d.values()] for w, d in self._to_window.items() if d}

    def for_windows(self, windows: Iterable[int], codes: Iterable[str]) -> list[Ticket]:
        """Everything any of these windows could call, each ticket once, and the held tickets of
        these queues or held at these windows, which come back (the estimates)."""
        windows = list(windows)
        out = [t for w in windows for t in self._to_window.get(w, {}).values()]
        codes = list(codes)
        for c in codes:
            out.extend(self.by_id[key[3]] for key in self._order.get(c, ()))
        if self._held:
            wanted, at = set(codes), set(windows)
            out.extend(t for t in self.held() if t.service in wanted or t.window in at)
        return out

    def for_window(self, window: int, codes: Sequence[str]) -> list[Ticket]:
        """Everything this window could call (reports, and routing's reference)."""
        out = list(self._to_window.get(window, {}).values())
        for c in codes:
            out.extend(self.by_id[key[3]] for key in self._order.get(c, ()))
        return out

    def candidates(self, window: int, codes: Sequence[str], n: int = 1) -> list[Ticket]:
        """A small set holding the first `n` tickets routing would take for this window, and its
        longest-waiting ordinary ticket: what was sent to it, every waiting appointment of its
        queues, and the first `n` priority and `n` ordinary tickets of each queue."""
        out = list(self._to_window.get(window, {}).values())
        for c in codes:
            keys = self._order.get(c)
            if not keys:
                continue
            appts = self._appts.get(c, {})
            out.extend(appts.values())
            cut = bisect.bisect_left(keys, (True,))  # priority keys end here
            out.extend(self.by_id[key[3]] for key in keys[: min(cut, n)])
            ordinary = (key[3] for key in itertools.islice(keys, cut, None) if key[3] not in appts)
            out.extend(self.by_id[i] for i in itertools.islice(ordinary, n))
        return list({t.id: t for t in out}.values())  # a priority appointment comes twice
