"""Events into PostgreSQL: a batch at a time, idempotent on the event id (hall, seq), with the
dashboard's tables moved on by each event; then each hall's acknowledged mark (`upto`: every
event up to it is stored) moved as far as the stored events run without a gap.

The dashboard's tables keep, per row, the number of the event that last wrote it and take an
event only over an older one: several collectors sharing the load, or an event sent again,
leave them as the newest event says, whatever the order they were committed in.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

import psycopg

log = logging.getLogger(__name__)

TOPIC = re.compile(r"\Aow/([a-z0-9-]{1,32})/up/([a-z_]{1,32})\Z")
MAX_PAYLOAD = 256 * 1024
KIND = re.compile(r"\A[a-z_]{1,32}\Z")
ISO_DAY = re.compile(r"\A\d{4}-\d{2}-\d{2}(?:[T ]|\Z)")


@dataclass(frozen=True)
class Event:
    hall: str
    seq: int
    kind: str
    event: Optional[str]
    at: str
    data: dict


class BadEvent(ValueError):
    pass


def parse(topic: str, payload: bytes) -> Event:
    """One uplink message (docs/protocol.md §9); BadEvent for anything else. The hall is the
    topic's (the central broker lets a hall write only its own), never what the body claims."""
    m = TOPIC.match(topic)
    if not m:
        raise BadEvent(f"not an uplink topic: {topic[:80]!r}")
    if len(payload) > MAX_PAYLOAD:
        raise BadEvent(f"{topic}: {len(payload)} bytes is too large")
    try:
        body = json.loads(payload)
        seq = body["seq"]
        data = body["data"]
        at = body["at"]
        if not (
            isinstance(seq, int)
            and 0 < seq < 2**63
            and isinstance(data, dict)
            and isinstance(at, str)
            and body.get("id") == f"{m.group(1)}:{seq}"
        ):
            raise ValueError("id, seq, at or data")
        datetime.fromisoformat(at)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise BadEvent(f"{topic}: unreadable event ({exc})") from None
    if b"\\u0000" in payload:  # PostgreSQL's text and jsonb take no NUL: the rest is kept
        data = _without_nul(data)
    event = data.get("event")
    return Event(
        m.group(1),
        seq,
        kind if isinstance(kind := body.get("kind"), str) and KIND.match(kind) else m.group(2),
        event if isinstance(event, str) else None,
        at,
        data,
    )


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _newest(rows: dict, key: tuple, row: tuple) -> None:
    """Keep, per key, the row of the highest event number (its first field)."""
    if key not in rows or rows[key][0] < row[0]:
        rows[key] = row


def store(db: psycopg.Connection, events: list[Event], by: str = "") -> list[Event]:
    """Insert a batch (in the caller's transaction); the events that were new. `by`: the
    collector that stored them."""
    unique = {(e.hall, e.seq): e for e in events}
    batch = sorted(unique.values(), key=lambda e: (e.hall, e.seq))
    if not batch:
        return []
    halls = sorted({e.hall for e in batch})
    db.execute(
        "INSERT INTO halls (hall) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (halls,)
    )
    # arrays sent in binary (%b): no quoting of each JSON text into an array literal, which
    # cost more than the insert itself
    new = {
        (h, s)
        for h, s in db.execute(
            "INSERT INTO events (hall, seq, kind, event, at, data, received_by) "
            "SELECT h, s, k, nullif(e, ''), a::timestamptz, d::jsonb, nullif(%b, '') "
            "FROM unnest(%b, %b, %b, %b, %b, %b) AS x(h, s, k, e, a, d) "
            # an event the hall was acknowledged for (sent again because an ack was lost) may
            # have been purged (city-purge): it is not stored a second time
            "WHERE s > (SELECT upto FROM halls WHERE hall = h) "
            "ON CONFLICT DO NOTHING RETURNING hall, seq",
            (
                by or "",
                [e.hall for e in batch],
                [e.seq for e in batch],
                [e.kind for e in batch],
                [e.event or "" for e in batch],
                [e.at for e in batch],
                [json.dumps(e.data, ensure_ascii=False) for e in batch],
            ),
        ).fetchall()
    }
    fresh = [e for e in batch if (e.hall, e.seq) in new]
    _project(db, fresh)
    return fresh


