"""The wait estimate from counts (what a big hall computes for every ticket it issues and every
queue) is the estimate itself: hypothesis over random halls, and the hall's own views."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from ticketutil import T0, ticket

from ctlutil import MONDAY_10, Hall
from onewindow.domain.estimate import Server, estimate, estimate_from_counts, last_in_line, newcomer
from onewindow.domain.model import Ticket, TicketStatus
from onewindow.queues import OpenTickets

NOW = T0 + timedelta(minutes=60)
CODES = ("A", "B", "C", "Y")
MEANS = {"A": 4.0, "B": 7.5, "C": 12.0, "Y": 25.0}


window_services = st.one_of(
    st.none(), st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True).map(tuple)
)
waiting_ticket = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from([None, None, None, "elder"]),
    st.one_of(st.none(), st.none(), st.integers(-30, 90)),
    st.one_of(st.none(), st.none(), st.none(), st.integers(1, 4)),
    st.integers(0, 50),
    st.one_of(st.none(), st.none(), st.none(), st.integers(1, 6)),
)


def held_at(t: Ticket, window) -> Ticket:
    """Held (挂起) at `window`, or as it was."""
    if window is None:
        return t
    t.status, t.window, t.target_window = TicketStatus.HELD, window, None
    t.held_until = NOW + timedelta(minutes=15)
    return t


def handling(code: str) -> float:
    return MEANS[code]


@settings(max_examples=500, deadline=None)
@given(
    windows=st.lists(
        st.tuples(window_services, st.booleans(), st.booleans(), st.integers(0, 4)),
        min_size=1,
        max_size=5,
    ),
    before=st.lists(waiting_ticket, max_size=30),
    code=st.sampled_from(CODES),
    fair_share=st.integers(0, 4),
    issued=st.booleans(),
)
def test_the_estimate_from_counts_is_the_estimate(windows, before, code, fair_share, issued):
    servers = [
        Server(i + 1, services, is_open, busy, streak)
        for i, (services, is_open, busy, streak) in enumerate(windows)
    ]
    waiting = [
        held_at(ticket(n, svc, minutes, prio, slot, target), hold)
        for n, (svc, prio, slot, target, minutes, hold) in enumerate(before)
    ]
    # a ticket just issued (in the index) or someone taking a number now (not in it)
    mine = ticket(999, code, 51) if issued else newcomer(code, NOW, date(2026, 11, 23))
    index = OpenTickets(waiting + ([mine] if issued else []))
    assert last_in_line(mine, "fifo") and index.last_in(mine, CODES)
    counts = {c: 0 for c in CODES} | index.counts()
    if issued:
        counts[code] -= 1
    full = estimate(mine, servers, waiting, NOW, handling, "fifo", fair_share)
    held = [(h.service, h.window) for h in index.held()]
    fast = estimate_from_counts(mine, servers, counts, index.sent(), handling, None, held)
    assert fast == full


@given(before=st.lists(waiting_ticket, min_size=1, max_size=20), code=st.sampled_from(CODES))
def test_a_ticket_with_someone_newer_behind_it_is_not_last_in_line(before, code):
    waiting = [
        held_at(ticket(n, svc, minutes, prio, slot, target), hold)
        for n, (svc, prio, slot, target, minutes, hold) in enumerate(before)
    ]
    mine = ticket(999, code, -100)  # reinstated far ahead of the others
    plain_behind = [t for t in waiting if not t.priority and t.target_window is None]
    assert OpenTickets(waiting + [mine]).last_in(mine, CODES) == (not plain_behind)


def test_the_hall_tells_every_new_ticket_and_queue_what_the_full_count_tells(tmp_path):
    hall = Hall(tmp_path, MONDAY_10)
    try:
        for w in (1, 2, 4):
            hall.open(w)
        issued = [hall.issue(code) for code in ["A", "B", "C", "A", "C", "B", "A"] * 3]
        hall.call(1)
        ctl = hall.ctl
        servers = ctl.views.servers()
        for t in issued:
            live = ctl.queues.get(t["id"])
            if live is None:
                continue
            got = ctl.views.estimate(live, servers)
            waiting = ctl.queues.for_windows([s.number for s in servers], ctl.hall.queue_codes())
            want = estimate(
                live,
                servers,
                waiting,
                ctl.now(),
                ctl.handling.mean,
                ctl.hall.rules.routing,
                ctl.hall.rules.fair_share,
            )
            assert (got.ahead, got.wait_min) == (want.ahead, want.wait_min)
        assert ctl.views.estimate(ctl.queues.get(issued[-1]["id"]), servers).ahead > 0
    finally:
        hall.ctl.store.close()
