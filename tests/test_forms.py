"""一表申请: the templates in the hall file, the merge rule, the check of a filled form."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from onewindow.configreader import ConfigError
from onewindow.domain.forms import CARD_FIELDS, check, form_for
from onewindow.hallconfig import load_file, parse

REPO = Path(__file__).resolve().parent.parent
SHIPPED = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hall():
    return load_file(REPO / "config" / "hall.toml")[0]


def test_a_theme_merges_its_selected_items_forms_showing_shared_fields_once(hall):
    form = form_for(hall, "T1", {"fund": False})
    assert form.title == "新生儿出生一件事联办申请表"
    assert form.items == ("A", "E", "D")  # D has no form of its own but is applied for
    keys = [f.key for f in form.fields]
    assert keys[:7] == [f.key for f in CARD_FIELDS] + ["phone"]
    assert len(keys) == len(set(keys))  # once each
    assert keys[7:] == ["relation", "baby_name", "baby_sex", "baby_birth", "birth_cert", "pay_card"]
    name = form.field("baby_name")
    assert (name.label, name.items) == ("新生儿姓名", ("A", "E"))  # the first item's label
    assert form.field("pay_card").required is False  # only 医保 asks for it, optionally


def test_a_yes_answer_adds_its_items_fields_and_a_field_is_required_if_any_item_says_so(hall):
    form = form_for(hall, "T1", {"fund": True})
    assert form.items == ("A", "E", "D", "L")
    assert form.field("fund_account").items == ("L",)
    pay = form.field("pay_card")
    assert pay.items == ("E", "L") and pay.required  # 公积金 requires it


def test_a_service_has_its_own_form_and_one_without_has_none(hall):
    assert form_for(hall, "A", {}).title == "户口登记申请表（出生登记）"
    assert form_for(hall, "B", {}) is None
    assert form_for(hall, "T3", {}) is None  # no item of it has a form
    assert form_for(hall, "nope", {}) is None


def test_check_keeps_good_values_and_names_each_problem(hall):
    form = form_for(hall, "T1", {})
    kept, problems = check(
        form,
        {
            "phone": "13912345678",
            "relation": "母亲",
            "baby_sex": "女",
            "baby_birth": "2026-11-20",
            "birth_cert": "Q620012345",
            "unknown": "dropped",
        },
    )
    assert problems == []
    assert "unknown" not in kept and kept["relation"] == "母亲"
    kept, problems = check(
        form, {"phone": "12345", "relation": "舅舅", "baby_birth": "2026-02-30", "birth_cert": ""}
    )
    assert {p.key for p in problems} == {
        "phone",
        "relation",
        "baby_birth",
        "birth_cert",
        "baby_sex",
    }
    by_key = {p.key: p.message for p in problems}
    assert by_key["phone"] == "联系电话应为11位手机号码"
    assert by_key["relation"] == "申请人与新生儿关系请从父亲、母亲、其他监护人中选择"
    assert by_key["birth_cert"] == "请填写出生医学证明编号"
    # a required text field (新生儿姓名) may stay empty: it is written by hand on the paper


def _with_fields(code: str, fields: list[dict]) -> dict:
    raw = copy.deepcopy(SHIPPED)
    service = next(s for s in raw["services"] if s["code"] == code)
    service["form"] = {"title": "表", "fields": fields}
    return raw


@pytest.mark.parametrize(
    "fields,expected",
    [
        ([{"key": "id_number", "label": "证号"}], "'id_number' comes from the ID card"),
        (
            [{"key": "x", "label": "甲"}, {"key": "x", "label": "乙"}],
            "the key is used twice in this form",
        ),
        ([{"key": "x", "label": "甲", "type": "choice"}], "a choice needs its options"),
        (
            [{"key": "x", "label": "甲", "options": ["a"]}],
            "options are only for type choice",
        ),
        (
            [{"key": "baby_name", "label": "甲", "type": "digits"}],
            "service 'A' has a field of this key of another type",
        ),
        ([{"key": "Bad Key", "label": "甲"}], '[[services.form.fields]] #1 (key = "Bad Key") key'),
        ([{"key": "x", "label": "甲", "type": "photo"}], "type"),
        ([{"key": "x", "label": "甲", "lable_en": "x"}], "lable_en"),
    ],
)
def test_config_check_refuses_a_form_that_cannot_mean_one_thing(fields, expected):
    with pytest.raises(ConfigError) as err:
        parse(_with_fields("E", fields), "hall.toml")
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_config_check_on_the_command_line_names_the_bad_field(tmp_path, capsys):
    import tomli_w

    from onewindow.cli import main

    path = tmp_path / "hall.toml"
    path.write_text(
        tomli_w.dumps(_with_fields("E", [{"key": "phone", "label": "电话"}])), encoding="utf-8"
    )
    assert main(["config", "check", "--config", str(path)]) not in (0, None)
    out = capsys.readouterr()
    assert '[[services.form.fields]] #1 (key = "phone")' in out.out + out.err
