"""What the kiosk tests share: the kiosk's command line against a test hall, the tickets it
issued, its texts and screenshots."""

from __future__ import annotations

import time

from busutil import Hall
from kivyutil import App, Screen, shots_dir
from onewindow.domain.identity import id_check_digit

IMG = shots_dir()
ELDER_ID = "62010219480512002" + id_check_digit("62010219480512002")  # born 1948-05-12

target_text = App.text


def device_args(hall: Hall, command: str, device: str, *extra: str) -> list[str]:
    """The command line of an app (kiosk, caller, display, led...) as `device` of `hall`."""
    return [
        command,
        "--mqtt",
        hall.url,
        "--hall",
        hall.hall_id,
        "--device",
        device,
        f"--secret={hall.secrets[device]}",
        *extra,
    ]


def kiosk_args(hall: Hall, *extra: str) -> list[str]:
    return device_args(hall, "kiosk", "kiosk-1", *extra)


def tickets(hall: Hall, number: str):
    return [t for t in hall.ctl.store.tickets() if t.number == number]


def shot(screen: Screen, name: str) -> None:
    time.sleep(0.4)  # let the frame after the last change reach the X server
    screen.screenshot(IMG / f"kiosk-{name}.png")


def form_pad(app: App, field: str, digits: str) -> None:
    """Type `digits` into the form's field on the kiosk's number pad."""
    app.tap(f"form-field-{field}")
    for d in digits:
        app.tap(f"key-{d}")


def form_caller(screen: Screen, hall: Hall, cups_server: str, printer: str, tmp_path, number: str):
    """Window 1's caller printing each called ticket's form on `printer` (a CUPS queue): started,
    its window opened, and the next ticket, `number`, called. The caller is returned, running."""
    caller = App(
        screen,
        device_args(
            hall,
            "caller",
            "caller-1",
            "--window",
            "1",
            "--form-printer",
            printer,
            "--cups-server",
            cups_server,
            "--print-form-on-call",
        ),
        tmp_path,
        "caller",
    )
    try:
        caller.wait_screen("main", timeout=30)
        caller.wait_text("window_status", lambda s: s == "已关窗", 15)
        caller.tap("open_close")
        caller.wait_text("window_status", lambda s: s == "服务中", 10)
        caller.tap("call_next")
        caller.wait_text("ticket_number", lambda s: s == number, 10)
    except BaseException:
        caller.stop()
        raise
    return caller
