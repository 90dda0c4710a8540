"""ESC/POS bytes for tickets, guide cards and 容缺 notes: protocol only, no transport (as
python-escpos does).

Chinese goes as raw GB18030 after `FS &` (Chinese mode): the generic ESC/POS text paths mangle
CJK punctuation and characters outside the basic block, and a citizen's rare name character
must print. QR codes use the printer's native `GS ( k` so a serial line carries ~100 bytes,
not a multi-kilobyte raster.

A printout is bilingual when the hall has a second language (`Second`): its key lines are
repeated in that language under the Chinese. English goes as native text; Tibetan, which no
receipt printer has a font for, as a raster image of each line (drivers/escpos_raster.py), the
ticket's Tibetan kept to the lines a citizen needs so it stays under 2.5 KB at 9600 baud
(docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from onewindow import guidewords, hallwords
from onewindow.domain import guide as guide_model
from onewindow.i18n import Catalogue, localize
from onewindow.scriptruns import has_tibetan

from . import escpos_raster

log = logging.getLogger(__name__)

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"

INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
LEFT, CENTER, RIGHT = ESC + b"a\x00", ESC + b"a\x01", ESC + b"a\x02"
CUT_PARTIAL = GS + b"V\x01"
LINE_CHARS = 32  # 58 mm paper; 80 mm heads print 48 — layout stays centred either way
TICKET_BUDGET = 2500  # bytes: 2.6 s at 9600 baud, the slowest kiosk printer line
TICKET_PX = (escpos_raster.PX, 20, 18)  # Tibetan's size on a ticket, smaller while over budget
# a Tibetan name wider than this (dots, on one line at the smallest size) is over the budget
# on its own: its raster is at least its width / 8 bytes for each of its ~18 rows
MAX_NAME_DOTS = TICKET_BUDGET * 8 // TICKET_PX[-1]
RASTER_GAP = 5  # dots fed above and below a raster line, as native text has line spacing

TEXTS = Catalogue(
    "print",
    {
        "prio_elder": "老年人优先",
        "prio_disabled": "残疾人优先",
        "prio_veteran": "军人优先",
        "prio_pregnant": "孕妇优先",
        "prio_other": "优先",
        "appointment": "预约 {hm}",
        "supplement": "补件",
        "declared": "绿色通道为自报，请到窗口出示相关证件",
        "test_ticket": "测试号票 TEST",
        "test_note": "系统调试用，不作办理依据",
        "citizen": "办事人：{name}",
        "ahead": "您前面还有 {n} 人等候",
        "wait": "预计等候：{wait}",
        "ahead_wait": "前面 {n} 人 · {wait}",
        "ahead_short": "前面 {n} 人",
        # nobody ahead: a sentence, not "前面 0 人"
        "none_ahead": "您前面没有人等候",
        "none_ahead_wait": "前面没有人 · {wait}",
        "none_ahead_short": "前面没有人",
        "issued": "取号时间：{at}",
        "scan_ticket": "扫码查看排队进度",
        "rating_hint": "办理完毕请对本次服务作出评价（好差评）",
        "missed": "过号请到服务台重新排队",
        "notice_title": "容缺受理告知单",
        "notice_service": "受理事项：{name}",
        "notice_number": "受理号：{number}    受理窗口：{window}",
        "notice_accepted": "受理时间：{at}",
        "notice_citizen": "申请人：{name}",
        "notice_missing": "待补齐材料",
        "notice_due": "请于 {due} 前补齐",
        "notice_how": "补件时请携带本人身份证，在自助取号机刷证签到，直接到原受理窗口办理。",
        "notice_late": "逾期未补齐的，按规定不予办理。",
        "notice_scan": "扫码查看补件事项与期限",
    },
)
AHEAD_KEYS = ("ahead", "ahead_wait", "ahead_short")  # a ticket's people-ahead lines
NONE_AHEAD_KEYS = ("none_ahead", "none_ahead_wait", "none_ahead_short")  # the same, none ahead


@dataclass(frozen=True)
class Second:
    """A printout's second language: its code and the hall file's own texts in it (its
    `name_bo`...), each "" where the file does not give it: then that line is not repeated."""

    lang: str
    hall_name: str = ""
    service_name: str = ""

    @classmethod
    def of(cls, lang: str, hall: dict | None, service: dict | None = None) -> "Second | None":
        """From `config.get`'s hall and service tables; None for Chinese (nothing to add)."""
        if lang == "zh" or not lang:
            return None
        return cls(
            lang,
            str((hall or {}).get(f"name_{lang}") or ""),
            str((service or {}).get(f"name_{lang}") or ""),
        )


