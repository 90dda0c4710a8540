"""Upgrading the hall database: a database made by the previous release (tests/fixtures), opened by
this code, keeps every row, gains the new schema, and leaves a copy of itself first."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from busutil import REPO
from onewindow.roles import Device
from onewindow.startup import open_hall
from onewindow.store import Store, StoreError
from onewindow.store.migrations import MIGRATIONS, SCHEMA_VERSION, database_version, migrate

FIXTURE = REPO / "tests" / "fixtures" / "release1-hall.db"
TABLES = (
    "config",
    "counters",
    "tickets",
    "audit",
    "replies",
    "windows",
    "appointments",
    "ratings",
    "alerts",
)
TZ = ZoneInfo("Asia/Shanghai")


def rows(path, like=None) -> dict[str, list[tuple]]:
    """Every row of every table; with `like` (the rows of an older database), only its columns,
    and the columns added since must be empty."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        db.close()
    if like is not None:
        for t, old in like.items():
            width = len(old[0]) if old else 0
            assert all(v is None for r in out[t] for v in r[width:]), t
            out[t] = [r[:width] for r in out[t]] if old else out[t]
    return out


def shape(path) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        db.close()


@pytest.fixture
def release1(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURE, data / "hall.db")
    return data


def test_the_fixture_is_a_release1_database_with_a_day_in_it():
    before = rows(FIXTURE)
    db = sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    assert database_version(db) == 1
    db.close()
    assert len(before["tickets"]) == 5 and len(before["ratings"]) == 2
    assert len(before["audit"]) > 20 and before["appointments"] and before["alerts"]


def test_a_release1_database_is_upgraded_with_every_row_kept(release1, tmp_path):
    before = rows(release1 / "hall.db")
    store = Store(release1 / "hall.db")
    assert database_version(store.db) == SCHEMA_VERSION > 1
    log = [
        tuple(r) for r in store.db.execute("SELECT version, from_version, backup FROM schema_log")
    ]
    store.close()
    assert rows(release1 / "hall.db", like=before) == before
    (copy,) = release1.glob("hall.db.schema-1-*.bak")
    assert log == [(SCHEMA_VERSION, 1, copy.name)]
    assert copy.stat().st_mode & 0o777 == 0o600
    assert rows(copy) == before  # the copy is the database as it was
    fresh = Store(tmp_path / "fresh" / "hall.db")
    fresh.close()
    assert shape(release1 / "hall.db") == shape(tmp_path / "fresh" / "hall.db")


def test_the_upgraded_hall_serves_on_from_where_it_stopped(release1):
    before = rows(release1 / "hall.db")
    ctl = open_hall(
        REPO / "config" / "hall.toml",
        release1,
        clock=lambda: datetime(2026, 11, 23, 10, 0, tzinfo=TZ),
    )
    try:
        waiting = [t.number for t in ctl.store.tickets("status = 'waiting'")]
        kiosk = Device("kiosk-1", "kiosk")
        reply = ctl.handle(
            kiosk,
            b'{"v": 1, "id": "after-upgrade", "op": "ticket.issue", "args": {"service": "B"}}',
        ).reply
        audit = ctl.store.audit_rows()
    finally:
        ctl.store.close()
    assert waiting == ["B003"]
    assert reply["ok"], reply
    assert reply["result"]["ticket"]["number"] == "B004"  # numbering continues
    assert [tuple(r.values()) for r in audit[: len(before["audit"])]] == before["audit"]


def test_a_database_of_a_newer_version_is_refused_and_left_alone(release1):
    db = sqlite3.connect(str(release1 / "hall.db"))
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    digest = hashlib.sha256((release1 / "hall.db").read_bytes()).hexdigest()
    for _ in range(2):  # the refusal releases the data dir lock
        with pytest.raises(StoreError) as err:
            Store(release1 / "hall.db")
        assert f"newer OneWindow (schema {SCHEMA_VERSION + 1}" in str(err.value)
    assert hashlib.sha256((release1 / "hall.db").read_bytes()).hexdigest() == digest
    assert not list(release1.glob("*.bak"))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "hall",
            "--config",
            str(REPO / "config" / "hall.toml"),
            "--data-dir",
            str(release1),
            "--mqtt",
            "embedded://127.0.0.1:0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 3
    assert "newer OneWindow" in proc.stderr and "Traceback" not in proc.stderr


def test_a_failing_step_changes_nothing_and_names_the_copy(release1):
    broken = MIGRATIONS + (
        (
            SCHEMA_VERSION + 1,
            "a step that cannot work",
            ("CREATE TABLE x (a)", "CREATE TABLE tickets (a)"),
        ),
    )
    before = rows(release1 / "hall.db")
    db = sqlite3.connect(str(release1 / "hall.db"), isolation_level=None)
    try:
        with pytest.raises(StoreError) as err:
            migrate(db, release1 / "hall.db", broken)
        assert database_version(db) == 1
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()
    (copy,) = release1.glob("hall.db.schema-1-*.bak")
    assert f"step {SCHEMA_VERSION + 1}" in str(err.value) and str(copy) in str(err.value)
    assert "schema_log" not in tables and "x" not in tables  # step 2 rolled back too
    assert rows(release1 / "hall.db") == before


def test_the_hall_database_is_readable_by_the_halls_user_only_like_its_keys(tmp_path):
    """A data dir made by hand (umask 022): hall.db, its WAL, SHM and lock files are 0600, as
    the keys beside them are; a database copied in with 0644 is narrowed at the next start."""
    import os
    import stat

    from busutil import unlimited_config

    data = tmp_path / "data"
    old = os.umask(0o022)
    try:
        ctl = open_hall(unlimited_config(tmp_path), data)
        ctl.store.db.execute("CREATE TABLE IF NOT EXISTS t (x)")  # something in the WAL
        names = ("hall.db", "hall.db-wal", "hall.db-shm", "hall.db.lock", "secret.key")
        modes = {n: stat.S_IMODE((data / n).stat().st_mode) for n in names if (data / n).exists()}
        ctl.store.close()
        assert set(modes) >= {"hall.db", "hall.db-wal", "hall.db-shm", "hall.db.lock"}
        assert all(m == 0o600 for m in modes.values()), {n: oct(m) for n, m in modes.items()}
        (data / "hall.db").chmod(0o644)
        open_hall(unlimited_config(tmp_path), data).store.close()
        assert stat.S_IMODE((data / "hall.db").stat().st_mode) == 0o600
    finally:
        os.umask(old)
