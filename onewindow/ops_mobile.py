"""The citizen's phone: numbers taken from the entrance QR page, and call-ahead SMS notices.

A number from a phone needs today's entrance token (domain/entrance.py) and stays within the
hall's limits per phone and per day (`[mobile]`), counted here, by the controller, whatever the
web server says. A mobile number left for a notice is sealed with the phone vault's key and
masked; the notifier (role `notifier`, next to the GSM modem) asks which notices are due and
says what became of each, so an SMS never waits in the controller's thread.
"""

from __future__ import annotations

import re

from .domain.entrance import entrance_ok, entrance_token, phone_key
from .domain.errors import DomainError
from .domain.identity import mask_mobile
from .domain.model import TicketStatus
from .envelope import require
from .i18n import hall_languages
from .phonevault import MOBILE, VaultError
from .request import Request
from .weblang import offered

PHONE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the browser's random id (a cookie)
SMS_ALERT = "sms"


def admit(req: Request) -> str:
    """A number asked for by the web pages: today's entrance token, and the phone within its
    limits. The key the phone is counted by."""
    a, rules = req.args, req.hall.mobile
    require(
        bool(rules.entrance_url),
        "unavailable",
        "本大厅暂不支持手机取号，请到自助取号机取号",
        "This hall takes no numbers from phones; use a kiosk",
    )
    token = a.get("entrance", str, "", maxlen=64)
    require(
        entrance_ok(token, req.day, req.secret),
        "bad_entrance",
        "二维码已过期，请扫描大厅入口今天的二维码",
        "This code has expired; scan today's code at the hall's entrance",
    )
    key = phone_of(req)
    mine = req.store.phone_tickets(req.day, key)
    require(
        mine < rules.tickets_per_phone,
        "phone_limit",
        f"每部手机每天最多取号{rules.tickets_per_phone}次，请到自助取号机取号",
        f"A phone may take {rules.tickets_per_phone} numbers a day; use a kiosk",
    )
    if rules.daily_max:
        require(
            req.store.phone_tickets(req.day) < rules.daily_max,
            "phone_quota",
            "今日手机取号已满，请到自助取号机取号",
            "Today's numbers from phones are all taken; use a kiosk",
        )
    return key


def phone_of(req: Request) -> str:
    """The keyed hash of the phone (the browser's random id, `phone_id`) the web pages ask for:
    what a phone's numbers and bookings are counted and owned by."""
    phone_id = req.args.get("phone_id", str, "", maxlen=64)
    require(
        PHONE_ID.fullmatch(phone_id) is not None,
        "bad_request",
        "请允许浏览器保存本站信息后重试",
        "Allow this site to keep its cookie, then try again",
    )
    return phone_key(phone_id, req.secret)


def record(req: Request, ticket_id: str, key: str) -> None:
    req.store.add_phone_ticket(ticket_id, req.day, key)


def op_entrance(req: Request) -> dict:
    """entrance.url: today's entrance link, for the QR code at the door."""
    rules = req.hall.mobile
    require(
        bool(rules.entrance_url),
        "unavailable",
        "大厅配置未设置手机取号地址（[mobile] entrance_url）",
        "The hall file sets no [mobile] entrance_url",
    )
    token = entrance_token(req.day, req.secret)
    return {
        "day": req.day.isoformat(),
        "token": token,
        "url": rules.entrance_url.replace("{token}", token),
    }


def op_entrance_check(req: Request) -> dict:
    """entrance.check (web): whether a token is today's, so the page refuses an old code before
    the citizen picks anything (ticket.issue checks again)."""
    token = req.args.get("token", str, "", maxlen=64)
    return {"ok": bool(req.hall.mobile.entrance_url) and entrance_ok(token, req.day, req.secret)}


def op_subscribe(req: Request) -> dict:
    """notice.subscribe: a mobile number, with consent, for this ticket's call-ahead SMS."""
    a = req.args
    t = req.ticket(a.get("ticket_id", str, maxlen=96))
    phone = a.get("phone", str, "", maxlen=20).strip().replace(" ", "").replace("-", "")
    require(
        a.get("consent", bool, False),
        "consent_required",
        "请勾选同意接收叫号短信",
        "Tick the consent to receive the SMS",
    )
    require(
        MOBILE.fullmatch(phone) is not None,
        "bad_request",
        "请填写11位手机号码",
        "Give an 11-digit mobile number",
    )
    require(
        req.phones is not None,
        "unavailable",
        "本大厅暂不收集手机号码",
        "This hall takes no phone numbers (the cryptography package is not installed)",
    )
    require(
        t.status is TicketStatus.WAITING and t.day == req.day,
        "bad_state",
        f"{t.number} 已不在排队中",
        f"{t.number} is no longer waiting",
    )
    req.store.add_notice(
        {
            "ticket_id": t.id,
            "day": req.day.isoformat(),
            "phone_token": req.phones.seal(phone),
            "phone_masked": mask_mobile(phone),
            # the page's language, any the hall offers ([hall] languages); _texts says which
            # language the SMS itself is in
            "lang": a.get("lang", str, "zh", choices=hall_langs(req)),
            "created_at": req.now.isoformat(),
        }
    )
    req.audit("notice_subscribe", t)  # the number is in no log
    return {"notice": notice_view(req, t.id)}


