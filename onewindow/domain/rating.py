"""好差评's codes and figures, free of I/O: the five levels (5 = 非常满意), GB/T 39046's channel
codes and level direction, and the KPIs (评价率, 好评率, 差评回复率, 回访整改率) over rating rows,
as the hall's export and the city's provincial export both count them."""

from __future__ import annotations

from typing import Any

from . import followup

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# GB/T 39046 channel codes; our names are what devices send
RATING_CHANNELS = {"pc": 1, "mobile": 2, "qrcode": 3, "pad": 4, "kiosk": 5, "phone": 6, "sms": 7}


def gbt_level(level: int) -> int:
    """Our scale (5 best) to GB/T 39046 (1 best): export only."""
    return 6 - level


def _rate(num: int, den: int) -> dict[str, Any]:
    out: dict[str, Any] = {"numerator": num, "denominator": den}
    if den:
        out["rate"] = round(100 * num / den, 1)  # a share of nothing is left out
    return out


def kpis(rows: list[dict[str, Any]], served: int, served_rated: int) -> dict[str, Any]:
    """评价率, 好评率, 差评回复率, 回访整改率 and the per-level shares, over first ratings (a
    follow-up rating after rectification is counted apart, as `follow_up_ratings`)."""
    first = [r for r in rows if (r.get("count") or 1) == 1]
    bad = [r for r in first if r["level"] <= 2]
    valid_bad = [r for r in bad if r.get("follow_status") != followup.INVALID]
    levels = {
        LEVELS[n]: _rate(sum(r["level"] == n for r in first), len(first)) for n in (5, 4, 3, 2, 1)
    }
    return {
        "served": served,
        "ratings": len(first),
        "follow_up_ratings": len(rows) - len(first),
        "rating_rate": _rate(served_rated, served),  # 评价率
        "good_rate": _rate(sum(r["level"] >= 3 for r in first), len(first)),  # 好评率
        "bad_reply_rate": _rate(
            sum(bool(r.get("contacted_at")) for r in valid_bad), len(valid_bad)
        ),  # 差评回复率
        "rectify_rate": _rate(
            sum(r.get("follow_status") == followup.DONE for r in valid_bad), len(valid_bad)
        ),  # 回访整改率
        "invalid_bad": len(bad) - len(valid_bad),
        "levels": levels,
    }
