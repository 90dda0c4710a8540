"""Files OneWindow ships that are not code (the sample hall in config/, assets/): beside the
packages in a checkout, under share/onewindow/ when installed (setup.py's data_files)."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(relative: str) -> Path:
    """`shipped("assets/fonts.toml")`: the checkout's copy if there is one, else the installed
    one (the path where it should be, so that a missing file is named in the error)."""
    here = CHECKOUT / relative
    if here.exists():
        return here
    # a venv or Debian's /usr/local (sysconfig's data path), else the interpreter's prefix
    for root in dict.fromkeys((sysconfig.get_path("data"), sys.prefix)):
        installed = Path(root) / "share" / "onewindow" / relative
        if installed.exists():
            return installed
    return Path(sys.prefix) / "share" / "onewindow" / relative
