"""The one wait estimate: "ahead" is a promise the routing keeps (hypothesis over random halls),
and what every device is told about a comprehensive window, a theme and a closed hall."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from ticketutil import T0, ticket

from ctlutil import KIOSK, MONDAY_10, Hall
from onewindow.domain.estimate import Estimate, Server, ahead_of, describe, estimate
from onewindow.domain.model import TicketStatus
from onewindow.domain.routing import choose_next

CODES = ("A", "B", "C", "Y")


window_services = st.one_of(
    st.none(), st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True).map(tuple)
)
existing = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from([None, None, None, "elder"]),
    st.one_of(st.none(), st.none(), st.integers(-30, 90)),
    st.one_of(st.none(), st.none(), st.none(), st.integers(1, 4)),
)
step = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(CODES)),
    st.tuples(st.just("call"), st.integers(1, 4)),
    # 挂起: the window holds whom it called last; a held one is resumed there
    # (a call) or falls back to its queue with its queue time
    st.tuples(st.just("hold"), st.integers(1, 4)),
    st.tuples(st.just("back"), st.tuples(st.integers(0, 7), st.booleans())),
)


@settings(max_examples=600, deadline=None)
@given(
    windows=st.lists(
        st.tuples(window_services, st.booleans(), st.integers(0, 4)), min_size=1, max_size=4
    ),
    mode=st.sampled_from(["fifo", "service_order"]),
    fair_share=st.integers(0, 4),
    before=st.lists(existing, max_size=8),
    code=st.sampled_from(CODES),
    mine_priority=st.sampled_from([None, None, "elder"]),
    mine_target=st.sampled_from([None, None, None, 1]),
    held=st.lists(
        st.tuples(
            st.sampled_from(CODES), st.sampled_from([None, None, "elder"]), st.integers(1, 4)
        ),
        max_size=3,
    ),
    steps=st.lists(step, max_size=60),
)
@example(
    windows=[(("A", "Y"), True, 0)],
    mode="service_order",
    fair_share=3,
    before=[],
    code="Y",
    mine_priority=None,
    mine_target=None,
    held=[],
    steps=[("arrive", "A")] * 4 + [("call", 1)] * 5,
)  # newcomers the window ranks first
@example(
    windows=[(("A",), True, 0)],
    mode="fifo",
    fair_share=3,
    before=[],
    code="A",
    mine_priority=None,
    mine_target=None,
    held=[("A", None, 1)],
    steps=[("back", (0, False)), ("call", 1)],
)  # a hold runs out
@example(
    windows=[(("A",), True, 0)],
    mode="fifo",
    fair_share=3,
    before=[("A", None, None, None)],
    code="A",
    mine_priority=None,
    mine_target=None,
    held=[],
    steps=[("call", 1), ("hold", 1), ("call", 1), ("back", (0, False)), ("call", 1)],
)
@example(
    windows=[(None, True, 2)],
    mode="fifo",
    fair_share=3,
    before=[("A", "elder", None, None)],
    code="A",
    mine_priority="elder",
    mine_target=None,
    held=[],
    steps=[("arrive", "B"), ("call", 1), ("call", 1)],
)  # fair share before a priority
def test_ahead_promised_at_issue_is_never_less_than_those_called_before(
    windows, mode, fair_share, before, code, mine_priority, mine_target, held, steps
):
    # fair_share 0 lets every ordinary ticket, newcomers too, go before a jumping one: no bound
    assume(fair_share > 0 or not (mine_priority or mine_target))
    servers = [
        Server(i + 1, services, is_open, streak=streak)
        for i, (services, is_open, streak) in enumerate(windows)
    ]
    waiting = [
        ticket(n, svc, n * 0.5, prio, slot, target)
        for n, (svc, prio, slot, target) in enumerate(before)
    ]
    for n, (svc, prio, at) in enumerate(held, start=len(before)):
        # held at a window that served it (a hold sends nobody to one window: target None)
        if at <= len(servers) and (
            servers[at - 1].services is None or svc in servers[at - 1].services
        ):
            h = ticket(n, svc, n * 0.5, prio)
            h.status, h.window = TicketStatus.HELD, at
            waiting.append(h)
    now = T0 + timedelta(minutes=10)
    mine = ticket(99, code, 10, mine_priority, target=mine_target)
    promised, _ = ahead_of(mine, servers, waiting, now, mode, fair_share)
    able = {
        s.number
        for s in servers
        if s.open
        and (s.number == mine_target if mine_target else s.services is None or code in s.services)
    }
    queue = waiting + [mine]
    streaks = {s.number: s.streak for s in servers}
    last: dict = {}  # window -> whom it called last
    called_before: set = set()  # people, not calls: a resumed citizen is one person
    seq = 100
    for kind, arg in steps:
        now += timedelta(minutes=1)
        if kind == "arrive":  # newcomers without priority, appointment or transfer
            seq += 1
            queue.append(ticket(seq, arg, 11 + seq))
            continue
        if kind == "back":
            on_hold = [x for x in queue if x.status is TicketStatus.HELD]
            if not on_hold:
                continue
            x, resume = on_hold[arg[0] % len(on_hold)], arg[1]
            s = next((s for s in servers if s.number == x.window and s.open), None)
            if resume and s is not None:  # called to its window again
                x.status = TicketStatus.CALLED
                if s.number in able:
                    called_before.add(x.id)
            else:  # back to its queue, its queue time kept
                x.status, x.window = TicketStatus.WAITING, None
            assert len(called_before) <= promised, (promised, called_before)
            continue
        if kind == "hold":
            x = last.get(arg)
            if x is not None and x.status is TicketStatus.CALLED:
                x.status, x.window, x.target_window = TicketStatus.HELD, arg, None
            continue
        s = next((s for s in servers if s.number == arg and s.open), None)
        if s is None:
            continue
        c = choose_next(s.number, s.services, queue, now, mode, fair_share, streaks[s.number])
        if c is None:
            continue
        streaks[s.number] = streaks[s.number] + 1 if c.jumped else 0
        c.ticket.status, c.ticket.window = TicketStatus.CALLED, s.number
        last[s.number] = c.ticket
        if c.ticket is mine:
            break
        if s.number in able:
            called_before.add(c.ticket.id)
        assert len(called_before) <= promised, (promised, called_before)


def test_issue_14_a_comprehensive_window_calls_the_other_queue_first():
    """Y001 (一件事) behind C001 at the only open window: 1 ahead, not 0."""
    c1, y1 = ticket(1, "C", 0), ticket(2, "Y", 1)
    servers = [Server(1, None, True), Server(6, ("C",), False)]
    e = estimate(y1, servers, [c1, y1], T0 + timedelta(minutes=2), lambda code: 8)
    assert (e.ahead, e.wait_min, e.open_windows) == (1, 8, 1)
    assert describe(e, T0)[0] == "约 8 分钟"


def test_no_window_open_says_so_and_when_calling_starts_never_no_wait():
    mine = ticket(1, "A", 0)
    shut = [Server(1, None, False), Server(4, ("A",), False)]
    e = estimate(mine, shut, [mine], T0, lambda code: 8, opens_at=T0.replace(hour=13, minute=30))
    assert e.wait_min is None and e.open_windows == 0
    assert describe(e, T0) == (
        "窗口暂未开放，预计 13:30 开始叫号",
        "No window open yet; calling starts about 13:30",
    )
    tomorrow = Estimate(0, None, 0, False, T0 + timedelta(days=1))
    assert describe(tomorrow, T0)[0] == "窗口暂未开放，预计 明天 09:00 开始叫号"
    assert describe(Estimate(0, None, 0, False, None), T0)[0] == "窗口暂未开放"
    # an open window with nobody at it: no wait; a busy one: next, not "no wait"
    assert describe(Estimate(0, 0, 1, True), T0)[0] == "无需等候"
    assert describe(Estimate(0, 0, 1, False), T0)[0] == "即将叫号"


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


def test_every_device_is_told_the_same_truth_about_a_theme_at_a_comprehensive_window(hall):
    hall.open(1)
    c = hall.issue("C")
    hall.clock.advance(seconds=20)
    y = hall.issue("T1")
    assert c["ahead"] == 0 and y["ahead"] == 1
    window = hall.ok(KIOSK, "queue.status")  # the queues' state, as tiles and the console read it
    status = hall.ok(KIOSK, "queue.status", ticket_id=y["id"])["ticket"]
    assert status["ahead"] == 1 and status["est_wait_min"] == y["est_wait_min"] > 0
    assert status["wait_text"] == f"约 {y['est_wait_min']} 分钟"
    nxt = [n["number"] for n in hall.ctl.views.window(1)["next"]]
    assert nxt.index(c["number"]) < nxt.index(y["number"])
    # someone taking a T1 number now would have both ahead of them
    assert window["queues"]["T1"]["waiting"] == 1 and window["queues"]["T1"]["ahead"] == 2
    hall.call(1)
    assert hall.ok(KIOSK, "queue.status", ticket_id=y["id"])["ticket"]["ahead"] == 0


def test_an_all_closed_hall_promises_no_wait_it_cannot_keep(hall):
    a = hall.issue("A")  # 10:00 on a Monday: within the hours, every window still closed
    assert a["est_wait_min"] is None and a["open_windows"] == 0
    assert a["wait_text"] == "窗口暂未开放" and a["opens_at"] is None
    q = hall.ok(KIOSK, "queue.status")["queues"]["A"]
    assert q["est_wait_min"] is None and q["wait_text"] == "窗口暂未开放"
    # at lunch (12:00-13:30) calling starts again at 13:30: the hall's own hours say so
    hall.clock.at = MONDAY_10.replace(hour=12, minute=10)
    status = hall.ok(KIOSK, "queue.status", ticket_id=a["id"])["ticket"]
    assert status["wait_text"] == "窗口暂未开放，预计 13:30 开始叫号"
    assert status["opens_at"] == MONDAY_10.replace(hour=13, minute=30).isoformat()
    hall.clock.at = MONDAY_10.replace(hour=13, minute=31)
    hall.open(4)
    status = hall.ok(KIOSK, "queue.status", ticket_id=a["id"])["ticket"]
    assert status["wait_text"] == "无需等候" and status["open_windows"] == 1


def test_a_wait_past_todays_closing_is_not_promised_in_minutes(hall):
    """Late in the day a long queue's minutes would run past the windows' closing: the hall
    says the citizen may not be reached today, not "about 95 minutes" (a tester saw 4,625)."""
    hall.clock.at = MONDAY_10.replace(hour=16, minute=50)  # the shipped hall closes at 17:30
    hall.open(4)
    issued = [hall.issue("A") for _ in range(12)]
    kinds = [t["wait_kind"] for t in issued]
    assert kinds[1] == "minutes" and kinds[-1] == "past_closing", kinds
    first_late = kinds.index("past_closing")
    assert all(k == "past_closing" for k in kinds[first_late:])
    late = issued[first_late]
    assert late["wait_text"] == "今天可能轮不到，建议预约其他时间"
    assert late["wait_text_en"].startswith("You may not be reached today")
    ontime = issued[first_late - 1]
    assert (
        16 * 60 + 50 + ontime["est_wait_min"] <= 17 * 60 + 30 < 16 * 60 + 50 + late["est_wait_min"]
    )
    # the kiosk's tile for the queue says the same of a newcomer
    assert hall.ok(KIOSK, "queue.status")["queues"]["A"]["wait_kind"] == "past_closing"
    from onewindow.hallwords import wait_words

    assert wait_words(late, "en") == "You may not be reached today; consider booking another time"