def given_up(events: list[Event]) -> dict[str, int]:
    """A hall gave up events it could not deliver in time (its `uplink` event `given_up`):
    {hall: the last event given up}, over which `advance` moves the city's mark, so that it
    stops asking for them."""
    marks: dict[str, int] = {}
    for e in events:
        upto = e.data.get("upto")
        if e.kind == "uplink" and e.event == "given_up" and isinstance(upto, int) and upto < e.seq:
            marks[e.hall] = max(marks.get(e.hall, 0), upto)
    return marks


def _project(db: psycopg.Connection, events: list[Event]) -> None:
    tickets: dict[tuple, tuple] = {}
    windows: dict[tuple, tuple] = {}
    alerts: dict[tuple, tuple] = {}
    ratings: dict[tuple, tuple] = {}
    bookings: dict[tuple, tuple] = {}
    checkins: list[tuple] = []
    for e in events:
        d = e.data
        if e.kind == "appointment" and _text(d.get("platform_id")):
            _newest(bookings, (e.hall, d["platform_id"]), _booking(e))
        if e.kind == "ticket" and e.event == "issued" and isinstance(d.get("appointment"), str):
            checkins.append((e.seq, e.hall, d["appointment"]))
        t = d.get("t")
        if isinstance(t, dict) and d.get("ticket_id"):
            _newest(
                tickets,
                (e.hall, str(d["ticket_id"])),
                (
                    e.seq,
                    e.hall,
                    str(d["ticket_id"]),
                    _date(t.get("day")),
                    _text(t.get("number")),
                    _text(t.get("service")),
                    _text(d.get("department")),
                    _text(t.get("channel")),
                    _text(t.get("status")),
                    _int(t.get("window")),
                    _time(t.get("issued_at")),
                    _time(t.get("called_at")),
                    _time(t.get("served_at")),
                    _time(t.get("finished_at")),
                ),
            )
        if e.kind == "window" and _int(d.get("window")) is not None:
            staff = d.get("staff") if isinstance(d.get("staff"), dict) else None
            _newest(
                windows,
                (e.hall, d["window"]),
                (
                    e.seq,
                    e.hall,
                    d["window"],
                    _text(d.get("name")),
                    _text(d.get("status")),
                    _text(d.get("serving")),
                    _text((staff or {}).get("name")),
                    _time(d.get("since")) or e.at,
                ),
            )
        if e.kind == "call" and isinstance(d.get("window"), int):
            pass  # the window's serving number comes with the ticket's own row
        if e.kind == "alert" and d.get("key"):
            raised = e.event == "raised"
            _newest(
                alerts,
                (e.hall, str(d["key"])),
                (
                    e.seq,
                    e.hall,
                    str(d["key"]),
                    _text(d.get("kind")),
                    _text(d.get("message")),
                    _time(d.get("at")) if raised else None,
                    None if raised else _time(d.get("at")),
                ),
            )
        rec = d.get("record")
        if e.kind == "rating" and isinstance(rec, dict) and rec.get("rating_id"):
            rated_at = _time(rec.get("rated_at"))
            _newest(
                ratings,
                (e.hall, str(rec["rating_id"])),
                (
                    e.seq,
                    e.hall,
                    str(rec["rating_id"]),
                    rated_at,
                    _int(rec.get("level_code")),
                    bool(rec.get("bad")),
                    _int(rec.get("count")),
                    _int(rec.get("window")),
                    _text(rec.get("service")),
                    _text(rec.get("follow_status")),
                    _date(rec.get("contact_by")),
                    _date(rec.get("rectify_by")),
                    _time(rec.get("closed_at")),
                    rated_at[:10] if rated_at else None,  # the day as the hall's clock gave it
                    json.dumps(rec, ensure_ascii=False),
                ),
            )
    _upsert(
        db,
        "tickets",
        (
            "seq",
            "hall",
            "id",
            "day",
            "number",
            "service",
            "department",
            "channel",
            "status",
            '"window"',
            "issued_at",
            "called_at",
            "served_at",
            "finished_at",
        ),
        (
            "bigint",
            "text",
            "text",
            "date",
            "text",
            "text",
            "text",
            "text",
            "text",
            "int",
            "timestamptz",
            "timestamptz",
            "timestamptz",
            "timestamptz",
        ),
        tickets,
    )
    _upsert(
        db,
        "windows",
        ("seq", "hall", "number", "name", "status", "serving", "staff", "since"),
        ("bigint", "text", "int", "text", "text", "text", "text", "timestamptz"),
        windows,
    )
    _upsert(
        db,
        "alerts",
        ("seq", "hall", "key", "kind", "message", "raised_at", "cleared_at"),
        ("bigint", "text", "text", "text", "text", "timestamptz", "timestamptz"),
        alerts,
        keep=("raised_at", "message"),
    )
    _upsert(
        db,
        "ratings",
        (
            "seq",
            "hall",
            "id",
            "at",
            "level_code",
            "bad",
            "count",
            '"window"',
            "service",
            "follow_status",
            "contact_by",
            "rectify_by",
            "closed_at",
            "day",
            "record",
        ),
        (
            "bigint",
            "text",
            "text",
            "timestamptz",
            "int",
            "bool",
            "int",
            "int",
            "text",
            "text",
            "date",
            "date",
            "timestamptz",
            "date",
            "jsonb",
        ),
        ratings,
    )
    _upsert(
        db,
        "platform_appointments",
        (
            "seq",
            "hall",
            "id",
            "status",
            "appointment",
            "service",
            "slot_start",
            "reason_code",
            "reason",
            "answered_at",
        ),
        (
            "bigint",
            "text",
            "text",
            "text",
            "text",
            "text",
            "timestamptz",
            "text",
            "text",
            "timestamptz",
        ),
        bookings,
        keep=("status", "appointment", "service", "slot_start"),
        touch="updated_at = now()",
    )
    if checkins:  # a platform booking checked in at the hall's kiosk
        db.cursor().executemany(
            "UPDATE platform_appointments SET status = 'checked_in', seq = %s, "
            "updated_at = now() WHERE hall = %s AND appointment = %s AND seq < %s",
            [(seq, hall, appt, seq) for seq, hall, appt in checkins],
        )


