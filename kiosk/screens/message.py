"""A short message with one button back (help is coming, a refusal the citizen must read)."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..widgets import load_kv

load_kv("message.kv")


class MessageScreen(Screen):
    message = StringProperty("")
    kind = StringProperty("info")

    def prepare(self, message: str, kind: str = "info") -> None:
        self.message, self.kind = message, kind
