"""Chinese typed at the kiosk (`--pinyin`): the desktop's standard input method, fcitx5 with its
pinyin engine, running in the kiosk's X session, as on the manager console (docs/manager.md).

A kiosk has no keyboard. The form's letter pad therefore sends each touched key as an X key
event (xdotool, through XTEST, as an on-screen keyboard such as onboard does), so that it
reaches SDL and fcitx5 exactly as a hardware key would: fcitx5 composes the pinyin, shows its
candidate list, and a digit key (or the space, the first) chooses one; the chosen phrase
arrives in the Kivy text field as committed text. Kivy's own VKeyboard cannot do this: it
injects keys into Kivy past SDL, and so past the input method.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from typing import Optional

log = logging.getLogger(__name__)

TOOLS = (
    ("xdotool", "xdotool"),  # (command, Debian package)
    ("fcitx5-remote", "fcitx5"),
)
WAIT_FOR_IM_S = 20.0  # fcitx5 may start with the session a little after the kiosk
SWITCH_S = 0.3  # fcitx5 takes the on/off to the field's input context: keys wait for it


def problem() -> Optional[str]:
    """What stops pinyin input on this computer, in words; None when it can work."""
    for tool, package in TOOLS:
        if shutil.which(tool) is None:
            return f"--pinyin: {tool} is not installed (Debian package {package})"
    if not os.environ.get("DISPLAY"):
        return "--pinyin: no DISPLAY: the kiosk must run in an X session"
    deadline = time.monotonic() + WAIT_FOR_IM_S
    while True:
        try:
            out = subprocess.run(["fcitx5-remote"], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            out = None
        # fcitx5-remote prints the state: 0 no input method, 1 off, 2 on
        if out is not None and out.returncode == 0 and out.stdout.strip() in (b"1", b"2"):
            return None
        if time.monotonic() > deadline:
            return (
                "--pinyin: fcitx5 is not running in the kiosk's session (start it with the "
                "session, with DBUS_SESSION_BUS_ADDRESS set: docs/kiosk.md)"
            )
        time.sleep(0.5)


class _Rect(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


def _sdl():
    """The SDL2 library Kivy's window already runs on (found among the process's mappings)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        for line in f:
            path = line.split()[-1]
            if "libSDL2-2" in path or path.endswith("libSDL2-2.0.so.0"):
                return ctypes.CDLL(path)
    return None


def show_candidates_at(x: int, y: int, w: int, h: int) -> None:
    """Where the text being typed is, in window pixels from the top left: fcitx5 opens its
    candidate list just below it (SDL_SetTextInputRect, SDL's IME bridge), not in a corner.
    Kivy has no call for it; without the library the list stays where fcitx5 puts it."""
    try:
        lib = _sdl()
        if lib is not None:
            lib.SDL_SetTextInputRect(ctypes.byref(_Rect(x, y, w, h)))
    except (OSError, AttributeError) as exc:
        log.warning("candidate list not placed: %s", exc)


class PinyinKeys:
    """The letter pad's keys and the input method's on/off, sent in order off the UI thread."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pinyin-keys", daemon=True)
        self._thread.start()

    def pinyin(self, on: bool) -> None:
        """Pinyin on while a Chinese text field is being typed, off otherwise (set, never
        toggled, so a key fcitx5 saw late cannot leave it the wrong way round)."""
        if on:
            # a modifier alone first: SDL meets fcitx5's input context of the field on the
            # window's first key, and a letter that were that key would go through raw
            self._queue.put(["xdotool", "key", "Control_L"])
        self._queue.put(["fcitx5-remote", "-o" if on else "-c"])

    def key(self, keysym: str) -> None:
        """An X keysym: a letter, a digit, space, BackSpace, Escape."""
        self._queue.put(["xdotool", "key", "--clearmodifiers", keysym])

    def stop(self) -> None:
        self._queue.put(None)

    @staticmethod
    def _settle(on: bool) -> None:
        """The next key only once fcitx5 says it is on (or off): a key sent before would go
        through as a raw letter."""
        deadline = time.monotonic() + 1.0
        want = b"2" if on else b"1"
        while time.monotonic() < deadline:
            state = subprocess.run(["fcitx5-remote"], capture_output=True, timeout=5)
            if state.stdout.strip() == want:
                break
            time.sleep(0.05)
        time.sleep(SWITCH_S)

    def _run(self) -> None:
        while True:
            cmd = self._queue.get()
            if cmd is None:
                return
            try:
                out = subprocess.run(cmd, capture_output=True, timeout=5)
                if out.returncode:
                    log.warning("%s failed: %s", cmd[0], out.stderr.decode(errors="replace"))
                if cmd[0] == "fcitx5-remote":
                    self._settle(cmd[1] == "-o")
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("%s failed: %s", cmd[0], exc)
