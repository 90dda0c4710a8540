"""`onewindow kiosk`: the citizen's self-service terminal."""
from __future__ import annotations

import importlib

from onewindow.apps import add_device_options


def register(sub) -> None:
    try:
        module = importlib.import_module("kiosk.kiosk_cmd")
    except ModuleNotFoundError as exc:
        if exc.name != "kiosk.kiosk_cmd":
            raise
        return
    p = sub.add_parser("kiosk", help="the self-service kiosk (Kivy touch app)")
    add_device_options(p)
    module.add_arguments(p)
    p.set_defaults(func=module.main)
