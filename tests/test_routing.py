"""The routing rule as a pure function, with property-based tests (no I/O, no clock but ours)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from ticketutil import T0, ticket

from onewindow.domain.model import TicketStatus
from onewindow.domain.routing import choose_next, reinstate_order


def test_order_of_classes_transferred_priority_appointment_then_queue():
    q = [
        ticket(1, minutes=0),
        ticket(2, minutes=1, slot_in=5),
        ticket(3, minutes=2, priority="elder"),
        ticket(4, minutes=3, target=3),
        ticket(5, minutes=4, slot_in=60),
    ]
    now = T0 + timedelta(minutes=10)
    picked, streak = [], 0
    for _ in range(5):
        c = choose_next(3, None, q, now, fair_share=99, streak=streak)
        picked.append((c.ticket.number, c.reason))
        c.ticket.status = TicketStatus.CALLED
        streak = streak + 1 if c.jumped else 0
    assert picked == [
        ("A004", "transferred"),
        ("A003", "priority"),
        ("A002", "appointment"),
        ("A001", "queue"),
        ("A005", "queue"),
    ]  # A005's slot has not begun


def test_transferred_to_another_window_is_not_taken():
    q = [ticket(1, target=5)]
    assert choose_next(3, None, q, T0) is None
    assert choose_next(5, ["B"], q, T0).ticket.number == "A001"  # even outside its services


def test_fifo_across_services_or_window_order_first():
    q = [ticket(1, "B", minutes=0), ticket(2, "A", minutes=1)]
    assert choose_next(4, ["A", "B"], q, T0, mode="fifo").ticket.number == "B001"
    c = choose_next(4, ["A", "B"], q, T0, mode="service_order", fair_share=3, streak=0)
    assert c.ticket.number == "A002" and c.jumped
    # after fair_share jumps, the longest-waiting ticket goes first whatever the order says
    c = choose_next(4, ["A", "B"], q, T0, mode="service_order", fair_share=3, streak=3)
    assert c.ticket.number == "B001" and c.reason == "fair_share"


def test_reinstated_no_show_goes_behind_the_configured_number_of_people():
    waiting = [T0 + timedelta(minutes=m) for m in (1, 2, 3, 4)]
    at = reinstate_order(waiting, 2, T0 + timedelta(minutes=30))
    assert waiting[1] < at < waiting[2]
    assert reinstate_order(waiting[:1], 2, T0 + timedelta(minutes=30)) == T0 + timedelta(minutes=30)


# -- properties over random halls ------------------------------------------------------------------

arrival = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from([None, None, None, "elder", "disabled"]),
    st.sampled_from([None, None, None, -5, 0]),  # appointment slot relative to arrival
    st.sampled_from([None] * 8 + [1, 2]),  # transferred to window 1 or 2
)
script = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), arrival), st.tuples(st.just("call"), st.sampled_from([1, 2]))
    ),
    min_size=1,
    max_size=120,
)
WINDOW_SERVICES = {1: None, 2: ["B", "A"]}  # 1 comprehensive, 2 specialist (B first)


def simulate(steps, mode, fair_share):
    """Run the script; then both windows drain the queue. Returns (tickets, calls)."""
    tickets, calls = [], []
    streaks = {1: 0, 2: 0}
    minute = 0.0

    def call(w):
        now = T0 + timedelta(minutes=minute)
        waiting = [t for t in tickets if t.status is TicketStatus.WAITING]
        c = choose_next(w, WINDOW_SERVICES[w], waiting, now, mode, fair_share, streaks[w])
        if c is None:
            return None
        # what the fair-share guard promises: the oldest ordinary ticket this window could take
        ordinary = [
            t
            for t in waiting
            if not t.jumps_queue and (WINDOW_SERVICES[w] is None or t.service in WINDOW_SERVICES[w])
        ]
        oldest = min(ordinary, key=lambda t: (t.order_at, t.seq)) if ordinary else None
        calls.append((w, c, streaks[w], oldest))
        streaks[w] = streaks[w] + 1 if c.jumped else 0
        c.ticket.status = TicketStatus.DONE
        return c

    for kind, value in steps:
        minute += 1
        if kind == "arrive":
            service, priority, slot, target = value
            tickets.append(
                ticket(
                    len(tickets) + 1,
                    service,
                    minute,
                    priority,
                    None if slot is None else minute + slot,
                    target,
                )
            )
        else:
            call(value)
    for _ in range(len(tickets) + 2):
        minute += 1
        if call(1) is None and call(2) is None:
            break
    return tickets, calls


@settings(max_examples=200, deadline=None)
@given(script, st.sampled_from(["fifo", "service_order"]), st.integers(min_value=0, max_value=4))
def test_no_ticket_served_twice_and_everyone_is_served(steps, mode, fair_share):
    tickets, calls = simulate(steps, mode, fair_share)
    served = [c.ticket.id for _, c, _, _ in calls]
    assert len(served) == len(set(served)), "a ticket was called twice"
    assert {t.id for t in tickets} == set(served), "a waiting ticket was never served"
    for w, c, _, _ in calls:
        t = c.ticket
        assert t.target_window in (None, w), "a transfer went to the wrong window"
        if t.target_window is None and WINDOW_SERVICES[w] is not None:
            assert t.service in WINDOW_SERVICES[w], "a window served a service it does not offer"


@settings(max_examples=200, deadline=None)
@given(script, st.sampled_from(["fifo", "service_order"]), st.integers(min_value=0, max_value=4))
def test_queue_jumps_never_starve_ordinary_tickets_beyond_the_bound(steps, mode, fair_share):
    _, calls = simulate(steps, mode, fair_share)
    run = {1: 0, 2: 0}
    for w, c, streak, oldest in calls:
        assert streak == run[w]
        if streak >= fair_share and oldest is not None:
            assert c.ticket is oldest, (
                "after fair_share jumps the longest-waiting ordinary ticket goes"
            )
        run[w] = run[w] + 1 if c.jumped else 0
        assert run[w] <= fair_share