def hall_langs(req: Request) -> tuple[str, ...]:
    """The citizens' languages of the hall ([hall] languages, Chinese always), as the web pages
    offer them (weblang.offered)."""
    return tuple(offered(hall_languages(req.raw.get("hall"))))


def op_unsubscribe(req: Request) -> dict:
    """notice.cancel: the citizen takes the number back; it is deleted at once."""
    t = req.ticket(req.args.get("ticket_id", str, maxlen=96))
    if req.store.notice(t.id) is not None:
        req.store.drop_notice(t.id)
        req.audit("notice_cancel", t)
    return {"notice": None}


def notice_view(req: Request, ticket_id: str) -> dict | None:
    row = req.store.notice(ticket_id)
    if row is None:
        return None
    return {
        "phone": row["phone_masked"],
        "ahead_at": req.hall.mobile.notice_ahead,
        "ahead": row["ahead_state"],
        "call": row["call_state"],
    }


def _texts(req: Request, t, view: dict, lang: str, stage: str) -> str:
    """The SMS in English for an English page, else in Chinese. A Tibetan page's notice is
    texted in Chinese on purpose: the GSM phones citizens carry in the field rarely have a
    Tibetan font (UCS-2 carries the characters, the phone shows boxes), and a text the citizen
    cannot read makes them miss the call, while Chinese reaches them or someone beside them."""
    hall, ahead = req.hall, view["ahead"]
    # nobody ahead reads as a sentence, not "前面还有0位": no longer than the text with one
    # digit, so a message that fitted in one SMS (70 characters) still does
    if lang == "en":
        name = hall.name_en or hall.name
        if stage == "call":
            return f"[{name}] Number {t.number}: please go to {view['window_name']} now."
        where = f"{ahead} ahead of you" if ahead else "you are next"
        return (
            f"[{name}] Number {t.number}: {where}. "
            f"Please come back to the hall and watch the calling screen."
        )
    if stage == "call":
        return f"【{hall.name}】请{t.number}号到{view['window_name']}办理{view['service_name']}。"
    where = f"前面还有{ahead}位" if ahead else "前面没有人了"
    return (
        f"【{hall.name}】您的号码{t.number}（{view['service_name']}）{where}，请回到大厅留意叫号。"
    )


def op_pending(req: Request) -> dict:
    """notice.pending (notifier): the SMS due now, the numbers in clear; never stored as a reply
    (a read), so no copy of a number is kept beside its sealed one."""
    due = []
    n = req.hall.mobile.notice_ahead
    for row in req.store.open_notices(req.day):
        t = req.queues.get(row["ticket_id"])
        if t is None:
            continue  # done, cancelled or gone: nothing more to tell
        stage = None
        if t.status in (TicketStatus.CALLED, TicketStatus.RECALLED) and row["call_state"] is None:
            stage = "call"
        elif t.status is TicketStatus.WAITING and row["ahead_state"] is None:
            view = req.ticket_view(t)
            if view["ahead"] <= n:
                stage = "ahead"
        if stage is None:
            continue
        try:
            phone = req.phones.open(row["phone_token"]) if req.phones else None
        except VaultError:
            phone = None
        if phone is None:
            continue
        view = req.ticket_view(t)
        due.append(
            {
                "ticket_id": t.id,
                "stage": stage,
                "phone": phone,
                "text": _texts(req, t, view, row["lang"], stage),
            }
        )
    return {"due": due}


def op_sent(req: Request) -> dict:
    """notice.sent (notifier): what became of one SMS; a failure is final (the driver already
    retried) and raises an alert for the managers, a success clears it."""
    a, dev = req.args, req.device
    ticket_id = a.get("ticket_id", str, maxlen=64)
    stage = a.get("stage", str, choices=("ahead", "call"))
    ok = a.get("ok", bool)
    reason = a.get("reason", str, "", maxlen=200)
    row = req.store.notice(ticket_id)
    t = req.queues.get(ticket_id) or req.store.ticket(ticket_id)
    if row is None or t is None:
        raise DomainError("not_found", "找不到该短信提醒", "No such notice")
    now = req.now
    req.store.notice_stage(ticket_id, stage, "sent" if ok else "failed", now)
    if stage == "call" and row["ahead_state"] is None:
        req.store.notice_stage(ticket_id, "ahead", "skipped", now)  # called before it was due
    req.audit(
        "notice_sent" if ok else "notice_failed",
        t,
        detail={"stage": stage, **({"reason": reason} if reason else {})},
    )
    key = f"{SMS_ALERT}:{dev.id}"
    if ok:
        req.alerts.clear(key)
    else:
        req.alerts.raise_(key, "device", f"叫号短信发送失败：{reason or '未知原因'}", device=dev.id)
    return {"ticket_id": ticket_id, "stage": stage, "state": "sent" if ok else "failed"}
