"""Ops on tickets: issue (with appointment check-in, elder and declared priority), cancel,
reinstate, status, and the staff's check of a declared priority (绿色通道)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .domain import hours as hours_mod
from .domain.errors import DomainError
from .domain.identity import age_on, birth_date_from_id, citizen_key, mask_name, valid_id_number
from .domain.lifecycle import Action
from .domain.model import CHANNELS, DECLARABLE, Priority, TicketStatus
from .domain.routing import reinstate_order
from .envelope import Args, require
from .ops_forms import checked_form, keep_form
from .ops_mobile import admit, notice_view, record
from .request import Request

PRIORITIES = tuple(p.value for p in Priority)
# 外国人永久居留证 before 2023; ASCII digits only (\d would take Arabic-Indic or full-width ones)
FOREIGN_PR_OLD = re.compile(r"^[A-Z]{3}[0-9]{12}$")
DEFAULT_CHANNEL = {"kiosk": "kiosk", "web": "web", "caller": "staff", "manager": "staff"}
# Self-service devices: the channel is theirs, and no priority is theirs to choose (a kiosk
# passes on the 绿色通道 the citizen declared, checked at the window). Only staff, who see the
# citizen, set a priority.
OWN_CHANNEL = {"kiosk": "kiosk", "web": "web"}
# where a ticket's citizen came from, by who sent it (Ticket.citizen_from): a kiosk reads the
# card, staff see it, the web pages only pass on what was typed on a phone
CITIZEN_FROM = {"kiosk": "card", "web": "typed", "caller": "staff", "manager": "staff"}
# What `queue.status` tells each role about one ticket beyond its number and progress: the
# masked name only to those who serve or are the citizen (not to screens and signs, which any
# passer-by reads), the QR page link only to managers and to the web pages (which were given it)
SEES_CITIZEN = frozenset({"kiosk", "caller", "manager", "web"})
SEES_PAGE = frozenset({"manager", "web"})
SEES_RATING = frozenset({"kiosk", "manager", "web"})  # whether a done ticket was rated


def read_citizen(secret: bytes, a: Args) -> dict | None:
    """The citizen's key, masked name and birth date; the number and name go no further."""
    c = a.get("citizen", dict, None)
    if c is None:
        return None
    id_number = c.get("id_number")
    name = c.get("name") or ""
    if not isinstance(id_number, str) or not isinstance(name, str) or len(name) > 60:
        raise DomainError("bad_request", "证件信息格式不正确", "Malformed citizen data")
    id_number = id_number.strip().upper()
    if not id_number.isascii():
        raise DomainError(
            "bad_id_number", "证件号码有误，请核对后重试", "The ID number is not valid"
        )
    birth = None
    if valid_id_number(id_number):
        birth = birth_date_from_id(id_number)
    elif not FOREIGN_PR_OLD.match(id_number):
        raise DomainError(
            "bad_id_number", "证件号码有误，请核对后重试", "The ID number is not valid"
        )
    return {
        "key": citizen_key(id_number, secret),
        "masked": mask_name(name) or None,
        "birth": birth,
    }


def _queue_item(req: Request, code: str):
    item = req.hall.service(code) or req.hall.theme(code)
    if item is None:
        raise DomainError(
            "unknown_service", "没有这项业务，请重新选择", f"No such service {code[:20]!r}"
        )
    return item


def _check_open(req: Request, item, now) -> None:
    hours = getattr(item, "hours", None) or req.hall.hours
    if hours_mod.is_open(hours, now):
        return
    opening = hours_mod.next_opening(hours, now)
    zh, en = hours_mod.describe_opening(opening, now.date())
    raise DomainError(
        "closed",
        f"现在不是办理时间，窗口将于{zh}开始服务。您可以预约或查看办事指南。",
        f"Windows are closed now; they open {en}. You can book an appointment.",
        next_opening=opening.isoformat() if opening else None,
    )


def _check_quota(req: Request, item) -> None:
    if item.daily_quota and req.store.count_issued(req.day, item.code) >= item.daily_quota:
        raise DomainError(
            "quota_exhausted",
            f"{item.name}今日号源已取完，请明天再来或预约办理",
            f"Today's tickets for {item.name_en or item.name} are all taken",
        )


