"""Appointments: slots from the opening hours, one booking per citizen and service a day."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from .domain import hours as hours_mod
from .domain.errors import DomainError
from .envelope import require
from .ops_mobile import phone_of
from .ops_tickets import CITIZEN_FROM, read_citizen
from .request import Request


def bookable(req: Request, code):
    """A service that takes appointments, or the refusal saying why not."""
    s = req.hall.service(code)
    require(s is not None, "unknown_service", "没有这项业务", f"No service {code[:16]}")
    require(
        s.appointments,
        "no_appointments",
        f"{s.name}不提供预约，请现场取号",
        f"{s.name_en or s.name} takes no appointments",
    )
    return s


def slots_on(req: Request, service, day: date) -> list[datetime]:
    hours = service.hours or req.hall.hours
    step = timedelta(minutes=req.hall.rules.appointment_slot_min)
    tz = req.now.tzinfo
    out = []
    for start, end in hours_mod.ranges_on(hours, day):
        t = datetime.combine(day, start, tzinfo=tz)
        stop = datetime.combine(day, end, tzinfo=tz)
        while t + step <= stop:
            out.append(t)
            t += step
    return out


def op_slots(req: Request) -> dict:
    s = bookable(req, req.args.get("service", str, maxlen=16))
    rules = req.hall.rules
    days = req.args.get(
        "days", int, rules.appointment_days, minval=1, maxval=rules.appointment_days
    )
    now = req.now
    out = []
    for d in range(days):
        for start in slots_on(req, s, now.date() + timedelta(days=d)):
            if start <= now:
                continue
            free = s.appointment_per_slot - req.store.booked_in_slot(s.code, start)
            out.append(
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=rules.appointment_slot_min)).isoformat(),
                    "free": max(0, free),
                }
            )
    return {"service": s.code, "slots": out}


def op_book(req: Request) -> dict:
    a = req.args
    s = bookable(req, a.get("service", str, maxlen=16))
    citizen = read_citizen(req.secret, a)
    require(
        citizen is not None, "bad_request", "预约需要读取身份证", "An ID card is needed to book"
    )
    start = parse_slot(req, a.get("slot_start", str, maxlen=40))
    channel = a.get("channel", str, req.device.role, maxlen=16)
    # a kiosk or a phone books on its own channel; a manager may record another (by telephone)
    require(
        req.device.role == "manager" or channel == req.device.role,
        "forbidden",
        "此设备不能指定预约渠道",
        f"A {req.device.role} books on its own channel only",
    )
    phone = None
    if req.device.role == "web":
        # the number was typed: the booking is the phone's, held to the phone's limit
        phone = phone_of(req)
        most = req.hall.mobile.tickets_per_phone
        require(
            len(req.store.phone_bookings(phone, req.day)) < most,
            "phone_limit",
            f"每部手机最多同时预约{most}个，请先办理或取消已有预约",
            f"A phone may hold {most} appointments at once",
        )
    row = add_booking(
        req,
        s,
        start,
        citizen["key"],
        citizen["masked"],
        channel,
        citizen_from=CITIZEN_FROM.get(req.device.role),
        phone_key=phone,
    )
    return {"appointment": view(req, row)}


def parse_slot(req: Request, text: str) -> datetime:
    """A slot's start as the hall's clock reads it; `bad_request` for what is not a time."""
    try:
        start = datetime.fromisoformat(text)
        require(
            start.tzinfo is not None, "bad_request", "预约时段需带时区", "Slot time needs an offset"
        )
        # year 1 or 9999 in another offset falls off the calendar
        return start.astimezone(req.now.tzinfo)
    except (ValueError, OverflowError):
        raise DomainError("bad_request", "预约时段格式不正确", "Malformed slot time") from None


def add_booking(
    req: Request,
    s,
    start: datetime,
    citizen_key: str,
    citizen_masked,
    channel: str,
    platform_id=None,
    citizen_from=None,
    phone_key=None,
) -> dict:
    """One booking of a slot, whoever made it (a kiosk, a phone, the provincial platform): the
    same checks, the same capacity (`appointment_per_slot`), audited and announced. A number
    typed on a phone (`citizen_from` typed) is held against typed ones only, as a ticket's is:
    it never refuses the card's holder, and a phone never learns the holder's bookings."""
    now = req.now
    require(
        start > now and start.date() < now.date() + timedelta(days=req.hall.rules.appointment_days),
        "bad_slot",
        "该时段不可预约",
        "That slot cannot be booked",
    )
    require(
        start in slots_on(req, s, start.date()),
        "bad_slot",
        "该时段不可预约",
        "That slot cannot be booked",
    )
    require(
        req.store.booked_in_slot(s.code, start) < s.appointment_per_slot,
        "slot_full",
        "该时段已约满，请选择其他时段",
        "That slot is full",
    )
    typed = citizen_from == "typed"
    mine = [
        r
        for r in req.store.bookings(citizen_key, start.date(), start.date(), service=s.code)
        if (r.get("citizen_from") == "typed") == typed
    ]
    require(
        not mine, "already_booked", "您当天已预约该业务", "You already have an appointment that day"
    )
    row = {
        "id": secrets.token_hex(4).upper(),
        "service": s.code,
        "slot_start": start.isoformat(),
        "day": start.date().isoformat(),
        "citizen_key": citizen_key,
        "citizen_masked": citizen_masked,
        "status": "booked",
        "channel": channel,
        "created_at": now.isoformat(),
        "ticket_id": None,
    }
    if platform_id is not None:
        row["platform_id"] = platform_id
    if citizen_from is not None:
        row["citizen_from"] = citizen_from
    if phone_key is not None:
        row["phone_key"] = phone_key
    req.store.add_appointment(row)
    detail = {"appointment": row["id"], "service": s.code, "slot": row["slot_start"]}
    if platform_id is not None:
        detail["platform_id"] = platform_id
    req.audit("book", detail=detail)
    _event(req, "booked", row)
    return row


def view(req: Request, row) -> dict:
    start = datetime.fromisoformat(row["slot_start"])
    return {
        "id": row["id"],
        "service": row["service"],
        "service_name": req.code_name(row["service"]),
        "slot_start": row["slot_start"],
        "slot_end": (start + timedelta(minutes=req.hall.rules.appointment_slot_min)).isoformat(),
        "citizen": row["citizen_masked"],
        "status": row["status"],
        "channel": row["channel"],
    }


def op_cancel(req: Request) -> dict:
    row = req.store.appointment(req.args.get("appointment_id", str, maxlen=64))
    require(row is not None, "not_found", "找不到该预约", "No such appointment")
    if req.device.role == "web":
        # a phone cancels what it booked: a typed number is anyone's
        require(
            row.get("phone_key") == phone_of(req),
            "forbidden",
            "只能取消本手机预约的业务，其他预约请在自助取号机刷身份证取消",
            "A phone cancels only what it booked; cancel others with the ID card at a kiosk",
        )
    elif req.device.role != "manager":
        citizen = read_citizen(req.secret, req.args)
        require(
            citizen is not None and citizen["key"] == row["citizen_key"],
            "forbidden",
            "请读取预约人的身份证后再取消",
            "Read the booking citizen's ID card to cancel",
        )
    return {"appointment": view(req, cancel_booking(req, row))}


def cancel_booking(req: Request, row: dict) -> dict:
    """A booking given back: its slot is free again."""
    require(
        row["status"] == "booked", "bad_state", "该预约已签到或已取消", "Already used or cancelled"
    )
    req.store.set_appointment(row["id"], "cancelled")
    detail = {"appointment": row["id"]}
    if row.get("platform_id"):
        detail["platform_id"] = row["platform_id"]
    req.audit("cancel_booking", detail=detail)
    row = {**row, "status": "cancelled"}
    _event(req, "cancelled", row)
    return row


def _event(req: Request, event: str, row) -> None:
    """`evt/appointment`: no citizen in it (every device reads events), masked or not. A
    platform booking's event names the platform's id: it is the platform's acknowledgement."""
    payload = {
        "event": event,
        "appointment": row["id"],
        "service": row["service"],
        "slot_start": row["slot_start"],
        "channel": row["channel"],
        "at": req.now.isoformat(),
    }
    if row.get("platform_id"):
        payload["platform_id"] = row["platform_id"]
    req.emit("appointment", payload)


def op_find(req: Request) -> dict:
    """A citizen's own upcoming appointments and today's tickets (the kiosk's 查询); for a phone,
    what that phone booked and took, never what an ID number typed on it would find."""
    if req.device.role == "web":
        require(
            "citizen" not in req.args.args,
            "forbidden",
            "手机不能按证件号查询预约，请在自助取号机刷身份证查询",
            "A phone cannot look up appointments by ID number; use the ID card at a kiosk",
        )
        phone = phone_of(req)
        rows = req.store.phone_bookings(phone, req.day)
        ids = req.store.phone_ticket_ids(req.day, phone)
        tickets = [t for t in (req.queues.get(i) or req.store.ticket(i) for i in ids) if t]
        return {
            "appointments": [view(req, r) for r in rows],
            "tickets": [req.ticket_view(t) for t in tickets],
        }
    citizen = read_citizen(req.secret, req.args)
    require(citizen is not None, "bad_request", "请读取身份证", "Read an ID card first")
    rows = req.store.bookings(citizen["key"], req.day)
    tickets = req.store.tickets_of_citizen(citizen["key"], req.day)
    return {
        "appointments": [view(req, r) for r in rows],
        "tickets": [req.ticket_view(req.queues.get(t.id) or t) for t in tickets],
    }
