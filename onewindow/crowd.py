"""A simulated crowd: citizens taking numbers at a kiosk and staff serving them, through the real bus."""

from __future__ import annotations

import logging
import random
import threading
from typing import Callable, Optional

from .bus.client import BusError, DeviceClient

log = logging.getLogger(__name__)

PRIORITY_SHARE = 0.08  # elderly and others with a green channel
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
    def __init__(
        self,
        kiosk: DeviceClient,
        callers: dict[int, DeviceClient],
        services: list[str],
        speed: float = 1.0,
        seed: Optional[int] = None,
        say: Callable[[str], None] = print,
    ):
        self.kiosk = kiosk
        self.callers = callers
        self.services = services
        self.speed = speed
        self.rng = random.Random(seed)
        self.say = say
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.issued = 0
        self.served = 0

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
        for t in self._threads:
            t.join(5)

    def _sleep(self, seconds: float) -> bool:
        return not self._stop.wait(seconds / self.speed)

    def _arrivals(self) -> None:
        while self._sleep(self.rng.expovariate(1 / 4.0)):
            args = {"service": self.rng.choice(self.services), "channel": "kiosk"}
            if self.rng.random() < IDENTIFIED_SHARE:
                args["citizen"] = sample_citizen(self.rng)
            if self.rng.random() < PRIORITY_SHARE:
                args["priority"] = self.rng.choice(["disabled", "veteran", "pregnant"])
            try:
                t = self.kiosk.request("ticket.issue", args)["ticket"]
            except BusError as exc:
                self.say(f"[kiosk] {exc.message}")
                continue
            self.issued += 1
            who = f" {t['citizen']}" if t.get("citizen") else ""
            mark = f" [{PRIORITY_ZH.get(t['priority'], '优先')}]" if t.get("priority") else ""
            self.say(
                f"[kiosk]  取号 {t['number']} {t['service_name']}{who}{mark}: "
                f"前面 {t['ahead']} 人, {t['wait_text']}"
            )

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
        while self._sleep(self.rng.uniform(1.0, 3.0)):
            try:
                result = client.request(
                    "window.call_next", {"window": number, "current": "no_show"}
                )
                t = result.get("ticket")
                if t is None:
                    continue
                if self.rng.random() < 0.05:
                    self._sleep(3)
                    client.request("window.skip", {"window": number})
                    self.say(f"[window {number}] {t['number']} 过号")
                    continue
                client.request("window.start", {"window": number})
                if not self._sleep(self.rng.uniform(4.0, 12.0)):
                    break
                client.request("window.finish", {"window": number})
                self.served += 1
            except BusError as exc:
                self.say(f"[window {number}] {exc.message}")
