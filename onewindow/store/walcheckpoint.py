"""WAL checkpoints on a thread of their own, off the controller's commits.

SQLite's automatic checkpoint runs inside whichever COMMIT crosses the WAL's size threshold: that
commit then also copies the WAL into the database and syncs it, which on the hall's disk turned a
0.3 ms commit into a 20 ms one, and a call into a late one. The controller's connection turns the
automatic checkpoint off; this thread, on its own connection, checkpoints passively (never
waiting for the writer) whenever the WAL has grown.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

EVERY_S = 1.0  # how often the WAL's size is looked at
MIN_WAL_BYTES = 256 << 10  # smaller than this, a checkpoint is not worth the sync


class Checkpointer:
    def __init__(self, path: Path):
        self.path = path
        self.wal = Path(f"{path}-wal")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=1.0
        )
        try:
            while not self._stop.wait(EVERY_S):
                try:
                    if self.wal.stat().st_size >= MIN_WAL_BYTES:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except FileNotFoundError:
                    pass
                except sqlite3.Error as exc:  # busy or full: the next round tries again
                    log.warning("WAL checkpoint skipped: %s", exc)
        finally:
            db.close()
