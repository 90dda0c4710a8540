"""`onewindow plan` (issue 19) on a hall file of our own, with a history made through the real
controller's ops and read while that controller still holds the data dir; and the clear
messages when there is nothing to plan from (never invented numbers)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from busutil import REPO
from ctlutil import TZ, caller
from ctlutil import Hall as CtlHall

HALL_TOML = """
[hall]
id = "plan-test"
name = "规划测试大厅"
name_en = "Planning test hall"
timezone = "Asia/Shanghai"

[hours]
mon = ["09:00-12:00", "13:30-17:00"]
tue = ["09:00-12:00", "13:30-17:00"]
wed = ["09:00-12:00", "13:30-17:00"]
thu = ["09:00-12:00", "13:30-17:00"]
fri = ["09:00-12:00", "13:30-17:00"]
sat = []
sun = []

[[services]]
code = "A"
name = "户籍业务"
department = "公安局"

[[services]]
code = "C"
name = "社保业务"
department = "人社局"

[[windows]]
number = 1
name = "1号综合窗口"
kind = "comprehensive"

[[windows]]
number = 2
name = "2号户籍窗口"
services = ["A"]

[[windows]]
number = 3
name = "3号户籍窗口"
services = ["A"]
"""


def _run_mondays(hall: CtlHall, mondays: int) -> None:
    """Each Monday morning through the real ops: an A ticket every 4 minutes, served in 6 at
    windows 2 and 3 in turn, and a C ticket every 20 minutes served in 10 at window 1."""
    for week in range(mondays):
        start = datetime(2026, 11, 2, 9, 0, tzinfo=TZ) + timedelta(weeks=week)
        hall.clock.at = start
        hall.open(1, 2, 3)
        events = []  # (minute, order at that minute, what, argument)
        for m in range(0, 150, 4):
            w = 2 if m % 8 == 0 else 3
            events += [(m, 1, "issue", "A"), (m, 2, "call", w), (m + 6, 0, "finish", w)]
        for m in range(2, 150, 20):  # (never with an A: window 1 would call that)
            events += [(m, 1, "issue", "C"), (m, 2, "call", 1), (m + 10, 0, "finish", 1)]
        for minute, _, what, arg in sorted(events):
            hall.clock.at = start + timedelta(minutes=minute)
            if what == "issue":
                hall.issue(arg)
            elif what == "call":
                assert hall.call(arg) is not None
            else:
                hall.ok(caller(arg), "window.finish", window=arg)


@pytest.fixture
def planned_hall(tmp_path):
    cfg = tmp_path / "hall.toml"
    cfg.write_text(HALL_TOML, encoding="utf-8")
    hall = CtlHall(tmp_path, datetime(2026, 11, 2, 8, 0, tzinfo=TZ), config=cfg)
    yield hall
    hall.ctl.store.close()


def _plan(data_dir, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "plan",
            "--data-dir",
            str(data_dir),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--target-wait",
            "10",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plan_prints_the_advice_while_the_hall_runs(planned_hall):
    _run_mondays(planned_hall, 3)
    # the controller still holds the data dir: plan reads beside it
    got = _plan(planned_hall.tmp / "data", "--weekday", "mon", "--days", "30")
    assert got.returncode == 0, got.stderr
    out = got.stdout
    assert out.index("排班建议") < out.index("Staffing advice")
    assert "星期一" in out and "Monday" in out and "3 个星期一" in out
    assert "80% 的群众在 10 分钟内被叫号" in out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line[:2].isdigit() and line[2] == ":"
    }
    # the morning is planned (09:00-11:30 had tickets), the afternoon had none: 0 windows
    assert rows["09:00"][1:3] != ["0", "0"]
    assert rows["14:00"][1:3] == ["0", "0"]
    assert "12:00" not in rows  # lunch: no slot
    assert "把握" in out and "confidence" in out


def test_plan_with_no_history_says_so(planned_hall):
    planned_hall.clock.advance(hours=2)
    planned_hall.issue("A")  # the hall ran (its settings are saved), but not in range
    got = _plan(planned_hall.tmp / "data", "--from", "2026-12-01", "--to", "2026-12-31")
    assert got.returncode == 1
    assert "没有任何取号记录" in got.stderr and "nothing to plan from" in got.stderr
    assert got.stdout == ""


def test_plan_on_a_data_dir_without_a_hall(tmp_path):
    got = _plan(tmp_path)
    assert got.returncode == 3
    assert "no hall database here" in got.stderr


def test_plan_with_tickets_but_none_finished(planned_hall):
    planned_hall.clock.advance(hours=2)
    planned_hall.issue("A")
    got = _plan(planned_hall.tmp / "data")
    assert got.returncode == 1
    assert "办理时长" in got.stderr and "no advice" in got.stderr


def test_plan_what_if_another_hall_file(planned_hall, tmp_path):
    """--config plans the same history for a changed hall: here without its comprehensive
    window, so nobody serves 社保 (C) any more, and the advice says so instead of planning it."""
    _run_mondays(planned_hall, 2)
    what_if = tmp_path / "what-if.toml"
    text = HALL_TOML.replace(
        '[[windows]]\nnumber = 1\nname = "1号综合窗口"\nkind = "comprehensive"\n', ""
    )
    assert text != HALL_TOML
    what_if.write_text(text, encoding="utf-8")
    got = _plan(planned_hall.tmp / "data", "--config", str(what_if), "--days", "20")
    assert got.returncode == 0, got.stderr
    assert "没有窗口办理 C" in got.stdout and "no window serves C" in got.stdout
    assert "综合窗口" not in got.stdout.split("时段")[1]  # no such column any more


def test_plan_on_two_processes_gives_the_same_advice(planned_hall):
    _run_mondays(planned_hall, 2)
    one = _plan(planned_hall.tmp / "data", "--days", "20", "--jobs", "1")
    two = _plan(planned_hall.tmp / "data", "--days", "20", "--jobs", "2")
    assert one.returncode == two.returncode == 0, (one.stderr, two.stderr)
    assert one.stdout == two.stdout


def test_plan_what_if_more_windows(planned_hall):
    """--what-if: the advice with two more comprehensive windows 09:00-10:00, and the waits per
    service and slot it gives (on the same simulated days: the waits can only go down there)."""
    _run_mondays(planned_hall, 2)
    got = _plan(
        planned_hall.tmp / "data",
        "--days",
        "30",
        "--what-if",
        "comprehensive+2@09:00-10:00",
        "--what-if",
        "A+B-9@13:30-14:00",
    )
    assert got.returncode == 2 and "'A+B' is no kind of window" in got.stderr
    got = _plan(
        planned_hall.tmp / "data", "--days", "30", "--what-if", "comprehensive+2@09:00-10:00"
    )
    assert got.returncode == 0, got.stderr
    advice, _, what_if = got.stdout.partition("假如（what-if）：comprehensive +2 个 09:00-10:00")
    assert what_if, got.stdout
    rows = {
        line.split()[0]: line
        for line in what_if.splitlines()
        if line[:2].isdigit() and line[2] == ":"
    }
    # the two half hours changed, marked; the others as advised
    assert "(+2)" in rows["09:00"] and "(+2)" in rows["09:30"] and "(+2)" not in rows["10:00"]
    head = next(line for line in what_if.splitlines() if line.startswith("时段"))
    assert head.split("|")[1].split() == ["A", "C"]  # a column per service
    # C's wait at 09:00 with three more comprehensive windows: nobody waits long
    c_wait = float(rows["09:00"].split("|")[1].split()[1].rstrip("*"))
    assert c_wait <= 1.0


def test_plan_what_if_a_window_moves(planned_hall):
    """--what-if 3=C: window 3 (户籍) serves 社保 instead; a column for its new kind, one window
    taken from 户籍 and given to it in each slot the advice opens 户籍 windows."""
    _run_mondays(planned_hall, 2)
    got = _plan(planned_hall.tmp / "data", "--days", "20", "--what-if", "3=C")
    assert got.returncode == 0, got.stderr
    _, _, what_if = got.stdout.partition("假如（what-if）：3号窗口改办 C")
    assert what_if, got.stdout
    head = next(line for line in what_if.splitlines() if line.startswith("时段"))
    assert head.split("|")[0].split()[1:] == ["compre", "A", "C"]
    rows = [line for line in what_if.splitlines() if line[:2].isdigit() and line[2] == ":"]
    morning = rows[0].split("|")[0].split()  # 09:00: the advice opens 户籍 windows then
    assert morning[2].endswith("(-1)") and morning[3] == "1(+1)", rows[0]
    got = _plan(planned_hall.tmp / "data", "--days", "20", "--what-if", "2=A")
    assert got.returncode == 2 and "window 2 already serves A" in got.stderr


def test_plan_what_if_said_wrong(planned_hall):
    got = _plan(planned_hall.tmp / "data", "--what-if", "two more at nine")
    assert got.returncode == 2
    assert "KIND+N@HH:MM-HH:MM" in got.stderr and "Traceback" not in got.stderr
