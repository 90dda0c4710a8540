"""The controller's index of open tickets (onewindow/queues.py) against routing over everyone.

A call looks only at `OpenTickets.candidates`: the heads of the window's queues, what was sent
to it and the appointments. These properties hold that routing over those few picks exactly what
it would pick over every waiting ticket, that the caller's "next" list is the same, and that the
counts kept by the indexes agree with counting everyone, through any sequence of changes.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.domain.model import Ticket, TicketStatus
from onewindow.domain.routing import choose_next, eligible, upcoming
from onewindow.queues import OpenTickets

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
NOW = T0 + timedelta(minutes=60)
CODES = ("A", "B", "C", "T1")
WINDOWS = (1, 2, 3)
STATUSES = (TicketStatus.WAITING,) * 6 + (
    TicketStatus.CALLED,
    TicketStatus.SERVING,
    TicketStatus.DONE,
    TicketStatus.NO_SHOW,
    TicketStatus.HELD,
)


@st.composite
def tickets(draw):
    count = draw(st.integers(0, 40))
    out = []
    for n in range(count):
        at = T0 + timedelta(minutes=draw(st.integers(0, 50)))
        appointment = draw(st.booleans()) and draw(st.booleans())
        status = draw(st.sampled_from(STATUSES))
        out.append(
            Ticket(
                id=f"t{n:03d}",
                day=date(2026, 11, 23),
                prefix="X",
                seq=n,
                number=f"X{n:03d}",
                service=draw(st.sampled_from(CODES)),
                channel="kiosk",
                issued_at=at,
                order_at=at,
                status=status,
                priority=draw(st.sampled_from((None, None, None, "elder", "veteran"))),
                appointment_id=f"ap{n}" if appointment else None,
                slot_start=T0 + timedelta(minutes=draw(st.integers(0, 120)))
                if appointment
                else None,
                target_window=draw(st.sampled_from((None, None, None, 1, 2)))
                if status is TicketStatus.WAITING
                else None,
                window=draw(st.sampled_from(WINDOWS))
                if status in (TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.HELD)
                else None,
            )
        )
    return out


windows = st.tuples(
    st.sampled_from(WINDOWS),
    st.one_of(st.none(), st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True)),
)


def everyone_waiting(all_tickets):
    return [t for t in all_tickets if t.status is TicketStatus.WAITING]


@settings(max_examples=400, deadline=None)
@given(
    tickets(),
    windows,
    st.sampled_from(("fifo", "service_order")),
    st.integers(0, 4),
    st.integers(1, 5),
)
def test_routing_over_the_candidates_picks_what_it_would_pick_over_everyone(
    all_tickets, window, mode, streak, shown
):
    number, services = window
    index = OpenTickets(all_tickets)
    codes = list(services) if services is not None else list(CODES)
    full = choose_next(number, services, everyone_waiting(all_tickets), NOW, mode, 3, streak)
    fast = choose_next(number, services, index.candidates(number, codes), NOW, mode, 3, streak)
    assert (fast and (fast.ticket.id, fast.jumped, fast.reason)) == (
        full and (full.ticket.id, full.jumped, full.reason)
    )
    assert [
        (t.id, why)
        for t, why in upcoming(
            number, services, index.candidates(number, codes, shown), NOW, mode, shown
        )
    ] == [
        (t.id, why)
        for t, why in upcoming(number, services, everyone_waiting(all_tickets), NOW, mode, shown)
    ]


@settings(max_examples=200, deadline=None)
@given(tickets(), windows)
def test_the_indexes_count_what_counting_everyone_counts(all_tickets, window):
    number, services = window
    index = OpenTickets(all_tickets)
    waiting = everyone_waiting(all_tickets)
    codes = list(services) if services is not None else list(CODES)
    could_call = [t for t in waiting if eligible(t, number, services)]
    assert index.count_for(number, codes) == len(could_call)
    assert {t.id for t in index.for_window(number, codes)} == {t.id for t in could_call}
    for code in CODES:
        assert index.count(code) == sum(1 for t in waiting if t.service == code)
    at = [t for t in all_tickets if t.window == number and t.status.at_window]
    assert (index.at_window(number) or None) in ([at[-1]] if at else [None])
    # held (挂起): nobody's to call, listed at their window, counted by the estimates
    held = [t for t in all_tickets if t.status is TicketStatus.HELD]
    assert {t.id for t in index.held(number)} == {t.id for t in held if t.window == number}
    assert all(t.status is not TicketStatus.HELD for t in index.candidates(number, codes, 5))
    assert {t.id for t in index.for_windows([number], codes)} == {t.id for t in could_call} | {
        t.id for t in held if t.service in codes or t.window == number
    }


def _apply(index: OpenTickets, live: dict, change) -> None:
    """One change to one ticket, as the controller makes it: change, then `put`."""
    ticket_id, status, minutes, target = change
    t = live.get(ticket_id)
    if t is None:
        return
    t.status = status
    t.order_at = T0 + timedelta(minutes=minutes)
    t.target_window = target if status is TicketStatus.WAITING else None
    t.window = 3 if status.at_window or status is TicketStatus.HELD else t.window
    index.put(t)
    if status.final:
        del live[ticket_id]


@settings(max_examples=200, deadline=None)
@given(
    tickets(),
    st.lists(
        st.tuples(
            st.sampled_from([f"t{n:03d}" for n in range(40)]),
            st.sampled_from(STATUSES),
            st.integers(0, 50),
            st.sampled_from((None, 1, 2)),
        ),
        max_size=30,
    ),
    windows,
)
def test_the_indexes_follow_every_change(all_tickets, changes, window):
    # at most one ticket at a window at a time, as in a hall: put the extra ones back to waiting
    seen_at: set = set()
    for t in all_tickets:
        if t.status.at_window and t.window in seen_at:
            t.status, t.window = TicketStatus.WAITING, None
        elif t.status.at_window:
            seen_at.add(t.window)
    window_free = [t for t in all_tickets if t.window == 3 and t.status.at_window]
    for t in window_free:
        t.status, t.window = TicketStatus.DONE, None
    index = OpenTickets(all_tickets)
    live = {t.id: t for t in all_tickets if not t.status.final}
    for change in changes:
        if change[1].at_window and index.at_window(3) is not None:
            continue  # window 3 serves one ticket at a time
        _apply(index, live, change)
    rebuilt = OpenTickets([dataclasses.replace(t) for t in live.values()])
    number, services = window
    codes = list(services) if services is not None else list(CODES)
    assert set(index.by_id) == set(rebuilt.by_id)
    assert index.count_for(number, codes) == rebuilt.count_for(number, codes)
    assert sorted(t.id for t in index.candidates(number, codes, 3)) == sorted(
        t.id for t in rebuilt.candidates(number, codes, 3)
    )
    assert [t.id for t in index.held(3)] == [t.id for t in rebuilt.held(3)]
    assert index.shape()[2] == rebuilt.shape()[2]  # the held, as the estimates see them
    for code in CODES:  # each queue in the same call order
        assert [t.id for t in index.for_windows([], [code])] == [
            t.id for t in rebuilt.for_windows([], [code])
        ]
