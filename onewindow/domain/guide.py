"""One guide model (办事指南): what the kiosk's guide screen, the web guide page and the printed
明白卡 show of a service or a 一件事 theme, so that they cannot disagree.

It reads the item as `config.get` gives it (a service with its `guide` table, or a theme with
its top-level `time_limit_days` and merged `materials`) and shows only what the hall file
states: a field left out is not shown, never defaulted (no 即办 for a missing time limit, no
免费 for a missing fee). `missing` lists what a service or theme leaves out, for `config check`.

    >>> [f.value for f in card({"code": "T1", "name": "出生一件事", "time_limit_days": 5}).facts]
    ['5 个工作日']
    >>> card({"code": "A", "name": "户籍", "guide": {}}).facts
    ()
    >>> [f.value for f in card({"code": "A", "name": "户籍",
    ...                         "guide": {"time_limit_days": 0, "fee": "免费"}}).facts]
    ['即办', '免费']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

# the facts in the order they are shown: (key, label zh, label en)
FACT_LABELS = (
    ("time_limit_days", "承诺时限", "Time limit"),
    ("legal_limit_days", "法定时限", "Legal time limit"),
    ("fee", "收费标准", "Fee"),
    ("visits", "到现场次数", "Visits needed"),
    ("place", "办理地点", "Where"),
    ("phone", "咨询电话", "Phone"),
)
# what `config check` asks every service's guide to state (field: its name in the guide)
EXPECTED = (
    ("conditions", "受理条件"),
    ("process", "办理流程"),
    ("materials", "申请材料"),
    ("time_limit_days", "承诺时限"),
    ("fee", "收费标准"),
    ("place", "办理地点"),
    ("phone", "咨询电话"),
)
MISSING_OK_NOTE = (
    "标注[可容缺]的材料可先受理、后补交",
    "Items marked [may follow later] can be handed in after your application",
)


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    label_en: str
    value: str
    value_en: str
    n: Optional[int] = None  # days or visits as a number, for the apps to word in any language


@dataclass(frozen=True)
class MaterialLine:
    name: str
    name_en: str
    counts: str  # 原件 1 份，复印件 1 份
    counts_en: str
    missing_ok: bool  # 容缺: may follow later
    note: str
    for_items: tuple[str, ...] = ()  # a theme's merged list: the items asking for it
    originals: int = 0  # the counts as numbers, for the apps to word in any language
    copies: int = 0


@dataclass(frozen=True)
class Card:
    code: str
    name: str
    name_en: str
    theme: bool
    conditions: str
    process: str
    materials: tuple[MaterialLine, ...]
    facts: tuple[Fact, ...]
    faq: tuple[tuple[str, str], ...]
    url: str

    @property
    def any_missing_ok(self) -> bool:
        return any(m.missing_ok for m in self.materials)


def _days(n: int) -> tuple[str, str]:
    return ("即办", "on the spot") if n == 0 else (f"{n} 个工作日", f"{n} working days")


def _visits(n: int) -> tuple[str, str]:
    if n == 0:
        return "零跑腿", "no visit needed"
    if n == 1:
        return "最多跑一次", "at most one visit"
    return f"{n} 次", f"{n} visits"


def _fact_value(key: str, value: Any) -> Optional[tuple[str, str]]:
    """A stated fact's words (zh, en), or None for what is not stated."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if key == "time_limit_days" and isinstance(value, int):
        return _days(value)
    if key == "legal_limit_days" and isinstance(value, int):
        return _days(value) if value > 0 else None  # 0: "not stated" (hall-file.md)
    if key == "visits" and isinstance(value, int):
        return _visits(value)
    if isinstance(value, str):
        return value, value
    return None


def material(m: dict[str, Any]) -> MaterialLine:
    originals = m.get("originals", 1)
    copies = m.get("copies") or 0
    counts = [f"原件{originals}份"] if originals else []
    counts_en = [f"{originals} original(s)"] if originals else []
    if copies:
        counts.append(f"复印件{copies}份")
        counts_en.append(f"{copies} copy(ies)")
    return MaterialLine(
        str(m.get("name", "")),
        str(m.get("name_en") or m.get("name", "")),
        "，".join(counts),
        ", ".join(counts_en),
        bool(m.get("missing_ok")),
        str(m.get("note") or ""),
        tuple(m.get("for") or ()),
        int(originals or 0),
        int(copies),
    )


def card(item: dict[str, Any]) -> Card:
    """The guide of a service (`guide` table) or a theme (its own limit, merged materials)."""
    theme = "items" in item or "lead_department" in item  # what only a theme has
    g = {} if theme else (item.get("guide") or {})
    stated = {"time_limit_days": item.get("time_limit_days")} if theme else g
    facts = []
    for key, label, label_en in FACT_LABELS:
        words = _fact_value(key, stated.get(key))
        if words:
            value = stated.get(key)
            n = value if key.endswith(("days", "visits")) and isinstance(value, int) else None
            facts.append(Fact(key, label, label_en, *words, n))
    mats = item.get("materials") if theme else g.get("materials")
    faq = tuple(
        (str(f.get("q", "")), str(f.get("a", "")))
        for f in g.get("faq") or ()
        if isinstance(f, dict)
    )
    return Card(
        str(item.get("code", "")),
        str(item.get("name", "")),
        str(item.get("name_en") or ""),
        theme,
        str(g.get("conditions") or ""),
        str(g.get("process") or ""),
        tuple(material(m) for m in mats or ()),
        tuple(facts),
        faq,
        str(g.get("url") or ""),
    )


STATUS_PATH = "/t/{ticket_id}"  # where `onewindow web` serves a ticket's page


def web_guide_url(status_url: str, code: str) -> str:
    """The guide page of a service or theme on the hall's web pages (`onewindow web` serves
    `/guide/<code>` beside `/t/<ticket>`), from the hall file's `status_url`; empty when that
    is not the hall's own web server's address (nothing is made up).

    >>> web_guide_url("http://10.0.0.2:8080/hall/t/{ticket_id}", "T1")
    'http://10.0.0.2:8080/hall/guide/T1'
    >>> web_guide_url("https://other.example/q?id={ticket_id}", "T1")
    ''
    """
    if not status_url.endswith(STATUS_PATH):
        return ""
    return f"{status_url[: -len(STATUS_PATH)]}/guide/{code}"


def missing(guide: Optional[dict[str, Any]]) -> list[str]:
    """The expected guide fields a service's `guide` table leaves out (for `config check`)."""
    g = guide or {}
    return [
        f"{zh} ({key})"
        for key, zh in EXPECTED
        if g.get(key) is None or g.get(key) == "" or g.get(key) == []
    ]
