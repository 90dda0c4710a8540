"""A guide's facts in the citizen's language: the one guide model (domain/guide.py) gives the
numbers (3 working days, 1 original, 1 copy), the catalogs give the words, so the kiosk, the web
guide page and the printed 明白卡 word them alike in Chinese, Tibetan and English.

    fact_value(Fact(key="time_limit_days", ..., n=3), "en")   -> "3 working days"
    counts(material, "zh")                                     -> "原件1份，复印件1份"
"""

from __future__ import annotations

from .domain.guide import Fact, MaterialLine
from .i18n import Catalogue

WORDS = Catalogue(
    "guide",
    {
        "fact_line": "{label}：{value}",
        "fact_time_limit_days": "承诺时限",
        "fact_legal_limit_days": "法定时限",
        "fact_fee": "收费标准",
        "fact_visits": "到现场次数",
        "fact_place": "办理地点",
        "fact_phone": "咨询电话",
        "days": "{n} 个工作日",
        "on_the_spot": "即办",
        "visits_0": "零跑腿",
        "visits_1": "最多跑一次",
        "visits_n": "{n} 次",
        "originals": "原件{n}份",
        "copies": "复印件{n}份",
        "counts_join": "，",
        "counts": "（{counts}）",
        "missing_ok": "可容缺",
        "missing_ok_note": "标注[可容缺]的材料可先受理、后补交",
        "card_title": "办事明白卡（一次告知）",
        "conditions": "办理条件",
        "materials": "所需材料",
        "scan_guide": "扫码查看完整办事指南",
    },
)


def word(key: str, lang: str, **fmt) -> str:
    return WORDS(key, lang, **fmt)


def fact_value(fact: Fact, lang: str) -> str:
    """Days and visits worded from their number; a stated text (fee, place) as the hall file
    gives it in `lang` (the item was localized before the card was made)."""
    if fact.n is None:
        return fact.value
    if fact.key == "visits":
        return word("visits_n", lang, n=fact.n) if fact.n > 1 else word(f"visits_{fact.n}", lang)
    return word("on_the_spot", lang) if fact.n == 0 else word("days", lang, n=fact.n)


def fact_line(fact: Fact, lang: str) -> str:
    return word(
        "fact_line", lang, label=word(f"fact_{fact.key}", lang), value=fact_value(fact, lang)
    )


def counts(m: MaterialLine, lang: str) -> str:
    """原件1份，复印件1份: "" when the hall file states neither."""
    parts = [word("originals", lang, n=m.originals)] if m.originals else []
    if m.copies:
        parts.append(word("copies", lang, n=m.copies))
    return word("counts_join", lang).join(parts)
