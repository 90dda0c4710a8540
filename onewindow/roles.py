"""Who is on the bus: the device roles, defined once, and a device as the controller sees it."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("kiosk", "caller", "display", "led", "rating", "manager", "web", "notifier")
WINDOW_ROLES = ("caller", "rating")  # roles bound to windows


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    windows: frozenset = frozenset()
