"""The PIN pad: shown at start and whenever the session runs out."""
from __future__ import annotations

import time

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..texts import TEXTS
from . import load_kv

MAX_TRIES = 5          # wrong PINs in a row before the pad rests
LOCKOUT_S = 60
MAX_DIGITS = 12

load_kv("pin")


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._fails = 0
        self._locked_until = 0.0

    def press(self, digit: str) -> None:
        if len(self.entered) < MAX_DIGITS:
            self.entered += digit

    def back(self) -> None:
        self.entered = self.entered[:-1]

    def submit(self) -> None:
        left = self._locked_until - time.monotonic()
        if left > 0:
            self.entered = ""
            self.message = TEXTS("pin_locked", s=int(left) + 1)
            return
        entered, self.entered = self.entered, ""
        if App.get_running_app().check_pin(entered):
            self._fails = 0
            self.message = ""
            return
        self._fails += 1
        self.message = TEXTS("pin_wrong")
        if self._fails >= MAX_TRIES:
            self._fails = 0
            self._locked_until = time.monotonic() + LOCKOUT_S
            self.message = TEXTS("pin_locked", s=LOCKOUT_S)

    def reset(self, reason: str = "") -> None:
        self.entered = ""
        self.message = reason
