"""The controller's words for citizens, worded by the apps from its facts (onewindow/hallwords.py):
the Chinese equal to the controller's own sentences, the other languages from the catalogs, and
an older controller's sentences shown as they came. And a hall-file problem's words for a
manager (onewindow/hallschema/words.py, the validator's templates in configreader.py and
hallconfig.py): both languages filled where the problem is found."""

from __future__ import annotations

import string
import tomllib
from datetime import datetime, timedelta, timezone

import pytest

from busutil import REPO
from onewindow import configreader, hallconfig, hallwords
from onewindow.configreader import ConfigError, FileProblem, Said, Step, Table, problem
from onewindow.domain import estimate as est
from onewindow.domain import hours as hours_mod
from onewindow.domain.model import WINDOW_KINDS
from onewindow.hallschema import outreach
from onewindow.hallschema.words import problem_zh, problems_zh, where_zh

TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

CASES = [
    est.Estimate(ahead=4, wait_min=18, open_windows=2, idle=False),
    est.Estimate(ahead=0, wait_min=0, open_windows=1, idle=True),
    est.Estimate(ahead=0, wait_min=0, open_windows=1, idle=False),
    est.Estimate(ahead=3, wait_min=None, open_windows=0, idle=False),
    est.Estimate(ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW.replace(hour=13)),
    est.Estimate(
        ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW + timedelta(days=1)
    ),
    est.Estimate(
        ahead=3, wait_min=None, open_windows=0, idle=False, opens_at=NOW + timedelta(days=5)
    ),
]


def fields(e: est.Estimate) -> dict:
    """What the controller sends (views.wait_fields)."""
    zh, en = est.describe(e, NOW)
    return {
        "ahead": e.ahead,
        "est_wait_min": e.wait_min,
        "opens_at": e.opens_at.isoformat() if e.opens_at else None,
        "wait_kind": est.kind(e, NOW),
        "opens_in_days": (e.opens_at.date() - NOW.date()).days if e.opens_at else None,
        "wait_text": zh,
        "wait_text_en": en,
    }


@pytest.mark.parametrize("e", CASES)
def test_the_chinese_and_english_are_the_controllers_own(e):
    f = fields(e)
    assert hallwords.wait_words(f, "zh") == f["wait_text"]
    assert hallwords.wait_words(f, "en") == f["wait_text_en"]


@pytest.mark.parametrize("e", CASES)
def test_tibetan_is_worded_from_the_facts(e):
    words = hallwords.wait_words(fields(e), "bo")
    assert words and not any("\u4e00" <= ch <= "\u9fff" for ch in words), words
    if e.wait_min:
        assert str(e.wait_min) in words


def test_an_older_controller_sends_sentences_only():
    old = {
        "ahead": 4,
        "est_wait_min": 18,
        "wait_text": "约 18 分钟",
        "wait_text_en": "about 18 min",
    }
    assert hallwords.wait_words(old, "bo") == "约 18 分钟"
    assert hallwords.wait_words(old, "en") == "about 18 min"
    assert hallwords.wait_words({"wait_kind": "bogus", "wait_text": "x"}, "bo") == "x"
    assert hallwords.wait_words({"wait_kind": "minutes", "est_wait_min": "9"}, "bo") == ""


@pytest.mark.parametrize("days", [0, 1, 4])
def test_opening_words(days):
    when = NOW.replace(hour=13, minute=30) + timedelta(days=days)
    zh, en = hours_mod.describe_opening(when, NOW.date())
    hall = {"next_opening": when.isoformat(), "next_opening_in_days": days}
    assert hallwords.opening_words(hall, "zh") == zh
    assert hallwords.opening_words(hall, "en") == en
    bo = hallwords.opening_words(hall, "bo")
    assert "13:30" in bo and not any("\u4e00" <= ch <= "\u9fff" for ch in bo)
    older = {"next_opening_text": zh, "next_opening_text_en": en}
    assert hallwords.opening_words(older, "bo") == zh
    unknown = {"next_opening": None, "next_opening_in_days": None}
    assert hallwords.opening_words(unknown, "zh") == hours_mod.describe_opening(None, NOW.date())[0]


def test_refusals_in_the_citizens_language():
    full = "该时段已约满，请选择其他时段"
    assert hallwords.refusal(full, "zh", "Fully booked") == full
    bo = hallwords.refusal(full, "bo", "Fully booked")
    assert bo != full and not any("\u4e00" <= ch <= "\u9fff" for ch in bo)
    assert (
        hallwords.refusal(full, "en", "Fully booked")
        == "This time is fully booked: please choose another"
    )
    # a refusal the catalogs do not hold: the controller's English, or its Chinese
    assert hallwords.refusal("别的", "en", "Other") == "Other"
    assert hallwords.refusal("别的", "bo", "Other") == "别的"


