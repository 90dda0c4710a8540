"""The hall's durable memory: SQLite in WAL mode with full sync, one writer (the controller)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import sqlite3
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from .. import lograte
from ..domain.model import Ticket, TicketStatus
from .migrations import StoreError, migrate
from .mobile import MobileStore
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


# what an export of ratings reads: never the phone's ciphertext (nor its masked form: the rater
# is the masked name when known)
_EXPORT_COLUMNS = (
    "id",
    "ticket_id",
    "window",
    "service",
    "staff",
    "level",
    "channel",
    "reasons",
    "text",
    "at",
    "count",
    "follow_status",
    "contact_by",
    "rectify_by",
    "rater_masked",
    "contacted_at",
    "closed_at",
)


def ratings_for_export(path: str | Path, since: date, until: date) -> dict[str, Any]:
    """The ratings given on days since..until with their tickets' numbers, and the tickets
    served those days (all and rated), read without the controller's lock (works while the hall
    runs). {settings, ratings, served, served_rated}; StoreError without a hall's database."""
    if not Path(path).is_file():
        raise StoreError(f"{path}: no hall database here (is --data-dir the hall's data dir?)")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    db.row_factory = sqlite3.Row
    span = (since.isoformat(), until.isoformat())
    try:
        cols = ", ".join(f"r.{c}" for c in _EXPORT_COLUMNS)
        ratings = [
            dict(r)
            for r in db.execute(
                f"SELECT {cols}, t.number AS ticket_number, t.day AS ticket_day FROM ratings r "
                "LEFT JOIN tickets t ON t.id = r.ticket_id WHERE substr(r.at, 1, 10) BETWEEN ? AND ? "
                "ORDER BY r.at, r.count",
                span,
            )
        ]
        served = db.execute(
            "SELECT COUNT(*) FROM tickets WHERE status = 'done' AND day BETWEEN ? AND ?", span
        ).fetchone()[0]
        served_rated = db.execute(
            "SELECT COUNT(*) FROM tickets WHERE status = 'done' AND day BETWEEN ? AND ? AND id IN "
            "(SELECT ticket_id FROM ratings WHERE count = 1)",
            span,
        ).fetchone()[0]
        row = db.execute("SELECT raw FROM config WHERE id = 1").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(
            f"{path}: cannot read the ratings ({exc}); is it an older OneWindow's "
            f"database? Start the hall once to upgrade it"
        ) from exc
    finally:
        db.close()
    return {
        "settings": json.loads(row[0]) if row else None,
        "ratings": ratings,
        "served": served,
        "served_rated": served_rated,
    }


def _json(value: Any) -> str:
    # default=str: TOML dates in the hall file become ISO strings
    return json.dumps(value, ensure_ascii=False, default=str)


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


