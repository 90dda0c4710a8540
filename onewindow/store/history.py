"""The hall's history for planning (排班建议), read through a read-only connection: it never takes
the controller's lock, so it works while the hall runs (WAL readers never block the writer)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

from ..domain.demand import PastTicket
from .migrations import StoreError

_COLUMNS = (
    "day",
    "service",
    "origin_service",
    "issued_at",
    "called_at",
    "served_at",
    "finished_at",
    "skipped_at",
    "status",
    "transfers",
    "priority",
    "appointment_id",
)


def _minutes(at: datetime) -> float:
    return at.hour * 60 + at.minute + at.second / 60 + at.microsecond / 60e6


def _span(a: Optional[str], b: Optional[str]) -> Optional[float]:
    if not a or not b:
        return None
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 60


class HistoryReader:
    """Named read-only queries over a hall database (`with HistoryReader(path) as h: ...`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(
                f"{self.path}: no hall database here (is --data-dir the hall's data dir?)"
            )
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0)
        self.db.row_factory = sqlite3.Row

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _query(self, sql: str, params: tuple[Any, ...] = (), plain: bool = False) -> list[Any]:
        """The rows (`sqlite3.Row`; plain tuples with `plain`, for the big reads)."""
        cur = self.db.cursor()
        if plain:
            cur.row_factory = None
        try:
            return cur.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: cannot read the history ({exc}); is it an older "
                f"OneWindow's database? Start the hall once to upgrade it"
            ) from exc

    def settings(self) -> Optional[dict[str, Any]]:
        """The hall's live settings (None before any hall ran on this database)."""
        rows = self._query("SELECT raw FROM config WHERE id = 1")
        return json.loads(rows[0][0]) if rows else None

    def past_tickets(self, since: date, until: date) -> list[PastTicket]:
        """Every ticket issued on days since..until (inclusive), as planning reads it."""
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM tickets WHERE day BETWEEN ? AND ? "
            "ORDER BY issued_at",
            (since.isoformat(), until.isoformat()),
            plain=True,  # a month is 100,000 rows (docs/benchmarks.md)
        )
        days: dict[str, date] = {}
        return [_past(r, days) for r in rows]


def _past(r: tuple[Any, ...], days: dict[str, date]) -> PastTicket:
    (day, service, origin, issued_at, called_at, served_at, finished_at, skipped_at, status,
     transfers, priority, appointment_id) = r  # fmt: skip
    issued = datetime.fromisoformat(issued_at)
    transferred = transfers > 0
    done = status == "done" and finished_at
    on = days.get(day)
    if on is None:
        on = days[day] = date.fromisoformat(day)
    return PastTicket(
        day=on,
        service=origin or service,
        final_service=service,
        issued_min=_minutes(issued),
        called=called_at is not None,
        handling_min=_span(served_at or called_at, finished_at)
        if done and not transferred
        else None,
        skipped=skipped_at is not None,
        skip_min=_span(called_at, skipped_at) if skipped_at else None,
        transferred=transferred,
        priority=priority is not None,
        appointment=appointment_id is not None,
    )