def _self_service(role: str, channel: str, priority, declared) -> tuple[str, str | None]:
    """A kiosk or the web pages may not choose the ticket's channel or priority; the web pages
    may not declare one either (its only priority is an elder's, from the number typed). A
    kiosk's `priority` is ignored rather than refused (kiosks of before sent one: the card it
    read decides, and staff check the rest), and it may still say `appointment` for a check-in.
    The (channel, priority) to go on with."""
    own = OWN_CHANNEL.get(role)
    if own is None:
        return channel, priority
    allowed = (own, "appointment") if role == "kiosk" else (own,)
    require(
        channel in allowed,
        "forbidden",
        "此设备不能指定取号渠道",
        f"A {role} issues on the {own} channel only",
    )
    if role == "kiosk":
        return channel, None
    require(
        priority is None and declared is None,
        "forbidden",
        "此设备不能指定优先类别，请到窗口出示证件",
        f"A {role} may not set a ticket's priority; staff check it at the window",
    )
    return channel, priority


def _find_appointment(req: Request, code, citizen, appointment_id, now, phone=None):
    """The booking this ticket checks in, if any. From a phone (`phone`, its keyed hash) only a
    booking made on that phone, and never one found by the number typed."""
    if appointment_id:
        appt = req.store.appointment(appointment_id)
        require(appt is not None, "not_found", "找不到该预约", "No such appointment")
        if citizen and appt["citizen_key"] != citizen["key"]:
            raise DomainError(
                "forbidden", "该预约不属于此证件", "This appointment belongs to someone else"
            )
        if phone is not None and appt.get("phone_key") != phone:
            raise DomainError(
                "forbidden",
                "只能签到本手机预约的业务，其他预约请在自助取号机刷身份证签到",
                "A phone checks in only what it booked; check in with your ID card at a kiosk",
            )
    elif citizen and phone is None:
        # only a booking for what the citizen chose: never check them into another service
        # (not from a number typed on a phone: that would spend a stranger's booking)
        rows = req.store.bookings(citizen["key"], req.day, req.day, service=code)
        if not rows:
            return None
        appt = rows[0]
    else:
        return None
    require(
        appt["status"] == "booked",
        "appointment_used",
        "该预约已签到或已取消",
        "This appointment was already used or cancelled",
    )
    slot = datetime.fromisoformat(appt["slot_start"])
    r = req.hall.rules
    if now < slot - timedelta(minutes=r.appointment_early_min):
        if not appointment_id:
            return None  # early: an ordinary ticket is still possible if the citizen wants one
        opens = slot - timedelta(minutes=r.appointment_early_min)
        raise DomainError(
            "too_early",
            f"您预约的时段是{slot:%H:%M}，请于{opens:%H:%M}后签到",
            f"Your slot is at {slot:%H:%M}; check in from {opens:%H:%M}",
        )
    if now > slot + timedelta(minutes=r.appointment_late_min):
        if not appointment_id:
            return None
        raise DomainError(
            "appointment_expired",
            "已超过预约时段，请现场取号",
            "The appointment slot has passed; please take a ticket",
        )
    return appt


