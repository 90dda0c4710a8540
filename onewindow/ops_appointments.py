"""Appointments: slots from the opening hours, one booking per citizen and service a day."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from .domain import hours as hours_mod
from .domain.errors import DomainError
from .envelope import Args, require
from .ops_tickets import read_citizen


def _service(ctl, code):
    s = ctl.hall.service(code)
    require(s is not None, "unknown_service", "没有这项业务", f"No service {code[:16]}")
    require(s.appointments, "no_appointments", f"{s.name}不提供预约，请现场取号",
            f"{s.name_en or s.name} takes no appointments")
    return s


def slots_on(ctl, service, day: date) -> list[datetime]:
    hours = service.hours or ctl.hall.hours
    step = timedelta(minutes=ctl.hall.rules.appointment_slot_min)
    tz = ctl.now().tzinfo
    out = []
    for start, end in hours_mod.ranges_on(hours, day):
        t = datetime.combine(day, start, tzinfo=tz)
        stop = datetime.combine(day, end, tzinfo=tz)
        while t + step <= stop:
            out.append(t)
            t += step
    return out


def _booked(ctl, code, start: datetime) -> int:
    return len(ctl.store.rows("appointments",
                              "service = ? AND slot_start = ? AND status IN ('booked', 'checked_in')",
                              (code, start.isoformat())))


def op_slots(ctl, dev, a: Args) -> dict:
    s = _service(ctl, a.get("service", str, maxlen=16))
    days = a.get("days", int, ctl.hall.rules.appointment_days, minval=1,
                 maxval=ctl.hall.rules.appointment_days)
    now = ctl.now()
    out = []
    for d in range(days):
        for start in slots_on(ctl, s, now.date() + timedelta(days=d)):
            if start <= now:
                continue
            free = s.appointment_per_slot - _booked(ctl, s.code, start)
            out.append({"start": start.isoformat(),
                        "end": (start + timedelta(minutes=ctl.hall.rules.appointment_slot_min)).isoformat(),
                        "free": max(0, free)})
    return {"service": s.code, "slots": out}


def op_book(ctl, dev, a: Args) -> dict:
    s = _service(ctl, a.get("service", str, maxlen=16))
    citizen = read_citizen(ctl, a)
    require(citizen is not None, "bad_request", "预约需要读取身份证", "An ID card is needed to book")
    now = ctl.now()
    try:
        start = datetime.fromisoformat(a.get("slot_start", str, maxlen=40))
        require(start.tzinfo is not None, "bad_request", "预约时段需带时区", "Slot time needs an offset")
        # year 1 or 9999 in another offset falls off the calendar
        start = start.astimezone(now.tzinfo)
    except (ValueError, OverflowError):
        raise DomainError("bad_request", "预约时段格式不正确", "Malformed slot time") from None
    require(start > now and start.date() < now.date() + timedelta(days=ctl.hall.rules.appointment_days),
            "bad_slot", "该时段不可预约", "That slot cannot be booked")
    require(start in slots_on(ctl, s, start.date()), "bad_slot", "该时段不可预约",
            "That slot cannot be booked")
    require(_booked(ctl, s.code, start) < s.appointment_per_slot, "slot_full",
            "该时段已约满，请选择其他时段", "That slot is full")
    mine = ctl.store.rows("appointments", "citizen_key = ? AND service = ? AND day = ? AND status = 'booked'",
                          (citizen["key"], s.code, start.date().isoformat()))
    require(not mine, "already_booked", "您当天已预约该业务", "You already have an appointment that day")
    row = {"id": secrets.token_hex(4).upper(), "service": s.code, "slot_start": start.isoformat(),
           "day": start.date().isoformat(), "citizen_key": citizen["key"],
           "citizen_masked": citizen["masked"], "status": "booked",
           "channel": a.get("channel", str, dev.role, maxlen=16), "created_at": now.isoformat(),
           "ticket_id": None}
    ctl.store.insert("appointments", row)
    ctl.audit(dev, "book", detail={"appointment": row["id"], "service": s.code,
                                   "slot": row["slot_start"]})
    return {"appointment": _view(ctl, row)}


def _view(ctl, row) -> dict:
    start = datetime.fromisoformat(row["slot_start"])
    return {"id": row["id"], "service": row["service"], "service_name": ctl.code_name(row["service"]),
            "slot_start": row["slot_start"],
            "slot_end": (start + timedelta(minutes=ctl.hall.rules.appointment_slot_min)).isoformat(),
            "citizen": row["citizen_masked"], "status": row["status"]}


def op_cancel(ctl, dev, a: Args) -> dict:
    appointment_id = a.get("appointment_id", str, maxlen=64)
    rows = ctl.store.rows("appointments", "id = ?", (appointment_id,))
    require(bool(rows), "not_found", "找不到该预约", "No such appointment")
    row = rows[0]
    if dev.role != "manager":
        citizen = read_citizen(ctl, a)
        require(citizen is not None and citizen["key"] == row["citizen_key"], "forbidden",
                "请读取预约人的身份证后再取消", "Read the booking citizen's ID card to cancel")
    require(row["status"] == "booked", "bad_state", "该预约已签到或已取消", "Already used or cancelled")
    ctl.store.update("appointments", "id", {"id": row["id"], "status": "cancelled"})
    ctl.audit(dev, "cancel_booking", detail={"appointment": row["id"]})
    row["status"] = "cancelled"
    return {"appointment": _view(ctl, row)}


def op_find(ctl, dev, a: Args) -> dict:
    """A citizen's own upcoming appointments and today's tickets (the kiosk's 查询)."""
    citizen = read_citizen(ctl, a)
    require(citizen is not None, "bad_request", "请读取身份证", "Read an ID card first")
    rows = ctl.store.rows("appointments", "citizen_key = ? AND day >= ? AND status = 'booked'",
                          (citizen["key"], ctl.day.isoformat()))
    tickets = ctl.store.tickets("citizen_key = ? AND day = ?", (citizen["key"], ctl.day.isoformat()))
    return {"appointments": [_view(ctl, r) for r in sorted(rows, key=lambda r: r["slot_start"])],
            "tickets": [ctl.ticket_view(ctl.tickets.get(t.id, t)) for t in tickets]}
