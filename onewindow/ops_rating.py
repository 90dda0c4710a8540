"""好差评: one rating per transaction, five levels (5 = 非常满意), bad ratings followed up."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from .domain.model import TicketStatus
from .envelope import require
from .request import Request

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# GB/T 39046 channel codes; our names are what devices send
RATING_CHANNELS = {"pc": 1, "mobile": 2, "qrcode": 3, "pad": 4, "kiosk": 5, "phone": 6, "sms": 7}
CONTACT_WORKING_DAYS = 1
RECTIFY_WORKING_DAYS = 15
# a window's rating pad rates what that window finished this recently (the citizen is still
# there); a later rating comes from the ticket's QR page or a kiosk
PAD_RATES_WITHIN = timedelta(minutes=30)


def add_working_days(day: date, n: int) -> date:
    """Weekends skipped; public holidays are the hall's to add to closed_dates."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def gbt_level(level: int) -> int:
    """Our scale (5 best) to GB/T 39046 (1 best): export only."""
    return 6 - level


def op_submit(req: Request) -> dict:
    a, dev = req.args, req.device
    level = a.get("level", int, minval=1, maxval=5)
    channel = a.get("channel", str, "pad" if dev.role == "rating" else dev.role,
                    choices=tuple(RATING_CHANNELS))
    reasons = a.str_list("reasons")
    text = a.get("text", str, "", maxlen=500)
    ticket_id = a.get("ticket_id", str, None, maxlen=64)
    window = a.get("window", int, None, minval=1, maxval=999)
    require(ticket_id is not None or window is not None, "bad_request",
            "请指定号票或窗口", "Give ticket_id or window")
    if dev.role == "rating":
        require(window is not None and window in dev.windows, "forbidden",
                "此评价器不属于该窗口", "This rating pad belongs to another window")
    if window is not None:
        require(req.hall.window(window) is not None, "not_found", f"没有 {window} 号窗口",
                f"No window {window}")
    t = req.ticket(ticket_id) if ticket_id else \
        req.store.last_unrated_finished(window, req.now - PAD_RATES_WITHIN)
    # one rating per transaction (GB/T 39046): a window alone is rated only for what it just did
    require(t is not None, "not_found", "该窗口暂无可评价的业务", "Nothing finished at this window to rate")
    if t is not None:
        if dev.role == "rating":
            # a pad rates its own windows' work only, and only while the citizen is there
            require(t.window in dev.windows, "forbidden", "此评价器不能评价其他窗口办理的业务",
                    "This rating pad may rate its own windows' tickets only")
        require(t.status is TicketStatus.DONE, "not_ready", "办结后才能评价",
                "A ticket can be rated once it is done")
        if dev.role == "rating":
            require(t.finished_at is not None and t.finished_at >= req.now - PAD_RATES_WITHIN,
                    "expired", "评价器只能评价刚办结的业务，请扫描号票二维码评价",
                    "A rating pad rates only what was just finished; use the ticket's QR code")
        require(req.store.rating_of(t.id) is None, "already_rated", "该笔业务已评价，感谢您的参与",
                "This transaction has already been rated")
        window = t.window
    now = req.now
    bad = level <= 2
    state = req.window(window) if window else None
    row = {"id": secrets.token_urlsafe(9), "ticket_id": t.id if t else None, "window": window,
           "service": t.service if t else None,
           "staff": (state.staff or {}).get("id") if state and state.staff else None,
           "level": level, "channel": channel, "reasons": ",".join(reasons), "text": text,
           "at": now.isoformat(), "count": 1, "follow_status": "open" if bad else None,
           "contact_by": add_working_days(now.date(), CONTACT_WORKING_DAYS).isoformat() if bad else None,
           "rectify_by": add_working_days(now.date(), RECTIFY_WORKING_DAYS).isoformat() if bad else None}
    req.store.add_rating(row)
    req.audit("rate", t, window=window, from_status=t.status if t else None,
              detail={"level": level})
    req.emit("rating", {"event": "submitted", "window": window, "ticket": t.number if t else None,
                        "level": level, "level_name": LEVELS[level], "bad": bad,
                        "at": now.isoformat()})
    if bad:
        req.alerts.raise_(f"rating:{row['id']}", "bad_rating",
                          f"{window or ''}号窗口收到差评（{LEVELS[level]}），请于{row['contact_by']}前回访",
                          window=window)
    return {"rating": {"id": row["id"], "level": level, "level_name": LEVELS[level],
                       "ticket": t.number if t else None, "window": window, "bad": bad,
                       "follow_status": row["follow_status"], "rectify_by": row["rectify_by"]}}
