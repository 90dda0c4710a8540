"""Managers' configuration ops: services added, renamed and retired; windows added and renamed;
the hall's hours, lunch break, closed and 调休 days; rules; the PIN. Each validated like the hall
file, audited, and still there after a restart (the merge rule)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from busutil import TEST_PIN
from ctlutil import KIOSK, MANAGER, MONDAY_10, Hall
from onewindow import managerpin
from onewindow.domain import hours as hours_mod
from onewindow.ops_config import _with_lunch


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


def actions(h) -> list[str]:
    return [r["action"] for r in h.ctl.store.audit_rows()]


def test_a_new_service_goes_to_the_windows_chosen_and_survives_a_restart(hall):
    got = hall.ok(
        MANAGER,
        "config.service_add",
        code="R",
        name="残疾人证办理",
        department="县残联",
        daily_quota=30,
        windows=[2, 4],
        guide={"fee": "免费", "place": "一楼B区"},
    )
    assert got["service"]["prefix"] == "R"
    ctl = hall.ctl
    assert ctl.hall.service("R").name == "残疾人证办理" and ctl.hall.service("R").daily_quota == 30
    assert ctl.hall.window(4).services == ("A", "B", "R")  # a list of its own: R added
    assert ctl.hall.window_serves(ctl.hall.window(2), "R")  # comprehensive: serves all
    assert "config_service_add" in actions(hall)
    ticket = hall.issue("R")
    assert ticket["number"] == "R001"
    hall.reopen()  # a restart, file unchanged
    assert hall.ctl.hall.service("R").guide.place == "一楼B区"
    assert hall.ctl.hall.window(4).services == ("A", "B", "R")


def test_a_service_is_checked_like_the_hall_file(hall):
    taken = hall.do(MANAGER, "config.service_add", code="A", name="x", department="y")
    assert taken["error"]["code"] == "exists"
    bad = hall.do(
        MANAGER,
        "config.service_add",
        code="R",
        name="残疾人证办理",
        department="县残联",
        prefix="Y",
    )  # the prefix of 一件事 T1
    assert bad["error"]["code"] == "bad_config" and "prefix" in bad["error"]["message_en"]
    assert hall.ctl.hall.service("R") is None
    missing = hall.do(MANAGER, "config.service_add", code="R", name="残疾人证办理")
    assert missing["error"]["code"] == "bad_request" and "department" in missing["error"]["message"]


def test_rename_and_guide_basics_keep_the_materials(hall):
    before = hall.ctl.hall.service("A").guide.materials
    hall.ok(MANAGER, "config.service", code="A", name="户籍办理", guide={"fee": "工本费 10 元"})
    s = hall.ctl.hall.service("A")
    assert s.name == "户籍办理" and s.guide.fee == "工本费 10 元" and s.guide.materials == before
    assert hall.ok(KIOSK, "config.get")["services"][0]["name"] == "户籍办理"


def test_retire_refused_while_in_use_then_gone_from_every_window(hall):
    hall.issue("C")
    busy = hall.do(MANAGER, "config.service_retire", code="C")
    assert busy["error"]["code"] == "in_use" and "1 人在等候" in busy["error"]["message"]
    in_theme = hall.do(MANAGER, "config.service_retire", code="A")
    assert in_theme["error"]["code"] == "in_use" and "一件事" in in_theme["error"]["message"]
    hall.ok(
        MANAGER,
        "config.service_add",
        code="R",
        name="残疾人证办理",
        department="县残联",
        windows=[6],
    )
    hall.ok(MANAGER, "config.service_retire", code="R")
    assert hall.ctl.hall.service("R") is None and hall.ctl.hall.window(6).services == ("C", "D")
    assert hall.do(KIOSK, "ticket.issue", service="R")["error"]["code"] == "unknown_service"
    hall.reopen()
    assert hall.ctl.hall.service("R") is None


def test_windows_added_and_renamed(hall):
    hall.ok(MANAGER, "config.window", window=3, name="3号残疾人服务窗口")
    hall.ok(MANAGER, "config.window", window=14, name="14号综合窗口", kind="comprehensive")
    assert hall.ctl.hall.window(3).name == "3号残疾人服务窗口"
    assert hall.ok(MANAGER, "window.open", window=14)["window"]["status"] == "open"
    bad = hall.do(MANAGER, "config.window", window=15, name="15号", kind="specialist")
    assert bad["error"]["code"] == "bad_config" and "services" in bad["error"]["message_en"]
    hall.reopen()
    assert hall.ctl.hall.window(3).name == "3号残疾人服务窗口" and hall.ctl.hall.window(14)


def test_lunch_break_moves_on_every_day_that_has_one():
    assert _with_lunch(["08:30-12:00", "13:30-17:30"], "12:00", "13:00") == [
        "08:30-12:00",
        "13:00-17:30",
    ]
    assert _with_lunch(["09:00-12:00"], "12:00", "13:00") == ["09:00-12:00"]  # Saturday morning
    assert _with_lunch(["08:30-17:30"], "12:00", "13:00") == ["08:30-12:00", "13:00-17:30"]
    assert _with_lunch([], "12:00", "13:00") == []


def test_lunch_break_hours_closed_and_extra_days(hall):
    got = hall.ok(MANAGER, "config.lunch", start="12:00", end="13:00")
    assert got["hours"]["mon"] == ["08:30-12:00", "13:00-17:30"] and got["hours"]["sat"] == [
        "09:00-12:00"
    ]
    h = hall.ctl.hall.hours
    assert hours_mod.is_open(h, MONDAY_10.replace(hour=13, minute=10))
    assert (
        hall.do(MANAGER, "config.lunch", start="13:00", end="12:00")["error"]["code"]
        == "bad_request"
    )
    hall.ok(MANAGER, "config.day", date="2026-12-05", kind="extra")  # a Saturday 调休
    hall.ok(MANAGER, "config.day", date="2026-12-01", kind="closed")
    h = hall.ctl.hall.hours
    assert h.extra_days[date(2026, 12, 5)] and date(2026, 12, 1) in h.closed_dates
    assert not hours_mod.is_open(h, MONDAY_10.replace(day=1, month=12))
    assert hours_mod.is_open(h, MONDAY_10.replace(day=5, month=12, hour=15))
    hall.ok(MANAGER, "config.day", date="2026-12-01", kind="normal")
    assert date(2026, 12, 1) not in hall.ctl.hall.hours.closed_dates
    bad = hall.do(MANAGER, "config.hours", wed=["08:30-12:00", "11:00-17:30"])
    assert bad["error"]["code"] == "bad_config" and "overlaps" in bad["error"]["message_en"]
    assert {"config_lunch", "config_day"} <= set(actions(hall))
    hall.reopen()
    h = hall.ctl.hall.hours
    assert (
        h.extra_days[date(2026, 12, 5)]
        and h.week[0][1][0].hour == 13
        and h.week[0][1][0].minute == 0
    )


def test_rules_and_alert_thresholds(hall):
    hall.ok(MANAGER, "config.rules", wait_alert_min=45, elder_age=65)
    assert hall.ctl.hall.rules.wait_alert_min == 45 and hall.ctl.hall.rules.elder_age == 65
    bad = hall.do(MANAGER, "config.rules", elder_age=30)
    assert bad["error"]["code"] == "bad_config" and "elder_age" in bad["error"]["message_en"]
    hall.reopen()
    assert hall.ctl.hall.rules.wait_alert_min == 45


def test_pin_changed_only_with_the_old_one(hall):
    hall.ok(MANAGER, "config.notice", notice="x")  # logs the console in (TEST_PIN)
    data = hall.ctl.store.path.parent
    assert hall.do(MANAGER, "config.pin", old="0000", new="1357")["error"]["code"] == "wrong_pin"
    assert hall.do(MANAGER, "config.pin", old=TEST_PIN, new="12")["error"]["code"] == "bad_pin"
    assert hall.ok(MANAGER, "config.pin", old=TEST_PIN, new="13579") == {"ok": True}
    assert managerpin.check(data, "13579") and not managerpin.check(data, TEST_PIN)
    rows = [r for r in hall.ctl.store.audit_rows() if r["action"] == "pin_change"]
    assert len(rows) == 1 and "13579" not in repr(rows)
    managerpin.set_pin(data, TEST_PIN)


def test_only_a_logged_in_manager_may(hall):
    assert (
        hall.do(KIOSK, "config.lunch", start="12:00", end="13:00")["error"]["code"] == "forbidden"
    )


def _chinese_sentence(message: str, names: set[str]) -> None:
    """A manager's refusal in Chinese: Latin letters only in the option and value names."""
    assert message.startswith("设置未保存：") and message.endswith("。"), message
    words = set(re.findall(r"[A-Za-z_]+", message))
    assert words <= names, (words - names, message)
    assert len(re.findall(r"[\u4e00-\u9fff]", message)) >= 10, message


