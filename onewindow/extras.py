"""Optional parts of OneWindow (pip extras): when one is missing, one line says what to install,
instead of an ImportError's traceback."""

from __future__ import annotations

import importlib

# the module imported -> (what needs it, how to install it)
EXTRAS = {
    "kivy": (
        "the kiosk, display, caller and manager screens need Kivy",
        "pip install 'onewindow[ui]' (in a checkout: .venv/bin/pip install -e '.[ui]')",
    ),
    "smartcard": (
        "social security cards need pyscard",
        "apt-get install swig libpcsclite-dev pcscd, then pip install 'onewindow[pcsc]' "
        "(in a checkout: .venv/bin/pip install -e '.[pcsc]')",
    ),
}


def install_hint(module: str) -> str:
    need, install = EXTRAS[module]
    return f"{need}, which is not installed here: {install}"


class MissingExtra(SystemExit):
    """Ends the command with the hint as its one line (exit status 1)."""

    def __init__(self, module: str):
        super().__init__(f"onewindow: {install_hint(module)}")
        self.module = module


def require(module: str) -> None:
    """Import `module` (a key of EXTRAS) or end with the line saying how to install it."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module and not (exc.name or "").startswith(module + "."):
            raise  # the extra is there but something it needs is not
        raise MissingExtra(module) from None
