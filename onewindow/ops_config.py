"""Config ops: read the hall, and managers' changes (validated whole, persisted, audited, live)."""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, fields
from datetime import date, datetime

from . import managerpin
from .domain.errors import DomainError
from .domain.model import Rules
from .envelope import Args, require
from .hallconfig import TRANSLATION_SUFFIXES, dump
from .request import Request

WINDOW_FIELDS = {"name": str, "name_en": str, "kind": str, "services": list, "location": str}
SERVICE_FIELDS = {
    "name": str,
    "name_en": str,
    "department": str,
    "prefix": str,
    "daily_quota": int,
    "appointments": bool,
    "appointment_per_slot": int,
    "hours": dict,
    "guide": dict,
}


def _twins(table: dict) -> dict:
    """A hall file table's texts in other languages (`name_bo`...): the domain model keeps none."""
    return {k: v for k, v in table.items() if k.endswith(TRANSLATION_SUFFIXES)}


def _materials(req: Request, codes) -> list[dict]:
    """一件事: one merged list; a material asked by several items is brought once."""
    merged: dict[str, dict] = {}
    raw = {s.get("code"): s for s in req.raw.get("services", [])}
    for code in codes:
        s = req.hall.service(code)
        written = {
            m.get("name"): m
            for m in ((raw.get(code) or {}).get("guide") or {}).get("materials", [])
        }
        for m in s.guide.materials if s else ():
            m0 = merged.setdefault(
                m.name,
                {
                    "name": m.name,
                    **_twins(written.get(m.name) or {}),
                    "originals": 0,
                    "copies": 0,
                    "missing_ok": True,
                    "for": [],
                },
            )
            m0["originals"] = max(m0["originals"], m.originals)
            m0["copies"] = max(m0["copies"], m.copies)
            m0["missing_ok"] = m0["missing_ok"] and m.missing_ok
            m0["for"].append(code)
    return list(merged.values())


def op_get(req: Request) -> dict:
    raw, hall = req.raw, req.hall
    services = []
    for s, rs in zip(hall.services, raw.get("services", []), strict=True):
        services.append(
            {
                **rs,
                "code": s.code,
                "prefix": s.prefix,
                "appointments": s.appointments,
                "daily_quota": s.daily_quota,
                "pickup": s.pickup,
            }
        )
    themes = []
    for th, rt in zip(hall.themes, raw.get("themes", []), strict=True):
        every = list(th.items) + [c for q in th.questions for c in q.adds]
        themes.append({**rt, "materials": _materials(req, dict.fromkeys(every))})
    windows = [
        {**req.window_view(w.number), "location": w.location, **_twins(rw)}
        for w, rw in zip(hall.windows, raw.get("windows", []), strict=True)
    ]
    return {
        "hall": {**raw["hall"], "hours": raw.get("hours", {}), "rules": asdict(hall.rules)},
        "services": services,
        "windows": windows,
        "themes": themes,
        # phone: whether the QR page may ask for a number for a bad rating's follow-up
        "rating": {"reasons": list(hall.rating.reasons), "phone": req.phones is not None},
        # the displays announce each call in these languages, in this order, and a window's
        # pause and a 过号 if the hall says so
        "voice": {
            "languages": list(hall.voice_languages),
            "pause": hall.voice_pause,
            "no_show": hall.voice_no_show,
        },
        # the phone pages: whether numbers are taken from phones, and SMS numbers kept
        "mobile": {
            "entrance": bool(hall.mobile.entrance_url),
            "notice_ahead": hall.mobile.notice_ahead,
            "phone": req.phones is not None,
        },
    }


def _changes(a: Args, fields: dict, allow_none: bool = False) -> dict:
    out = {}
    for name, typ in fields.items():
        value = a.get(name, typ, None, maxlen=200)
        if value is not None:
            out[name] = value.strip() if isinstance(value, str) else value
    require(bool(out) or allow_none, "bad_request", "没有要修改的内容", "Nothing to change")
    return out


