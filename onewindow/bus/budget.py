"""Request budgets per device (token buckets): one device's flood never starves the hall.

Each device may send a burst of requests, then a steady rate; beyond that the controller
answers `rate_limited` at once, without doing the work. Kiosks, callers (a keypad bridge speaks
for several windows), managers and the web pages (every phone's page goes through it) get
enough for a rush; screens and signs, which ask for the configuration now and then, get little.

    >>> t = [0.0]
    >>> b = Budgets(clock=lambda: t[0], table={"led": (1.0, 2)})
    >>> [b.take("led-1", "led") for _ in range(3)]
    [True, True, False]
    >>> t[0] = 1.0; b.take("led-1", "led"), b.take("led-1", "led")
    (True, False)
    >>> b.flooding("led-1"), b.settled()
    (False, [])
    >>> t[0] = 61.0; b.settled()
    ['led-1']
"""

from __future__ import annotations

import time
from typing import Callable

# role: (requests a second, sustained; burst). A kiosk serves a citizen every ten seconds or so;
# the figures leave room for retries after an outage and for the benchmarks' back-to-back load.
BUDGETS = {
    "kiosk": (50.0, 500),
    "caller": (50.0, 500),
    "manager": (50.0, 500),
    "web": (500.0, 2000),
    "rating": (2.0, 30),
    "display": (2.0, 30),
    "led": (1.0, 20),
    "notifier": (10.0, 100),  # one SMS modem: a few messages a second at most
    "platform": (10.0, 100),  # `appointments import`: batches of 200 records
}
QUIET_S = 60.0  # a device limited, then within its budget this long, is settled again
# refusals in a row (not settled in between) after which a device is flooding, not just eager:
# the hall's broker then drops its requests itself (PrivateBroker.fence) until it is settled
FLOODING_AFTER = 200


class Budgets:
    def __init__(self, clock: Callable[[], float] = time.monotonic, table: dict = BUDGETS):
        self.clock = clock
        self.table = table
        self._buckets: dict[str, list] = {}  # device -> [tokens, last refill]
        self._limited: dict[str, float] = {}  # device -> when it was last refused
        self._refused: dict[str, int] = {}  # device -> refusals since it was last settled

    def take(self, device_id: str, role: str) -> bool:
        """One request's worth from the device's budget; False when it has none left."""
        rate, burst = self.table.get(role, (1.0, 10))
        now = self.clock()
        bucket = self._buckets.get(device_id)
        if bucket is None:
            bucket = self._buckets[device_id] = [float(burst), now]
        else:
            # max(): a monotonic clock never goes back, but an injected one might
            bucket[0] = min(float(burst), bucket[0] + max(0.0, now - bucket[1]) * rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        self._limited[device_id] = now
        self._refused[device_id] = self._refused.get(device_id, 0) + 1
        return False

    def burst(self, role: str) -> int:
        return self.table.get(role, (1.0, 10))[1]

    def refuse(self, device_id: str) -> None:
        """A request dropped before it reached the budget (more at once than a burst): counted
        as a refusal, so that a flood is fenced as soon."""
        self._limited[device_id] = self.clock()
        self._refused[device_id] = self._refused.get(device_id, 0) + 1

    def flooding(self, device_id: str) -> bool:
        return self._refused.get(device_id, 0) >= FLOODING_AFTER

    def retry_after(self, device_id: str, role: str) -> float:
        """Seconds until the device has a request's worth again."""
        rate, _burst = self.table.get(role, (1.0, 10))
        tokens = self._buckets.get(device_id, [1.0])[0]
        return max(0.0, (1.0 - tokens) / rate)

    def settled(self) -> list[str]:
        """Devices refused earlier that have kept within their budget for QUIET_S since;
        they are forgotten here, so each is returned once."""
        now = self.clock()
        done = [d for d, at in self._limited.items() if now - at >= QUIET_S]
        for d in done:
            del self._limited[d]
            self._refused.pop(d, None)
        return done
