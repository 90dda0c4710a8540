"""The uplink's outbox (uplink.py): events numbered without gaps in the transaction of their
change, kept until the city acknowledges them or they are given up."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from .base import StoreBase, _json


class OutboxStore(StoreBase):
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

    def outbox_give_up(self, before: datetime, now: datetime) -> Optional[tuple[int, int]]:
        """Forget the unacknowledged events that happened before `before`, as if acknowledged,
        and keep an event that tells the city so (numbered after every other): (the last
        number given up, how many), or None when none is that old."""
        oldest = self.db.execute("SELECT at FROM outbox ORDER BY seq LIMIT 1").fetchone()
        if oldest is None or oldest[0] >= before.isoformat():
            return None  # the cheap answer, every tick
        with self.transaction():
            _last, acked = self.outbox_state()
            row = self.db.execute(
                "SELECT max(seq) FROM outbox WHERE seq > ? AND at < ?",
                (acked, before.isoformat()),
            ).fetchone()
            if row[0] is None:
                return None
            upto = int(row[0])
            count = int(
                self.db.execute(
                    "SELECT count(*) FROM outbox WHERE seq > ? AND seq <= ?", (acked, upto)
                ).fetchone()[0]
            )
            self.db.execute("DELETE FROM outbox WHERE seq <= ?", (upto,))
            self.db.execute("UPDATE uplink SET acked = ?, given_up = ? WHERE id = 1", (upto, upto))
            self.outbox_add(
                "uplink",
                now,
                {"event": "given_up", "upto": upto, "count": count, "at": now.isoformat()},
            )
        return upto, count

    def outbox_given_up(self) -> int:
        """The last event number given up unacknowledged (0: none ever)."""
        return int(self.db.execute("SELECT given_up FROM uplink WHERE id = 1").fetchone()[0])
