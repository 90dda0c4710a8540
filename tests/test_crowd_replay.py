"""The demo's crowd is the hall-day simulator's (issue 19): a day of simulated citizens played
through a real controller on a real broker, and the same day replayed in the simulator, give
the same mean wait (within 15%): the simulator's model of the hall (its routing, its windows,
what a citizen holds a window for) is the hall's."""

from __future__ import annotations

import random
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from busutil import REPO, Hall
from onewindow.crowd import Crowd
from onewindow.demo import always_open_copy
from onewindow.domain.demand import Demand, ServiceDemand
from onewindow.domain.hallsim import Group, simulate_day

SPEED = 240  # a minute of the hall's day in a quarter of a second
SPAN = (540.0, 630.0)  # 09:00-10:30
WINDOWS = (1, 2, 3)  # the demo hall's comprehensive windows


@pytest.fixture
def hall(tmp_path):
    (tmp_path / "cfg").mkdir()
    h = Hall(
        tmp_path,
        "embedded",
        config=always_open_copy(REPO / "config" / "hall.toml", tmp_path / "cfg"),
    )
    h.add("kiosk-1", "kiosk")
    for n in WINDOWS:
        h.add(f"caller-{n}", "caller", [n])
    h.start()
    yield h
    h.close()


def _demand() -> Demand:
    """Two services, 3 windows at ~95% load: queues form and clear through the morning."""
    r = random.Random(5)
    slots = range(540, 630, 30)
    a = ServiceDemand(
        "A",
        {k: 0.33 for k in slots},
        tuple(r.expovariate(1 / 6) for _ in range(300)),
        0.05,
        (1.0,),
        0.0,
        (),
        0.1,
        0.0,
    )
    b = ServiceDemand(
        "B",
        {k: 0.15 for k in slots},
        tuple(r.expovariate(1 / 6) for _ in range(300)),
        0.0,
        (),
        0.0,
        (),
        0.0,
        0.0,
    )
    return Demand(0, (), (SPAN,), (a, b), ())


def test_a_demo_day_replayed_in_the_simulator_gives_its_mean_wait(hall):
    demand = _demand()
    callers = {n: hall.client(f"caller-{n}") for n in WINDOWS}
    seed = 11
    crowd = Crowd(
        hall.client("kiosk-1"),
        callers,
        demand,
        speed=SPEED,
        seed=seed,
        days=1,
        identified=0.0,
        say=lambda _text: None,
    )
    crowd.start()
    try:
        assert crowd.wait_day(120), "the day did not end"
        closed = datetime.now(ZoneInfo(hall.ctl.hall.timezone))
    finally:
        crowd.stop()
    rows = hall.ctl.store.ticket_rows(hall.ctl.day, hall.ctl.day)
    assert len(rows) == crowd.issued > 25
    # measured by the controller, in minutes of the hall's day: issue to first call, or to
    # closing for whoever was still waiting (as the simulator counts them)
    measured = []
    for t in rows:
        issued = datetime.fromisoformat(t["issued_at"])
        until = (
            datetime.fromisoformat(t["called_at"])
            if t["called_at"]
            else closed.astimezone(issued.tzinfo)
        )
        measured.append((until - issued).total_seconds() * SPEED / 60)
    # the same day in the simulator: the same citizens (the same seed), the same three windows
    group = Group(
        "comprehensive", "comprehensive", (), tuple(hall.ctl.hall.window(n) for n in WINDOWS)
    )
    counts = {("comprehensive", k): len(WINDOWS) for k in range(540, 630, 30)}
    day = simulate_day([group], counts, demand, hall.ctl.hall.rules, random.Random(seed))
    simulated = [w for ws in day.waits.values() for w in ws]
    assert len(simulated) == len(measured)
    real, sim = statistics.mean(measured), statistics.mean(simulated)
    print(f"demo day: {len(measured)} citizens, mean wait {real:.2f} min; replayed: {sim:.2f} min")
    assert sim > 1.0  # a day with queues: the comparison means something
    assert abs(real - sim) <= 0.15 * sim, (real, sim)
