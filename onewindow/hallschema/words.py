"""A hall-file problem in Chinese, for a hall manager on the console: the place named in the
console's words (窗口 15、业务 A 的办公时间), the option by its Chinese name and its own, and
what is wrong and how to mend it (the validator's Chinese, filled: configreader.FileProblem).
Worked examples: tests/test_hall_words.py."""

from __future__ import annotations

from typing import Sequence, cast

from ..configreader import FileProblem, kept

END_MARKS = ("。", "？", "！")  # a sentence that ends in one of these takes no 。 after it

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


def where_zh(steps, option: str | None) -> str:
    """The place of a problem in Chinese: '业务 A 的办公时间的周三（wed）'."""
    parts = []
    for step in kept(steps):
        noun = SECTION_WORDS.get(step.path, f"[{step.path}]")
        if step.index:
            label = _label(step.value) if step.label else ""
            noun += f" {label}" if label else f"（第 {step.index} 项）"
        parts.append(noun)
    if option:
        words = OPTION_WORDS.get(option) if steps else SECTION_WORDS.get(option)
        parts.append(f"{words}（{option}）" if words else option)
    out = parts[0] if parts else ""
    for part in parts[1:]:  # a space between a code, a number or a sign and the Chinese beside it
        before = " " if _latin(out[-1]) else ""
        after = " " if _latin(part[0]) else ""
        out += f"{before}的{after}{part}"
    return out


def _label(value) -> str:
    """A block's label as a manager knows it: a plain text or number; anything else
    (a table, a list, true) names nothing ("" : the block is named by its place)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value).strip()


def _latin(ch: str) -> bool:
    """Written in Latin script (a letter, a digit or a sign of ASCII): spaced from Chinese."""
    return ch.isascii() and ch.isprintable() and not ch.isspace()


def problem_zh(problem: FileProblem) -> str:
    """A hall-file problem in Chinese: where, then what is wrong and how to mend it."""
    where = where_zh(problem.steps, problem.option)
    return f"{where}：{problem.zh}" if where else problem.zh


def problems_zh(problems: Sequence[str]) -> str:
    """A file's problems as one Chinese sentence, each said once. Each is a FileProblem with its
    Chinese: configreader.Table.fail refuses English alone in a hall file."""
    each = dict.fromkeys(problem_zh(cast(FileProblem, p)) for p in problems)
    # a problem that ends in its own mark ("…是否写错了？") is not followed by "；" too
    said = "".join(p if p.endswith(END_MARKS) else p + "；" for p in each)
    return said[:-1] + "。" if said.endswith("；") else said
