"""Widgets tests can find: each carries a `test_id` that the test hooks (uikit.TargetsFile) report."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton


class TLabel(Label):
    test_id = StringProperty("")


class TButton(Button):
    test_id = StringProperty("")


class TToggle(ToggleButton):
    test_id = StringProperty("")


class TInput(TextInput):
    test_id = StringProperty("")


# the looks of the classes above, loaded before any screen's kv so that screens may restyle them
Builder.load_file(str(Path(__file__).parent / "kv" / "widgets.kv"))
