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
