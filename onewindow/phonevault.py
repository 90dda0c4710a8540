"""Personal data the hall must keep for a while, encrypted with Fernet (the `cryptography`
package) under a key kept in the data dir beside the citizen key, never in hall.db; so a copy
of the database alone holds none of it. Two vaults, one key file each: a citizen's phone
number for a bad rating's follow-up (`followup.key`), and the filled 一表申请 forms that travel
with tickets (`forms.key`, ops_forms.py). Without the package the hall takes neither (the QR
page does not ask for a phone, the kiosk offers no form), rather than keep them in clear."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

PHONE_KEY_FILE = "followup.key"
FORM_KEY_FILE = "forms.key"
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mainland mobile number, 11 digits


class VaultError(Exception):
    """A sealed value cannot be opened (the key file was replaced or lost)."""


def available() -> bool:
    # found, not imported: loading it costs the controller 10 MB, wanted only for a phone
    try:
        return importlib.util.find_spec("cryptography.fernet") is not None
    except ImportError:
        return False


class Vault:
    """Seal and open text under the key in `data_dir/key_file`, made on first use (0600)."""

    def __init__(self, data_dir: str | Path, key_file: str):
        self.path = Path(data_dir) / key_file
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

    def seal(self, text: str) -> str:
        return self._box().encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._box().decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise VaultError(
                f"{self.path}: this key did not seal it (key file replaced "
                f"or restored from another hall?)"
            ) from None


class PhoneVault(Vault):
    def __init__(self, data_dir: str | Path):
        super().__init__(data_dir, PHONE_KEY_FILE)


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


def open_form_vault(data_dir: str | Path) -> Optional[Vault]:
    """The vault of filled forms, or None (said once in the log) without `cryptography`."""
    if not available():
        log.warning(
            "the cryptography package is not installed: kiosks will offer no 一表申请 form "
            "(pip install cryptography, or apt-get install python3-cryptography)"
        )
        return None
    return Vault(data_dir, FORM_KEY_FILE)
