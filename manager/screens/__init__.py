"""The console's screens; each loads its own kv file next to the others in manager/kv."""

from __future__ import annotations

from pathlib import Path

from kivy.uix.screenmanager import Screen

from onewindow import uikit

from .. import widgets  # noqa: F401  (their kv rules first: screens build on them)

KV = Path(__file__).resolve().parent.parent / "kv"


def load_kv(name: str) -> None:
    uikit.load_kv(KV / f"{name}.kv")


def minutes(value) -> str:
    from ..texts import TEXTS

    return "—" if value is None else TEXTS("minutes", v=value)


class ConsoleScreen(Screen):
    """A tab: `shown` when picked, `update` with what changed ('all', 'hall', 'queues', 'window',
    'config', 'figures', 'ratings')."""

    def shown(self, app) -> None:
        pass

    def update(self, app, dirty: set) -> None:
        pass
