"""Who is on the bus: the device roles, defined once, and a device as the controller sees it."""

from __future__ import annotations

from dataclasses import dataclass

# platform: the provincial platform's appointments, over the uplink or from a file
ROLES = ("kiosk", "caller", "display", "led", "rating", "manager", "web", "notifier", "platform")
WINDOW_ROLES = ("caller", "rating")  # roles bound to windows


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    windows: frozenset = frozenset()
