"""A simulated crowd: citizens taking numbers at a kiosk and staff serving them, through the real
bus. The citizens are the hall-day simulator's (domain/hallsim.py `calendar`): the same draws
that check 排班建议 here come to the kiosk in (accelerated) time, from a profile of the day
(synthetic, demohistory.py, or a hall's recorded history), so the demo shows a believable day:
the morning peak, nobody over lunch, a late Wednesday. Which ticket each window gets is the real
controller's answer; how long it holds the window (or whether the citizen is not there) is the
simulated citizen's.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Callable, Optional

from .bus.client import BusError, DeviceClient
from .domain.demand import Demand
from .domain.demand import hhmm as hm
from .domain.hallsim import (
    PRIORITY,
    T_AT,
    T_CLS,
    T_ORIGIN,
    U_HOLD,
    U_NO_SHOW,
    calendar,
)

log = logging.getLogger(__name__)

IDENTIFIED_SHARE = 0.5  # citizens who lay their ID card on the reader
PRIORITY_ZH = {
    "elder": "老年人优先",
    "disabled": "残疾人优先",
    "veteran": "军人优先",
    "pregnant": "孕妇优先",
    "other": "优先",
}


def sample_citizen(rng: random.Random) -> dict:
    """A made-up but valid ID number: the demo never touches real people's data."""
    from .domain.identity import id_check_digit

    year = rng.randint(1940, 2004)
    first17 = (
        f"620102{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    surname = rng.choice("王李张刘陈杨赵黄周吴马")
    given = rng.choice(["伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "艳"])
    return {"id_number": first17 + id_check_digit(first17), "name": surname + given}


class Crowd:
    """Plays `days` simulated days of `demand` (0: one after another until stopped), each from
    the first opening (or `start_min`) at `speed` times life: a minute of the hall's day lasts
    60 / speed seconds."""

    def __init__(
        self,
        kiosk: DeviceClient,
        callers: dict[int, DeviceClient],
        demand: Demand,
        speed: float = 1.0,
        seed: Optional[int] = None,
        say: Callable[[str], None] = print,
        start_min: Optional[float] = None,
        days: int = 0,
        identified: float = IDENTIFIED_SHARE,
    ):
        if not demand.spans:
            raise ValueError("the crowd's day has no opening hours")
        self.kiosk = kiosk
        self.callers = callers
        self.demand = demand
        self.services = {s.code: s for s in demand.services}
        self.speed = speed
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        self.rng = random.Random(self.seed)
        self.say = say
        self.start_min = start_min if start_min is not None else demand.spans[0][0]
        self.close_min = max(end for _, end in demand.spans)
        self.days = days
        self.identified = identified
        self._stop = threading.Event()
        self._arrived = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._day_start = time.monotonic()
        self._day_over = threading.Event()
        self.tickets: dict[str, tuple[Any, ...]] = {}  # number -> the simulated citizen
        self.issued = 0
        self.served = 0
        self.days_played = 0

    # -- the hall's day ----------------------------------------------------------------------

    def minute(self) -> float:
        """The minute of the simulated day now."""
        return self.start_min + (time.monotonic() - self._day_start) * self.speed / 60

    def is_open(self, minute: float) -> bool:
        return any(start <= minute < end for start, end in self.demand.spans)

    def _sleep(self, seconds: float) -> bool:
        return not self._stop.wait(seconds)

    def _sleep_min(self, minutes: float) -> bool:
        """Sleep `minutes` of the hall's day; False when stopping."""
        return self._sleep(max(0.0, minutes) * 60 / self.speed)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._arrivals, name="crowd-kiosk", daemon=True)]
        for number in self.callers:
            self._threads.append(
                threading.Thread(
                    target=self._window, args=(number,), name=f"crowd-window-{number}", daemon=True
                )
            )
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        with self._arrived:
            self._arrived.notify_all()
        for t in self._threads:
            t.join(5)

    def wait_day(self, timeout: float) -> bool:
        """Tests: wait until `days` days have been played to their closing (whoever still
        waits then is not called, as in the simulator)."""
        return self._day_over.wait(timeout)

    # -- citizens ----------------------------------------------------------------------------

    def _arrivals(self) -> None:
        day = 0
        while not self._stop.is_set() and (self.days == 0 or day < self.days):
            arrivals, _marks = calendar(self.demand, random.Random(self.seed + day))
            self._day_start = time.monotonic()
            issued, served = self.issued, self.served
            self.say(f"[{hm(self.start_min)}] 开门营业（模拟第 {day + 1} 天）")
            for t in arrivals:
                if t[T_AT] < self.start_min:
                    continue
                if not self._sleep_min(t[T_AT] - self.minute()):
                    return
                self._issue(t)
            if not self._sleep_min(self.close_min - self.minute()):
                return
            self.say(
                f"[{hm(self.close_min)}] 下班：今日取号 {self.issued - issued} 人，"
                f"办结 {self.served - served} 人"
            )
            day += 1
            self.days_played = day
        self._day_over.set()

    def _issue(self, t: tuple[Any, ...]) -> None:
        args: dict[str, Any] = {"service": t[T_ORIGIN], "channel": "kiosk"}
        if self.rng.random() < self.identified:
            args["citizen"] = sample_citizen(self.rng)
        if t[T_CLS] == PRIORITY:
            args["priority"] = self.rng.choice(["disabled", "veteran", "pregnant"])
        # (an appointment would need booking first: the demo's citizens come as they are)
        try:
            got = self.kiosk.request("ticket.issue", args)["ticket"]
        except BusError as exc:
            self.say(f"[{hm(self.minute())}] [kiosk] {exc.message}")
            return
        self.tickets[got["number"]] = t
        self.issued += 1
        with self._arrived:
            self._arrived.notify_all()
        who = f" {got['citizen']}" if got.get("citizen") else ""
        mark = f" [{PRIORITY_ZH.get(got['priority'], '优先')}]" if got.get("priority") else ""
        self.say(
            f"[{hm(t[T_AT])}] [kiosk]  取号 {got['number']} {got['service_name']}{who}{mark}: "
            f"前面 {got['ahead']} 人, {got['wait_text']}"
        )

    # -- staff ---------------------------------------------------------------------------------

    def _window(self, number: int) -> None:
        client = self.callers[number]
        try:
            client.request(
                "window.open",
                {"window": number, "staff": {"id": f"S{number:03d}", "name": f"工作人员{number}"}},
            )
        except BusError as exc:
            self.say(f"[window {number}] cannot open: {exc.message}")
            return
        while not self._stop.is_set():
            if not self.is_open(self.minute()):  # lunch, or closed: nobody is called
                self._sleep(min(1.0, 60 / self.speed))
                continue
            try:
                if not self._serve_next(number, client):
                    # nobody for this window: until someone takes a number (or a while)
                    with self._arrived:
                        self._arrived.wait(min(1.0, 60 / self.speed))
            except BusError as exc:
                self.say(f"[window {number}] {exc.message}")
                self._sleep(0.5)

    def _serve_next(self, number: int, client: DeviceClient) -> bool:
        t = client.request("window.call_next", {"window": number, "current": "no_show"}).get(
            "ticket"
        )
        if t is None:
            return False
        sim = self.tickets.get(t["number"])
        svc = self.services.get(t["service"])
        if sim is None or svc is None:  # someone a person issued at the real kiosk's screen
            sim = (0.0, t["service"], 0, 1.0, self.rng.random())
        # as the simulator does with its citizen: a no-show holds the window for a skip time
        if svc is not None and sim[U_NO_SHOW] < svc.no_show:
            skip = svc.skip_min[int(sim[U_HOLD] * len(svc.skip_min))] if svc.skip_min else 0.0
            self._sleep_min(skip)
            client.request("window.skip", {"window": number})
            self.say(f"[{hm(self.minute())}] [window {number}] {t['number']} 过号")
            return True
        handling = svc.handling if svc is not None else (8.0,)
        client.request("window.start", {"window": number})
        if self._sleep_min(handling[int(sim[U_HOLD] * len(handling))]):
            client.request("window.finish", {"window": number})
            self.served += 1
        return True
