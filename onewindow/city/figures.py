"""What the city dashboard shows, read from PostgreSQL: each hall now, one hall by window and by
department, the month's ranking (晒成绩单), and 差评 follow-ups past their deadline. Figures come
from the tickets, windows, alerts and ratings tables the collector keeps (ingest.py); a figure
with nothing behind it (no rating yet) is None, never 0 %.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import psycopg

from .ingest import row_dict
from .schema import BUSY, BUSY_SQL


def _halls_clause(halls: Optional[list[str]], column: str = "hall") -> tuple[str, dict]:
    """The clause keeping a user's halls (None: all), with its named parameter."""
    return ("", {}) if halls is None else (f" AND {column} = ANY(%(halls)s)", {"halls": halls})


def overview(
    db: psycopg.Connection, today: date, now: datetime, halls: Optional[list[str]] = None
) -> list[dict]:
    """One row per hall: waiting, longest wait (min), windows open and busy, served today,
    好评率 today (first ratings, 基本满意 or better), live alerts, the last event's time. The
    day's counts come from the day tallies (schema 4), the waiting and busy tickets from their
    own indexes: a query over 200 halls costs the same at the day's end as at its start."""
    where, args = _halls_clause(halls, "h.hall")
    rows = row_dict(
        db.execute(
            "SELECT h.hall, h.last_at, h.upto, "
            " (SELECT count(*) FROM tickets t WHERE t.hall = h.hall AND t.day = %(day)s AND t.status = 'waiting') AS waiting, "
            " (SELECT min(t.issued_at) FROM tickets t WHERE t.hall = h.hall AND t.day = %(day)s AND t.status = 'waiting') AS oldest, "
            " (SELECT count(*) FROM windows w WHERE w.hall = h.hall AND w.status = 'open') AS open, "
            ' (SELECT count(DISTINCT t."window") FROM tickets t WHERE t.hall = h.hall AND t.day = %(day)s '
            f"  AND t.status = ANY({BUSY_SQL})) AS busy, "
            " coalesce(td.served, 0) AS served, coalesce(rd.rated, 0) AS rated, "
            " coalesce(rd.good, 0) AS good, "
            " (SELECT count(*) FROM alerts a WHERE a.hall = h.hall AND a.cleared_at IS NULL) AS alerts "
            "FROM halls h "
            "LEFT JOIN ticket_days td ON td.hall = h.hall AND td.day = %(day)s "
            "LEFT JOIN rating_days rd ON rd.hall = h.hall AND rd.day = %(day)s "
            "WHERE true" + where + " ORDER BY h.hall",
            {"day": today, **args},
        )
    )
    for r in rows:
        r["longest_min"] = int((now - r["oldest"]).total_seconds() // 60) if r["oldest"] else None
        r["good_rate"] = round(100 * r["good"] / r["rated"], 1) if r["rated"] else None
    return rows


def hall_windows(db: psycopg.Connection, hall: str, today: date) -> list[dict]:
    return row_dict(
        db.execute(
            "SELECT w.number, w.name, w.status, w.staff, "
            ' (SELECT t.number FROM tickets t WHERE t.hall = w.hall AND t."window" = w.number '
            "  AND t.day = %s AND t.status = ANY(%s) ORDER BY t.called_at DESC NULLS LAST LIMIT 1) AS serving, "
            ' (SELECT count(*) FROM tickets t WHERE t.hall = w.hall AND t."window" = w.number '
            "  AND t.day = %s AND t.status = 'done') AS served "
            "FROM windows w WHERE w.hall = %s ORDER BY w.number",
            [today, list(BUSY), today, hall],
        )
    )


def hall_departments(db: psycopg.Connection, hall: str, today: date) -> list[dict]:
    rows = row_dict(
        db.execute(
            "SELECT coalesce(department, service) AS department, "
            " count(*) FILTER (WHERE status = 'waiting') AS waiting, "
            " count(*) FILTER (WHERE status = 'done') AS served, "
            " avg(extract(epoch FROM called_at - issued_at) / 60) FILTER (WHERE called_at IS NOT NULL) AS avg_wait "
            "FROM tickets WHERE hall = %s AND day = %s GROUP BY 1 ORDER BY 1",
            [hall, today],
        )
    )
    for r in rows:
        r["avg_wait"] = round(float(r["avg_wait"]), 1) if r["avg_wait"] is not None else None
    return rows


def hall_alerts(db: psycopg.Connection, hall: str) -> list[dict]:
    return row_dict(
        db.execute(
            "SELECT key, kind, message, raised_at FROM alerts WHERE hall = %s AND cleared_at IS NULL "
            "ORDER BY raised_at NULLS LAST",
            [hall],
        )
    )


def ranking(db: psycopg.Connection, month: str, halls: Optional[list[str]] = None) -> list[dict]:
    """The month's 晒成绩单: halls by 好评率, then by average wait; halls without a rating last."""
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    where, args = _halls_clause(halls, "h.hall")
    rows = row_dict(
        db.execute(
            "SELECT h.hall, coalesce(t.served, 0) AS served, t.waited_s / nullif(t.called, 0) / 60 "
            " AS avg_wait, coalesce(r.rated, 0) AS rated, coalesce(r.good, 0) AS good, "
            " coalesce(r.bad, 0) AS bad "
            "FROM halls h "
            "LEFT JOIN (SELECT hall, sum(served) AS served, sum(called) AS called, "
            "  sum(waited_s) AS waited_s FROM ticket_days WHERE day >= %(first)s AND day < %(next)s "
            "  GROUP BY hall) t ON t.hall = h.hall "
            "LEFT JOIN (SELECT hall, sum(rated) AS rated, sum(good) AS good, sum(bad) AS bad "
            "  FROM rating_days WHERE day >= %(first)s AND day < %(next)s GROUP BY hall) r "
            "  ON r.hall = h.hall "
            "WHERE true" + where,
            {"first": first, "next": nxt, **args},
        )
    )
    for r in rows:
        r["avg_wait"] = round(float(r["avg_wait"]), 1) if r["avg_wait"] is not None else None
        r["good_rate"] = round(100 * r["good"] / r["rated"], 1) if r["rated"] else None
    rows.sort(
        key=lambda r: (
            r["good_rate"] is None,
            -(r["good_rate"] or 0),
            r["avg_wait"] if r["avg_wait"] is not None else 1e9,
            r["hall"],
        )
    )
    for n, r in enumerate(rows, 1):
        r["rank"] = n
    return rows


def overdue(db: psycopg.Connection, today: date, halls: Optional[list[str]] = None) -> list[dict]:
    """差评 whose follow-up is late: not contacted by its contact day, or not rectified by its
    rectify day (the hall's working-day deadlines, as the hall computed them)."""
    where, args = _halls_clause(halls)
    rows = row_dict(
        db.execute(
            'SELECT hall, id, at, "window", service, follow_status, contact_by, rectify_by, record '
            "FROM ratings WHERE bad AND count = 1 AND ("
            " (follow_status = 'open' AND contact_by < %(day)s) OR "
            " (follow_status IN ('open', 'rectifying') AND rectify_by < %(day)s))"
            + where
            + " ORDER BY at",
            {"day": today, **args},
        )
    )
    for r in rows:
        r["late"] = (
            "contact" if r["follow_status"] == "open" and r["contact_by"] < today else "rectify"
        )
    return rows
