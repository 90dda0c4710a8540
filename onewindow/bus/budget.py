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

One op may have a budget of its own, spent besides the role's: a kiosk's `ticket.issue`.

    >>> ops = {("kiosk", "ticket.issue"): (0.5, 2)}
    >>> b = Budgets(clock=lambda: t[0], table={"kiosk": (50.0, 500)}, ops=ops)
    >>> [b.take("kiosk-1", "kiosk", "ticket.issue") for _ in range(3)]
    [True, True, False]
    >>> b.take("kiosk-1", "kiosk", "queue.status")  # its other requests go on
    True
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
# (role, op): (per second, burst), spent besides the role's budget. A kiosk serves a citizen
# every ten seconds or so: 60 numbers at once is an hour of a busy kiosk's citizens. A kiosk's
# flood of ticket.issue (a script on a stolen identity) then takes 60 numbers, not the role's
# 500, and is fenced at the broker after 200 refusals. The sustained 5 a second leaves room for
# what drives one kiosk identity like a hall's worth of them: the demo's crowd at 10x, the
# tests' busy halls, the benchmarks' 184 kiosks (about 40 each, back to back).
OP_BUDGETS = {("kiosk", "ticket.issue"): (5.0, 60)}
QUIET_S = 60.0  # a device limited, then within its budget this long, is settled again
# refusals in a row (not settled in between) after which a device is flooding, not just eager:
# the hall's broker then drops its requests itself (PrivateBroker.fence) until it is settled
FLOODING_AFTER = 200
# roles never fenced, only rate-limited: the web pages' device speaks for every citizen's phone,
# so fencing it for one phone's flood would cut every citizen's page off for a minute (the web
# app limits each phone itself, onewindow/phonebudget.py)
NEVER_FENCED = frozenset({"web"})


class Budgets:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        table: dict = BUDGETS,
        ops: dict = OP_BUDGETS,
    ):
        self.clock = clock
        self.table = table
        self.ops = ops
        self.op_roles = frozenset(role for role, _op in ops)  # whose requests' op is read
        self._buckets: dict[str, list] = {}  # device -> [tokens, last refill, rate, burst]
        self._limited: dict[str, float] = {}  # device -> when it was last refused
        self._refused: dict[str, int] = {}  # device -> refusals since it was last settled

    def take(self, device_id: str, role: str, op: str | None = None) -> bool:
        """One request's worth from the device's budget (and from its op's, when that op has
        one); False when either has none left."""
        now = self.clock()
        op_budget = self.ops.get((role, op)) if op else None
        if op_budget is not None and not self._spend(f"{device_id} {op}", op_budget, now):
            self._refused_at(device_id, now)
            return False
        if self._spend(device_id, self.table.get(role, (1.0, 10)), now):
            return True
        self._refused_at(device_id, now)
        return False

    def _spend(self, key: str, budget: tuple, now: float) -> bool:
        rate, burst = budget
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(burst), now, rate, burst]
        else:
            # max(): a monotonic clock never goes back, but an injected one might
            bucket[0] = min(float(burst), bucket[0] + max(0.0, now - bucket[1]) * rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        return False

    def _refused_at(self, device_id: str, now: float) -> None:
        self._limited[device_id] = now
        self._refused[device_id] = self._refused.get(device_id, 0) + 1

    def burst(self, role: str) -> int:
        return self.table.get(role, (1.0, 10))[1]

    def refuse(self, device_id: str) -> None:
        """A request dropped before it reached the budget (more at once than a burst): counted
        as a refusal, so that a flood is fenced as soon."""
        self._refused_at(device_id, self.clock())

    def flooding(self, device_id: str) -> bool:
        return self._refused.get(device_id, 0) >= FLOODING_AFTER

    def retry_after(self, device_id: str, role: str, op: str | None = None) -> float:
        """Seconds until the device has a request's worth again (of `op`, when it has its own)."""
        waits = [(self.table.get(role, (1.0, 10))[0], self._buckets.get(device_id, [1.0])[0])]
        op_budget = self.ops.get((role, op)) if op else None
        if op_budget is not None:
            waits.append((op_budget[0], self._buckets.get(f"{device_id} {op}", [1.0])[0]))
        return max(max(0.0, (1.0 - tokens) / rate) for rate, tokens in waits)

    def forget_rested(self) -> None:
        """Forget the buckets that have refilled, which are as good as new: budgets kept for
        many short-lived senders (phones' addresses) would otherwise grow without end."""
        now = self.clock()
        for key, (tokens, at, rate, burst) in list(self._buckets.items()):
            if tokens + max(0.0, now - at) * rate >= burst:
                del self._buckets[key]

    def settled(self) -> list[str]:
        """Devices refused earlier that have kept within their budget for QUIET_S since;
        they are forgotten here, so each is returned once."""
        now = self.clock()
        done = [d for d, at in self._limited.items() if now - at >= QUIET_S]
        for d in done:
            del self._limited[d]
            self._refused.pop(d, None)
        return done
