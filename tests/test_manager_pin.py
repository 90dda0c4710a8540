"""The hall's manager PIN: set by command, kept hashed, checked by the controller for every
console, guessing locked out."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from busutil import REPO, unlimited_config
from onewindow.managerpin import PIN_FILE
from onewindow.roles import Device
from onewindow.startup import open_hall

TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

    def __call__(self):
        return self.now


_LOGIN_IDS = itertools.count(1)  # request ids: each login is a new request


def login(ctl, device, pin):
    with ctl.store.transaction():
        return ctl.handle(
            device,
            json.dumps(
                {"v": 1, "id": f"l{next(_LOGIN_IDS)}", "op": "manager.login", "args": {"pin": pin}}
            ).encode(),
        ).reply


def pin_set(data, pin):
    return subprocess.run(
        [sys.executable, "-m", "onewindow.cli", "pin", "set", "--data-dir", str(data), "--stdin"],
        input=f"{pin}\n",
        text=True,
        capture_output=True,
        timeout=30,
        cwd=REPO,
    )


def test_one_pin_for_every_console_checked_and_locked_out_by_the_controller(tmp_path):
    data = tmp_path / "data"
    clock = Clock()
    ctl = open_hall(unlimited_config(tmp_path), data, clock=clock)
    console, other = Device("manager-1", "manager"), Device("manager-2", "manager")
    try:
        assert login(ctl, console, "1234")["error"]["code"] == "no_pin"
        assert pin_set(data, "12a4").returncode == 2  # digits only
        out = pin_set(data, "246810")
        assert out.returncode == 0, out.stderr
        stored = (data / PIN_FILE).read_text()
        assert "246810" not in stored and (data / PIN_FILE).stat().st_mode & 0o777 == 0o600
        assert login(ctl, console, "246810")["result"]["ok"] is True
        assert login(ctl, other, "246810")["result"]["ok"] is True  # the same PIN everywhere
        for left in (4, 3, 2, 1, 0):
            r = login(ctl, console, "000000")["result"]
            assert r["ok"] is False and r["tries_left"] == left
        locked = login(ctl, console, "246810")
        assert locked["error"]["code"] == "locked"  # even the right one, now
        assert login(ctl, other, "246810")["result"]["ok"] is True  # the other console is not
        clock.now += timedelta(minutes=6)
        assert login(ctl, console, "246810")["result"]["ok"] is True
        actions = [r["action"] for r in ctl.store.audit_rows() if r["device"] == "manager-1"]
        assert actions.count("login_failed") == 5 and actions.count("login") == 2
        assert not any(
            "246810" in json.dumps(r, ensure_ascii=False) for r in ctl.store.audit_rows()
        )
    finally:
        ctl.store.close()


def test_a_manager_device_does_nothing_but_log_in_without_the_pin(tmp_path):
    """The device secret alone (a copied config) opens no change and no report."""
    from onewindow.managerpin import set_pin

    data = tmp_path / "data"
    clock = Clock()
    ctl = open_hall(unlimited_config(tmp_path), data, clock=clock)
    console = Device("manager-1", "manager")
    set_pin(data, "246810")

    asked = iter(range(10**6))

    def ask(op, **args):
        with ctl.store.transaction():
            return ctl.handle(
                console,
                json.dumps({"v": 1, "id": f"a{next(asked)}", "op": op, "args": args}).encode(),
            ).reply

    try:
        assert ask("config.get")["ok"]  # reading the hall
        for op, args in (
            ("config.service", {"code": "A", "daily_quota": 9}),
            ("report.audit", {}),
            ("alert.clear", {"key": "x"}),
        ):
            assert ask(op, **args)["error"]["code"] == "login_required"
        assert login(ctl, console, "246810")["result"]["ok"]
        assert ask("config.service", code="A", daily_quota=9)["ok"]
        clock.now += timedelta(minutes=14)
        assert ask("report.audit")["ok"]  # each request renews it
        clock.now += timedelta(minutes=16)
        assert ask("report.audit")["error"]["code"] == "login_required"  # a quiet spell ends it
        assert login(ctl, console, "246810")["result"]["ok"]
        assert ask("manager.logout")["ok"]
        assert ask("report.audit")["error"]["code"] == "login_required"
    finally:
        ctl.store.close()
