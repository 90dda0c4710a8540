"""`onewindow manager`: the PIN-protected manager console, or (--export-report) a headless
report export. Kivy is imported only when the console runs."""

from __future__ import annotations

import logging
from pathlib import Path

from onewindow.apps import device_settings, size_arg

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 800)
HALL_STATE_WAIT_S = 3.0


def add_arguments(p) -> None:
    p.add_argument(
        "--size",
        type=size_arg,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="window size (default 1280x800)",
    )
    p.add_argument("--fullscreen", action="store_true")
    p.add_argument(
        "--session-min",
        type=float,
        default=5.0,
        help="minutes without a touch before the PIN is asked again (default 5)",
    )
    p.add_argument(
        "--export-report",
        metavar="DAY|MONTH",
        help="write the KPI CSVs, audit CSV and PNG for 2026-11-23 or 2026-11 "
        "(or 'today' / 'month') and exit; no screen needed",
    )
    p.add_argument("--out", default="reports", help="directory for --export-report")
    p.add_argument(
        "--pin-stdin",
        action="store_true",
        help="--export-report: read the manager "
        "PIN from one line of stdin (scripts) instead of asking",
    )
    p.add_argument(
        "--printer",
        help="the duty desk's ticket printer (serial port or /dev/usb/lpN) "
        "for reprints; without it a reprint is done at a kiosk",
    )
    p.add_argument("--printer-baud", type=int, default=9600)


def main(args) -> int:
    settings = device_settings(args)
    if args.export_report:
        return export_report(settings, args.export_report, Path(args.out), args.pin_stdin)
    if "pin" in settings:
        raise SystemExit(
            'onewindow manager: the device config\'s "pin" is no longer used: the '
            "hall has one manager PIN for every console, kept by the controller. "
            "Remove it here and set the PIN with `onewindow pin set` on the controller"
        )
    from onewindow.uikit import setup_kivy

    width, height = args.size
    setup_kivy(width, height, args.fullscreen, "OneWindow 管理台")
    from .app import ManagerApp

    ManagerApp(
        settings,
        args.session_min,
        printer=(args.printer, args.printer_baud) if args.printer else None,
    ).run()
    return 0


def _pin(from_stdin: bool) -> str:
    """The hall's manager PIN for a headless export: reports need it as the console does."""
    import getpass
    import sys

    return sys.stdin.readline().strip() if from_stdin else getpass.getpass("manager PIN: ")


def export_report(settings: dict, period: str, out_dir: Path, pin_stdin: bool = False) -> int:
    from onewindow import reports
    from onewindow.bus.client import BusError, DeviceClient

    client = DeviceClient(
        settings["mqtt"],
        settings["device"],
        settings["secret"],
        settings["hall"],
        events=(),
        windows_state=False,
    )
    client.start(wait=5)
    try:
        try:
            login = client.request("manager.login", {"pin": _pin(pin_stdin)})
        except BusError as exc:
            print(f"onewindow manager: {exc.code}: {exc.message_en}")
            return 2
        if not login.get("ok"):
            print(f"onewindow manager: {login.get('message_en')}")
            return 2
        hall = _hall_state(client)
        if period in ("today", "month"):
            day = (hall or {}).get("day")
            if not day:
                print("onewindow manager: the hall controller did not answer")
                return 2
            period = day if period == "today" else day[:7]
        try:
            reports.period_args(period)
        except ValueError as exc:
            print(f"onewindow manager: {exc}")
            return 2
        try:
            paths = reports.export(
                lambda op, a: client.request(op, a, timeout=10),
                period,
                out_dir,
                (hall or {}).get("name", ""),
            )
        except BusError as exc:
            print(f"onewindow manager: {exc.code}: {exc.message_en}")
            return 1
        for p in paths:
            print(p)
        return 0
    finally:
        client.stop()


def _hall_state(client) -> dict | None:
    import time

    deadline = time.monotonic() + HALL_STATE_WAIT_S
    while client.state.get("hall") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return client.state.get("hall")
