"""The hall's durable memory: SQLite in WAL mode with full sync, one writer (the controller)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Optional

from .. import lograte
from ..domain.model import Ticket, TicketStatus
from .base import StoreBase, _json
from .cases import CaseStore
from .migrations import StoreError, migrate
from .mobile import MobileStore
from .outbox import OutboxStore
from .ratings import RatingStore
from .walcheckpoint import Checkpointer

log = logging.getLogger(__name__)

_TICKET_COLUMNS = [f.name for f in fields(Ticket)]
_DATETIME_FIELDS = {
    "issued_at",
    "order_at",
    "slot_start",
    "called_at",
    "served_at",
    "finished_at",
    "skipped_at",
    "held_until",
}


def saved_config(path: str | Path) -> Optional[dict[str, Any]]:
    """What `Store.config()` gives, read without the controller's lock (a consistent snapshot
    even while the hall runs: WAL readers never block the writer); None when there is no
    database or it has no settings yet."""
    if not Path(path).is_file():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    try:
        try:
            row = db.execute(
                "SELECT raw, source_hash, file_raw FROM config WHERE id = 1"
            ).fetchone()
        except sqlite3.OperationalError:  # a database from before the merge rule
            row = db.execute("SELECT raw, source_hash, NULL FROM config WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    if row is None:
        return None
    return {
        "raw": json.loads(row[0]),
        "source_hash": row[1],
        "file_raw": json.loads(row[2]) if row[2] else None,
    }


def saved_settings(path: str | Path) -> Optional[dict[str, Any]]:
    """The live settings a database holds (see saved_config)."""
    return (saved_config(path) or {}).get("raw")


def saved_hall_id(path: str | Path) -> Optional[str]:
    """The id of the hall a database serves; None when no hall has run on it."""
    return ((saved_settings(path) or {}).get("hall") or {}).get("id")


def _to_row(t: Ticket) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in _TICKET_COLUMNS:
        value = getattr(t, name)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, TicketStatus):
            value = value.value
        elif name == "answers" and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        elif name == "printed":
            value = int(bool(value))
        row[name] = value
    return row


def _from_row(row: sqlite3.Row) -> Ticket:
    kw = dict(row)
    for name in _DATETIME_FIELDS:
        if kw[name] is not None:
            kw[name] = datetime.fromisoformat(kw[name])
    kw["day"] = date.fromisoformat(kw["day"])
    kw["status"] = TicketStatus(kw["status"])
    kw["answers"] = json.loads(kw["answers"]) if kw["answers"] else None
    kw["printed"] = bool(kw["printed"])
    kw["holds"] = kw["holds"] or 0  # NULL in rows from before holds existed
    return Ticket(**kw)


PRIVATE = 0o600  # the database, its WAL, SHM and lock files: like the data dir's keys


def _private(path: Path, create: bool = True) -> None:
    """`path` made (empty) with PRIVATE mode, or an existing one of ours narrowed to it."""
    try:
        if create:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(PRIVATE)
    except PermissionError:
        pass  # another user's file (a copy made as root): opening it says what is wrong


class Store(RatingStore, CaseStore, OutboxStore, MobileStore, StoreBase):
    """One connection, used by one thread: the controller's."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one hall, one controller: a second process on the same data dir would hand out the
        # same numbers from its own memory
        _private(Path(f"{self.path}.lock"))
        self._lock = open(f"{self.path}.lock", "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreError(
                f"{self.path.parent}: another OneWindow controller is using this data "
                f"dir; stop it first (one hall, one controller)"
            ) from None
        try:
            # citizens' tickets and the audit log: readable by the hall's user only, as its keys
            # are; SQLite gives the -wal and -shm files the database file's mode
            for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                _private(path, create=path == self.path)
            self.db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=5.0
            )
            self.db.row_factory = sqlite3.Row
            # FULL: the WAL is synced at every commit, so a power cut loses no acknowledged ticket
            self.db.execute("PRAGMA synchronous=FULL")
            # before WAL mode: a database this code refuses is left byte for byte as it was
            migrate(self.db, self.path)
            mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            self.db.execute("PRAGMA wal_autocheckpoint=0")  # see walcheckpoint.py
            # the controller keeps the hall in memory and mostly appends: SQLite's default 2 MB
            # page cache was a twentieth of the hall process (the OS caches the file anyway)
            self.db.execute("PRAGMA cache_size=-512")
        except (sqlite3.DatabaseError, StoreError) as exc:
            db = getattr(self, "db", None)
            if db is not None:
                db.close()
            self._lock.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{self.path}: the database cannot be opened ({exc})") from exc
        self._depth = 0
        self._checkpointer = Checkpointer(self.path)
        self._reply_rows: Optional[dict[str, int]] = None  # per device, counted on demand
        self._reply_bytes = 0

    def close(self) -> None:
        self._checkpointer.stop()
        self.db.close()
        self._lock.close()  # releases the flock

    # -- alerts: a help request or a fault outlives a controller restart ---------------------

    def alerts(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: json.loads(r["body"]) for r in self.db.execute("SELECT * FROM alerts")}

    def put_alert(self, alert: dict[str, Any]) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO alerts VALUES (?, ?)",
                (alert["key"], json.dumps(alert, ensure_ascii=False)),
            )

    def drop_alert(self, key: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM alerts WHERE key = ?", (key,))

    # -- numbering ------------------------------------------------------------------------

    def clock_watch(self) -> Optional[dict[str, Any]]:
        """What the controller knows of its clock being set wrong (Controller._keep_clock_watch),
        or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'clock_watch'").fetchone()
        return json.loads(row[0]) if row else None

    def set_clock_watch(self, watch: Optional[dict[str, Any]]) -> None:
        if watch is None:
            self.db.execute("DELETE FROM meta WHERE key = 'clock_watch'")
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('clock_watch', ?)", (json.dumps(watch),)
            )

    def last_issued_day(self) -> Optional[date]:
        row = self.db.execute("SELECT MAX(day) FROM counters").fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def next_seq(self, day: date, prefix: str) -> int:
        row = self.db.execute(
            "INSERT INTO counters (day, prefix, last) VALUES (?, ?, 1) "
            "ON CONFLICT (day, prefix) DO UPDATE SET last = last + 1 RETURNING last",
            (day.isoformat(), prefix),
        ).fetchone()
        return int(row[0])

    # -- tickets ----------------------------------------------------------------------------

    def insert_ticket(self, t: Ticket) -> None:
        row = _to_row(t)
        cols = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        self.db.execute(f"INSERT INTO tickets ({cols}) VALUES ({marks})", row)

    def save_ticket(self, t: Ticket) -> None:
        row = _to_row(t)
        sets = ", ".join(f"{c} = :{c}" for c in row if c != "id")
        self.db.execute(f"UPDATE tickets SET {sets} WHERE id = :id", row)

    def ticket(self, ticket_id: str) -> Optional[Ticket]:
        row = self.db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return _from_row(row) if row else None

    def tickets(self, where: str = "1", params: Iterable[Any] = ()) -> list[Ticket]:
        rows = self.db.execute(
            f"SELECT * FROM tickets WHERE {where} ORDER BY day, order_at, seq", tuple(params)
        )
        return [_from_row(r) for r in rows]

    def count_issued(self, day: date, service: str) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM tickets WHERE day = ? AND COALESCE(origin_service, service) = ? "
                "AND appointment_id IS NULL",
                (day.isoformat(), service),
            ).fetchone()[0]
        )

    def recent_handling(self, limit_per_code: int) -> list[tuple[str, float]]:
        rows = self.db.execute(
            "SELECT service, called_at, finished_at FROM tickets WHERE status = 'done' "
            "AND called_at IS NOT NULL AND finished_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT ?",
            (limit_per_code * 50,),
        ).fetchall()
        out = []
        for r in reversed(rows):
            minutes = (
                datetime.fromisoformat(r[2]) - datetime.fromisoformat(r[1])
            ).total_seconds() / 60
            out.append((r[0], minutes))
        return out

    def open_tickets(self) -> list[Ticket]:
        """Every ticket still in play (waiting, at a window, or a no-show that may come back)."""
        active = [s.value for s in TicketStatus if not s.final]
        return self.tickets(f"status IN ({','.join('?' * len(active))})", active)

    def tickets_of_citizen(self, citizen_key: str, day: date) -> list[Ticket]:
        return self.tickets("citizen_key = ? AND day = ?", (citizen_key, day.isoformat()))

    def tickets_numbered(self, day: str, number: str) -> list[Ticket]:
        return self.tickets("day = ? AND number = ?", (day, number))

    def last_finished(self, window: int, since: datetime) -> Optional[Ticket]:
        """The last ticket a window finished since `since`, rated or not."""
        rows = self.tickets(
            "window = ? AND status = 'done' AND finished_at >= ?",
            (window, since.isoformat()),
        )
        # (all finished); at the same instant, the one called last
        return max(rows, key=lambda t: (t.finished_at or since, t.called_at or since), default=None)

    def ticket_rows(
        self, since: date, until: date, window: Optional[int] = None
    ) -> list[dict[str, Any]]:
        """Days' tickets as plain rows, for the figures."""
        where = "day >= ? AND day <= ?"
        params: list[Any] = [since.isoformat(), until.isoformat()]
        if window is not None:
            where, params = where + " AND window = ?", params + [window]
        return self.rows("tickets", where, params)

    # -- appointments ---------------------------------------------------------------------

    def appointment(self, appointment_id: str) -> Optional[dict[str, Any]]:
        rows = self.rows("appointments", "id = ?", (appointment_id,))
        return rows[0] if rows else None

    def platform_appointment(self, platform_id: str) -> Optional[dict[str, Any]]:
        """The appointment the provincial platform booked under this id, if it arrived."""
        rows = self.rows("appointments", "platform_id = ?", (platform_id,))
        return rows[0] if rows else None

    def booked_in_slot(self, service: str, slot_start: datetime) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM appointments WHERE service = ? AND slot_start = ? "
                "AND status IN ('booked', 'checked_in')",
                (service, slot_start.isoformat()),
            ).fetchone()[0]
        )

    def bookings(
        self,
        citizen_key: str,
        since: date,
        until: Optional[date] = None,
        service: Optional[str] = None,
    ) -> list[dict[str, Any]]:
        """A citizen's appointments still booked, on days since..until (one day when until=since)."""
        where = "citizen_key = ? AND day >= ? AND status = 'booked'"
        params: list[Any] = [citizen_key, since.isoformat()]
        if until is not None:
            where, params = where + " AND day <= ?", params + [until.isoformat()]
        if service is not None:
            where, params = where + " AND service = ?", params + [service]
        return sorted(self.rows("appointments", where, params), key=lambda r: r["slot_start"])

    def booked_for(self, service: str, since: date) -> int:
        """Appointments of a service still to come (booked) on days from `since`."""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM appointments WHERE service = ? AND day >= ? AND status = 'booked'",
                (service, since.isoformat()),
            ).fetchone()[0]
        )

    def add_appointment(self, row: dict[str, Any]) -> None:
        self.insert("appointments", row)

    def set_appointment(
        self, appointment_id: str, status: str, ticket_id: Optional[str] = None
    ) -> None:
        row = {"id": appointment_id, "status": status}
        if ticket_id is not None:
            row["ticket_id"] = ticket_id
        self.update("appointments", "id", row)

    # -- audit --------------------------------------------------------------------------

    def last_window_action(self, window: int, actions: Iterable[str]) -> Optional[datetime]:
        actions = tuple(actions)
        row = self.db.execute(
            f"SELECT MAX(at) FROM audit WHERE window = ? AND action IN "
            f"({','.join('?' * len(actions))})",
            (window, *actions),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def changes(self) -> int:
        """Rows changed since the connection opened (a refused op that wrote shows here)."""
        return self.db.total_changes

    def audit(
        self,
        at: datetime,
        device: str,
        action: str,
        ticket_id: str | None = None,
        window: int | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO audit (at, device, action, ticket_id, window, from_status, to_status, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at.isoformat(),
                device,
                action,
                ticket_id,
                window,
                from_status,
                to_status,
                json.dumps(detail, ensure_ascii=False) if detail else None,
            ),
        )

    def audit_rows(self, since: str = "", until: str = "\uffff") -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT * FROM audit WHERE at >= ? AND at < ? ORDER BY seq", (since, until)
        )
        return [dict(r) for r in rows]

    # -- idempotency ----------------------------------------------------------------------

    def reply(self, device: str, req_id: str) -> Optional[dict[str, Any]]:
        row = self.db.execute(
            "SELECT reply FROM replies WHERE device = ? AND req_id = ?", (device, req_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_reply(self, device: str, req_id: str, at: datetime, reply: dict[str, Any]) -> None:
        text = json.dumps(reply, ensure_ascii=False, default=str)
        self.db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?)",
            (device, req_id, at.isoformat(), text),
        )
        if self._reply_rows is not None:
            # an estimate (a rolled-back savepoint still counts): trim_replies counts again
            # before it deletes anything
            self._reply_rows[device] = self._reply_rows.get(device, 0) + 1
            self._reply_bytes += len(text.encode("utf-8"))

    def trim_replies(self, per_device: int, max_bytes: int) -> int:
        """Forget the oldest replies beyond `per_device` rows for a device, then beyond
        `max_bytes` in all; returns how many went. Cheap when nothing is over (no SQL)."""
        counts = self._reply_rows if self._reply_rows is not None else self._count_replies()
        over = [d for d, n in counts.items() if n > per_device]
        if not over and self._reply_bytes <= max_bytes:
            return 0
        counts = self._count_replies()
        gone = 0
        for device in [d for d, n in counts.items() if n > per_device]:
            # rowid order is insertion order: the newest `per_device` stay
            gone += self.db.execute(
                "DELETE FROM replies WHERE device = ? AND rowid NOT IN (SELECT rowid FROM "
                "replies WHERE device = ? ORDER BY rowid DESC LIMIT ?)",
                (device, device, per_device),
            ).rowcount
        if gone:
            counts = self._count_replies()
        while self._reply_bytes > max_bytes:
            rows = sum(counts.values())
            excess = (self._reply_bytes - max_bytes) / self._reply_bytes
            n = max(1, min(rows, int(rows * excess) + 1))
            gone += self.db.execute(
                "DELETE FROM replies WHERE rowid IN (SELECT rowid FROM replies "
                "ORDER BY rowid LIMIT ?)",
                (n,),
            ).rowcount
            counts = self._count_replies()
        if gone:
            lograte.warn(
                log,
                "trim",
                "forgot %d stored replies to stay within %d per device and %d MB in all",
                gone,
                per_device,
                max_bytes // (1024 * 1024),
            )
        return gone

    def _count_replies(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        self._reply_rows, self._reply_bytes = counts, 0
        for device, rows, size in self.db.execute(
            "SELECT device, COUNT(*), SUM(length(CAST(reply AS BLOB))) FROM replies GROUP BY device"
        ):
            counts[device] = rows
            self._reply_bytes += size or 0
        return counts

    def purge(
        self, replies_before: datetime, citizens_before: date, today: Optional[date] = None
    ) -> None:
        self.db.execute("DELETE FROM replies WHERE at < ?", (replies_before.isoformat(),))
        self._reply_rows = None
        self.db.execute(
            "UPDATE tickets SET citizen_key = NULL, citizen_masked = NULL "
            "WHERE day < ? AND citizen_key IS NOT NULL",
            (citizens_before.isoformat(),),
        )
        self.db.execute(
            "UPDATE appointments SET citizen_key = '', citizen_masked = NULL "
            "WHERE day < ? AND citizen_key != ''",
            (citizens_before.isoformat(),),
        )
        self.db.execute(
            "UPDATE cases SET citizen_key = NULL, citizen_masked = NULL "
            "WHERE substr(accepted_at, 1, 10) < ? AND citizen_key IS NOT NULL",
            (citizens_before.isoformat(),),
        )
        self.db.execute(
            "UPDATE ratings SET rater_masked = NULL WHERE substr(at, 1, 10) < ? "
            "AND rater_masked IS NOT NULL",
            (citizens_before.isoformat(),),
        )
        if today is not None:
            self.purge_mobile(today)  # call-ahead numbers live one service day
            # a follow-up phone number past its retention, even while its case is still open
            self.db.execute(
                "UPDATE ratings SET phone_token = NULL, phone_masked = NULL, "
                "phone_purge_by = NULL WHERE phone_purge_by <= ?",
                (today.isoformat(),),
            )

    # -- windows ------------------------------------------------------------------------------

    def window_rows(self) -> dict[int, dict[str, Any]]:
        out = {}
        for r in self.db.execute("SELECT * FROM windows"):
            d = dict(r)
            d["staff"] = json.loads(d["staff"]) if d["staff"] else None
            out[d["number"]] = d
        return out

    def save_window(
        self,
        number: int,
        status: str,
        staff: dict[str, Any] | None,
        reason: str | None,
        since: datetime,
        streak: int,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?, ?, ?)",
            (
                number,
                status,
                json.dumps(staff, ensure_ascii=False) if staff else None,
                reason,
                since.isoformat(),
                streak,
            ),
        )

    # -- configuration ----------------------------------------------------------------------

    def config(self) -> Optional[dict[str, Any]]:
        """The live settings (`raw`), and the hall file they were last merged with: its hash and
        its contents (`file_raw`, None in a database from before the merge rule)."""
        row = self.db.execute(
            "SELECT raw, source_hash, file_raw FROM config WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return {
            "raw": json.loads(row[0]),
            "source_hash": row[1],
            "file_raw": json.loads(row[2]) if row[2] else None,
        }

    def save_config(self, raw: dict[str, Any], at: datetime, by: str) -> None:
        """A manager's change: the live settings only; the file they came from stays."""
        self.db.execute(
            "UPDATE config SET raw = ?, updated_at = ?, updated_by = ? WHERE id = 1",
            (_json(raw), at.isoformat(), by),
        )

    def load_config_file(
        self, raw: dict[str, Any], file_raw: dict[str, Any], source_hash: str, at: datetime
    ) -> None:
        """The hall file (re)loaded: the live settings it merged into, and the file itself."""
        self.db.execute(
            "INSERT OR REPLACE INTO config (id, raw, source_hash, updated_at, "
            "updated_by, file_raw) VALUES (1, ?, ?, ?, 'config-file', ?)",
            (_json(raw), source_hash, at.isoformat(), _json(file_raw)),
        )