class Store(MobileStore):
    """One connection, used by one thread: the controller's."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one hall, one controller: a second process on the same data dir would hand out the
        # same numbers from its own memory
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

    # -- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls become savepoints that roll back alone."""
        if self._depth:
            name = f"sp{self._depth}"
            self.db.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
                raise
            else:
                self.db.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

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

    def last_unrated_finished(self, window: int, since: datetime) -> Optional[Ticket]:
        """The last ticket a window finished since `since` that has no rating yet."""
        rows = self.tickets(
            "window = ? AND status = 'done' AND finished_at >= ? AND id NOT IN "
            "(SELECT ticket_id FROM ratings WHERE ticket_id IS NOT NULL)",
            (window, since.isoformat()),
        )
        return max(rows, key=lambda t: t.finished_at or since) if rows else None  # (all finished)

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

    # -- ratings ----------------------------------------------------------------------------

    def rating_of(self, ticket_id: str) -> Optional[dict[str, Any]]:
        """A transaction's first rating."""
        rows = self.rows("ratings", "ticket_id = ? AND count = 1", (ticket_id,))
        return rows[0] if rows else None

    def ratings_of(self, ticket_id: str) -> list[dict[str, Any]]:
        """A transaction's ratings: the first, and the follow-up one after rectification."""
        return self.rows("ratings", "ticket_id = ? ORDER BY count", (ticket_id,))

    def add_rating(self, row: dict[str, Any]) -> None:
        self.insert("ratings", row)

    def bad_rating(self, rating_id: str) -> Optional[dict[str, Any]]:
        """A bad rating that opened a follow-up case (a first rating at level 1 or 2)."""
        rows = self.rows(
            "ratings", "id = ? AND level <= 2 AND follow_status IS NOT NULL", (rating_id,)
        )
        return rows[0] if rows else None

    def bad_ratings(self, since: date, open_only: bool = False) -> list[dict[str, Any]]:
        """差评 cases opened since a day, newest first; open_only: not yet closed."""
        where = "level <= 2 AND follow_status IS NOT NULL AND substr(at, 1, 10) >= ?"
        if open_only:
            where += " AND follow_status IN ('open', 'rectifying')"
        return self.rows("ratings", where + " ORDER BY at DESC", (since.isoformat(),))

    def open_cases(self) -> list[dict[str, Any]]:
        """Every follow-up case not yet closed (for the overdue alerts), oldest first."""
        return self.rows("ratings", "follow_status IN ('open', 'rectifying') ORDER BY at")

    def follow_rating(self, rating_id: str, **changes: Any) -> None:
        """A case moves on: its status, when it was contacted or closed, its phone (purged)."""
        allowed = {
            "follow_status",
            "contacted_at",
            "closed_at",
            "phone_token",
            "phone_masked",
            "phone_purge_by",
        }
        bad = set(changes) - allowed
        if bad:
            raise TypeError(f"follow_rating() cannot set {sorted(bad)}")
        self.update("ratings", "id", {"id": rating_id, **changes})

    def add_rating_note(
        self,
        rating_id: str,
        at: datetime,
        device: str,
        staff: Optional[str],
        action: str,
        from_status: Optional[str],
        to_status: Optional[str],
        note: str,
    ) -> None:
        """One step of a case, with who, when and the note or evidence (append-only)."""
        self.db.execute(
            "INSERT INTO rating_notes (rating_id, at, device, staff, action, "
            "from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rating_id, at.isoformat(), device, staff, action, from_status, to_status, note),
        )

    def rating_export_row(self, rating_id: str) -> Optional[dict[str, Any]]:
        """One rating as `ratings_for_export` reads it (the uplink sends its export record)."""
        cols = ", ".join(f"r.{c}" for c in _EXPORT_COLUMNS)
        row = self.db.execute(
            f"SELECT {cols}, t.number AS ticket_number, t.day AS ticket_day FROM ratings r "
            "LEFT JOIN tickets t ON t.id = r.ticket_id WHERE r.id = ?",
            (rating_id,),
        ).fetchone()
        return dict(row) if row else None

    def rating_notes(self, rating_id: str) -> list[dict[str, Any]]:
        return self.rows("rating_notes", "rating_id = ? ORDER BY seq", (rating_id,))

    def rating_rows(
        self, since: date, until: date, window: Optional[int] = None
    ) -> list[dict[str, Any]]:
        where = "substr(at, 1, 10) >= ? AND substr(at, 1, 10) <= ?"
        params: list[Any] = [since.isoformat(), until.isoformat()]
        if window is not None:
            where, params = where + " AND window = ?", params + [window]
        return self.rows("ratings", where, params)

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

    # -- 一表申请 forms: sealed text only (ops_forms.py seals and opens) ------------------------

    def put_form(self, ticket_id: str, day: date, sealed: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO forms VALUES (?, ?, ?, NULL)",
            (ticket_id, day.isoformat(), sealed),
        )

    def form(self, ticket_id: str) -> Optional[str]:
        row = self.db.execute("SELECT sealed FROM forms WHERE ticket_id = ?", (ticket_id,))
        found = row.fetchone()
        return str(found[0]) if found else None

    def has_form(self, ticket_id: str) -> bool:
        return self.form(ticket_id) is not None

    def drop_form(self, ticket_id: str) -> None:
        self.db.execute("DELETE FROM forms WHERE ticket_id = ?", (ticket_id,))

    def keep_form(self, ticket_id: str, until: date) -> None:
        """Kept past its day, for the 容缺 case accepted on it, until the case's due day."""
        self.db.execute(
            "UPDATE forms SET keep_until = ? WHERE ticket_id = ?", (until.isoformat(), ticket_id)
        )

    def move_form(self, from_ticket: str, to_ticket: str, day: date) -> bool:
        """A 容缺 case's form goes with the citizen's 补件 ticket (and that ticket's day)."""
        cur = self.db.execute(
            "UPDATE forms SET ticket_id = ?, day = ?, keep_until = NULL WHERE ticket_id = ?",
            (to_ticket, day.isoformat(), from_ticket),
        )
        return cur.rowcount > 0

    def purge_forms(self, today: date) -> int:
        """Drop every form whose day (or case's due day) is over; how many went."""
        cur = self.db.execute(
            "DELETE FROM forms WHERE COALESCE(keep_until, day) < ?", (today.isoformat(),)
        )
        return cur.rowcount

    # -- 容缺受理 cases --------------------------------------------------------------------------

    def add_case(self, row: dict[str, Any]) -> None:
        self.insert("cases", {**row, "materials": _json(row["materials"])})

    def case(self, case_id: str) -> Optional[dict[str, Any]]:
        rows = self.cases("id = ?", (case_id,))
        return rows[0] if rows else None

    def cases(self, where: str = "1", params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        out = self.rows("cases", where + " ORDER BY due, accepted_at", params)
        for r in out:
            r["materials"] = json.loads(r["materials"])
        return out

    def open_cases_of(self, citizen_key: str) -> list[dict[str, Any]]:
        return self.cases("citizen_key = ? AND status = 'open'", (citizen_key,))

    def case_returned(self, case_id: str, at: datetime, ticket_id: str) -> None:
        self.db.execute(
            "UPDATE cases SET status = 'returned', returned_at = ?, "
            "return_ticket_id = ? WHERE id = ?",
            (at.isoformat(), ticket_id, case_id),
        )

    def case_rows(
        self, since: date, until: date, window: Optional[int] = None
    ) -> list[dict[str, Any]]:
        """Cases accepted on days since..until (reports)."""
        where = "substr(accepted_at, 1, 10) BETWEEN ? AND ?"
        params: list[Any] = [since.isoformat(), until.isoformat()]
        if window is not None:
            where += " AND window = ?"
            params.append(window)
        return self.cases(where, params)

    # -- the uplink's outbox (uplink.py): events numbered without gaps, kept until acknowledged --

    def outbox_add(self, kind: str, at: datetime, body: dict[str, Any]) -> int:
        """Keep one event for the city; its number, in the transaction of the change (a
        rolled-back change takes its number back with it, so numbers have no gaps)."""
        with self.transaction():
            self.db.execute("UPDATE uplink SET last_seq = last_seq + 1 WHERE id = 1")
            seq = int(self.db.execute("SELECT last_seq FROM uplink WHERE id = 1").fetchone()[0])
            self.db.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?)", (seq, kind, at.isoformat(), _json(body))
            )
        return seq

    def outbox_after(self, seq: int, limit: int) -> list[tuple[int, str, str, str]]:
        """(seq, kind, at, body as JSON) of the events numbered after `seq`, oldest first."""
        return [
            (int(r[0]), r[1], r[2], r[3])
            for r in self.db.execute(
                "SELECT seq, kind, at, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        ]

    def outbox_state(self) -> tuple[int, int]:
        """(the last number given, the last the city acknowledged)."""
        row = self.db.execute("SELECT last_seq, acked FROM uplink WHERE id = 1").fetchone()
        return int(row[0]), int(row[1])

    def outbox_ack(self, upto: int) -> int:
        """The city holds every event up to `upto`: forget them. Returns the acknowledged mark
        (never beyond what was numbered, never back)."""
        with self.transaction():
            last, acked = self.outbox_state()
            upto = min(upto, last)
            if upto > acked:
                self.db.execute("DELETE FROM outbox WHERE seq <= ?", (upto,))
                self.db.execute("UPDATE uplink SET acked = ? WHERE id = 1", (upto,))
                acked = upto
        return acked

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

    # -- appointments and ratings (plain rows: their rules live in the controller) -------------

    def insert(self, table: str, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        self.db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", row)

    def update(self, table: str, key: str, row: dict[str, Any]) -> None:
        sets = ", ".join(f"{c} = :{c}" for c in row if c != key)
        self.db.execute(f"UPDATE {table} SET {sets} WHERE {key} = :{key}", row)

    def rows(
        self, table: str, where: str = "1", params: Iterable[Any] = ()
    ) -> list[dict[str, Any]]:
        return [
            dict(r) for r in self.db.execute(f"SELECT * FROM {table} WHERE {where}", tuple(params))
        ]
