"""A citizen's phone number for a bad rating's follow-up: encrypted with Fernet (the
`cryptography` package) under a key kept in the data dir beside the citizen key, never in
hall.db; so a copy of the database alone holds no number. Without the package the hall takes
no phone numbers at all (the QR page does not ask), rather than keep them in clear."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

PHONE_KEY_FILE = "followup.key"
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mainland mobile number, 11 digits


class VaultError(Exception):
    """A sealed number cannot be opened (the key file was replaced or lost)."""


def available() -> bool:
    # found, not imported: loading it costs the controller 10 MB, wanted only for a phone
    try:
        return importlib.util.find_spec("cryptography.fernet") is not None
    except ImportError:
        return False


class PhoneVault:
    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / PHONE_KEY_FILE
        self._fernet = None

    def _box(self):
        if self._fernet is None:
            from cryptography.fernet import Fernet

            if not self.path.exists():
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(Fernet.generate_key())
                    f.flush()
                    os.fsync(f.fileno())
            self._fernet = Fernet(self.path.read_bytes().strip())
        return self._fernet

    def seal(self, phone: str) -> str:
        return self._box().encrypt(phone.encode("ascii")).decode("ascii")

    def open(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._box().decrypt(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise VaultError(
                f"{self.path}: this key did not seal the number (key file replaced "
                f"or restored from another hall?)"
            ) from None


def open_vault(data_dir: str | Path) -> Optional[PhoneVault]:
    """The hall's vault, or None (said once in the log) when `cryptography` is not installed."""
    if not available():
        log.warning(
            "the cryptography package is not installed: the QR page will not ask for "
            "a phone number for the follow-up of bad ratings (pip install cryptography, "
            "or apt-get install python3-cryptography for a system Python)"
        )
        return None
    return PhoneVault(data_dir)
