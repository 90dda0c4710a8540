"""The WAL checkpointer: the database file takes the WAL's pages in the writer's quiet moments,
not while it writes, and never later than LATEST_S."""

from __future__ import annotations

import sqlite3
import time

from busutil import wait_for
from onewindow.store import walcheckpoint
from onewindow.store.walcheckpoint import Checkpointer

ROW = "x" * 4000  # a page a row: the WAL passes its 256 KB threshold in 70 rows


def writer(path):
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # as the store's connection
    db.execute("CREATE TABLE t (v TEXT)")
    return db


def test_a_quiet_wal_is_checkpointed_into_the_database_file(tmp_path):
    path = tmp_path / "hall.db"
    db = writer(path)
    cp = Checkpointer(path)
    try:
        before = path.stat().st_size
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", (ROW,))
        assert (tmp_path / "hall.db-wal").stat().st_size > 256 << 10
        assert wait_for(lambda: path.stat().st_size > before + (300 << 10), 5)
    finally:
        cp.stop()
        db.close()


def test_a_busy_writer_is_not_interrupted_until_the_latest(tmp_path, monkeypatch):
    monkeypatch.setattr(walcheckpoint, "LATEST_S", 2.0)
    monkeypatch.setattr(walcheckpoint, "QUIET_S", 1.0)  # a loaded CI box may pause the writer
    path = tmp_path / "hall.db"
    db = writer(path)
    cp = Checkpointer(path)
    try:
        before = path.stat().st_size
        started = time.monotonic()
        sizes = []
        # a write every 50 ms (never quiet for QUIET_S) for 3 s
        while time.monotonic() - started < 3.0:
            db.execute("INSERT INTO t VALUES (?)", (ROW,))
            sizes.append((time.monotonic() - started, path.stat().st_size))
            time.sleep(0.05)
        grew = [at for at, size in sizes if size > before]
        assert grew, "never checkpointed, though LATEST_S passed"
        assert grew[0] >= 1.8, f"checkpointed {grew[0]:.2f} s in, while the writer was busy"
    finally:
        cp.stop()
        db.close()