@pytest.mark.parametrize(
    "op, args, names, says_zh, says_en",
    [
        (
            "config.hours",
            {"wed": ["08:30-12:00", "11:00-17:30"]},
            {"wed"},
            "办公时间的周三（wed）：“11:00-17:30”与前一个时段重叠",
            "[hours] wed: '11:00-17:30' overlaps or is out of order",
        ),
        (
            "config.hours",
            {"mon": ["08:30-25:00"]},
            {"mon"},
            "时间应在 00:00 到 24:00 之间",
            "is not a valid time of day",
        ),
        (
            "config.window",
            {"window": 3, "services": ["A", "ZZ"]},
            {
                "services",
                "ZZ",
                "A",
                "B",
                "C",
                "D",
                "E",
                "F",
                "H",
                "J",
                "K",
                "L",
                "M",
                "N",
                "P",
                "Q",
                "T",
            },
            "窗口 3 的办理业务（services）：没有代码为 ZZ 的业务或一件事",
            "[[windows]] #3 (number = 3) services: unknown service or theme 'ZZ'",
        ),
        (
            "config.window",
            {"window": 15, "name": "15号", "kind": "specialist"},
            {"services"},
            "窗口 15 的办理业务（services）：专业窗口须列出它办理的业务",
            "services: a specialist window needs its list of services",
        ),
        (
            "config.service",
            {"code": "B", "prefix": "A"},
            {"prefix", "A", "B"},
            "业务 B 的号码前缀（prefix）：号码前缀 A 已被业务“户籍业务”使用",
            "prefix: 'A' is already used by",
        ),
        (
            "config.service",
            {"code": "B", "prefix": "b1"},
            {"prefix", "b", "A", "B", "AB"},
            "号码前缀（prefix）：“b1”的写法不对，应为一到两个大写英文字母",
            "does not match [A-Z]{1,2}",
        ),
        (
            "config.rules",
            {"elder_age": 30},
            {"elder_age"},
            "规则的老年人年龄（elder_age）：30 小于最小值 50，请改为不小于 50 的数",
            "[rules] elder_age: 30 is below the minimum 50",
        ),
    ],
)
def test_a_bad_change_is_told_in_chinese_with_the_english_beside(
    hall, op, args, names, says_zh, says_en
):
    """The console shows `message` (manager/app.py act): the place, the option and what to do
    in Chinese; the validator's English, as `config check` says it, stays in `message_en`."""
    err = hall.do(MANAGER, op, **args)["error"]
    assert err["code"] == "bad_config"
    _chinese_sentence(err["message"], names)
    assert says_zh in err["message"], err["message"]
    assert says_en in err["message_en"] and "manager change" in err["message_en"]