def op_window(req: Request) -> dict:
    number = req.args.get("window", int, minval=1, maxval=999)
    changes = _changes(req.args, WINDOW_FIELDS)
    new_raw = copy.deepcopy(req.raw)
    windows = new_raw.setdefault("windows", [])
    entry = next((w for w in windows if w.get("number") == number), None)
    if entry is None:
        entry = {"number": number, "name": f"{number}号窗口"}
        windows.append(entry)
    entry.update(changes)
    req.set_config(new_raw, "config_window", {"window": number, **changes})
    return {"window": {**req.window_view(number), "location": req.hall.window(number).location}}


def op_service(req: Request) -> dict:
    code = req.args.get("code", str, maxlen=16)
    changes = _changes(req.args, SERVICE_FIELDS)
    new_raw = copy.deepcopy(req.raw)
    entry = next((s for s in new_raw.get("services", []) if s.get("code") == code), None)
    require(entry is not None, "not_found", "没有这项业务", f"No service {code}")
    if "guide" in changes:
        # the guide's basics change; its materials and questions stay unless given
        changes["guide"] = {**(entry.get("guide") or {}), **changes["guide"]}
    entry.update(changes)
    req.set_config(
        new_raw,
        "config_service",
        {"code": code, **{k: v for k, v in changes.items() if k not in ("guide", "hours")}},
    )
    return {"service": {**entry, "prefix": req.hall.service(code).prefix}}


def op_service_add(req: Request) -> dict:
    """A new service (事项): its code, name and department at least; windows that list their
    services get it added (a comprehensive window serving everything serves it already)."""
    a = req.args
    code = a.get("code", str, maxlen=16)
    require(
        all(s.get("code") != code for s in req.raw.get("services", []) + req.raw.get("themes", [])),
        "exists",
        f"代码 {code} 已被使用",
        f"Code {code} is already used",
    )
    entry = {
        "code": code,
        "name": a.get("name", str, maxlen=60).strip(),
        "department": a.get("department", str, maxlen=60).strip(),
        **_changes(
            a,
            {k: t for k, t in SERVICE_FIELDS.items() if k not in ("name", "department")},
            allow_none=True,
        ),
    }
    windows = a.get("windows", list, [], maxlen=999)
    require(
        all(isinstance(n, int) and not isinstance(n, bool) for n in windows),
        "bad_request",
        "窗口应为窗口号列表",
        "windows must be window numbers",
    )
    new_raw = copy.deepcopy(req.raw)
    new_raw.setdefault("services", []).append(entry)
    for number in windows:
        w = next((w for w in new_raw.get("windows", []) if w.get("number") == number), None)
        require(w is not None, "not_found", f"没有 {number} 号窗口", f"No window {number}")
        if w.get("services") or w.get("kind", "specialist") != "comprehensive":
            w["services"] = list(w.get("services") or []) + [code]
    req.set_config(
        new_raw, "config_service_add", {"code": code, "name": entry["name"], "windows": windows}
    )
    return {
        "service": {**entry, "prefix": req.hall.service(code).prefix},
        "windows": [n for n in windows],
    }


def op_service_retire(req: Request) -> dict:
    """A service no longer offered: gone from the kiosks and from every window's list. Refused
    while citizens wait for it or hold an appointment, or while a 一件事 includes it."""
    code = req.args.get("code", str, maxlen=16)
    service = req.hall.service(code)
    require(service is not None, "not_found", "没有这项业务", f"No service {code}")
    waiting = req.queues.count(code)
    require(
        not waiting,
        "in_use",
        f"{service.name} 还有 {waiting} 人在等候，办完后再停办",
        f"{waiting} people are waiting for {code}",
    )
    booked = req.store.booked_for(code, req.day)
    require(
        not booked,
        "in_use",
        f"{service.name} 还有 {booked} 个预约，取消或办完后再停办",
        f"{code} has {booked} appointments to come",
    )
    for th in req.hall.themes:
        require(
            code not in th.items and all(code not in q.adds for q in th.questions),
            "in_use",
            f"一件事“{th.name}”包含 {service.name}，请先修改该主题",
            f"Theme {th.code} includes {code}",
        )
    new_raw = copy.deepcopy(req.raw)
    new_raw["services"] = [s for s in new_raw.get("services", []) if s.get("code") != code]
    for w in new_raw.get("windows", []):
        if code in (w.get("services") or []):
            w["services"] = [c for c in w["services"] if c != code]
    req.set_config(new_raw, "config_service_retire", {"code": code, "name": service.name})
    return {"retired": code}


DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01][0-9]|2[0-4]):[0-5][0-9]$")


def _hours_entry(raw: dict, code: str | None) -> dict:
    """The hours table a change goes to: the hall's, or one service's own."""
    if code is None:
        return raw.setdefault("hours", {})
    entry = next((s for s in raw.get("services", []) if s.get("code") == code), None)
    require(entry is not None, "not_found", "没有这项业务", f"No service {code}")
    return entry.setdefault("hours", {})


def op_hours(req: Request) -> dict:
    """The weekly hours, closed days and 调休 days, of the hall (or of one service: `code`)."""
    a = req.args
    code = a.get("code", str, None, maxlen=16)
    changes: dict = {}
    for day in DAY_KEYS:
        if day in a.args:
            changes[day] = a.str_list(day, maxlen=8)
    if "closed_dates" in a.args:
        changes["closed_dates"] = sorted(set(a.str_list("closed_dates", maxlen=400)))
    if "extra_days" in a.args:
        extra = a.get("extra_days", dict, maxlen=400)
        require(
            all(isinstance(v, list) and all(isinstance(r, str) for r in v) for v in extra.values()),
            "bad_request",
            "调休日应为 日期 → 时段列表",
            "extra_days: date -> list of ranges",
        )
        changes["extra_days"] = extra
    require(bool(changes), "bad_request", "没有要修改的内容", "Nothing to change")
    new_raw = copy.deepcopy(req.raw)
    _hours_entry(new_raw, code).update(changes)
    req.set_config(new_raw, "config_hours", {"code": code, **changes})
    return {"hours": _hours_entry(copy.deepcopy(req.raw), code)}


DAY_KINDS = ("closed", "extra", "normal")


def op_day(req: Request) -> dict:
    """One date on the calendar: closed (节假日), extra (调休上班, with `ranges`, by default
    Monday's), or normal again (the weekday's hours)."""
    a = req.args
    text = a.get("date", str, maxlen=10)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            "bad_request", "日期格式应为 2026-10-01", "date must be YYYY-MM-DD"
        ) from None
    kind = a.get("kind", str, choices=DAY_KINDS)
    new_raw = copy.deepcopy(req.raw)
    hours = new_raw.setdefault("hours", {})
    key = day.isoformat()
    closed = [str(d) for d in hours.get("closed_dates", []) if str(d) != key]
    extra = {str(k): v for k, v in (hours.get("extra_days") or {}).items() if str(k) != key}
    if kind == "closed":
        closed.append(key)
    elif kind == "extra":
        ranges = a.str_list("ranges", maxlen=8) or list(hours.get("mon") or [])
        require(
            bool(ranges), "bad_request", "请给出调休日的办公时段", "Give the day's opening ranges"
        )
        extra[key] = ranges
    hours["closed_dates"] = sorted(closed)
    hours["extra_days"] = dict(sorted(extra.items()))
    req.set_config(new_raw, "config_day", {"date": key, "kind": kind, "ranges": extra.get(key)})
    return {"date": key, "kind": kind, "ranges": extra.get(key)}


def _minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def _with_lunch(ranges: list, start: str, end: str) -> list:
    """A day's ranges with the lunch break moved: a day of one or two ranges that spans the
    break becomes morning and afternoon around it; any other day stays as it is."""
    parsed = [r.split("-") for r in ranges if isinstance(r, str) and "-" in r]
    if not 1 <= len(parsed) <= 2 or len(parsed) != len(ranges):
        return ranges
    first, last = parsed[0][0], parsed[-1][1]
    if not (_minutes(first) < _minutes(start) and _minutes(end) < _minutes(last)):
        return ranges
    return [f"{first}-{start}", f"{end}-{last}"]


