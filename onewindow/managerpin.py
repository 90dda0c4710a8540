"""The hall's manager PIN: one for every console, kept hashed in the data dir, checked by the
controller (which also locks out guessing), changed with `onewindow pin set`.

A PIN is short, so its hash alone would not resist an offline guesser; what protects it is the
file's mode (0600, beside the hall's other keys) and the controller's lockout on the bus.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import secrets
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

PIN_FILE = "manager.pin"
SESSION_S = 900  # a console stays logged in this long after its last request
ROUNDS = 20_000  # ~10 ms on the controller's thread: rare, and cheap enough there
MIN_DIGITS, MAX_DIGITS = 4, 12


class PinError(ValueError):
    """A PIN that cannot be used; the message says why."""


class Consoles:
    """The controller's memory of manager consoles: who is logged in until when, and each
    console's recent wrong PINs (its lockout)."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._fails: dict[str, list[datetime]] = {}

    def in_session(self, device_id: str, now: datetime) -> bool:
        """Logged in and not idle past SESSION_S; each request renews it."""
        until = self._until.get(device_id)
        if until is None or now >= until:
            self._until.pop(device_id, None)
            return False
        self._until[device_id] = now + timedelta(seconds=SESSION_S)
        return True

    def logged_in(self, device_id: str, now: datetime) -> None:
        self._fails.pop(device_id, None)
        self._until[device_id] = now + timedelta(seconds=SESSION_S)

    def logged_out(self, device_id: str) -> bool:
        return self._until.pop(device_id, None) is not None

    def recent_fails(self, device_id: str, now: datetime, within_s: int) -> list[datetime]:
        fails = [t for t in self._fails.get(device_id, []) if now - t < timedelta(seconds=within_s)]
        self._fails[device_id] = fails
        return fails

    def failed(self, device_id: str, now: datetime) -> None:
        self._fails.setdefault(device_id, []).append(now)


def valid(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        raise PinError(f"the PIN must be {MIN_DIGITS}-{MAX_DIGITS} digits (0-9)")
    return pin


def _digest(pin: str, salt: bytes, rounds: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, rounds)


def set_pin(data_dir: str | Path, pin: str) -> Path:
    """Write the PIN's hash (atomically, 0600); the PIN itself is never stored."""
    salt = secrets.token_bytes(16)
    line = (
        f"pbkdf2-sha256${ROUNDS}${base64.b64encode(salt).decode()}$"
        f"{base64.b64encode(_digest(valid(pin), salt, ROUNDS)).decode()}\n"
    )
    path = Path(data_dir) / PIN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def check(data_dir: str | Path, pin: str) -> Optional[bool]:
    """True or False; None when the hall has no PIN yet. Read each time: a PIN changed while the
    hall runs counts at once."""
    try:
        kind, rounds, salt, digest = (Path(data_dir) / PIN_FILE).read_text().strip().split("$")
    except FileNotFoundError:
        return None
    except ValueError:
        return False  # a damaged file opens nothing
    if kind != "pbkdf2-sha256" or not (pin.isascii() and pin.isdigit()):
        return False
    return hmac.compare_digest(
        _digest(pin, base64.b64decode(salt), int(rounds)), base64.b64decode(digest)
    )


def cmd_pin(args) -> int:
    """`onewindow pin set --data-dir D`: asks twice (or reads one line with --stdin)."""
    try:
        if args.stdin:
            pin = valid(sys.stdin.readline().strip())
        else:
            pin = valid(getpass.getpass("new manager PIN: "))
            if getpass.getpass("again: ") != pin:
                print("onewindow pin: the two PINs differ; nothing changed", file=sys.stderr)
                return 2
    except PinError as exc:
        print(f"onewindow pin: {exc}; nothing changed", file=sys.stderr)
        return 2
    path = set_pin(args.data_dir, pin)
    print(f"manager PIN set ({path}); every console uses it from now on, the hall need not restart")
    return 0


def register(sub, data_arg) -> None:
    p = sub.add_parser("pin", help="set the hall's manager PIN (every console's)")
    p.add_argument("action", choices=("set",))
    data_arg(p)
    p.add_argument(
        "--stdin",
        action="store_true",
        help="read the PIN from one line of stdin (for provisioning scripts) instead of asking",
    )
    p.set_defaults(func=cmd_pin)
