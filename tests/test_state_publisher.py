"""Retained state at a big hall's scale (bus/publisher.py): a call sends its own window at once,
the other windows' waiting lists follow in bounded rounds, and every window's retained state
catches up with the truth."""

from __future__ import annotations

import json
import math
import time

import pytest

from ctlutil import MONDAY_10, Hall
from onewindow.bus import publisher as publisher_mod
from onewindow.bus.publisher import PACED_WINDOWS, StatePublisher
from onewindow.bus.topics import Topics

N_WINDOWS = 100


def hundred_comprehensive_windows(raw: dict) -> None:
    raw["windows"] = [
        {"number": n, "name": f"{n}号综合窗口", "kind": "comprehensive"}
        for n in range(1, N_WINDOWS + 1)
    ]


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    perf_counter = staticmethod(time.perf_counter)  # what computing a view costs


@pytest.fixture
def big(tmp_path, monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(publisher_mod, "time", clock)
    hall = Hall(tmp_path, MONDAY_10, edit=hundred_comprehensive_windows)
    sent: list[tuple[str, bytes]] = []
    topics = Topics(hall.ctl.hall.id)
    pub = StatePublisher(
        lambda topic, data: sent.append((topic, data)), topics, hall.ctl.views, lambda: False
    )
    for _ in range(30):
        hall.issue("A")
    for w in range(1, N_WINDOWS + 1):
        hall.open(w)
    settle(pub, hall, clock)
    yield hall, pub, sent, clock, topics
    hall.ctl.store.close()


def settle(pub, hall, clock, rounds: int = 50) -> int:
    """Publish until nothing is due; how many paced rounds it took."""
    for n in range(rounds):
        due = pub.publish(hall.ctl.windows)
        if due is None:
            return n
        clock.now = max(clock.now, due)
    raise AssertionError("state never settled")


def retained(sent, topics) -> dict:
    out = {}
    for topic, data in sent:
        out[topic] = json.loads(data)
    return out


def test_a_call_sends_its_window_at_once_and_the_rest_in_bounded_rounds(big):
    hall, pub, sent, clock, topics = big
    sent.clear()
    clock.now += 5
    called = hall.call(7)
    pub.publish(hall.ctl.windows)
    windows_sent = [json.loads(d) for t, d in sent if t.startswith(topics.state_window(0)[:-1])]
    mine = [w for w in windows_sent if w["window"] == 7]
    assert mine and mine[0]["serving"] == called["number"]
    # every other window's `next` changed too, but only a round of them goes out now
    assert len(windows_sent) <= 1 + PACED_WINDOWS
    rounds = settle(pub, hall, clock)
    assert rounds <= math.ceil((N_WINDOWS - 1) / PACED_WINDOWS) + 1
    state = retained(sent, topics)
    for n in range(1, N_WINDOWS + 1):
        view = hall.ctl.views.window(n)
        got = state.get(topics.state_window(n))
        if got is not None:  # windows whose view did not change were not resent
            assert got == view, n
    assert all(
        state[topics.state_window(n)]["next"][0]["number"] != called["number"]
        for n in range(1, N_WINDOWS + 1)
        if n != 7 and topics.state_window(n) in state
    )


def test_the_bytes_a_call_costs_stay_bounded_however_many_calls(big):
    hall, pub, sent, clock, topics = big
    per_call = []
    for i in range(20):
        sent.clear()
        clock.now += 0.05  # twenty calls a second: a burst
        hall.call(1 + i)
        pub.publish(hall.ctl.windows)
        per_call.append(sum(len(d) for _, d in sent))
    one_window = len(json.dumps(hall.ctl.views.window(1), ensure_ascii=False).encode())
    queues = len(json.dumps(hall.ctl.views.queues(), ensure_ascii=False).encode())
    # a call's own window, its share of a paced round and of the queues; never a hundred windows
    assert (
        sum(per_call) / len(per_call) < 2 * one_window + (PACED_WINDOWS * one_window + queues) / 5
    )
    assert max(per_call) <= (PACED_WINDOWS + 2) * one_window + queues + 2048


def test_nothing_is_sent_when_nothing_changed(big):
    hall, pub, sent, clock, topics = big
    sent.clear()
    clock.now += 10
    assert pub.publish(hall.ctl.windows) is None
    assert sent == []
