"""Opening a hall: config file versus the managers' saved changes, the data dir, the key, the clock."""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from .controller import Controller
from .hallconfig import load_file, parse
from .store import Store

log = logging.getLogger(__name__)

SECRET_FILE = "citizen.key"
DB_FILE = "hall.db"


def hall_clock(timezone: str) -> Callable[[], datetime]:
    tz = ZoneInfo(timezone)
    return lambda: datetime.now(tz)


def load_secret(data_dir: Path) -> bytes:
    """The key for citizens' hashed ID numbers; kept beside, not inside, the database."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
    return path.read_bytes()


def open_hall(config_path: str | Path, data_dir: str | Path,
              clock: Optional[Callable[[], datetime]] = None) -> Controller:
    """Validate the file, then decide what config the hall runs with.

    The file is the installer's: when it changed since it was last loaded, it wins. Otherwise the
    database's copy, which carries the managers' changes made by touch, is used.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    hall, raw = load_file(config_path)               # ConfigError before anything else happens
    source_hash = hashlib.sha256(Path(config_path).read_bytes()).hexdigest()
    store = Store(data_dir / DB_FILE)
    saved = store.config()
    clock = clock or hall_clock(hall.timezone)
    if saved and saved["source_hash"] == source_hash:
        raw = saved["raw"]
        hall = parse(raw, f"{data_dir / DB_FILE} (managers' changes)")
    else:
        if saved:
            log.warning("%s changed since it was last loaded: it replaces the saved settings", config_path)
        with store.transaction():
            store.save_config(raw, source_hash, clock(), "config-file")
            store.audit(clock(), "controller", "config_load", detail={"file": str(config_path)})
    return Controller(hall, raw, store, clock, load_secret(data_dir), source_hash)
