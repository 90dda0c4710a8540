"""The citizen's phone in the hall database: call-ahead notices and numbers taken from phones.

A mobile number is kept only sealed (phonevault.py, the key outside the database) and masked;
both tables hold one service day and are emptied when the day rolls (`purge_mobile`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from .base import StoreBase

STAGES = ("ahead", "call")


class MobileStore(StoreBase):
    """Mixed into Store: the same connection and transactions."""

    def add_notice(self, row: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO notices (ticket_id, day, phone_token, phone_masked, lang, "
            "created_at) VALUES (:ticket_id, :day, :phone_token, :phone_masked, :lang, "
            ":created_at)",
            row,
        )

    def notice(self, ticket_id: str) -> Optional[dict[str, Any]]:
        r = self.db.execute("SELECT * FROM notices WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return dict(r) if r else None

    def drop_notice(self, ticket_id: str) -> None:
        self.db.execute("DELETE FROM notices WHERE ticket_id = ?", (ticket_id,))

    def open_notices(self, day: date) -> list[dict[str, Any]]:
        """The day's notices with a stage still to send."""
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT * FROM notices WHERE day = ? AND (ahead_state IS NULL OR "
                "call_state IS NULL) ORDER BY created_at",
                (day.isoformat(),),
            )
        ]

    def notice_stage(self, ticket_id: str, stage: str, state: str, at: datetime) -> None:
        if stage not in STAGES:
            raise ValueError(stage)
        self.db.execute(
            f"UPDATE notices SET {stage}_state = ?, {stage}_at = ? WHERE ticket_id = ?",
            (state, at.isoformat(), ticket_id),
        )

    def add_phone_ticket(self, ticket_id: str, day: date, phone_key: str) -> None:
        self.db.execute(
            "INSERT INTO phone_tickets (ticket_id, day, phone_key) VALUES (?, ?, ?)",
            (ticket_id, day.isoformat(), phone_key),
        )

    def phone_tickets(self, day: date, phone_key: Optional[str] = None) -> int:
        """Numbers taken from phones that day: by one phone, or by all."""
        if phone_key is None:
            row = self.db.execute(
                "SELECT COUNT(*) FROM phone_tickets WHERE day = ?", (day.isoformat(),)
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT COUNT(*) FROM phone_tickets WHERE day = ? AND phone_key = ?",
                (day.isoformat(), phone_key),
            ).fetchone()
        return int(row[0])

    def phone_ticket_ids(self, day: date, phone_key: str) -> list[str]:
        """The tickets one phone took that day."""
        rows = self.db.execute(
            "SELECT ticket_id FROM phone_tickets WHERE day = ? AND phone_key = ?",
            (day.isoformat(), phone_key),
        ).fetchall()
        return [r[0] for r in rows]

    def phone_bookings(self, phone_key: str, since: date) -> list[dict[str, Any]]:
        """The appointments one phone booked, still booked, on days from `since`."""
        where = "phone_key = ? AND day >= ? AND status = 'booked'"
        rows = self.rows("appointments", where, (phone_key, since.isoformat()))
        return sorted(rows, key=lambda r: r["slot_start"])

    def purge_mobile(self, today: date) -> None:
        """Earlier days' notices (their sealed numbers) and phone counts go."""
        self.db.execute("DELETE FROM notices WHERE day < ?", (today.isoformat(),))
        self.db.execute("DELETE FROM phone_tickets WHERE day < ?", (today.isoformat(),))
