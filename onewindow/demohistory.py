"""A made-up month of a hall's tickets, written through the Store into a real database: what
the benchmark of 排班建议 plans from, and the console's tests and the demo show advice for.
Nobody's data: no citizen fields at all.

The day's shape (a synthetic profile): a morning peak, the lunch break (the demo hall closes
12:00-13:30), a second, lower peak in the afternoon. Handling times are exponential around each
service's mean; 5% no-shows, 3% transfers, 10% priority and 10% appointments.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
# mean handling minutes of the demo hall's services (config/hall.toml)
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
