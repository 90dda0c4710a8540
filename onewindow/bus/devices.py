"""Device identities of one hall: id, role, bound windows and a hashed secret, kept in the data dir."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..roles import ROLES, WINDOW_ROLES, Device
from .topics import CONTROLLER

REGISTRY_FILE = "devices.json"
CONTROLLER_ID = CONTROLLER  # the hall controller's own MQTT user
# the bridge to the city: its local user in the hall's ACL (bridge.py), the device the
# platform's appointments come from (bus/service.py), and its client id's prefix
BRIDGE_USER = "uplink"
BRIDGE_CLIENT_PREFIX = "ow-uplink-"
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PBKDF2_ROUNDS = 101  # what mosquitto_passwd writes for $7$ (sha512)


class DeviceError(Exception):
    """A device cannot be added, found or removed; the message says why."""


def hash_secret(secret: str, salt: Optional[bytes] = None) -> str:
    """Mosquitto's own format ($7$ = PBKDF2-SHA512), so one hash serves both brokers."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, PBKDF2_ROUNDS)
    return (
        f"$7${PBKDF2_ROUNDS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def check_secret(secret: str, hashed: str) -> bool:
    try:
        _, kind, rounds, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        got = hashlib.pbkdf2_hmac(
            "sha512", secret.encode("utf-8"), base64.b64decode(salt), int(rounds)
        )
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def reserved(device_id: str) -> bool:
    """A name the hall's broker already gives to the controller or the bridge: a device by
    that name would share their ACL lines (and the platform's stored replies)."""
    return device_id in (CONTROLLER_ID, BRIDGE_USER) or device_id.startswith(BRIDGE_CLIENT_PREFIX)


@dataclass
class DeviceEntry:
    id: str
    role: str
    windows: list = field(default_factory=list)
    secret_hash: str = ""
    note: str = ""

    def device(self) -> Device:
        return Device(self.id, self.role, frozenset(self.windows))


class DeviceRegistry:
    """devices.json, rewritten atomically; reads are cached and refreshed when the file changes."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / REGISTRY_FILE
        self._lock = threading.Lock()
        self._mtime = None
        self._entries: dict[str, DeviceEntry] = {}
        self._auth_cache: dict[tuple, bool] = {}

    def _load(self) -> dict[str, DeviceEntry]:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._entries, self._mtime = {}, None
            return self._entries
        if mtime != self._mtime:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self._entries = {k: DeviceEntry(**v) for k, v in raw.get("devices", {}).items()}
            self._mtime = mtime
            self._auth_cache.clear()
        return self._entries

    def _save(self, entries: dict[str, DeviceEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"devices": {k: e.__dict__ for k, e in sorted(entries.items())}}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._mtime = None

    def add(
        self,
        device_id: str,
        role: str,
        windows: list[int] | None = None,
        secret: Optional[str] = None,
        note: str = "",
    ) -> str:
        """Returns the secret (shown once; only its hash is kept)."""
        if not DEVICE_ID.match(device_id) or reserved(device_id):
            raise DeviceError(
                f"device id {device_id!r} must be 1-64 letters, digits, '-' or '_' "
                f"(and not {CONTROLLER_ID!r}, {BRIDGE_USER!r} or {BRIDGE_CLIENT_PREFIX}..., "
                f"the hall's own users on its broker)"
            )
        if role not in ROLES:
            raise DeviceError(f"role {role!r} is not one of {', '.join(ROLES)}")
        windows = sorted(set(windows or []))
        if role in WINDOW_ROLES and not windows:
            raise DeviceError(f"a {role} is bound to its window(s): add --window N")
        if windows and role not in WINDOW_ROLES:
            raise DeviceError(
                f"a {role} serves the whole hall, not a window: drop --window "
                f"(only {' and '.join(WINDOW_ROLES)} devices are bound to windows)"
            )
        # hex: a secret starting with "-" would read as an option on a command line
        secret = secret or secrets.token_hex(16)
        with self._lock:
            entries = dict(self._load())
            if device_id in entries:
                raise DeviceError(f"device {device_id!r} already exists; remove it first")
            entries[device_id] = DeviceEntry(device_id, role, windows, hash_secret(secret), note)
            self._save(entries)
        return secret

    def remove(self, device_id: str) -> None:
        with self._lock:
            entries = dict(self._load())
            if device_id not in entries:
                raise DeviceError(f"no device {device_id!r}")
            del entries[device_id]
            self._save(entries)

    def list(self) -> list[DeviceEntry]:
        with self._lock:
            return list(self._load().values())

    def get(self, device_id: str) -> Optional[DeviceEntry]:
        with self._lock:
            return self._load().get(device_id)

    def authenticate(self, device_id: str, secret: str) -> bool:
        with self._lock:
            entry = self._load().get(device_id)
            if entry is None:
                return False
            key = (device_id, secret)
            if key in self._auth_cache:  # PBKDF2 per reconnect storm would hurt
                return True
            ok = check_secret(secret, entry.secret_hash)
            if ok:  # only successes: guesses must not grow it
                self._auth_cache[key] = True
            return ok


def controller_secret(data_dir: str | Path) -> str:
    """The controller's own broker password, made on first use and kept in the data dir."""
    path = Path(data_dir) / "controller.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24))  # hex: never starts with '-' on a command line
    return path.read_text().strip()
