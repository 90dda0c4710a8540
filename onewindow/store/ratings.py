"""好差评 in the hall database: ratings, their follow-up cases and the notes of each step."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

from .base import StoreBase
from .migrations import StoreError

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


class RatingStore(StoreBase):
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
