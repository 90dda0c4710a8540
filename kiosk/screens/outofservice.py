"""Out of service: the controller or broker cannot be reached; the kiosk recovers by itself."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen

from ..widgets import load_kv

load_kv("outofservice.kv")


class OutOfServiceScreen(Screen):
    pass
