"""WAL checkpoints on a thread of their own, off the controller's commits, in its quiet moments.

SQLite's automatic checkpoint runs inside whichever COMMIT crosses the WAL's size threshold: that
commit then also copies the WAL into the database and syncs it, which on the hall's disk turned a
0.3 ms commit into a 20 ms one, and a call into a late one. The controller's connection turns the
automatic checkpoint off; this thread, on its own connection, checkpoints passively (never
waiting for the writer). A checkpoint still syncs the database file, and a commit's own sync
issued meanwhile waits for the disk: so it runs once the WAL has been quiet for QUIET_S (the
controller between requests), or after LATEST_S in a hall that is never quiet. Once a second,
as before, put a sync beside one busy call in every few dozen.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

EVERY_S = 0.1  # how often the WAL is looked at
QUIET_S = 0.25  # no write to the WAL for this long: the controller is between requests
LATEST_S = 10.0  # ... and in a hall that never pauses, a checkpoint at least this often
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
        done_upto = 0.0  # the WAL's modification time when it was last checkpointed
        done_at = time.monotonic()
        try:
            while not self._stop.wait(EVERY_S):
                try:
                    st = self.wal.stat()
                    if st.st_size < MIN_WAL_BYTES or st.st_mtime <= done_upto:
                        continue  # small, or nothing written since the last checkpoint
                    quiet = time.time() - st.st_mtime >= QUIET_S
                    if quiet or time.monotonic() - done_at >= LATEST_S:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        done_upto, done_at = st.st_mtime, time.monotonic()
                except FileNotFoundError:
                    pass
                except sqlite3.Error as exc:  # busy or full: the next round tries again
                    log.warning("WAL checkpoint skipped: %s", exc)
        finally:
            db.close()
