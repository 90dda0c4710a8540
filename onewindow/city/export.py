"""The provincial export (`onewindow city-export`) and the city's retention (`onewindow
city-purge`), both read from PostgreSQL.

The export is the hall's own `ratings export` (ratingexport.py) for any period and any set of
halls: each rating is the record its hall sent up (ratingrecord.record, stored whole in
`ratings.record`), with the hall's id beside it, and the KPIs per hall and over all of them.
The records travel in GB/T 39046's direction (1 = 非常满意) and are turned here when the
provincial direction is asked for; nothing is recomputed from the hall's configuration, which
the city does not have.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import psycopg

from ..domain.rating import kpis
from ..ratingrecord import FIELDS, cell

KPI_NAMES = ("rating_rate", "good_rate", "bad_reply_rate", "rectify_rate")


def _internal_level(rec: dict) -> int:
    """The hall's own scale (5 = 非常满意) from a record in either direction."""
    code = int(rec["level_code"])
    return 6 - code if rec.get("level_scale", "gbt") == "gbt" else code


def _in_scale(rec: dict, scale: str) -> dict:
    if rec.get("level_scale", "gbt") == scale:
        return rec
    return {**rec, "level_code": 6 - int(rec["level_code"]), "level_scale": scale}


def build(
    db: psycopg.Connection, since: date, until: date, halls: list[str], scale: str = "gbt"
) -> dict:
    """{since, until, level_scale, halls, kpis, hall_kpis, records} for the ratings given on the
    halls' local days since..until (all halls when `halls` is empty)."""
    span = (since.isoformat(), until.isoformat())
    only = "AND hall = ANY(%s)" if halls else ""
    args = (*span, halls) if halls else span
    rows = db.execute(
        "SELECT hall, record FROM ratings WHERE left(record->>'rated_at', 10) BETWEEN %s AND %s "
        f"{only} ORDER BY hall, record->>'rated_at', count",
        args,
    ).fetchall()
    # served and rated, as the hall counts them: tickets done on those days, and those of them
    # with a first rating (a rating record names its ticket by number and day)
    served: dict[str, int] = dict(
        db.execute(
            "SELECT hall, count(*) FROM tickets WHERE status = 'done' AND day BETWEEN %s AND %s "
            f"{only} GROUP BY hall",
            args,
        ).fetchall()
    )
    rated: dict[str, int] = dict(
        db.execute(
            "SELECT t.hall, count(*) FROM tickets t WHERE t.status = 'done' "
            "AND t.day BETWEEN %s AND %s "
            + only.replace("hall", "t.hall")
            + " AND EXISTS (SELECT 1 FROM ratings r WHERE r.hall = t.hall "
            "AND r.record->>'ticket' = t.number AND r.record->>'ticket_day' = t.day::text "
            "AND r.count = 1) GROUP BY t.hall",
            args,
        ).fetchall()
    )
    by_hall: dict[str, list[dict]] = {}
    records = []
    for hall, rec in rows:
        by_hall.setdefault(hall, []).append({**rec, "level": _internal_level(rec)})
        records.append({"hall": hall, **_in_scale(rec, scale)})
    named = sorted(set(halls) | set(by_hall) | set(served))
    hall_kpis = {h: kpis(by_hall.get(h, []), served.get(h, 0), rated.get(h, 0)) for h in named}
    every = [r for h in named for r in by_hall.get(h, [])]
    return {
        "since": span[0],
        "until": span[1],
        "level_scale": scale,
        "halls": named,
        "kpis": kpis(every, sum(served.values()), sum(rated.values())),
        "hall_kpis": hall_kpis,
        "records": records,
    }


def write(doc: dict, fmt: str, out: Path) -> list[Path]:
    """JSON (one document) or CSV (the records with a `hall` column first, and the KPIs per
    hall beside them as NAME.kpis.csv, the last rows over all halls)."""
    if fmt == "json":
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return [out]
    with out.open("w", encoding="utf-8-sig", newline="") as f:  # a Chinese Excel reads it
        w = csv.writer(f)
        w.writerow(("hall", *FIELDS))
        for rec in doc["records"]:
            w.writerow([rec["hall"], *(cell(rec.get(name)) for name in FIELDS)])
    side = out.with_name(out.stem + ".kpis.csv")
    with side.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(("hall", "kpi", "numerator", "denominator", "rate"))
        for hall, k in [*doc["hall_kpis"].items(), ("*", doc["kpis"])]:
            for name in KPI_NAMES:
                v = k[name]
                w.writerow((hall, name, v["numerator"], v["denominator"], v.get("rate", "")))
    return [out, side]


def purge(db: psycopg.Connection, keep_days: int) -> int:
    """Delete the raw events older than `keep_days` that their hall has been acknowledged for
    (a gap's later events stay until it is filled); the dashboard's tables and the ratings,
    which the export reads, are kept. The number of events deleted."""
    with db.transaction():
        cur = db.execute(
            "DELETE FROM events e USING halls h WHERE e.hall = h.hall AND e.seq <= h.upto "
            "AND e.at < now() - make_interval(days => %s)",
            (keep_days,),
        )
        return cur.rowcount
