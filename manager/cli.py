"""`onewindow manager`: the PIN-protected manager console."""

from __future__ import annotations

from onewindow.apps import register_command


def register(sub) -> None:
    register_command(
        sub, "manager", "manager.manager_cmd", "the manager console (Kivy touch app, PIN)"
    )
