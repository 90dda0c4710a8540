"""The database half of `onewindow backup`: a consistent snapshot of the live hall.db, checked.

SQLite's online backup API copies the database while the controller commits (WAL readers never
block the writer); the archive around it (keys, devices, CA, manifest) is onewindow/backup.py.
The copy holds no call-ahead SMS numbers: they are the day's only, and an archive kept a week
would keep them a week (the nightly backup runs before the midnight purge).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Optional

from .db import saved_hall_id
from .migrations import StoreError, copy_database, database_version


def snapshot(db_path: Path, dest: Path) -> tuple[int, Optional[str]]:
    """The live database copied to `dest` and checked; returns its schema version and hall id.
    Raises StoreError when the database cannot be read or is damaged."""
    # read-only: a backup never writes to the hall's database, nor creates one by mistake
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10.0)
    try:
        copy_database(src, dest)
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: cannot read the database ({exc})") from exc
    finally:
        src.close()
    _drop_notices(dest)
    copy = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"{db_path}: the database is damaged ({check}); nothing was written")
        version = database_version(copy)
    finally:
        copy.close()
    return version, saved_hall_id(dest)


def _drop_notices(dest: Path) -> None:
    """The call-ahead notices (their sealed mobile numbers and masks) deleted from the copy,
    their bytes overwritten (secure_delete), not left in free pages. A hall restored the same
    day asks the citizens again: the ticket's page offers the SMS form once more."""
    db = sqlite3.connect(str(dest))
    try:
        db.execute("PRAGMA secure_delete = ON")
        found = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notices'"
        ).fetchone()
        if found:  # a database from before the phone pages (schema 10) has none
            with db:
                db.execute("DELETE FROM notices")
    except sqlite3.Error as exc:
        raise StoreError(f"{dest}: cannot clear the SMS numbers from the copy ({exc})") from exc
    finally:
        db.close()
