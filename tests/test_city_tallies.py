"""The city dashboard's day tallies (schema 4) in PostgreSQL: whatever order two collectors
store a hall's events in, sent again or late, the tallies say what the tickets and ratings rows
say, and the overview and the month's ranking read them; and one hall's event with fields no
column takes is stored without them, never stopping the other halls' events."""

from __future__ import annotations

import json
import random
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cityutil import drop_database, new_database

from onewindow.city import figures, ingest
from onewindow.city.schema import MIGRATIONS, connect, migrate

TZ = ZoneInfo("Asia/Shanghai")
DAY1 = date(2026, 11, 2)
DAY2 = date(2026, 11, 3)


@pytest.fixture
def city_db(city_db):
    """The city's database at the newest schema."""
    with connect(city_db, autocommit=True) as db:
        migrate(db)
    return city_db


class HallDay:
    """A hall's tickets over two days, as its outbox numbers their events: issued, called, done
    (most), and a rating for some, first or a follow-up one."""

    def __init__(self, hall: str, rng: random.Random):
        self.hall = hall
        self.events: list[ingest.Event] = []
        self.truth: dict = {}  # (day, what) -> count
        for day in (DAY1, DAY2):
            start = datetime.combine(day, datetime.min.time(), TZ).replace(hour=9)
            for n in range(1, 41):
                issued = start + timedelta(minutes=n)
                tid = f"{hall}-{day:%d}-{n}"
                stages = rng.choice((1, 2, 3, 3, 3))  # waiting, called, done
                t = {"day": day.isoformat(), "number": f"A{n:03d}", "issued_at": issued.isoformat()}
                self._ticket(tid, dict(t, status="waiting"), issued)
                if stages >= 2:
                    called = issued + timedelta(minutes=rng.randint(1, 30))
                    t.update(called_at=called.isoformat(), window=1 + n % 4)
                    self._ticket(tid, dict(t, status="called"), called)
                    self._add(day, "called", 1)
                    self._add(day, "waited_s", (called - issued).total_seconds())
                if stages == 3:
                    done = called + timedelta(minutes=5)
                    self._ticket(tid, dict(t, status="done", finished_at=done.isoformat()), done)
                    self._add(day, "served", 1)
                    if n % 2 == 0:
                        level = rng.randint(1, 5)
                        count = 1 if n % 8 else 2
                        self._rating(f"r{tid}", done, 6 - level, level <= 2, count)
                        if count == 1:
                            self._add(day, "rated", 1)
                            self._add(day, "good", int(level >= 3))
                            self._add(day, "bad", int(level <= 2))

    def _add(self, day: date, what: str, n: float) -> None:
        self.truth[(day, what)] = self.truth.get((day, what), 0) + n

    def _event(self, kind: str, event: str, at: datetime, data: dict) -> None:
        seq = len(self.events) + 1
        self.events.append(ingest.Event(self.hall, seq, kind, event, at.isoformat(), data))

    def _ticket(self, tid: str, t: dict, at: datetime) -> None:
        self._event("ticket", t["status"], at, {"ticket_id": tid, "t": t})

    def _rating(self, rid: str, at: datetime, code: int, bad: bool, count: int) -> None:
        rec = {"rating_id": rid, "rated_at": at.isoformat(), "level_code": code, "bad": bad}
        self._event("rating", "submitted", at, {"record": dict(rec, count=count)})


