"""容缺受理 cases and the 一表申请 forms that may travel with them: sealed text only (ops_forms.py
seals and opens), kept for a ticket's day or its case's due day."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Iterable, Optional

from .base import StoreBase, _json


class CaseStore(StoreBase):
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