# A hall's values as the dashboard's typed columns take them; anything else is left out (None),
# never a batch that PostgreSQL refuses: one hall's bad field would stop every hall's events.
def _text(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None  # NULs are gone already (parse)


def _int(value: object) -> Optional[int]:
    ok = isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    return value if ok else None  # type: ignore[return-value]


def _time(value: object) -> Optional[str]:
    """An ISO time with its offset, as halls send them."""
    if not isinstance(value, str) or not ISO_DAY.match(value):
        return None
    try:
        ok = datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return None
    return value if ok else None


def _date(value: object) -> Optional[str]:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        return None
    return value


_STATUS = {"booked": "booked", "cancelled": "cancelled"}


def _booking(e: Event) -> tuple:
    """A platform booking's row from its hall's answer; a refused cancellation leaves the
    booking as it was (None: kept) and only says why."""
    d = e.data
    given = d.get("reason")
    reason: dict = given if isinstance(given, dict) else {}
    refused = e.event == "refused"
    status = (
        ("refused" if d.get("op") != "cancel" else None) if refused else _STATUS.get(e.event or "")
    )
    return (
        e.seq,
        e.hall,
        d["platform_id"],
        status,
        _text(d.get("appointment")),
        _text(d.get("service")),
        _time(d.get("slot_start")),
        _text(reason.get("code")) if refused else None,
        _text(reason.get("message")) if refused else None,
        _time(d.get("at")) or e.at,
    )


_AS_TEXT = ("timestamptz", "date", "jsonb")


def _upsert(
    db: psycopg.Connection,
    table: str,
    cols: tuple[str, ...],
    types: tuple[str, ...],
    rows: dict[tuple, tuple],
    keep: tuple[str, ...] = (),
    touch: str = "",
) -> None:
    """Insert or, over an older event's row, update; `keep`: columns a newer row without them
    leaves as they were (a cleared alert keeps when it was raised); `touch`: a further SET
    clause of an update (when the row changed)."""
    if not rows:
        return
    data = sorted(rows.values(), key=lambda r: (r[1], str(r[2])))
    columns = list(zip(*data, strict=True))
    key = ("hall", cols[2])
    sets = ", ".join(
        f"{c} = coalesce(EXCLUDED.{c}, {table}.{c})" if c in keep else f"{c} = EXCLUDED.{c}"
        for c in cols
        if c not in key
    ) + (f", {touch}" if touch else "")
    # binary arrays (%b), as the events' insert: text arrays would be quoted element by element
    # into an array literal, which cost more than PostgreSQL's work. Times, dates and JSON go
    # as text and are cast by PostgreSQL, as the literal's elements were.
    arrays = ", ".join(f"%b::text[]::{t}[]" if t in _AS_TEXT else f"%b::{t}[]" for t in types)
    db.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets} "
        f"WHERE {table}.seq < EXCLUDED.seq",
        [list(c) for c in columns],
    )


