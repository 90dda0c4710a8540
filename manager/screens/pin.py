"""The PIN pad: shown at start and whenever the session runs out. The hall's controller checks
the PIN (one PIN for every console, `onewindow pin set`) and locks out guessing."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..texts import TEXTS
from . import load_kv

MAX_DIGITS = 12

load_kv("pin")


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")
    checking = BooleanProperty(False)

    def press(self, digit: str) -> None:
        if len(self.entered) < MAX_DIGITS:
            self.entered += digit

    def back(self) -> None:
        self.entered = self.entered[:-1]

    def submit(self) -> None:
        if self.checking or not self.entered:
            return
        entered, self.entered = self.entered, ""
        self.checking = True
        self.message = TEXTS("pin_checking")
        App.get_running_app().check_pin(entered, self._answered)

    def _answered(self, message: str) -> None:
        self.checking = False
        self.message = message

    def reset(self, reason: str = "") -> None:
        self.entered = ""
        self.message = reason
