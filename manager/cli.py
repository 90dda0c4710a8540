"""`onewindow manager`: the PIN-protected manager console."""
from __future__ import annotations

import importlib

from onewindow.apps import add_device_options


def register(sub) -> None:
    try:
        module = importlib.import_module("manager.manager_cmd")
    except ModuleNotFoundError as exc:
        if exc.name != "manager.manager_cmd":
            raise
        return
    p = sub.add_parser("manager", help="the manager console (Kivy touch app, PIN)")
    add_device_options(p)
    module.add_arguments(p)
    p.set_defaults(func=module.main)
