"""The manager console in tests: manager-1's device config for a test hall, the console started
under Xvfb, and unlocked with the tests' manager PIN (busutil.TEST_PIN)."""

from __future__ import annotations

import json
from pathlib import Path

from busutil import TEST_PIN as PIN  # the PIN these tests set on their halls (set_pin)
from kivyutil import App, Screen


def device_config(hall, path: Path) -> str:
    """manager-1's --device-config file for `hall` (its bus, its secret), written at `path`."""
    path.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "device": "manager-1",
                "secret": hall.secrets["manager-1"],
                "hall": hall.hall_id,
            }
        ),
        encoding="utf-8",
    )
    return str(path)


def start_console(
    hall, screen: Screen, tmp: Path, name: str = "manager", args: tuple[str, ...] = ()
) -> App:
    """`onewindow manager` as manager-1 of `hall` on `screen`, its files under `tmp`."""
    cfg = device_config(hall, tmp / f"{name}.json")
    return App(screen, ["manager", "--device-config", cfg, *args], tmp, name)


def enter_pin(app: App, pin: str = PIN) -> None:
    for digit in pin:
        app.tap(f"pin-{digit}")
    app.tap("pin-ok")


def unlock(app: App, pin: str = PIN) -> None:
    """From the PIN screen to the dashboard."""
    app.wait_screen("pin")
    enter_pin(app, pin)
    app.wait_screen("dashboard")