def deliver(url: str, halls: list[HallDay], rng: random.Random) -> None:
    """Two collectors, each with a share of every hall's events in batches of its own order,
    some events twice (an ack lost) and some late (a resend after newer ones)."""
    events = [e for h in halls for e in h.events]
    events += rng.sample(events, len(events) // 5)
    rng.shuffle(events)
    shares = [events[0::2], events[1::2]]

    def collector(share: list[ingest.Event], name: str) -> None:
        with connect(url, autocommit=True) as db:
            for i in range(0, len(share), 37):
                batch = share[i : i + 37]
                with db.transaction():
                    fresh = ingest.store(db, batch, name)
                    ingest.advance(db, sorted({e.hall for e in batch}), ingest.given_up(fresh))

    workers = [threading.Thread(target=collector, args=(s, f"c{n}")) for n, s in enumerate(shares)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert not w.is_alive()


def tallies(db, table: str, cols: str) -> dict:
    return {
        (r[0], r[1]): tuple(r[2:]) for r in db.execute(f"SELECT hall, day, {cols} FROM {table}")
    }


def test_the_day_tallies_say_what_the_rows_say_whatever_order_two_collectors_stored_them(
    city_db,
):
    rng = random.Random(4)
    halls = [HallDay(h, rng) for h in ("county-a", "county-b", "town-c")]
    deliver(city_db, halls, rng)
    with connect(city_db, autocommit=True) as db:
        # every event once, the rows as the newest event of each left them
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == sum(
            len(h.events) for h in halls
        )
        for h in halls:
            for day in (DAY1, DAY2):
                served, called, waited = db.execute(
                    "SELECT served, called, waited_s FROM ticket_days WHERE hall = %s AND day = %s",
                    (h.hall, day),
                ).fetchone()
                assert served == h.truth[(day, "served")]
                assert called == h.truth[(day, "called")]
                assert waited == pytest.approx(h.truth[(day, "waited_s")])
                assert db.execute(
                    "SELECT rated, good, bad FROM rating_days WHERE hall = %s AND day = %s",
                    (h.hall, day),
                ).fetchone() == tuple(h.truth.get((day, w), 0) for w in ("rated", "good", "bad"))

        # the dashboard reads them: today's figures, and the month's ranking
        now = datetime.combine(DAY2, datetime.min.time(), TZ).replace(hour=18)
        rows = {r["hall"]: r for r in figures.overview(db, DAY2, now)}
        for h in halls:
            r = rows[h.hall]
            assert r["served"] == h.truth[(DAY2, "served")]
            rated, good = h.truth.get((DAY2, "rated"), 0), h.truth.get((DAY2, "good"), 0)
            assert r["good_rate"] == (round(100 * good / rated, 1) if rated else None)
            waiting = db.execute(
                "SELECT count(*) FROM tickets WHERE hall = %s AND day = %s AND status = 'waiting'",
                (h.hall, DAY2),
            ).fetchone()[0]
            assert r["waiting"] == waiting > 0
        ranked = {r["hall"]: r for r in figures.ranking(db, "2026-11")}
        for h in halls:
            served = sum(h.truth[(d, "served")] for d in (DAY1, DAY2))
            waited = sum(h.truth[(d, "waited_s")] for d in (DAY1, DAY2))
            called = sum(h.truth[(d, "called")] for d in (DAY1, DAY2))
            assert ranked[h.hall]["served"] == served
            assert ranked[h.hall]["avg_wait"] == round(waited / called / 60, 1)
            assert ranked[h.hall]["bad"] == sum(h.truth.get((d, "bad"), 0) for d in (DAY1, DAY2))
        assert figures.ranking(db, "2026-10")[0]["served"] == 0  # another month: nothing


def test_a_database_of_schema_3_gets_its_tallies_from_the_rows_it_has():
    rng = random.Random(9)
    hall = HallDay("county-a", rng)
    url = new_database()
    try:
        with connect(url, autocommit=True) as db:
            for version, what, statements in MIGRATIONS[:3]:  # the database a year ago
                for sql in statements:
                    db.execute(sql)
                db.execute(
                    "INSERT INTO schema_log (version, what) VALUES (%s, %s)", (version, what)
                )
            # stored by a collector before tallies: no ratings.day column then
            rows = [e for e in hall.events if e.kind == "ticket"]
            with db.transaction():
                ingest.store(db, rows)
            for e in hall.events:
                if e.kind == "rating":
                    rec = e.data["record"]
                    db.execute(
                        "INSERT INTO ratings (hall, id, seq, at, level_code, bad, count, record) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        (
                            e.hall,
                            rec["rating_id"],
                            e.seq,
                            rec["rated_at"],
                            rec["level_code"],
                            rec["bad"],
                            rec["count"],
                            json.dumps(rec),
                        ),
                    )
            assert migrate(db) == 3
            for day in (DAY1, DAY2):
                assert db.execute(
                    "SELECT served, called FROM ticket_days WHERE day = %s", (day,)
                ).fetchone() == (hall.truth[(day, "served")], hall.truth[(day, "called")])
                assert db.execute(
                    "SELECT rated, good, bad FROM rating_days WHERE day = %s", (day,)
                ).fetchone() == tuple(hall.truth.get((day, w), 0) for w in ("rated", "good", "bad"))
    finally:
        drop_database(url)


def test_fields_no_column_takes_are_left_out_and_the_other_halls_events_go_in(city_db):
    good = ingest.parse(
        "ow/county-b/up/ticket",
        json.dumps(
            {
                "v": 1,
                "id": "county-b:1",
                "seq": 1,
                "kind": "ticket",
                "at": "2026-11-02T09:00:00+08:00",
                "data": {
                    "ticket_id": "b-1",
                    "t": {"day": "2026-11-02", "status": "waiting", "number": "A001"},
                },
            }
        ).encode(),
    )
    hostile = [
        # a day that is no day, a window past any integer column, times without a zone or not
        # times at all, a NUL in a name, an id that is an object
        {
            "ticket_id": {"x": 1},
            "t": {
                "day": "2026-02-31",
                "window": 2**40,
                "status": "called",
                "issued_at": "2026-11-02T09:00:00",
                "called_at": "soon",
                "number": "A\u0000002",
            },
        },
        {
            "record": {
                "rating_id": ["r"],
                "rated_at": "2026-13-01T09:00:00+08:00",
                "level_code": "5",
                "count": True,
                "window": 1.5,
                "contact_by": "tomorrow",
            }
        },
        {"window": 2**40, "status": "open"},
        {"key": "k", "at": 12, "message": "\u0000"},
    ]
    bad = [
        ingest.parse(
            f"ow/county-a/up/{kind}",
            json.dumps(
                {
                    "v": 1,
                    "id": f"county-a:{n}",
                    "seq": n,
                    "kind": kind,
                    "at": "2026-11-02T09:00:00+08:00",
                    "data": data,
                }
            ).encode(),
        )
        for n, (kind, data) in enumerate(
            zip(("ticket", "rating", "window", "alert"), hostile, strict=True), 1
        )
    ]
    with connect(city_db, autocommit=True) as db:
        with db.transaction():
            fresh = ingest.store(db, [*bad, good])
            marks = ingest.advance(db, ["county-a", "county-b"])
        assert len(fresh) == 5 and marks == {"county-a": (4, 4), "county-b": (1, 1)}
        ticket = db.execute(
            'SELECT id, day, "window", issued_at, called_at, number FROM tickets '
            "WHERE hall = 'county-a'"
        ).fetchone()
        assert ticket == ("{'x': 1}", None, None, None, None, "A002")
        assert db.execute("SELECT day, level_code, count FROM ratings").fetchone() == (
            None,
            None,
            None,
        )
        assert db.execute("SELECT status FROM tickets WHERE hall = 'county-b'").fetchone() == (
            "waiting",
        )
    # a seq past PostgreSQL's bigint is no event
    with pytest.raises(ingest.BadEvent):
        ingest.parse(
            "ow/county-a/up/ticket",
            json.dumps(
                {"id": f"county-a:{2**63}", "seq": 2**63, "at": "2026-11-02", "data": {}}
            ).encode(),
        )


def test_a_gap_shows_in_the_halls_row_while_the_mark_waits_for_it(city_db):
    """`halls` says each hall's acknowledged mark and the newest event kept: a missing event
    holds the mark, and the newer ones show past it (top > upto) until it comes."""
    rng = random.Random(5)
    hall = HallDay("county-a", rng)
    first, lost, later = hall.events[:3], hall.events[3], hall.events[4:9]
    with connect(city_db, autocommit=True) as db:
        # the gap at 4 seen; then the missing one comes and the mark moves over all
        for batch, upto_top in ((first, (3, 3)), (later, (3, 9)), ([lost], (9, 9))):
            with db.transaction():
                ingest.store(db, batch)
                ingest.advance(db, ["county-a"])
            row = db.execute("SELECT upto, top FROM halls WHERE hall = 'county-a'").fetchone()
            assert row == upto_top
