"""The provincial export and the city's retention, read from PostgreSQL after real halls sent
their ratings over the bridge: the city's records of a hall are the hall's own export, a period
and a set of halls select, and purging old raw events keeps what the export and the dashboard
read, without storing a re-sent old event again."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cityutil import two_bridged_halls

from busutil import cli, wait_for
from onewindow.city.ingest import Event, store
from onewindow.city.schema import connect

TZ = ZoneInfo("Asia/Shanghai")


def rate(hall, levels: list[int]) -> None:
    kiosk, caller = hall.client("kiosk-1"), hall.client("caller-4")
    caller.request("window.open", {"window": 4})
    for level in levels:
        kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
        t = caller.request("window.call_next", {"window": 4})["ticket"]
        caller.request("window.finish", {"window": 4})
        kiosk.request(
            "rating.submit",
            {
                "ticket_id": t["id"],
                "level": level,
                "reasons": ["态度"] if level <= 2 else [],
                "channel": "kiosk",
            },
        )


@pytest.fixture
def city(tmp_path, start_hall, city_db):
    db = city_db
    # county-a runs today; town-b's clock is ten days back (its follow-ups are late, its
    # ratings in another period)
    halls, central, collector = two_bridged_halls(tmp_path, start_hall, db)
    yield halls, db
    collector.stop()
    central.stop()


def acknowledged(hall) -> bool:
    sent, acked = hall.ctl.store.outbox_state()
    return sent == acked


def test_provincial_export_is_each_halls_own_export_for_any_period_and_halls(city, tmp_path):
    halls, db = city
    rate(halls["county-a"], [5, 4, 1])
    rate(halls["town-b"], [2, 5])
    for hall in halls.values():
        wait_for(lambda h=hall: acknowledged(h), 20)
    today = datetime.now(TZ).date()
    ten_back = today - timedelta(days=10)

    out = tmp_path / "city.json"
    got = cli(
        "city-export", "--db", db, "--from", str(ten_back), "--to", str(today), "--out", str(out)
    )
    assert got.returncode == 0, got.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["halls"] == ["county-a", "town-b"]
    assert [r["hall"] for r in doc["records"]] == ["county-a"] * 3 + ["town-b"] * 2
    a = doc["hall_kpis"]["county-a"]
    assert (a["served"], a["ratings"], a["good_rate"]["rate"]) == (3, 3, 66.7)
    assert doc["kpis"]["served"] == 5 and doc["kpis"]["good_rate"]["rate"] == 60.0

    # the city's records of county-a are county-a's own export, field for field
    own = tmp_path / "own.json"
    mine = cli(
        "ratings", "export", "--data-dir", str(halls["county-a"].data_dir),
        "--from", str(today), "--to", str(today), "--out", str(own),
    )  # fmt: skip
    assert mine.returncode == 0, mine.stderr
    hall_doc = json.loads(own.read_text(encoding="utf-8"))
    city_a = [{k: v for k, v in r.items() if k != "hall"} for r in doc["records"][:3]]
    assert city_a == hall_doc["records"]
    assert a["rating_rate"] == hall_doc["kpis"]["rating_rate"]

    # one hall, today only, provincial codes: town-b's ratings were ten days ago
    out2 = tmp_path / "today.csv"
    got = cli(
        "city-export", "--db", db, "--from", str(today), "--to", str(today),
        "--hall", "county-a", "--hall", "town-b", "--hall", "nowhere",
        "--levels", "provincial", "--format", "csv", "--out", str(out2),
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "'nowhere'" in got.stderr and "'town-b'" in got.stderr  # said, not passed over
    with out2.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["hall"], r["level_code"], r["level_scale"]) for r in rows] == [
        ("county-a", "5", "provincial"),
        ("county-a", "4", "provincial"),
        ("county-a", "1", "provincial"),
    ]
    assert len({r["rating_id"] for r in rows}) == 3
    with out2.with_name("today.kpis.csv").open(encoding="utf-8-sig") as f:
        kpi_rows = list(csv.DictReader(f))
    good = {r["hall"]: r["rate"] for r in kpi_rows if r["kpi"] == "good_rate"}
    assert good == {"county-a": "66.7", "nowhere": "", "town-b": "", "*": "66.7"}

    bad = cli("city-export", "--db", db, "--from", str(today), "--to", str(ten_back), "--out", "x")
    assert bad.returncode == 2 and "before" in bad.stderr


def test_purge_keeps_what_the_export_reads_and_never_stores_an_old_event_twice(city, tmp_path):
    halls, db = city
    rate(halls["county-a"], [5])
    rate(halls["town-b"], [1])
    for hall in halls.values():
        wait_for(lambda h=hall: acknowledged(h), 20)
    with connect(db, autocommit=True) as conn:
        before = dict(conn.execute("SELECT hall, count(*) FROM events GROUP BY hall").fetchall())
        old = conn.execute(
            "SELECT hall, seq, kind, event, at::text, data FROM events WHERE hall = 'town-b' "
            "ORDER BY seq LIMIT 1"
        ).fetchone()
    assert before["county-a"] > 0 and before["town-b"] > 0

    got = cli("city-purge", "--db", db, "--keep-days", "5")
    assert got.returncode == 0, got.stderr
    assert f"deleted {before['town-b']} events" in got.stdout
    with connect(db, autocommit=True) as conn:
        after = dict(conn.execute("SELECT hall, count(*) FROM events GROUP BY hall").fetchall())
        assert after == {"county-a": before["county-a"]}  # today's stay
        # town-b sends its first event again (an acknowledgement lost): not stored again
        with conn.transaction():
            again = store(conn, [Event(old[0], old[1], old[2], old[3], old[4], old[5])])
        assert again == []
        assert conn.execute("SELECT count(*) FROM events WHERE hall = 'town-b'").fetchone()[0] == 0

    out = tmp_path / "after.json"
    today = date.today()
    got = cli(
        "city-export", "--db", db, "--from", str(today - timedelta(days=11)),
        "--to", str(today + timedelta(days=1)), "--out", str(out),
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["hall"], r["level_name"]) for r in doc["records"]] == [
        ("county-a", "非常满意"),
        ("town-b", "非常不满意"),
    ]
    assert cli("city-purge", "--db", db, "--keep-days", "0").returncode == 2
