"""ESC/POS bytes for tickets and guide cards: protocol only, no transport (as python-escpos does).

Chinese goes as raw GB18030 after `FS &` (Chinese mode): the generic ESC/POS text paths mangle
CJK punctuation and characters outside the basic block, and a citizen's rare name character
must print. QR codes use the printer's native `GS ( k` so a serial line carries ~100 bytes,
not a multi-kilobyte raster.
"""

from __future__ import annotations

from onewindow.domain import guide as guide_model

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"

INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
LEFT, CENTER, RIGHT = ESC + b"a\x00", ESC + b"a\x01", ESC + b"a\x02"
CUT_PARTIAL = GS + b"V\x01"
LINE_CHARS = 32  # 58 mm paper; 80 mm heads print 48 — layout stays centred either way


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

PRIORITY_MARKS = {
    "elder": "老年人优先",
    "disabled": "残疾人优先",
    "veteran": "军人优先",
    "pregnant": "孕妇优先",
    "other": "优先",
}


def ticket(
    t: dict, hall_name: str, rating_hint: str = "办理完毕请对本次服务作出评价（好差评）"
) -> bytes:
    """A queue ticket from the controller's ticket view (the `ticket` of a ticket.issue reply)."""
    issued = (t.get("issued_at") or "")[:16].replace("T", " ")
    out = [
        INIT,
        CHINESE_ON,
        CENTER,
        BOLD_ON,
        size(1, 2),
        text(hall_name),
        BOLD_OFF,
        size(1, 1),
        text(t.get("service_name") or t.get("service", "")),
        feed(1),
        size(4, 4),
        BOLD_ON,
        t["number"].encode("ascii") + b"\n",
        BOLD_OFF,
        size(1, 1),
    ]
    marks = []
    if t.get("priority"):
        marks.append(PRIORITY_MARKS.get(t["priority"], "优先"))
    if t.get("appointment"):
        marks.append(f"预约 {t['appointment'][11:16]}")
    if t.get("supplement"):
        marks.append("补件")
    if marks:
        out += [
            size(2, 1),
            BOLD_ON,
            text(" ".join(f"【{m}】" for m in marks)),
            BOLD_OFF,
            size(1, 1),
        ]
    if t.get("priority_check") == "declared":  # 绿色通道 declared at the kiosk: staff check it
        out.append(text("绿色通道为自报，请到窗口出示相关证件"))
    if t.get("test"):  # commissioning: nobody may queue on this
        out += [
            size(2, 2),
            BOLD_ON,
            text("测试号票 TEST"),
            BOLD_OFF,
            size(1, 1),
            text("系统调试用，不作办理依据"),
        ]
    if t.get("citizen"):
        out.append(text(f"办事人：{t['citizen']}"))
    out.append(text(f"您前面还有 {t.get('ahead', 0)} 人等候"))
    wait = wait_text(t)
    if wait:  # the controller's words; none is printed rather than a made-up one
        out.append(text(f"预计等候：{wait}"))
    out.append(text(f"取号时间：{issued}"))
    if t.get("status_url"):
        out += [feed(1), qr(t["status_url"]), text("扫码查看排队进度")]
    out += [
        rule(),
        text(rating_hint),
        text("过号请到服务台重新排队"),
        feed(3),
        CHINESE_OFF,
        CUT_PARTIAL,
    ]
    return b"".join(out)


def wait_text(t: dict) -> str:
    """The wait as the controller words it (`wait_text`); a controller from before it sent only
    `est_wait_min`, and a ticket with neither gets no wait line."""
    if t.get("wait_text"):
        return t["wait_text"]
    m = t.get("est_wait_min")
    return f"约 {m} 分钟" if isinstance(m, int) and not isinstance(m, bool) and m > 0 else ""


def missing_notice(case: dict, hall_name: str) -> bytes:
    """容缺受理告知单: what was accepted with what missing, the deadline (working days on the
    hall's calendar, computed by the controller), where to bring it, and a QR code to the case
    page. From the controller's `case` (window.finish's reply); the citizen's name masked."""
    out = [
        INIT,
        CHINESE_ON,
        CENTER,
        BOLD_ON,
        size(1, 2),
        text(hall_name),
        size(2, 2),
        text("容缺受理告知单"),
        size(1, 1),
        BOLD_OFF,
        LEFT,
        rule(),
        text(f"受理事项：{case.get('service_name') or case.get('service', '')}"),
        text(
            f"受理号：{case.get('number', '')}    受理窗口：{case.get('window_name') or case.get('window', '')}"
        ),
        text(f"受理时间：{(case.get('accepted_at') or '')[:16].replace('T', ' ')}"),
    ]
    if case.get("citizen"):
        out.append(text(f"申请人：{case['citizen']}"))
    out += [rule(), BOLD_ON, text("待补齐材料"), BOLD_OFF]
    out += [text(f"{i}. {m}") for i, m in enumerate(case.get("materials") or [], 1)]
    out += [
        rule(),
        BOLD_ON,
        size(1, 2),
        text(f"请于 {case.get('due', '')} 前补齐"),
        size(1, 1),
        BOLD_OFF,
        text("补件时请携带本人身份证，在自助取号机刷证签到，直接到原受理窗口办理。"),
        text("逾期未补齐的，按规定不予办理。"),
    ]
    if case.get("page_url"):
        out += [CENTER, feed(1), qr(case["page_url"]), text("扫码查看补件事项与期限")]
    out += [feed(3), CHINESE_OFF, CUT_PARTIAL]
    return b"".join(out)


def guide_card(service: dict) -> bytes:
    """明白卡: what to bring (originals/copies, 容缺 marked), limits, fee, place, phone, QR: the
    one guide model's (onewindow/domain/guide.py) stated facts only, as the kiosk and web show."""
    card = guide_model.card(service)
    out = [
        INIT,
        CHINESE_ON,
        CENTER,
        BOLD_ON,
        size(2, 2),
        text(card.name),
        size(1, 1),
        text("办事明白卡（一次告知）"),
        BOLD_OFF,
        LEFT,
        rule(),
    ]
    if card.conditions:
        out += [BOLD_ON, text("办理条件"), BOLD_OFF, text(card.conditions)]
    if card.materials:
        out += [BOLD_ON, text("所需材料"), BOLD_OFF]
    for i, m in enumerate(card.materials, 1):
        line = f"{i}. {m.name}" + (f"（{m.counts}）" if m.counts else "")
        if m.missing_ok:
            line += " [可容缺]"
        out.append(text(line))
        if m.note:
            out.append(text(f"   {m.note}"))
    out.append(rule())
    out += [text(f"{f.label}：{f.value}") for f in card.facts]
    if card.any_missing_ok:
        out.append(text(guide_model.MISSING_OK_NOTE[0]))
    if card.url:
        out += [CENTER, feed(1), qr(card.url), text("扫码查看完整办事指南")]
    out += [feed(3), CHINESE_OFF, CUT_PARTIAL]
    return b"".join(out)
