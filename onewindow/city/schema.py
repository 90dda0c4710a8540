"""The city database's schema, in versioned steps (PostgreSQL), and the connection to it.

Each step runs once, in order, in one transaction under an advisory lock, so several collectors
starting together upgrade it once. `schema_log` says which version ran when.
"""

from __future__ import annotations

import logging

import psycopg

log = logging.getLogger(__name__)

LOCK_KEY = 0x6F77C17  # pg_advisory_xact_lock: one upgrader at a time

# what a ticket's or a rating's row adds to its hall's day (day tallies, migration 4)
TICKET_SHARES = {
    "served": "(status = 'done')::int",
    "called": "(called_at IS NOT NULL AND issued_at IS NOT NULL)::int",
    "waited_s": "coalesce(extract(epoch FROM called_at - issued_at)::float8, 0)",
}
RATING_SHARES = {
    "rated": "(count = 1)::int",
    "good": "(count = 1 AND level_code <= 3)::int",
    "bad": "(count = 1 AND bad)::int",
}
BUSY = ("called", "recalled", "serving")  # a ticket at a window
BUSY_SQL = "'{" + ",".join(BUSY) + "}'::text[]"


def _tally(table: str, tally: str, shares: dict[str, str]) -> tuple[str, ...]:
    """A day tally of `table` kept by its triggers: the rows as they are counted in, then per
    statement, each new row's shares added and each old row's taken off. Statement triggers with
    transition tables: one upsert of the tally per statement, not one per row; the sums per
    (hall, day) are written in (hall, day) order, so that collectors writing the same halls lock
    the tally's rows in one order and never wait on each other in a circle."""
    cols = ", ".join(shares)

    def rows(source: str, sign: int) -> str:
        exprs = ", ".join(f"{sign} * coalesce({e}, 0) AS {c}" for c, e in shares.items())
        return f"SELECT hall, day, {exprs} FROM {source} WHERE day IS NOT NULL"

    def add(sources: list[str]) -> str:
        sums = ", ".join(f"sum({c})" for c in shares)
        return (
            f"INSERT INTO {tally} AS d (hall, day, {cols}) SELECT hall, day, {sums} "
            f"FROM ({' UNION ALL '.join(sources)}) x GROUP BY hall, day "
            f"HAVING {' OR '.join(f'sum({c}) <> 0' for c in shares)} ORDER BY hall, day "
            f"ON CONFLICT (hall, day) DO UPDATE SET "
            + ", ".join(f"{c} = d.{c} + EXCLUDED.{c}" for c in shares)
        )

    out = [add([rows(table, 1)])]  # what is there already
    for op, sources, refs in (
        ("insert", [rows("new_rows", 1)], "NEW TABLE AS new_rows"),
        (
            "update",
            [rows("new_rows", 1), rows("old_rows", -1)],
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        ("delete", [rows("old_rows", -1)], "OLD TABLE AS old_rows"),
    ):
        fn = f"{tally}_{op}"
        out.append(
            f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {add(sources)}; RETURN NULL; END $$"
        )
        out.append(
            f"CREATE TRIGGER {fn} AFTER {op.upper()} ON {table} REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    return tuple(out)


# (version, what it changes, statements)
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "events as they came (one row per event id), the halls' acknowledged marks, and what "
        "the dashboard reads: tickets, windows, alerts and ratings as the latest event left them",
        (
            """CREATE TABLE schema_log (version INTEGER PRIMARY KEY, what TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
            """CREATE TABLE halls (hall TEXT PRIMARY KEY, upto BIGINT NOT NULL DEFAULT 0,
         top BIGINT NOT NULL DEFAULT 0, last_at TIMESTAMPTZ, seen_at TIMESTAMPTZ)""",
            """CREATE TABLE events (hall TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
         event TEXT, at TIMESTAMPTZ NOT NULL, data JSONB NOT NULL,
         received_at TIMESTAMPTZ NOT NULL DEFAULT now(), received_by TEXT,
         PRIMARY KEY (hall, seq))""",
            """CREATE TABLE tickets (hall TEXT NOT NULL, id TEXT NOT NULL, seq BIGINT NOT NULL,
         day DATE, number TEXT, service TEXT, department TEXT, channel TEXT, status TEXT,
         "window" INTEGER, issued_at TIMESTAMPTZ, called_at TIMESTAMPTZ,
         served_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, PRIMARY KEY (hall, id))""",
            "CREATE INDEX tickets_day ON tickets (day, hall, status)",
            """CREATE TABLE windows (hall TEXT NOT NULL, number INTEGER NOT NULL, seq BIGINT NOT NULL,
         name TEXT, status TEXT, serving TEXT, staff TEXT, since TIMESTAMPTZ,
         PRIMARY KEY (hall, number))""",
            """CREATE TABLE alerts (hall TEXT NOT NULL, key TEXT NOT NULL, seq BIGINT NOT NULL,
         kind TEXT, message TEXT, raised_at TIMESTAMPTZ, cleared_at TIMESTAMPTZ,
         PRIMARY KEY (hall, key))""",
            """CREATE TABLE ratings (hall TEXT NOT NULL, id TEXT NOT NULL, seq BIGINT NOT NULL,
         at TIMESTAMPTZ, level_code INTEGER, bad BOOLEAN, count INTEGER, "window" INTEGER,
         service TEXT, follow_status TEXT, contact_by DATE, rectify_by DATE,
         closed_at TIMESTAMPTZ, record JSONB NOT NULL, PRIMARY KEY (hall, id))""",
            "CREATE INDEX ratings_at ON ratings (at)",
            """CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL,
         halls TEXT[] NOT NULL DEFAULT '{}', password TEXT NOT NULL)""",
        ),
    ),
    (
        2,
        "platform_appointments: each provincial platform booking as its hall last answered it "
        "(booked, cancelled, checked_in, refused with the reason); updated_at is when the "
        "answer was stored, which `city-appointments push` waits for",
        (
            """CREATE TABLE platform_appointments (hall TEXT NOT NULL, id TEXT NOT NULL,
         seq BIGINT NOT NULL, status TEXT, appointment TEXT, service TEXT,
         slot_start TIMESTAMPTZ, reason_code TEXT, reason TEXT, answered_at TIMESTAMPTZ,
         updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (hall, id))""",
            "CREATE INDEX platform_appointments_hall ON platform_appointments (hall, appointment)",
        ),
    ),
    (
        3,
        "halls' given-up events: numbers a hall forgot unacknowledged after its keep_days, "
        "which the city stops asking for",
        ("ALTER TABLE halls ADD COLUMN given_up BIGINT NOT NULL DEFAULT 0",),
    ),
    (
        4,
        "day tallies for the dashboard: each hall's tickets done, called and waited per day "
        "(ticket_days) and its first ratings, good and bad per day (rating_days), kept by "
        "triggers as the tickets and ratings rows change; ratings.day, the hall's own day of a "
        "rating; the waiting and busy tickets indexed apart",
        (
            # the day a hall's clock gave the rating (its ISO time's date), as tickets.day is
            "ALTER TABLE ratings ADD COLUMN day DATE",
            r"""UPDATE ratings SET day = left(record->>'rated_at', 10)::date
         WHERE record->>'rated_at' ~ '^\d{4}-\d{2}-\d{2}'""",
            """CREATE TABLE ticket_days (hall TEXT NOT NULL, day DATE NOT NULL,
         served BIGINT NOT NULL DEFAULT 0, called BIGINT NOT NULL DEFAULT 0,
         waited_s DOUBLE PRECISION NOT NULL DEFAULT 0, PRIMARY KEY (hall, day))""",
            """CREATE TABLE rating_days (hall TEXT NOT NULL, day DATE NOT NULL,
         rated BIGINT NOT NULL DEFAULT 0, good BIGINT NOT NULL DEFAULT 0,
         bad BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (hall, day))""",
            *_tally("tickets", "ticket_days", TICKET_SHARES),
            *_tally("ratings", "rating_days", RATING_SHARES),
            """CREATE INDEX tickets_waiting ON tickets (hall, day, issued_at)
         WHERE status = 'waiting'""",
            f"""CREATE INDEX tickets_busy ON tickets (hall, day, "window")
         WHERE status = ANY({BUSY_SQL})""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaError(Exception):
    pass


# what a command outside the city package catches (it never imports psycopg itself)
DatabaseError = psycopg.Error


def connect(url: str, **kw) -> psycopg.Connection:
    return psycopg.connect(url, **kw)


def _one(db: psycopg.Connection, sql: str):
    row = db.execute(sql).fetchone()
    return row[0] if row else None


def migrate(db: psycopg.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        exists = _one(db, "SELECT to_regclass('schema_log') IS NOT NULL")
        found = int(_one(db, "SELECT coalesce(max(version), 0) FROM schema_log")) if exists else 0
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"the city database is at schema {found}, newer than this "
                f"OneWindow knows ({SCHEMA_VERSION}): run the newer collector"
            )
        for version, what, statements in MIGRATIONS:
            if version > found:
                for sql in statements:
                    db.execute(sql)
                db.execute(
                    "INSERT INTO schema_log (version, what) VALUES (%s, %s)", (version, what)
                )
                log.info("city database: schema %d (%s)", version, what.split(":")[0])
    return found