def op_issue(req: Request) -> dict:
    a, dev = req.args, req.device
    code = a.get("service", str, maxlen=16)
    channel = a.get("channel", str, DEFAULT_CHANNEL.get(dev.role, "kiosk"), choices=CHANNELS)
    priority = a.get("priority", str, None, choices=PRIORITIES)
    # 绿色通道 declared by the citizen: goes first at once, checked by staff at the window
    declared = a.get("declared", str, None, choices=DECLARABLE)
    channel, priority = _self_service(dev.role, channel, priority, declared)
    # an ID number typed on a phone proves nothing about who holds the phone (docs/phone.md)
    typed = dev.role == "web"
    appointment_id = a.get("appointment_id", str, None, maxlen=64)
    answers = a.get("answers", dict, None, maxlen=20)
    printed = a.get("printed", bool, True)
    citizen = read_citizen(req.secret, a)
    # a number from a phone: today's entrance code, within the phone's limits (ops_mobile)
    from_phone = admit(req) if dev.role == "web" else None
    if appointment_id and citizen is None and dev.role in ("kiosk", "web"):
        # a self-service check-in proves who is there: a booking id alone could be anyone's
        raise DomainError("need_card", "请刷身份证或社保卡签到", "Read your ID card to check in")
    now = req.now
    item = _queue_item(req, code)
    appt = _find_appointment(req, code, citizen, appointment_id, now, phone=from_phone)
    if appt is not None:
        item = _queue_item(req, appt["service"])
        channel = "appointment"
    else:
        require(
            channel != "appointment",
            "not_found",
            "没有找到您今天的预约",
            "No appointment found for today",
        )
        _check_open(req, item, now)
        _check_quota(req, item)
    theme_answers = _theme_answers(req, item, answers)
    # 一表申请: checked before anything is written, so that a refusal writes nothing
    form = checked_form(req, item.code, theme_answers if theme_answers is not None else answers)
    if citizen:
        for t in req.queues.waiting(item.code):
            # a typed number is held against typed ones only: it never refuses the card's holder,
            # and a phone never learns from it that someone with that card is waiting
            if t.citizen_key == citizen["key"] and (t.citizen_from == "typed") == typed:
                raise DomainError(
                    "already_waiting",
                    f"您已取号 {t.number}，请留意叫号",
                    f"You already have ticket {t.number}",
                    ticket=t.number,
                )
        if (
            not priority
            and citizen["birth"]
            and age_on(citizen["birth"], now.date()) >= req.hall.rules.elder_age
        ):
            priority = "elder"
            if typed:  # goes first, as a 绿色通道 declared: the staff see the card at the window
                declared = declared or "elder"
    if declared:
        priority = priority or declared
    t = req.issue(
        item=item,
        channel=channel,
        priority=priority,
        declared=declared,
        priority_check="declared" if declared else None,
        appointment_id=appt["id"] if appt else None,
        slot_start=datetime.fromisoformat(appt["slot_start"]) if appt else None,
        citizen_key=citizen["key"] if citizen else None,
        citizen_masked=citizen["masked"] if citizen else None,
        citizen_from=CITIZEN_FROM.get(dev.role) if citizen else None,
        answers=theme_answers,
        printed=printed,
    )
    if appt:
        req.store.set_appointment(appt["id"], "checked_in", ticket_id=t.id)
    if from_phone:
        record(req, t.id, from_phone)
    if form is not None:
        keep_form(req, t, form)
    req.emit(
        "ticket",
        {
            "event": "issued",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "appointment": appt["id"] if appt else None,
            "at": now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}


def _theme_answers(req: Request, item, answers):
    theme = req.hall.theme(item.code)
    if theme is None or not answers:
        return None
    known = {q.id for q in theme.questions}
    return {k: bool(v) for k, v in answers.items() if k in known}


def op_cancel(req: Request) -> dict:
    t = req.ticket(req.args.get("ticket_id", str, maxlen=64))
    reason = req.args.get("reason", str, "", maxlen=200)
    require(
        t.status in (TicketStatus.WAITING, TicketStatus.NO_SHOW),
        "bad_state",
        f"{t.number} 当前状态无法取消",
        f"{t.number} cannot be cancelled now",
    )
    req.move(t, Action.CANCEL, detail={"reason": reason})
    req.emit(
        "ticket",
        {
            "event": "cancelled",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}


def op_reinstate(req: Request) -> dict:
    t = req.ticket(req.args.get("ticket_id", str, maxlen=64))
    require(
        t.status is TicketStatus.NO_SHOW,
        "bad_state",
        f"{t.number} 不是过号状态",
        f"{t.number} was not skipped",
    )
    require(
        t.day == req.day,
        "expired",
        "昨日的号票已失效，请重新取号",
        "Yesterday's ticket has expired; please take a new one",
    )
    now = req.now
    rules = req.hall.rules
    grace = timedelta(minutes=rules.no_show_grace_min)
    require(
        t.skipped_at is not None and now - t.skipped_at <= grace,
        "expired",
        f"过号已超过{rules.no_show_grace_min}分钟，请重新取号",
        "Too long since the ticket was skipped; please take a new one",
    )
    order = sorted(u.order_at for u in req.queues.waiting(t.service))
    req.move(
        t,
        Action.REINSTATE,
        order_at=reinstate_order(order, rules.reinstate_after, now),
        window=None,
    )
    req.emit(
        "ticket",
        {
            "event": "reinstated",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "at": now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}


def op_printed(req: Request) -> dict:
    """A kiosk (or a reprint at the duty desk) reports whether the paper ticket came out; the
    number stands either way."""
    dev = req.device
    t = req.ticket(req.args.get("ticket_id", str, maxlen=64))
    printed = req.args.get("printed", bool)
    reason = req.args.get("reason", str, "", maxlen=200)
    if req.args.get("reprint", bool, False) and printed:
        req.update(t, "reprint")  # the same number, on paper again
    if t.printed != printed:
        req.update(
            t,
            "printed" if printed else "print_failed",
            detail={"reason": reason} if reason else None,
            printed=printed,
        )
    if not printed:
        req.alerts.raise_(
            f"printer:{dev.id}",
            "printer",
            f"{dev.id} 打印失败：{reason or '未知原因'}",
            device=dev.id,
        )
    return {"ticket": req.ticket_view(t)}


def op_queue_status(req: Request) -> dict:
    ticket_id = req.args.get("ticket_id", str, None, maxlen=64)
    if ticket_id is None:
        return {"queues": req.queues_view()}
    t = req.ticket(ticket_id)
    view = req.ticket_view(t)
    if req.device.role in SEES_RATING and t.status is TicketStatus.DONE:
        from .ops_rating import rating_state

        view["rating"] = rating_state(req, t.id)
    if req.device.role in SEES_CITIZEN and t.status is TicketStatus.DONE:
        case = req.store.case(t.id)  # 容缺受理: what is missing and by when
        if case is not None:
            view["case"] = req.case_view(case)
    if req.device.role == "web":
        view["notice"] = notice_view(req, t.id)  # the call-ahead SMS, the number masked
    if req.device.role not in SEES_CITIZEN:
        view["citizen"] = None
    if req.device.role not in SEES_PAGE:
        view["status_url"] = None
    return {"ticket": view}


def op_priority(req: Request) -> dict:
    """绿色通道: staff confirm a priority the citizen declared (they showed the certificate) or
    withdraw it; audited either way. By `window` (the ticket at it) or, for managers, `ticket_id`."""
    a, dev = req.args, req.device
    decision = a.get("decision", str, choices=("confirm", "withdraw"))
    number = a.get("window", int, None, minval=1, maxval=999)
    if number is not None:
        require(
            dev.role == "manager" or number in dev.windows,
            "forbidden",
            f"此设备不能操作 {number} 号窗口",
            f"This device may not act on window {number}",
        )
        t = req.queues.at_window(number)
        require(t is not None, "no_ticket", "当前没有正在办理的号", "No ticket at this window")
    else:
        require(dev.role == "manager", "bad_request", "请指定窗口", "Give the window")
        t = req.ticket(a.get("ticket_id", str, maxlen=64))
    require(
        t.declared is not None,
        "bad_state",
        f"{t.number} 没有自报的优先类别",
        f"{t.number} declared no priority",
    )
    require(not t.status.final, "bad_state", f"{t.number} 已结束", f"{t.number} is over")
    if decision == "confirm":
        req.update(
            t,
            "priority_confirm",
            detail={"declared": t.declared},
            priority_check="confirmed",
            priority=t.priority or t.declared,
        )
    else:
        # only what was declared goes: an elder found from the ID card stays one
        req.update(
            t,
            "priority_withdraw",
            detail={"declared": t.declared},
            priority_check="withdrawn",
            priority=None if t.priority == t.declared else t.priority,
        )
    req.emit(
        "ticket",
        {
            "event": f"priority_{decision}",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "declared": t.declared,
            "window": t.window,
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}