def test_every_listed_refusal_is_one_the_controller_sends():
    """The catalog lists refusals by their Chinese: one reworded in the controller would silently
    stop being translated."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "onewindow"
    source = "".join(p.read_text(encoding="utf-8") for p in root.glob("ops_*.py"))
    for message in hallwords.REFUSALS.keys():
        assert f'"{message}"' in source, message


def test_an_open_hall_with_no_opening_ahead_says_nothing():
    # open around the clock (test mode): nothing to say, and not "另行通知" either
    always = {"open": True, "next_opening": None, "next_opening_in_days": None}
    assert all(hallwords.opening_words(always, lang) == "" for lang in ("zh", "en", "bo"))
    closed = {**always, "open": False}
    assert hallwords.opening_words(closed, "zh") == hours_mod.describe_opening(None, NOW.date())[0]


def test_a_range_that_carries_on_is_no_opening():
    from datetime import time

    from onewindow.domain.model import Hours

    end = hours_mod.DAY_END
    around = Hours(week=(((time(0), end),),) * 7, closed_dates=frozenset(), extra_days={})
    assert hours_mod.next_opening(around, NOW) is None
    assert hours_mod.next_opening(around, NOW.replace(hour=0)) is None
    # 08:30-12:00 then 12:00-17:30: no break at noon, the next opening is tomorrow's 08:30
    day = ((time(8, 30), time(12)), (time(12), time(17, 30)))
    joined = Hours(week=(day,) * 7, closed_dates=frozenset(), extra_days={})
    assert hours_mod.next_opening(joined, NOW) == (NOW + timedelta(days=1)).replace(
        hour=8, minute=30
    )
    # open until midnight, again from 00:00 after a closed day: that 00:00 is an opening
    sunday_off = Hours(
        week=(((time(0), end),),) * 6 + ((),), closed_dates=frozenset(), extra_days={}
    )
    sat = NOW + timedelta(days=5)
    assert hours_mod.next_opening(sunday_off, sat) == (sat + timedelta(days=2)).replace(hour=0)


# -- a hall-file problem in Chinese (onewindow/hallschema/words.py) ------------------------------


def _templates() -> dict[str, tuple[str, str]]:
    """Every ("中文", "English") template the validator fills: its modules' constants."""
    out = {}
    for module in (configreader, hallconfig):
        for name, value in vars(module).items():
            if (
                isinstance(value, tuple)
                and not isinstance(value, Said)
                and len(value) == 2
                and all(isinstance(w, str) for w in value)
                and any("\u4e00" <= ch <= "\u9fff" for ch in value[0])
            ):
                out[f"{module.__name__}.{name}"] = value
    return out


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


TEMPLATES = _templates()


def test_the_templates_are_found():
    assert len(TEMPLATES) >= 25, sorted(TEMPLATES)  # not an empty walk that passes by itself
    assert "onewindow.configreader.UNKNOWN_OPTION" in TEMPLATES
    assert "onewindow.hallconfig.NEEDS_SERVICES" in TEMPLATES


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_takes_the_same_parameters_in_both_languages(name):
    """The two languages name the same parameters, the Chinese some in its own words
    (`kind_zh` for `kind`): a problem made with the English's parameters fills the Chinese too,
    and the other way round."""
    zh, en = TEMPLATES[name]
    zh_fields, en_fields = _fields(zh), _fields(en)
    assert {f.removesuffix("_zh") for f in zh_fields} == en_fields, (name, zh_fields, en_fields)
    params = {f: f"<{f}>" for f in zh_fields | en_fields}
    p = problem("hall.toml", (Step("rules"),), "x", TEMPLATES[name], **params)
    assert "{" not in p.zh.replace("{token}", "") and p.zh and str(p), name


def test_a_chinese_parameter_not_given_fails_where_the_problem_is_made():
    """Not later, when a manager's change is refused and the Chinese is first needed."""
    words = ("“{value}”不在 {choices_zh} 中", "{value!r} is not one of {choices}")
    with pytest.raises(KeyError, match="choices_zh"):
        problem("hall.toml", (Step("rules"),), "routing", words, value="x", choices="a, b")


def test_a_hall_file_problem_needs_its_chinese():
    t = Table("hall.toml", "rules", {}, [])
    with pytest.raises(TypeError, match="without its Chinese"):
        t.fail("routing", "is wrong")
    pack: list[str] = []  # a voice pack's manifest: the installer reads it, in English
    Table("pack.toml", "pack", {}, pack, english_only=True).fail("name", "is wrong")
    assert pack == ["pack.toml: [pack] name: is wrong"]


