"""The controller's words for citizens, in their language: the controller sends the facts
(`wait_kind`, `est_wait_min`, `opens_at`, `opens_in_days`; the hall's `next_opening` and
`next_opening_in_days`) beside its Chinese and English sentences (`wait_text`, `wait_text_en`),
and the apps word the facts through the catalogs (docs/protocol.md). A controller from before
the facts sent only the sentences: they are shown as they are (Chinese where no English).

    wait_words({"wait_kind": "minutes", "est_wait_min": 18}, "bo")   -> "སྐར་མ་ 18 ཙམ"
    wait_words({"wait_text": "约 18 分钟"}, "bo")                      -> "约 18 分钟"
    refusal("该时段已约满，请选择其他时段", "en")                        -> the catalogs' English

The Chinese these give is the controller's own, word for word (tests/test_hall_words.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .i18n import Catalogue

WORDS = Catalogue(
    "hallwords",
    {
        "minutes": "约 {n} 分钟",
        "no_wait": "无需等候",
        "next": "即将叫号",
        "not_open": "窗口暂未开放",
        "past_closing": "今天可能轮不到，建议预约其他时间",
        "opens": "窗口暂未开放，预计 {when} 开始叫号",
        "at_today": "{hm}",
        "today": "今天 {hm}",
        "tomorrow": "明天 {hm}",
        "on_date": "{month}月{day}日 {hm}",
        "unknown": "另行通知",
    },
)

# the controller's refusals a citizen reads at the kiosk or on the phone, by their Chinese: a
# refusal not listed here shows in Chinese, or in the controller's English (message_en)
REFUSALS = Catalogue(
    "refusal",
    {
        "证件号码有误，请核对后重试": "证件号码有误，请核对后重试",
        "没有这项业务，请重新选择": "没有这项业务，请重新选择",
        "找不到该预约": "找不到该预约",
        "该预约不属于此证件": "该预约不属于此证件",
        "该预约已签到或已取消": "该预约已签到或已取消",
        "已超过预约时段，请现场取号": "已超过预约时段，请现场取号",
        "请刷身份证或社保卡签到": "请刷身份证或社保卡签到",
        "没有找到您今天的预约": "没有找到您今天的预约",
        "昨日的号票已失效，请重新取号": "昨日的号票已失效，请重新取号",
        "预约需要读取身份证": "预约需要读取身份证",
        "该时段不可预约": "该时段不可预约",
        "该时段已约满，请选择其他时段": "该时段已约满，请选择其他时段",
        "您当天已预约该业务": "您当天已预约该业务",
        "本大厅暂不支持手机取号，请到自助取号机取号": "本大厅暂不支持手机取号，请到自助取号机取号",
        "二维码已过期，请扫描大厅入口今天的二维码": "二维码已过期，请扫描大厅入口今天的二维码",
        "今日手机取号已满，请到自助取号机取号": "今日手机取号已满，请到自助取号机取号",
        "请填写11位手机号码": "请填写11位手机号码",
        "请刷身份证签到": "请刷身份证签到",
        "没有找到您待补件的容缺受理": "没有找到您待补件的容缺受理",
        "办结后才能评价": "办结后才能评价",
        "请至少选择一项不满意的原因": "请至少选择一项不满意的原因",
        "该笔业务已评价，感谢您的参与": "该笔业务已评价，感谢您的参与",
    },
)

WAIT_KINDS = ("minutes", "no_wait", "next", "not_open", "opens", "past_closing")


def when_words(at: str | None, in_days: Any, lang: str, bare_today: bool = False) -> str:
    """'今天 13:30' / '明天 08:30' / '11月24日 08:30' from an ISO time and its distance in
    days from the hall's today; '' when either is missing or unreadable."""
    if not at or not isinstance(in_days, int) or isinstance(in_days, bool):
        return ""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return ""
    hm = when.strftime("%H:%M")
    if in_days == 0:
        return WORDS("at_today" if bare_today else "today", lang, hm=hm)
    if in_days == 1:
        return WORDS("tomorrow", lang, hm=hm)
    return WORDS("on_date", lang, month=when.month, day=when.day, date=f"{when:%Y-%m-%d}", hm=hm)


def _sentence(fields: dict, lang: str, key: str) -> str:
    if lang == "en" and fields.get(f"{key}_en"):
        return str(fields[f"{key}_en"])
    return str(fields.get(key) or "")


def wait_words(fields: dict, lang: str) -> str:
    """A ticket's or a queue's wait (its `wait_kind` and figures), '' when none is told."""
    kind = fields.get("wait_kind")
    if kind not in WAIT_KINDS:
        return _sentence(fields, lang, "wait_text")
    if kind == "minutes":
        n = fields.get("est_wait_min")
        if not isinstance(n, int) or isinstance(n, bool):
            return _sentence(fields, lang, "wait_text")
        return WORDS("minutes", lang, n=n)
    if kind == "opens":
        when = when_words(fields.get("opens_at"), fields.get("opens_in_days"), lang, True)
        return WORDS("opens", lang, when=when) if when else WORDS("not_open", lang)
    return WORDS(kind, lang)


def opening_words(hall: dict, lang: str) -> str:
    """When the windows open next (the hall state's `next_opening`), '' when not told."""
    if "next_opening_in_days" not in hall:
        return _sentence(hall, lang, "next_opening_text")
    if not hall.get("next_opening"):
        # open with none ahead (around the clock) is nothing to tell; closed, it is not known yet
        return "" if hall.get("open") else WORDS("unknown", lang)
    return when_words(hall["next_opening"], hall.get("next_opening_in_days"), lang) or (
        _sentence(hall, lang, "next_opening_text")
    )


def refusal(message: str, lang: str, message_en: str = "") -> str:
    """The controller's refusal in `lang`: the catalogs' words where they hold that refusal,
    else the controller's English (for en) or its Chinese."""
    if lang != "zh" and REFUSALS.source(message) is not None:
        words = REFUSALS(message, lang)
        if words != message:
            return words
    return message_en if lang == "en" and message_en else message
