"""The controller in this process on a real SQLite file, with an injected clock: for tests that
talk to it through the same envelopes a device sends, without a bus."""

from __future__ import annotations

import itertools
import json
import tomllib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import tomli_w

from busutil import REPO
from onewindow.envelope import PROTOCOL_VERSION
from onewindow.roles import Device
from onewindow.startup import open_hall

TZ = ZoneInfo("Asia/Shanghai")
KIOSK = Device("kiosk-1", "kiosk")
MANAGER = Device("manager-1", "manager")
ELDER_ID = "11010519491231002X"  # born 1949-12-31 (valid check digit)
YOUNG_ID = "440524200001011235"  # born 2000-01-01


def logged_in(ctl, device: Device) -> None:
    """A manager console with the hall's PIN entered (the controller gates manager ops on it)."""
    from busutil import TEST_PIN
    from onewindow.managerpin import check, set_pin

    if device.role != "manager" or ctl.consoles.in_session(device.id, ctl.now()):
        return
    data_dir = ctl.store.path.parent
    if not check(data_dir, TEST_PIN):
        set_pin(data_dir, TEST_PIN)
    payload = json.dumps(
        {
            "v": PROTOCOL_VERSION,
            "id": f"login-{next(_logins)}",
            "op": "manager.login",
            "args": {"pin": TEST_PIN},
        }
    ).encode()
    with ctl.store.transaction():
        assert ctl.handle(device, payload).reply["result"]["ok"]


_logins = itertools.count()


def caller(n: int) -> Device:
    return Device(f"caller-{n}", "caller", frozenset({n}))


class Clock:
    """The hall's wall clock, and the time truly passed (a hall's time since boot): setting
    `at` or advance() is time passing; step() is the clock set wrong (or right)."""

    boot = "test-boot"  # elapsed() goes on across reopen(), as time since boot does

    def __init__(self, at: datetime):
        self.at = at
        self._stepped = timedelta(0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw) -> None:
        self.at += timedelta(**kw)

    def step(self, **kw) -> None:
        """The clock moved with no time passing."""
        self.at += timedelta(**kw)
        self._stepped += timedelta(**kw)

    def elapsed(self) -> float:
        return (self.at - self._stepped).timestamp()


class Hall:
    """A controller in this process, talking through the same envelopes a device sends."""

    def __init__(self, tmp, at: datetime, config=None, edit=None):
        self.tmp = tmp
        self.clock = Clock(at)
        src = config or REPO / "config" / "hall.toml"
        if edit:
            raw = tomllib.loads(src.read_text(encoding="utf-8"))
            edit(raw)
            src = tmp / "edited.toml"
            src.write_text(tomli_w.dumps(raw), encoding="utf-8")
        self.config = src
        self.ctl = open_hall(src, tmp / "data", clock=self.clock)
        self.ids = itertools.count()

    def reopen(self):
        self.ctl.store.close()
        self.ctl = open_hall(self.config, self.tmp / "data", clock=self.clock)

    def do(self, device: Device, op: str, **args) -> dict:
        logged_in(self.ctl, device)
        payload = json.dumps(
            {"v": PROTOCOL_VERSION, "id": f"r{next(self.ids)}", "op": op, "args": args}
        ).encode()
        return self.ctl.handle(device, payload).reply

    def ok(self, device: Device, op: str, **args) -> dict:
        reply = self.do(device, op, **args)
        assert reply["ok"], reply
        return reply["result"]

    def issue(self, service="A", **args) -> dict:
        return self.ok(KIOSK, "ticket.issue", service=service, **args)["ticket"]

    def open(self, *windows):
        for w in windows:
            self.ok(caller(w), "window.open", window=w)

    def call(self, w: int, current: str = "done"):
        """Call next; a ticket still at the window is recorded `current` (done, as staff who
        served it would say; the refusal itself is tested in test_call_next_choice.py)."""
        return self.ok(caller(w), "window.call_next", window=w, current=current)["ticket"]

    def served(self, n: int = 1, window: int = 4, service: str = "A") -> list[dict]:
        """n new tickets, each called and finished at `window` (opened first): ready to rate."""
        tickets = [self.issue(service) for _ in range(n)]
        self.open(window)
        for _ in tickets:
            self.call(window)
            self.ok(caller(window), "window.finish", window=window)
        return tickets


MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