def second_lang(langs, citizen: str = "zh") -> str:
    """The language printed under the Chinese: the citizen's own when not Chinese, else the
    hall's first other language ([hall] languages), else none ("zh")."""
    if citizen != "zh" and citizen in langs:
        return citizen
    return next((x for x in langs if x != "zh"), "zh")


def size(width: int, height: int) -> bytes:
    """Character magnification 1..8 in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("ESC/POS sizes are 1..8")
    return GS + b"!" + bytes((((width - 1) << 4) | (height - 1),))


def feed(lines: int) -> bytes:
    return ESC + b"d" + bytes((max(0, min(255, lines)),))


def text(s: str) -> bytes:
    """A line of text in GB18030 (a superset of GB2312/GBK: any character a name may hold)."""
    return s.encode("gb18030", errors="replace") + b"\n"


def feed_dots(n: int) -> bytes:
    """ESC J n: feed n dots (the white around a raster line, 3 bytes instead of white rows)."""
    return ESC + b"J" + bytes((max(0, min(255, n)),))


def line(s: str, bold: bool = False, px: int = escpos_raster.PX) -> bytes:
    """A line in any language: native text, or a raster image where the printer has no font."""
    if has_tibetan(s):
        return b"".join(
            feed_dots(RASTER_GAP) + escpos_raster.raster(img)
            for img in escpos_raster.line_images(s, px=px, bold=bold)
        ) + feed_dots(RASTER_GAP)
    return text(s)


def qr(data: str, module: int = 6, level: str = "M") -> bytes:
    payload = data.encode("utf-8")
    if len(payload) > 700:
        raise ValueError("QR data too long for a ticket")
    n = len(payload) + 3
    ec = {"L": 0x30, "M": 0x31, "Q": 0x32, "H": 0x33}[level]
    return (
        GS
        + b"(k\x04\x001A2\x00"  # model 2
        + GS
        + b"(k\x03\x001C"
        + bytes((module,))  # module size
        + GS
        + b"(k\x03\x001E"
        + bytes((ec,))  # error correction
        + GS
        + b"(k"
        + bytes((n & 0xFF, n >> 8))
        + b"1P0"
        + payload  # store
        + GS
        + b"(k\x03\x001Q0"
    )  # print


def status_request(n: int) -> bytes:
    """DLE EOT n: 1 printer, 2 offline cause, 3 error cause, 4 paper."""
    return DLE + b"\x04" + bytes((n,))


def rule() -> bytes:
    return text("-" * LINE_CHARS)


# -- layouts -------------------------------------------------------------------------------------

PRIORITIES = ("elder", "disabled", "veteran", "pregnant")


class _Lines:
    """A printout's lines: each key line in Chinese, then in the second language where the
    catalogs or the hall file give it (the same words twice are printed once)."""

    def __init__(self, second: Second | None, px: int = escpos_raster.PX):
        self.second = second
        self.px = px  # the size of a raster line
        self.out: list[bytes] = []

    def add(self, *parts: bytes) -> None:
        self.out += parts

    def say(self, key: str, twin: bool = True, bold: bool = False, **fmt) -> None:
        zh = TEXTS(key, "zh", **fmt)
        self.out.append(text(zh))
        if twin and self.second:
            self.also(zh, TEXTS(key, self.second.lang, **fmt), bold)

    def also(self, zh: str, other: str, bold: bool = False) -> None:
        if other and other != zh:
            self.out.append(line(other, bold, self.px))

    def bytes(self) -> bytes:
        return b"".join(self.out)


def ticket(t: dict, hall_name: str, rating_hint: str = "", second: Second | None = None) -> bytes:
    """A queue ticket (`_ticket`) within TICKET_BUDGET whatever its Tibetan: when a long service
    name or wait would take it past, its Tibetan lines are drawn smaller, then the Tibetan
    people-ahead-and-wait line is left out (the Chinese one stays), then the Tibetan name is cut
    between syllables and ends in "…" (the Chinese name above it stays whole)."""

    def draw(px: int, wait_line: bool = True, name: str | None = None) -> bytes:
        shown = second if name is None or second is None else replace(second, service_name=name)
        return _ticket(t, hall_name, rating_hint, shown, px, wait_line)

    if not second or second.lang == "en":
        return draw(escpos_raster.PX)
    name, px = second.service_name, TICKET_PX[-1]
    # a name wider than this could not fit at any size: it is not drawn whole (laying out a
    # very long Tibetan line takes seconds)
    if escpos_raster.width(name, px) <= MAX_NAME_DOTS:
        for size_px in TICKET_PX:
            job = draw(size_px)
            if len(job) <= TICKET_BUDGET:
                return job
        job = draw(px, wait_line=False)
        if len(job) <= TICKET_BUDGET:
            return job
    cuts = [""]
    for c in escpos_raster.wrap_points(name):
        cut = name[:c].rstrip() + "…"
        if c >= len(name) or escpos_raster.width(cut, px) > MAX_NAME_DOTS:
            break
        cuts.append(cut)
    # the longest cut that fits, in a few drawings
    lo, hi, best = 0, len(cuts) - 1, b""
    while lo <= hi:
        mid = (lo + hi) // 2
        job = draw(px, wait_line=False, name=cuts[mid])
        if len(job) <= TICKET_BUDGET:
            best, lo = job, mid + 1
        else:
            hi = mid - 1
    if not best:  # the Chinese alone is over: nothing of the second language is left to cut
        log.warning("ticket %s: %d bytes, over the budget", t.get("number"), len(job))
        return job
    return best


def _ticket(
    t: dict,
    hall_name: str,
    rating_hint: str,
    second: Second | None,
    px: int,
    wait_line: bool = True,
) -> bytes:
    """A queue ticket from the controller's ticket view (the `ticket` of a ticket.issue reply).
    With a second language: the service's name, the people ahead and the wait (one line) in it
    (in English also the hall's name, the QR's line and the small print, which cost little as
    text; as Tibetan images they would take the ticket past 2.5 KB); the marks and times stay
    Chinese (the windows read them)."""
    lang2 = second.lang if second else ""
    issued = (t.get("issued_at") or "")[:16].replace("T", " ")
    p = _Lines(second, px)
    p.add(INIT, CHINESE_ON, CENTER, BOLD_ON, size(1, 2), text(hall_name))
    if second and not has_tibetan(second.hall_name):  # a Tibetan name is 1.2 KB: the budget
        p.also(hall_name, second.hall_name, bold=True)  # goes to the service and the wait
    p.add(BOLD_OFF, size(1, 1))
    service = t.get("service_name") or t.get("service", "")
    p.add(text(service))
    if second:
        p.also(service, second.service_name)
    p.add(feed(1), size(4, 4), BOLD_ON, t["number"].encode("ascii") + b"\n", BOLD_OFF, size(1, 1))
    marks = []
    if t.get("priority"):
        prio = t["priority"] if t["priority"] in PRIORITIES else "other"
        marks.append(TEXTS(f"prio_{prio}"))
    if t.get("appointment"):
        marks.append(TEXTS("appointment", hm=t["appointment"][11:16]))
    if t.get("supplement"):
        marks.append(TEXTS("supplement"))
    if marks:
        p.add(size(2, 1), BOLD_ON, text(" ".join(f"【{m}】" for m in marks)), BOLD_OFF, size(1, 1))
    if t.get("priority_check") == "declared":  # 绿色通道 declared at the kiosk: staff check it
        p.say("declared", twin=False)
    if t.get("test"):  # commissioning: nobody may queue on this
        p.add(size(2, 2), BOLD_ON, text(TEXTS("test_ticket")), BOLD_OFF, size(1, 1))
        p.say("test_note", twin=False)
    if t.get("citizen"):
        p.say("citizen", twin=False, name=t["citizen"])
    ahead = t.get("ahead", 0)
    keys = AHEAD_KEYS if ahead else NONE_AHEAD_KEYS  # nobody ahead: a sentence, not "0"
    p.say(keys[0], twin=False, n=ahead)
    wait = wait_text(t)
    if wait:  # the controller's words; none is printed rather than a made-up one
        p.say("wait", twin=False, wait=wait)
    if lang2 and wait_line:  # one short line: a Tibetan line is an image, ~40 bytes a character
        if wait:
            zh = TEXTS(keys[1], n=ahead, wait=wait)
            p.also(zh, TEXTS(keys[1], lang2, n=ahead, wait=wait_text(t, lang2)))
        else:
            p.also(TEXTS(keys[2], n=ahead), TEXTS(keys[2], lang2, n=ahead))
    p.say("issued", twin=False, at=issued)
    if t.get("status_url"):
        p.add(feed(1), qr(t["status_url"]))
        p.say("scan_ticket", twin=lang2 == "en")
    p.add(rule())
    p.add(text(rating_hint or TEXTS("rating_hint")))
    p.say("missed", twin=lang2 == "en")  # the small print: in Tibetan it would cost 1.5 KB
    p.add(feed(3), CHINESE_OFF, CUT_PARTIAL)
    return p.bytes()


def wait_text(t: dict, lang: str = "zh") -> str:
    """The wait as the controller states it (onewindow/hallwords.py: its facts worded in
    `lang`, else its own sentence); a controller from before either sent only `est_wait_min`,
    and a ticket with none of them gets no wait line."""
    words = hallwords.wait_words(t, lang)
    if words:
        return words
    m = t.get("est_wait_min")
    if isinstance(m, int) and not isinstance(m, bool) and m > 0:
        return hallwords.WORDS("minutes", lang, n=m)
    return ""


def missing_notice(case: dict, hall_name: str, second: Second | None = None) -> bytes:
    """容缺受理告知单: what was accepted with what missing, the deadline (working days on the
    hall's calendar, computed by the controller), where to bring it, and a QR code to the case
    page. From the controller's `case` (window.finish's reply); the citizen's name masked. With
    a second language, its headings and instructions are repeated in it (`case` may carry the
    materials' names in it: `materials_<lang>`)."""
    lang2 = second.lang if second else ""
    p = _Lines(second)
    p.add(INIT, CHINESE_ON, CENTER, BOLD_ON, size(1, 2), text(hall_name))
    if second:
        p.also(hall_name, second.hall_name, bold=True)
    p.add(size(2, 2))
    p.say("notice_title", bold=True)
    p.add(size(1, 1), BOLD_OFF, LEFT, rule())
    p.say("notice_service", twin=False, name=case.get("service_name") or case.get("service", ""))
    if second:
        p.also("", second.service_name)
    window = case.get("window_name") or case.get("window", "")
    p.say("notice_number", twin=False, number=case.get("number", ""), window=window)
    accepted = (case.get("accepted_at") or "")[:16].replace("T", " ")
    p.say("notice_accepted", twin=False, at=accepted)
    if case.get("citizen"):
        p.say("notice_citizen", twin=False, name=case["citizen"])
    p.add(rule(), BOLD_ON)
    p.say("notice_missing")
    p.add(BOLD_OFF)
    materials = case.get("materials") or []
    twins = case.get(f"materials_{lang2}") or [] if lang2 else []
    for i, m in enumerate(materials, 1):
        p.add(text(f"{i}. {m}"))
        if i <= len(twins):
            p.also(m, f"   {twins[i - 1]}" if twins[i - 1] else "")
    p.add(rule(), BOLD_ON, size(1, 2))
    p.say("notice_due", twin=False, due=case.get("due", ""))
    p.add(size(1, 1))
    if lang2:
        due = TEXTS("notice_due", due=case.get("due", ""))
        p.also(due, TEXTS("notice_due", lang2, due=case.get("due", "")), bold=True)
    p.add(BOLD_OFF)
    p.say("notice_how")
    p.say("notice_late")
    if case.get("page_url"):
        p.add(CENTER, feed(1), qr(case["page_url"]))
        p.say("notice_scan")
    p.add(feed(3), CHINESE_OFF, CUT_PARTIAL)
    return p.bytes()


def guide_card(service: dict, second: Second | None = None) -> bytes:
    """明白卡: what to bring (originals/copies, 容缺 marked), limits, fee, place, phone, QR: the
    one guide model's (onewindow/domain/guide.py) stated facts only, as the kiosk and web show.
    `service` is config.get's item (with its `name_bo`... twins); with a second language each
    line the hall file or the catalogs give in it follows its Chinese."""
    card = guide_model.card(service)
    lang2 = second.lang if second else ""
    card2 = guide_model.card(localize(service, lang2)) if lang2 else None
    W = guidewords.word
    p = _Lines(second)
    p.add(INIT, CHINESE_ON, CENTER, BOLD_ON, size(2, 2), text(card.name))
    if card2:
        p.also(card.name, card2.name, bold=True)
    p.add(size(1, 1), text(W("card_title", "zh")))
    if lang2:
        p.also(W("card_title", "zh"), W("card_title", lang2))
    p.add(BOLD_OFF, LEFT, rule())
    if card.conditions:
        p.add(BOLD_ON, text(W("conditions", "zh")), BOLD_OFF, text(card.conditions))
        if card2:
            p.also(W("conditions", "zh"), W("conditions", lang2), bold=True)
            p.also(card.conditions, card2.conditions)
    if card.materials:
        p.add(BOLD_ON, text(W("materials", "zh")), BOLD_OFF)
        if lang2:
            p.also(W("materials", "zh"), W("materials", lang2), bold=True)
    for i, m in enumerate(card.materials, 1):
        p.add(text(_material_line(i, m, "zh")))
        if card2:
            p.also(_material_line(i, m, "zh"), _material_line(i, card2.materials[i - 1], lang2))
        if m.note:
            p.add(text(f"   {m.note}"))
            if card2:
                p.also(m.note, card2.materials[i - 1].note)
    p.add(rule())
    for i, f in enumerate(card.facts):
        p.add(text(guidewords.fact_line(f, "zh")))
        if card2:
            p.also(guidewords.fact_line(f, "zh"), guidewords.fact_line(card2.facts[i], lang2))
    if card.any_missing_ok:
        p.add(text(W("missing_ok_note", "zh")))
        if lang2:
            p.also(W("missing_ok_note", "zh"), W("missing_ok_note", lang2))
    if card.url:
        p.add(CENTER, feed(1), qr(card.url), text(W("scan_guide", "zh")))
        if lang2:
            p.also(W("scan_guide", "zh"), W("scan_guide", lang2))
    p.add(feed(3), CHINESE_OFF, CUT_PARTIAL)
    return p.bytes()


def _material_line(i: int, m: guide_model.MaterialLine, lang: str) -> str:
    counts = guidewords.counts(m, lang)
    out = f"{i}. {m.name}" + (guidewords.word("counts", lang, counts=counts) if counts else "")
    if m.missing_ok:
        out += f" [{guidewords.word('missing_ok', lang)}]"
    return out
