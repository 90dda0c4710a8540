"""The hall database's schema, as ordered versioned steps, and the upgrade that applies them.

The version lives in the database (`meta` row `schema`, where the first release kept it, so
that release refuses a newer database). Opening a database older than this code takes a copy of
it first (`hall.db.schema-N-TIME.bak`, beside it), then applies the missing steps and the new
version in one transaction: an upgrade that fails changes nothing. A database newer than this
code is refused, since this code would misread it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database could not be used (disk full, file damaged, locked by another controller)."""


# The first release's tables, exactly as it made them (step 1 below). Never edit a released
# step: a change to the tables is a new step at the end of MIGRATIONS.
_RELEASE1 = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1), raw TEXT NOT NULL, source_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS counters (
    day TEXT NOT NULL, prefix TEXT NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (day, prefix))""",
    """CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, day TEXT NOT NULL, prefix TEXT NOT NULL, seq INTEGER NOT NULL,
    number TEXT NOT NULL, service TEXT NOT NULL, channel TEXT NOT NULL, issued_at TEXT NOT NULL,
    order_at TEXT NOT NULL, status TEXT NOT NULL, priority TEXT, appointment_id TEXT,
    slot_start TEXT, citizen_key TEXT, citizen_masked TEXT, target_window INTEGER,
    window INTEGER, called_at TEXT, served_at TEXT, finished_at TEXT, skipped_at TEXT,
    recalls INTEGER NOT NULL DEFAULT 0, transfers INTEGER NOT NULL DEFAULT 0,
    origin_service TEXT, answers TEXT, printed INTEGER NOT NULL DEFAULT 1,
    UNIQUE (day, prefix, seq))""",
    "CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, day)",
    "CREATE INDEX IF NOT EXISTS tickets_citizen ON tickets (citizen_key)",
    """CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, device TEXT NOT NULL,
    action TEXT NOT NULL, ticket_id TEXT, window INTEGER, from_status TEXT, to_status TEXT,
    detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TABLE IF NOT EXISTS replies (
    device TEXT NOT NULL, req_id TEXT NOT NULL, at TEXT NOT NULL, reply TEXT NOT NULL,
    PRIMARY KEY (device, req_id))""",
    """CREATE TABLE IF NOT EXISTS windows (
    number INTEGER PRIMARY KEY, status TEXT NOT NULL, staff TEXT, reason TEXT,
    since TEXT NOT NULL, streak INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS appointments (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, slot_start TEXT NOT NULL, day TEXT NOT NULL,
    citizen_key TEXT NOT NULL, citizen_masked TEXT, status TEXT NOT NULL, channel TEXT NOT NULL,
    created_at TEXT NOT NULL, ticket_id TEXT)""",
    "CREATE INDEX IF NOT EXISTS appointments_slot ON appointments (service, slot_start)",
    "CREATE INDEX IF NOT EXISTS appointments_citizen ON appointments (citizen_key, day)",
    """CREATE TABLE IF NOT EXISTS ratings (
    id TEXT PRIMARY KEY, ticket_id TEXT, window INTEGER, service TEXT, staff TEXT,
    level INTEGER NOT NULL, channel TEXT NOT NULL, reasons TEXT, text TEXT, at TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1, follow_status TEXT, contact_by TEXT, rectify_by TEXT)""",
    "CREATE INDEX IF NOT EXISTS ratings_ticket ON ratings (ticket_id)",
    "CREATE TABLE IF NOT EXISTS alerts (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
)

# (version, what it changes, statements): step N turns a schema N-1 database into schema N.
# They run in order, all in one transaction, after a copy of the database was taken.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "the first release's tables", _RELEASE1),
    (
        2,
        "schema_log: when each upgrade ran, from which schema, and its safety copy",
        (
            """CREATE TABLE schema_log (
         version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, from_version INTEGER NOT NULL,
         backup TEXT)""",
        ),
    ),
    (
        3,
        "config.file_raw: the hall file as last loaded, the base of the file/console merge",
        ("ALTER TABLE config ADD COLUMN file_raw TEXT",),
    ),
    (
        4,
        "好差评 follow-up: the rater (masked), the citizen's phone (encrypted, masked, purge "
        "date), when the case was contacted and closed; the statuses of GB/T 39046 "
        "(open, rectifying, done, invalid, cannot_rectify); rating_notes, append-only",
        (
            "ALTER TABLE ratings ADD COLUMN rater_masked TEXT",
            "ALTER TABLE ratings ADD COLUMN contacted_at TEXT",
            "ALTER TABLE ratings ADD COLUMN closed_at TEXT",
            "ALTER TABLE ratings ADD COLUMN phone_token TEXT",
            "ALTER TABLE ratings ADD COLUMN phone_masked TEXT",
            "ALTER TABLE ratings ADD COLUMN phone_purge_by TEXT",
            "UPDATE ratings SET follow_status = 'rectifying' WHERE follow_status = 'contacted'",
            "UPDATE ratings SET follow_status = 'done' WHERE follow_status IN ('rectified', 'closed')",
            "CREATE INDEX IF NOT EXISTS ratings_at ON ratings (at)",
            """CREATE TABLE rating_notes (
         seq INTEGER PRIMARY KEY AUTOINCREMENT, rating_id TEXT NOT NULL, at TEXT NOT NULL,
         device TEXT NOT NULL, staff TEXT, action TEXT NOT NULL, from_status TEXT,
         to_status TEXT, note TEXT NOT NULL)""",
            "CREATE INDEX rating_notes_rating ON rating_notes (rating_id, seq)",
            """CREATE TRIGGER rating_notes_no_update BEFORE UPDATE ON rating_notes
         BEGIN SELECT RAISE(ABORT, 'the follow-up notes are append-only'); END""",
            """CREATE TRIGGER rating_notes_no_delete BEFORE DELETE ON rating_notes
         BEGIN SELECT RAISE(ABORT, 'the follow-up notes are append-only'); END""",
        ),
    ),
    (
        5,
        "tickets.staff, staff_name: who called the ticket (the window's staff then), for the "
        "per-staff 晒成绩单",
        (
            "ALTER TABLE tickets ADD COLUMN staff TEXT",
            "ALTER TABLE tickets ADD COLUMN staff_name TEXT",
        ),
    ),
    (
        6,
        "挂起 (hold): until when a held ticket stays reserved at its window, how often it was held",
        (
            "ALTER TABLE tickets ADD COLUMN held_until TEXT",
            "ALTER TABLE tickets ADD COLUMN holds INTEGER",
        ),
    ),  # NULL: before holds existed
    (
        7,
        "绿色通道: the priority a citizen declared at a kiosk, and the staff's check of it",
        (
            "ALTER TABLE tickets ADD COLUMN declared TEXT",
            "ALTER TABLE tickets ADD COLUMN priority_check TEXT",
        ),
    ),
    (
        8,
        "容缺受理: cases accepted with missing materials, their deadline, and the 补件 ticket",
        (
            "ALTER TABLE tickets ADD COLUMN supplement TEXT",
            """CREATE TABLE cases (
         id TEXT PRIMARY KEY, number TEXT NOT NULL, service TEXT NOT NULL,
         window INTEGER NOT NULL, citizen_key TEXT, citizen_masked TEXT,
         materials TEXT NOT NULL, accepted_at TEXT NOT NULL, due TEXT NOT NULL,
         status TEXT NOT NULL, returned_at TEXT, return_ticket_id TEXT)""",
            "CREATE INDEX cases_citizen ON cases (citizen_key, status)",
            "CREATE INDEX cases_status ON cases (status, due)",
        ),
    ),
    (
        9,
        "the uplink's outbox: every hall event, numbered without gaps (uplink.last_seq, moved "
        "in the transaction of the change it tells), kept until the city acknowledges it",
        (
            """CREATE TABLE outbox (
         seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL)""",
            """CREATE TABLE uplink (
         id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL,
         acked INTEGER NOT NULL)""",
            "INSERT INTO uplink VALUES (1, 0, 0)",
        ),
    ),
    (
        10,
        "the citizen's phone: call-ahead notices (the mobile number sealed with the phone "
        "vault's key, and masked; each stage's state) and numbers taken from phones (the "
        "browser's keyed hash, for the per-phone limit); both purged at the day's end",
        (
            """CREATE TABLE notices (
         ticket_id TEXT PRIMARY KEY, day TEXT NOT NULL, phone_token TEXT NOT NULL,
         phone_masked TEXT NOT NULL, lang TEXT NOT NULL, created_at TEXT NOT NULL,
         ahead_state TEXT, ahead_at TEXT, call_state TEXT, call_at TEXT)""",
            "CREATE INDEX notices_day ON notices (day)",
            """CREATE TABLE phone_tickets (
         ticket_id TEXT PRIMARY KEY, day TEXT NOT NULL, phone_key TEXT NOT NULL)""",
            "CREATE INDEX phone_tickets_day ON phone_tickets (day, phone_key)",
        ),
    ),
    (
        11,
        "一表申请: each ticket's filled form, sealed with the forms key (never in clear), kept "
        "for the ticket's day or its 容缺 case's due day",
        (
            """CREATE TABLE forms (
         ticket_id TEXT PRIMARY KEY, day TEXT NOT NULL, sealed TEXT NOT NULL,
         keep_until TEXT)""",
        ),
    ),
    (
        12,
        "the uplink's bound: the events given up unacknowledged after [uplink] keep_days",
        ("ALTER TABLE uplink ADD COLUMN given_up INTEGER NOT NULL DEFAULT 0",),
    ),
    (
        13,
        "appointments from the provincial platform: the platform's booking id, one booking "
        "per id whatever number of times it arrives (over the uplink or from a file)",
        (
            "ALTER TABLE appointments ADD COLUMN platform_id TEXT",
            "CREATE UNIQUE INDEX appointments_platform ON appointments (platform_id) "
            "WHERE platform_id IS NOT NULL",
        ),
    ),
    (
        14,
        "where the citizen's identity came from (card: read by a kiosk, staff: at the duty "
        "desk, typed: a number typed on a phone, a claim): a typed one opens no 容缺 case and "
        "gives no power over the holder's bookings; a phone's booking keeps the phone's keyed "
        "hash, so that the phone sees and cancels its own bookings only",
        (
            "ALTER TABLE tickets ADD COLUMN citizen_from TEXT",
            "ALTER TABLE appointments ADD COLUMN citizen_from TEXT",
            "ALTER TABLE appointments ADD COLUMN phone_key TEXT",
            # what the web pages took before this release was typed, whatever it was marked
            "UPDATE tickets SET citizen_from = 'typed' "
            "WHERE channel = 'web' AND citizen_key IS NOT NULL",
            "UPDATE appointments SET citizen_from = 'typed' WHERE channel = 'web'",
            "CREATE INDEX appointments_phone ON appointments (phone_key, day) "
            "WHERE phone_key IS NOT NULL",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        is not None
    )


def database_version(db: sqlite3.Connection) -> int:
    """The schema a database is at; 0 for a new, empty file."""
    if not _has_table(db, "meta"):
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return int(row[0]) if row else 0


def copy_database(db: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy of an open database, even while it is being written (SQLite's online
    backup API), made readable by its owner only and synced to disk."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    target = sqlite3.connect(str(dest))
    try:
        db.backup(target)
    finally:
        target.close()
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def migrate(
    db: sqlite3.Connection,
    path: Path,
    steps: tuple[tuple[int, str, tuple[str, ...]], ...] = MIGRATIONS,
) -> Optional[Path]:
    """Bring the database at `path` (open as `db`, in autocommit mode) to the last step's
    version; returns the copy taken first, or None when there was nothing to upgrade."""
    latest = steps[-1][0]
    found = database_version(db)
    if found > latest:
        raise StoreError(
            f"{path}: made by a newer OneWindow (schema {found}; this version knows "
            f"schema {latest} at most): run the newer OneWindow, or restore a backup "
            f"made with this one"
        )
    if found == latest:
        return None
    backup = None
    if found:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        backup = path.with_name(f"{path.name}.schema-{found}-{stamp}.bak")
        try:
            copy_database(db, backup)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{path}: cannot copy the database before upgrading it ({exc}); nothing was changed"
            ) from exc
    version = found
    db.execute("BEGIN IMMEDIATE")
    try:
        for version, _what, statements in steps:
            if version > found:
                for sql in statements:
                    db.execute(sql)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(latest),))
        if _has_table(db, "schema_log"):
            db.execute(
                "INSERT OR REPLACE INTO schema_log VALUES (?, ?, ?, ?)",
                (
                    latest,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    found,
                    backup.name if backup else None,
                ),
            )
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        db.execute("ROLLBACK")
        kept = f"; the copy taken before is {backup}" if backup else ""
        raise StoreError(
            f"{path}: upgrading from schema {found} failed at step {version} "
            f"({exc}); nothing was changed{kept}"
        ) from exc
    if found:
        log.warning(
            "%s upgraded from schema %d to %d; the copy taken before is %s",
            path,
            found,
            latest,
            backup,
        )
    return backup
