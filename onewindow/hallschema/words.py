"""A hall-file problem in Chinese, for a hall manager on the console: the place named in the
console's words (窗口 15、业务 A 的办公时间), the option by its Chinese name and its own, and
what is wrong and how to mend it (the validator's Chinese template, configreader.Problem).

>>> from onewindow.configreader import Step, problem
>>> p = problem("manager change", (Step("windows", 3, "number", 15),), "services",
...             ("专门窗口须列出它办理的业务", "a specialist window needs its list of services"))
>>> str(p)
'manager change: [[windows]] #3 (number = 15) services: a specialist window needs its list of services'
>>> problem_zh(p)
'窗口 15 的办理业务（services）：专门窗口须列出它办理的业务'
"""

from __future__ import annotations

from typing import Any

from ..configreader import kept
from .hall import HALL_ID
from .options import CODE, PREFIX

# a section as the console calls it; an item of an array is this and its label (窗口 15)
SECTION_WORDS = {
    "hall": "大厅信息",
    "hours": "办公时间",
    "hours.extra_days": "调休日",
    "rules": "规则",
    "services": "业务",
    "services.hours": "办公时间",
    "services.hours.extra_days": "调休日",
    "services.guide": "办事指南",
    "services.guide.materials": "材料",
    "services.guide.faq": "常见问题",
    "services.form": "申请表",
    "services.form.fields": "申请表字段",
    "themes": "一件事",
    "themes.questions": "问题",
    "windows": "窗口",
    "rating": "评价",
    "voice": "语音播报",
    "mobile": "手机取号",
    "uplink": "数据上报",
}

# the options a manager changes on the console, by the names the console shows
OPTION_WORDS = {
    "number": "窗口号",
    "name": "名称",
    "kind": "窗口类型",
    "services": "办理业务",
    "location": "位置",
    "code": "代码",
    "department": "部门",
    "prefix": "号码前缀",
    "daily_quota": "每日限号",
    "appointments": "预约",
    "appointment_per_slot": "每时段预约数",
    "items": "包含的业务",
    "mon": "周一",
    "tue": "周二",
    "wed": "周三",
    "thu": "周四",
    "fri": "周五",
    "sat": "周六",
    "sun": "周日",
    "closed_dates": "休息日",
    "extra_days": "调休日",
    "notice": "公告",
    "elder_age": "老年人年龄",
    "routing": "叫号方式",
    "fair_share": "连续优先次数",
    "no_show_grace_min": "过号可恢复时长（分钟）",
    "hold_min": "挂起保留时长（分钟）",
    "missing_days": "容缺补交期限（工作日）",
    "reinstate_after": "过号恢复后排在几人之后",
    "wait_alert_min": "等候提醒（分钟）",
    "idle_alert_min": "窗口空闲提醒（分钟）",
    "pause_alert_min": "暂停提醒（分钟）",
    "estimate_samples": "估算样本数",
    "default_handling_min": "默认办理时长（分钟）",
    "appointment_slot_min": "预约时段长度（分钟）",
    "appointment_days": "可预约天数",
    "appointment_early_min": "预约可提前签到（分钟）",
    "appointment_late_min": "预约可迟到（分钟）",
    "retention_days": "个人信息保留天数",
    "reply_retention_days": "请求记录保留天数",
    "reasons": "差评原因",
    "languages": "语言",
    "fee": "收费",
    "place": "办理地点",
    "phone": "咨询电话",
}

# a pattern's meaning: the console's manager does not read regular expressions
PATTERN_WORDS = {
    PREFIX: "一到两个大写英文字母，例如 A 或 AB",
    CODE: "不超过 16 个的英文字母、数字、_ 或 -",
    HALL_ID: "不超过 32 个的小写英文字母、数字或 -",
    "zh|bo|en": "以下之一：zh、bo、en",
}
UNSAID = "有一项设置不符合要求（详见英文说明）"  # a problem given in English only


def where_zh(steps, option: str | None) -> str:
    """The place of a problem in Chinese: '业务 A 的办公时间的周三（wed）'."""
    parts = []
    for step in kept(steps):
        noun = SECTION_WORDS.get(step.path, f"[{step.path}]")
        if step.index:
            named = step.value is not None and step.label
            noun += f" {step.value}" if named else f"（第 {step.index} 项）"
        parts.append(noun)
    if option:
        words = OPTION_WORDS.get(option) if steps else SECTION_WORDS.get(option)
        parts.append(f"{words}（{option}）" if words else option)
    out = parts[0] if parts else ""
    for part in parts[1:]:  # a space between a code or a number and the Chinese beside it
        before = " " if _latin(out[-1]) else ""
        after = " " if _latin(part[0]) else ""
        out += f"{before}的{after}{part}"
    return out


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def problem_zh(problem: str) -> str:
    """A problem (configreader.Problem) in Chinese; a bare English one says only that there is
    one (its English goes to the English field)."""
    template = getattr(problem, "zh", "")
    if not template:
        return UNSAID
    params: dict[str, Any] = dict(getattr(problem, "params", {}))
    if "pattern" in params:
        params["pattern"] = PATTERN_WORDS.get(params["pattern"], "规定的写法")
    where = where_zh(getattr(problem, "steps", ()), getattr(problem, "option", None))
    said = template.format(**params)
    return f"{where}：{said}" if where else said