def test_a_window_defined_twice_is_told_in_chinese():
    import tomllib

    from busutil import REPO
    from onewindow.configreader import ConfigError
    from onewindow.hallconfig import parse
    from onewindow.hallschema.words import problem_zh

    raw = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    raw["windows"][4]["number"] = raw["windows"][3]["number"]  # two blocks say window 4
    with pytest.raises(ConfigError) as err:
        parse(raw, "hall.toml")
    (twice,) = [p for p in err.value.problems if "defined twice" in p]
    assert "hall.toml: [[windows]] #5 (number = 4) number: window 4 is defined twice" == twice
    assert problem_zh(twice) == "窗口 4 的窗口号（number）：4 号窗口定义了两次，请删去一个"


def test_a_refusal_that_ends_in_a_question_takes_no_full_stop_after_it(hall):
    """ "是否写错了？是不是 elder_age？" ends the sentence itself: no "？。" after it."""
    import copy

    from onewindow.domain.errors import DomainError

    raw = copy.deepcopy(hall.ctl.raw)
    raw["rules"]["elder_agee"] = 60  # a misspelt option: the hint asks
    with pytest.raises(DomainError) as err:
        hall.ctl.set_config(MANAGER, raw, "config_rules", {})
    assert err.value.message.endswith("是否写错了？是不是 elder_age？"), err.value.message
