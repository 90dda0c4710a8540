"""The hall's guard against a flooding device: each device's request budget (budget.py), the
`rate_limited` answer, one alert per device, and the broker's fence.

A device over its budget is answered at once with nothing done. One that keeps refusing to wait
(FLOODING_AFTER refusals, those dropped at intake for going past its burst included) is fenced:
the private broker drops its requests itself until it has been quiet for a minute; except the
web pages' device, which speaks for every phone and is only rate-limited (budget.NEVER_FENCED).
The managers hear of it once, by an alert naming the device, cleared when it has settled.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Callable, Optional

from .. import lograte
from ..controller import Controller
from ..envelope import error_reply
from ..request import Outcome
from .budget import NEVER_FENCED, Budgets
from .devices import DeviceEntry, DeviceRegistry
from .peek import peek_id, peek_op

if TYPE_CHECKING:
    from .mosquitto import PrivateBroker

log = logging.getLogger(__name__)

RATE_ALERT = "rate"  # alert key prefix: a device over its request budget
RETRY_STEP_S = 0.1  # retry_after_s is rounded up to this; never 0


class Guard:
    def __init__(
        self,
        controller: Controller,
        registry: DeviceRegistry,
        broker: Callable[[], Optional[PrivateBroker]],
    ):
        """`broker()`: the private broker that fences (None on an outside broker)."""
        self.ctl = controller
        self.registry = registry
        self.budgets = Budgets()
        self._broker = broker
        self._bursts: dict[str, int] = {}  # per device: its role's burst (renewed every tick)

    def burst_of(self, device: str) -> int:
        """How many of a device's requests may wait at once (intake drops the rest)."""
        burst = self._bursts.get(device)
        if burst is None:
            entry = self.registry.get(device)
            burst = self._bursts[device] = self.budgets.burst(entry.role) if entry else 1
        return burst

    def flooded(self, device: str) -> None:
        """A request dropped unanswered for going beyond the device's burst: counted as a
        refusal, so a device that keeps it up is fenced at the broker as soon."""
        self.budgets.refuse(device)
        lograte.warn(
            log,
            ("flood", device),
            "device %s sent more requests at once than its burst: the rest are dropped",
            device,
        )
        self._fence_if_flooding(device)

    def admit(self, entry: DeviceEntry, payload: bytes) -> Optional[Outcome]:
        """None when the request is within the device's budget; else its refusal. The op is
        looked at only for the roles whose budget depends on it (a kiosk's ticket.issue)."""
        op = peek_op(payload) if entry.role in self.budgets.op_roles else None
        if self.budgets.take(entry.id, entry.role, op):
            return None
        return self._rate_limited(entry, payload, op)

    def settle(self) -> list:
        """Every tick: devices quiet for a minute are let in again and their alerts cleared;
        the bursts are looked up again (a device added or given another role)."""
        self._bursts.clear()
        settled = self.budgets.settled()
        broker = self._broker()
        if broker is not None and broker.fenced & set(settled):
            broker.fence(broker.fenced - set(settled))
        events: list = []
        for device_id in settled:
            events += self.ctl.clear_alert(f"{RATE_ALERT}:{device_id}")
        return events

    def _fence_if_flooding(self, device: str, role: Optional[str] = None) -> None:
        """Past its refusals' limit a device's requests are dropped by the broker itself, until
        it has been quiet for a minute. Checked on every refusal, dropped ones included: a device
        whose whole flood arrives at once has all but its burst dropped at intake, and would
        otherwise never be fenced."""
        broker = self._broker()
        if broker is None or not self.budgets.flooding(device) or device in broker.fenced:
            return
        if role is None:
            entry = self.registry.get(device)
            role = entry.role if entry else None
        if role not in NEVER_FENCED:
            log.warning(
                "%s keeps flooding the hall with requests: the broker drops them until it "
                "has been quiet for a minute",
                device,
            )
            broker.fence(broker.fenced | {device})

    def _rate_limited(self, entry: DeviceEntry, payload: bytes, op: Optional[str]) -> Outcome:
        """Over its budget: answered at once with nothing done; the managers hear of the device
        once (an alert naming it), not once per request."""
        events = []
        key = f"{RATE_ALERT}:{entry.id}"
        if key not in self.ctl.alerts:
            if op == "ticket.issue":  # what the managers need to know: someone took numbers
                text = f"设备 {entry.id} 短时间内大量取号，超出取号限额的请求已被拒绝，请到现场查看"
            else:
                text = f"设备 {entry.id} 请求过于频繁，超出的请求已被拒绝"
            events = self.ctl.housekeeping(
                lambda alerts: alerts.raise_(
                    key, "device", text, device=entry.id, **({"op": op} if op else {})
                )
            )
        lograte.warn(
            log,
            ("rate", entry.id),
            "%s (%s) is over its request budget: request refused",
            entry.id,
            entry.role,
        )
        self._fence_if_flooding(entry.id, entry.role)
        req_id = peek_id(payload)
        if req_id is None:
            return Outcome(None, events)
        # rounded up to the tenth: a retry sooner than said would be refused again, and 0.0
        # would tell a device to retry at once
        wait = max(
            RETRY_STEP_S, math.ceil(self.budgets.retry_after(entry.id, entry.role, op) * 10) / 10
        )
        return Outcome(
            error_reply(
                req_id,
                "rate_limited",
                "请求过于频繁，请稍后再试",
                "Too many requests from this device; retry later",
                {"retry_after_s": wait},
            ),
            events,
        )