def op_lunch(req: Request) -> dict:
    """The lunch break (午休) moved on every day that has one or spans it, 调休 days too."""
    a = req.args
    start, end = a.get("start", str, maxlen=5), a.get("end", str, maxlen=5)
    require(
        bool(TIME.match(start) and TIME.match(end)),
        "bad_request",
        "时间格式应为 12:00",
        "times must be HH:MM",
    )
    require(
        _minutes(start) < _minutes(end),
        "bad_request",
        "午休须先开始后结束",
        "The break must end after it starts",
    )
    new_raw = copy.deepcopy(req.raw)
    hours = new_raw.setdefault("hours", {})
    changed = []
    for day in DAY_KEYS:
        before = list(hours.get(day) or [])
        hours[day] = _with_lunch(before, start, end)
        if hours[day] != before:
            changed.append(day)
    for key, ranges in (hours.get("extra_days") or {}).items():
        hours["extra_days"][key] = _with_lunch(list(ranges), start, end)
    require(
        bool(changed),
        "bad_request",
        "没有哪一天的营业时间跨过这段午休",
        "No day's hours span that break",
    )
    req.set_config(new_raw, "config_lunch", {"start": start, "end": end, "days": changed})
    return {"hours": {d: hours[d] for d in DAY_KEYS}, "days": changed}


RULE_FIELDS = {f.name: (str if f.type in ("str", str) else int) for f in fields(Rules)}


def op_rules(req: Request) -> dict:
    """The rules and alert thresholds ([rules]): any of them, checked like the hall file."""
    changes = _changes(req.args, RULE_FIELDS)
    new_raw = copy.deepcopy(req.raw)
    new_raw.setdefault("rules", {}).update(changes)
    req.set_config(new_raw, "config_rules", changes)
    return {"rules": dict(new_raw["rules"])}


def check_pin(req: Request, pin: str, what: str = "管理密码") -> None:
    """The hall's PIN given with a request (a PIN change, a report from the web pages): a wrong
    one counts towards the device's lockout like a wrong login."""
    dev, now = req.device, req.now
    require(
        len(req.consoles.recent_fails(dev.id, now, PIN_LOCKOUT)) < PIN_TRIES,
        "locked",
        "密码错误次数过多，请稍后再试",
        "Too many wrong PINs; try again later",
    )
    if not managerpin.check(req.store.path.parent, pin):
        req.consoles.failed(dev.id, now)  # memory: kept though the refusal rolls back
        raise DomainError("wrong_pin", f"{what}不正确", "Wrong PIN")


def op_pin(req: Request) -> dict:
    """The manager PIN changed from a console: the old one first (a wrong one counts towards the
    lockout like a wrong login). Neither PIN is logged or audited."""
    old, new = req.args.get("old", str, maxlen=32), req.args.get("new", str, maxlen=32)
    check_pin(req, old, "原密码")
    try:
        managerpin.valid(new)
    except managerpin.PinError:
        raise DomainError(
            "bad_pin",
            f"新密码应为 {managerpin.MIN_DIGITS}-{managerpin.MAX_DIGITS} 位数字",
            f"The new PIN must be {managerpin.MIN_DIGITS}-{managerpin.MAX_DIGITS} digits",
        ) from None
    req.audit("pin_change")
    managerpin.set_pin(req.store.path.parent, new)  # last: nothing after it can refuse
    return {"ok": True}


def op_notice(req: Request) -> dict:
    text = req.args.get("notice", str, maxlen=500)
    new_raw = copy.deepcopy(req.raw)
    new_raw["hall"]["notice"] = text
    req.set_config(new_raw, "config_notice", {"notice": text})
    return {"notice": text}


def op_export(req: Request) -> dict:
    return {"toml": dump(req.raw)}


def op_help(req: Request) -> dict:
    """帮办代办: a kiosk calls a helper; staff clear it from the console."""
    dev = req.device
    place = req.args.get("place", str, dev.id, maxlen=60)
    req.alerts.raise_(f"help:{dev.id}", "help", f"{place} 有群众需要帮办代办", device=dev.id)
    req.audit("help_request")
    return {"requested": True}


def op_clear_alert(req: Request) -> dict:
    key = req.args.get("key", str, maxlen=100)
    require(key in req.alerts, "not_found", "该提醒已处理", "No such alert")
    req.alerts.clear(key)
    req.audit("clear_alert", detail={"key": key})
    return {"cleared": key}


