"""Each phone's request budget on the web pages: the token buckets of bus/budget.py, by address.

Every phone's page goes through the one web device, whose budget and refusals are shared by
all, so one phone flooding the pages must be stopped before it spends theirs. wsgi.Routes calls
its PhoneBudgets instance with the address before a page and answers 429 (请求过于频繁，请稍后再试,
Retry-After) when it says wait; `onewindow web --phone-budget RATE/BURST` sets the figures
(`parse_budget`). An address over its burst is told the seconds until its next request may go
(with a budget of 1 a second in bursts of 2, the third request at once waits 1 s), while
another address is served as before (tests/test_web.py).
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from typing import Optional

from . import lograte
from .bus.budget import Budgets

log = logging.getLogger(__name__)

# requests a second from one address, and its burst: a phone opens a page now and then and its
# ticket page asks for its banner every 3 s; 50 a second carries about 150 phones behind one NAT
PHONE_BUDGET = (50.0, 200)
TIDY_S = 60  # how often the buckets of addresses at rest are forgotten


class PhoneBudgets:
    """A request budget per client address: call it with the address before each page."""

    def __init__(self, budget: tuple[float, int] = PHONE_BUDGET, clock=time.monotonic):
        self._budgets = Budgets(table={"phone": budget}, ops={}, clock=clock)
        self._lock = threading.Lock()  # the page workers ask at once
        self._next_tidy = 0.0

    def __call__(self, address: str) -> float | None:
        """None when the address may go on, else the seconds until it may."""
        with self._lock:
            budgets = self._budgets
            now = budgets.clock()
            if now >= self._next_tidy:  # addresses seen once are not kept for ever
                self._next_tidy = now + TIDY_S
                budgets.forget_rested()
                budgets.settled()
            if budgets.take(address, "phone"):
                return None
            wait = budgets.retry_after(address, "phone")
        lograte.warn(log, "phone-rate", "web: a phone over its request rate was refused (429)")
        return wait


def parse_budget(text: str) -> Optional[tuple[float, int]]:
    """`--phone-budget`'s argparse type: RATE/BURST, or RATE (a burst of 4 s of it), or 0 or
    off for no limit by address (phones behind one NAT address)."""
    if text.strip() in ("0", "off"):
        return None
    rate, sep, burst = text.partition("/")
    try:
        budget = (float(rate), int(burst) if sep else max(1, int(float(rate) * 4)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give RATE/BURST, e.g. 50/200, or 0") from None
    if budget[0] <= 0 or budget[1] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the rate and the burst must be positive")
    return budget
