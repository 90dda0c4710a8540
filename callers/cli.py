"""The calling side of the hall: `onewindow display`, `caller`, `led`, `keypad`.

Each command lives in its own module with `add_arguments(parser)` and `main(args)`; those
modules import Kivy (heavy, and absent on a headless LED box) only inside `main`.
"""
from __future__ import annotations

import importlib

from onewindow.apps import add_device_options

COMMANDS = {
    "display": ("callers.display_cmd", "the hall's big calling screen (Kivy, full screen)"),
    "caller": ("callers.caller_cmd", "the window staff's caller terminal (Kivy)"),
    "led": ("callers.led_bridge", "drive LED window strips and hall LED screens from the bus"),
    "keypad": ("callers.keypad_bridge", "bridge hardware caller keypads and rating pads to the bus"),
}


def register(sub) -> None:
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue                  # not built yet, or not installed on this box
        p = sub.add_parser(name, help=help_text)
        add_device_options(p)
        module.add_arguments(p)
        p.set_defaults(func=module.main)