PIN_TRIES = 5  # wrong PINs from one console before it must wait
PIN_LOCKOUT = 300  # seconds


def op_login(req: Request) -> dict:
    """The manager PIN, checked here for every console: one PIN, one lockout, one audit."""
    dev, now = req.device, req.now
    pin = req.args.get("pin", str, maxlen=32)
    fails = req.consoles.recent_fails(dev.id, now, PIN_LOCKOUT)
    if len(fails) >= PIN_TRIES:
        wait = int(PIN_LOCKOUT - (now - fails[-PIN_TRIES]).total_seconds()) + 1
        raise DomainError(
            "locked",
            f"密码错误次数过多，请 {wait} 秒后再试",
            f"Too many wrong PINs; try again in {wait} s",
            retry_after_s=wait,
        )
    ok = managerpin.check(req.store.path.parent, pin)
    if ok is None:
        raise DomainError(
            "no_pin",
            "尚未设置管理密码：请在控制器上运行 onewindow pin set",
            "No manager PIN yet: run `onewindow pin set` on the controller",
        )
    if not ok:
        # an answer, not a refusal: the attempt is audited (a refusal would roll that back)
        req.consoles.failed(dev.id, now)
        req.audit("login_failed")
        left = PIN_TRIES - len(req.consoles.recent_fails(dev.id, now, PIN_LOCKOUT))
        return {
            "ok": False,
            "tries_left": left,
            "message": "密码不正确" + (f"，还可再试 {left} 次" if left else "，请稍后再试"),
            "message_en": "Wrong PIN" + (f"; {left} more tries" if left else "; wait a while"),
        }
    req.consoles.logged_in(dev.id, now)
    req.audit("login")
    return {"ok": True, "session_s": managerpin.SESSION_S}


def op_logout(req: Request) -> dict:
    """The console locked (a button, or a quiet spell): its session ends here too."""
    if req.consoles.logged_out(req.device.id):
        req.audit("logout")
    return {"ok": True}


CLOCK_SKEW_ALERT_S = 30  # a device this far off shows the wrong time, and logs it too


def op_clock(req: Request) -> dict:
    """A device says what its clock reads; off by more than 30 s is an alert (time sync)."""
    dev = req.device
    text = req.args.get("now", str, maxlen=40)
    try:
        theirs = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(
            "bad_request", "时间格式不正确", "now must be ISO 8601 with an offset"
        ) from None
    require(theirs.tzinfo is not None, "bad_request", "时间须带时区", "now needs a UTC offset")
    skew = (theirs - req.now).total_seconds()
    key = f"clock:{dev.id}"
    if abs(skew) > CLOCK_SKEW_ALERT_S:
        req.alerts.raise_(
            key,
            "device",
            f"设备 {dev.id} 的时钟与控制器相差 {skew:+.0f} 秒，请检查时间同步（chrony）",
            device=dev.id,
            skew_s=round(skew),
        )
    else:
        req.alerts.clear(key)
    return {"skew_s": round(skew, 1)}


HEALTH_PARTS = (
    "printer",
    "form_printer",  # the A4 printer of the 一表申请 forms (a kiosk's or a window's)
    "idcard",
    "sscard",
    "keypad",
    "rating",
    "led",
    "screen",
    "voice",
    "network",
)


PART_NAMES = {"form_printer": "A4申请表打印机"}  # the others keep their key in the alert


def op_health(req: Request) -> dict:
    """A device reports a part's health (printer paper, card reader): faults become alerts."""
    dev = req.device
    # a closed list: free text would let one device grow the alert list sent to every device
    part = req.args.get("part", str, maxlen=32, choices=HEALTH_PARTS)
    status = req.args.get("status", str, maxlen=32)
    reason = req.args.get("reason", str, "", maxlen=200)
    key = f"{part}:{dev.id}"
    if status in ("ready", "ok", "paper_near_end"):
        req.alerts.clear(key)
    else:
        req.alerts.raise_(
            key,
            "printer" if part in ("printer", "form_printer") else "device",
            f"{dev.id} {PART_NAMES.get(part, part)} 故障：{reason or status}",
            device=dev.id,
            status=status,
        )
    return {"part": part, "status": status}