def advance(
    db: psycopg.Connection, halls: list[str], gave_up: Optional[dict[str, int]] = None
) -> dict[str, tuple[int, int]]:
    """Move each hall's acknowledged mark over the events given up (`given_up`) and the events
    stored without a gap after it; {hall: (upto, top)}: top > upto is a gap. The halls' rows are
    locked first, all in one order: collectors sharing the halls never wait on each other in
    a circle, though each does this in the transaction that stored the events (one commit, one
    sync, a batch)."""
    if not halls:
        return {}
    out: dict[str, tuple[int, int]] = {}
    with db.transaction():
        db.execute(
            "SELECT hall FROM halls WHERE hall = ANY(%s) ORDER BY hall FOR UPDATE", (sorted(halls),)
        )
        for hall, upto in sorted((gave_up or {}).items()):
            db.execute(
                "UPDATE halls SET given_up = greatest(given_up, %s), upto = greatest(upto, %s) "
                "WHERE hall = %s",
                (upto, upto, hall),
            )
            log.warning(
                "hall %s gave up its events up to %d (never acknowledged in time)", hall, upto
            )
        rows = db.execute(
            "SELECT h.hall, h.upto, h.top, "
            " (SELECT coalesce(max(seq), 0) FROM events e WHERE e.hall = h.hall) AS top, "
            " CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.hall = h.hall AND e.seq = h.upto + 1) "
            " THEN (SELECT min(e.seq) FROM events e WHERE e.hall = h.hall AND e.seq > h.upto "
            "       AND NOT EXISTS (SELECT 1 FROM events n WHERE n.hall = e.hall AND n.seq = e.seq + 1)) "
            " ELSE h.upto END "
            "FROM halls h WHERE h.hall = ANY(%s) ORDER BY h.hall FOR UPDATE",
            (sorted(halls),),
        ).fetchall()
        # the newest event kept counts too when the mark stays: top > upto is a gap to see
        moved = [
            (hall, new, top) for hall, upto, was, top, new in rows if new != upto or top != was
        ]
        if moved:
            db.execute(
                "UPDATE halls h SET upto = m.upto, top = m.top, seen_at = now(), "
                "last_at = (SELECT at FROM events e WHERE e.hall = h.hall AND e.seq = m.upto) "
                "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS m(hall, upto, top) "
                "WHERE h.hall = m.hall",
                ([m[0] for m in moved], [m[1] for m in moved], [m[2] for m in moved]),
            )
        for hall, _upto, _was, top, new in rows:
            out[hall] = (int(new), int(top))
    return out


def gaps(db: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Halls with events stored past a missing one: {hall: (upto, top)}."""
    with db.transaction():
        return {
            h: (int(u), int(t))
            for h, u, t in db.execute(
                "SELECT h.hall, h.upto, (SELECT max(seq) FROM events e WHERE e.hall = h.hall) "
                "FROM halls h WHERE EXISTS (SELECT 1 FROM events e WHERE e.hall = h.hall "
                "AND e.seq > h.upto)"
            ).fetchall()
        }


def row_dict(cur: Any) -> list[dict]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
