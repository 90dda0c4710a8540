"""A made-up hall day (a synthetic profile), for the demo's crowd (crowd.py), and a made-up
month of a hall's tickets written through the Store into a real database, for the benchmark of
排班建议 and the console's tests. Nobody's data: no citizen fields at all.

The day's shape: a morning peak, the lunch break (the demo hall closes 12:00-13:30), a second,
lower peak in the afternoon, and on a day the hall stays open late (the demo hall's Wednesday,
to 19:00) a tail of evening visitors. Handling times are exponential around each service's mean.
The month has 5% no-shows, 3% transfers, 10% priority and 10% appointments.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .domain.demand import Demand
    from .domain.model import Hall

# arrivals through a day: (slot start in minutes, weight)
PROFILE = (
    (510, 3),
    (540, 6),
    (570, 8),
    (600, 8),
    (630, 7),
    (660, 5),
    (690, 3),
    (810, 3),
    (840, 5),
    (870, 6),
    (900, 6),
    (930, 5),
    (960, 4),
    (990, 3),
    (1020, 2),
)
# after 17:30, on days the hall is open then (the month's history has none)
EVENING = ((1050, 3), (1080, 2), (1110, 1))
# mean handling minutes of the demo hall's services (config/hall.toml); the profile's guess
# for any other service
MEAN_MIN_OTHER = 8
MEAN_MIN = {
    "A": 6,
    "B": 8,
    "C": 10,
    "D": 7,
    "E": 9,
    "F": 20,
    "H": 15,
    "J": 12,
    "K": 10,
    "L": 8,
    "M": 8,
    "N": 5,
    "P": 3,
    "Q": 6,
}


def synthetic_demand(
    hall: Hall, weekday: int, per_day: float, no_show: float = 0.05, seed: int = 1
) -> Demand:
    """A day of `per_day` citizens on `weekday` (0 = Monday) at the hall's hours that day,
    shaped by PROFILE (and EVENING), spread evenly over the services (the pick-up counter's
    aside); 8% priority (绿色通道), no appointments and no transfers (the demo's crowd books
    nothing and sends nobody on)."""
    from .domain.demand import Demand, ServiceDemand, open_minutes

    spans = tuple(
        (s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in hall.hours.week[weekday]
    )
    weights = {slot: w for slot, w in PROFILE + EVENING if open_minutes(spans, slot) > 0}
    total = sum(weights.values())
    codes = [s.code for s in hall.services if not s.pickup]
    r = random.Random(seed)
    services = []
    for code in codes:
        mean = MEAN_MIN.get(code, MEAN_MIN_OTHER)
        rates = {
            slot: per_day * w / total / len(codes) / open_minutes(spans, slot)
            for slot, w in weights.items()
        }
        handling = tuple(r.expovariate(1 / mean) for _ in range(400))
        services.append(ServiceDemand(code, rates, handling, no_show, (1.0,), 0.0, (), 0.08, 0.0))
    return Demand(weekday, (), spans, tuple(services), ())


def write_history(
    config: str | Path, data_dir: str | Path, first: date, days: int, tickets: int, seed: int = 1
) -> int:
    """`tickets` tickets over the working days (Monday to Friday) of `days` days from `first`,
    into the hall database of `data_dir` (made for `config` if new). Returns the count."""
    from .domain.model import Ticket, TicketStatus
    from .hallconfig import load_file
    from .startup import DB_FILE, open_hall
    from .store import Store

    data_dir = Path(data_dir)
    open_hall(config, data_dir).store.close()
    tz = ZoneInfo(load_file(config)[0].timezone)
    r = random.Random(seed)
    work = [first + timedelta(days=i) for i in range(days)]
    work = [d for d in work if d.weekday() < 5]
    codes = list(MEAN_MIN)
    slots, weights = zip(*PROFILE, strict=True)
    store = Store(data_dir / DB_FILE)
    n = 0
    try:
        with store.transaction():
            for day in work:
                for seq in range(1, tickets // len(work) + 1):
                    code = r.choice(codes)
                    slot = r.choices(slots, weights)[0]
                    issued = datetime.combine(day, time.min, tz) + timedelta(
                        minutes=slot + r.random() * 30
                    )
                    called = issued + timedelta(minutes=r.expovariate(1 / 8))
                    t = Ticket(
                        id=f"{day}-{code}-{seq}",
                        day=day,
                        prefix=code,
                        seq=seq,
                        number=f"{code}{seq:03d}",
                        service=code,
                        channel="kiosk",
                        issued_at=issued,
                        order_at=issued,
                        called_at=called,
                        window=1,
                        priority="elder" if r.random() < 0.1 else None,
                        appointment_id=f"ap{n}" if r.random() < 0.1 else None,
                    )
                    if r.random() < 0.05:
                        t.status, t.skipped_at = TicketStatus.NO_SHOW, called + timedelta(minutes=1)
                    else:
                        t.status = TicketStatus.DONE
                        t.finished_at = called + timedelta(
                            minutes=r.expovariate(1 / MEAN_MIN[code])
                        )
                        if r.random() < 0.03:  # sent on to another service, done there
                            t.origin_service, t.service, t.transfers = code, r.choice(codes), 1
                    store.insert_ticket(t)
                    n += 1
    finally:
        store.close()
    return n
