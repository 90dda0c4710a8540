"""`onewindow kiosk`: the citizen's self-service terminal."""

from __future__ import annotations

from onewindow.apps import register_command


def register(sub) -> None:
    register_command(sub, "kiosk", "kiosk.kiosk_cmd", "the self-service kiosk (Kivy touch app)")
