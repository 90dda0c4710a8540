"""The calling side of the hall: `onewindow display`, `caller`, `led`, `keypad`."""

from __future__ import annotations

from onewindow.apps import register_command

COMMANDS = {
    "display": ("callers.display_cmd", "the hall's big calling screen (Kivy, full screen)"),
    "caller": ("callers.caller_cmd", "the window staff's caller terminal (Kivy)"),
    "led": ("callers.led_bridge", "drive LED window strips and hall LED screens from the bus"),
    "keypad": (
        "callers.keypad_bridge",
        "bridge hardware caller keypads and rating pads to the bus",
    ),
}


def register(sub) -> None:
    for name, (module_name, help_text) in COMMANDS.items():
        register_command(sub, name, module_name, help_text)
    from .voice_cmd import register as register_voice

    register_voice(sub)