def test_a_problem_in_chinese_names_the_block_the_option_and_what_to_do():
    p = problem(
        "manager change",
        (Step("windows", 3, "number", 15),),
        "services",
        ("专业窗口须列出它办理的业务", "a specialist window needs its list of services"),
    )
    assert str(p) == (
        "manager change: [[windows]] #3 (number = 15) services: "
        "a specialist window needs its list of services"
    )
    assert problem_zh(p) == "窗口 15 的办理业务（services）：专业窗口须列出它办理的业务"


@pytest.mark.parametrize(
    "label, said",
    [
        (15, "窗口 15 的办理业务（services）"),
        ("A-", "窗口 A- 的办理业务（services）"),  # a sign is Latin: spaced like a letter
        ("4号", "窗口 4号的办理业务（services）"),
        ({"a": "{b}"}, "窗口（第 3 项）的办理业务（services）"),  # not a plain value: its place
        (["x"], "窗口（第 3 项）的办理业务（services）"),
        (True, "窗口（第 3 项）的办理业务（services）"),
        ("", "窗口（第 3 项）的办理业务（services）"),
        (None, "窗口（第 3 项）的办理业务（services）"),
    ],
)
def test_a_block_is_named_by_its_label_only_when_it_is_plain(label, said):
    assert where_zh((Step("windows", 3, "number", label),), "services") == said


def test_said_words_are_shown_as_they_are():
    """A value from the file with braces in it, and a check's own words with {token}: never
    read as a template's parameters."""
    p = problem("hall.toml", (Step("hall"),), "name", Said("“{a}”不对", "'{a}' is wrong"))
    assert p.zh == "“{a}”不对" and str(p).endswith("'{a}' is wrong")
    (entrance,) = [o for o in outreach.MOBILE.options if o.check is not None]
    zh, en = entrance.check("ftp://x")
    raw = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    raw.setdefault("mobile", {})[entrance.name] = "ftp://x"
    raw["hall"]["timezone"] = "Mars/{Olympus}"
    with pytest.raises(ConfigError) as err:
        hallconfig.parse(raw, "hall.toml")
    said = {p.option: p for p in err.value.problems if isinstance(p, FileProblem)}
    assert said[entrance.name].zh == zh and "{token}" in zh and "{token}" in en
    assert "“Mars/{Olympus}”不是已知的时区" in said["timezone"].zh
    assert "'Mars/{Olympus}' is not a known time zone" in said["timezone"]


def test_a_refusal_ends_in_one_mark():
    def refused(zh: str) -> FileProblem:
        return FileProblem("x", (Step("rules"),), "elder_agee", zh)

    asked = refused("没有这一项设置，是否写错了？是不是 elder_age？")
    assert problems_zh([asked]).endswith("是不是 elder_age？")
    assert problems_zh([refused("大厅至少要有一个窗口")]).endswith("大厅至少要有一个窗口。")
    assert problems_zh([refused("已满。")]).endswith("已满。")
    assert problems_zh([refused("甲"), refused("甲"), refused("乙")]).count("甲") == 1
    # in the middle too: a question is followed by the next problem, not by "？；"
    both = problems_zh([asked, refused("大厅至少要有一个窗口")])
    assert "是不是 elder_age？" in both and "？；" not in both and both.endswith("窗口。")
    assert problems_zh([refused("甲"), refused("乙")]).endswith("：甲；规则的 elder_agee：乙。")


def test_every_window_kind_has_its_chinese():
    assert set(hallconfig.KIND_ZH) == set(WINDOW_KINDS)


def _windows_problems(**window) -> list[FileProblem]:
    raw = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    raw["windows"].append({"number": 99, "name": "99号", **window})
    with pytest.raises(ConfigError) as err:
        hallconfig.parse(raw, "hall.toml")
    return [p for p in err.value.problems if isinstance(p, FileProblem)]


def test_a_pickup_window_without_services_is_named_by_its_kind():
    (p,) = _windows_problems(kind="pickup")
    assert problem_zh(p).endswith("：出件窗口须列出它办理的业务，请至少选一项（或改为综合窗口）")


@pytest.mark.parametrize("kind", ["specalist", 3])
def test_a_refused_kind_says_nothing_more_of_the_kind(kind):
    """ "a specalist window needs its list of services" would name a kind the file has not."""
    (p,) = _windows_problems(kind=kind)
    assert p.option == "kind", p
