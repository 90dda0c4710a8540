"""Config ops: read the hall, and managers' changes (validated whole, persisted, audited, live)."""
from __future__ import annotations

import copy

from datetime import datetime

from . import managerpin
from .domain.errors import DomainError
from .envelope import Args, require
from .hallconfig import dump
from .request import Request

WINDOW_FIELDS = {"name": str, "name_en": str, "kind": str, "services": list, "location": str}
SERVICE_FIELDS = {"name": str, "name_en": str, "department": str, "prefix": str,
                  "daily_quota": int, "appointments": bool, "appointment_per_slot": int,
                  "hours": dict, "guide": dict}


def _materials(req: Request, codes) -> list[dict]:
    """一件事: one merged list; a material asked by several items is brought once."""
    merged: dict[str, dict] = {}
    for code in codes:
        s = req.hall.service(code)
        for m in s.guide.materials if s else ():
            m0 = merged.setdefault(m.name, {"name": m.name, "originals": 0, "copies": 0,
                                            "missing_ok": True, "for": []})
            m0["originals"] = max(m0["originals"], m.originals)
            m0["copies"] = max(m0["copies"], m.copies)
            m0["missing_ok"] = m0["missing_ok"] and m.missing_ok
            m0["for"].append(code)
    return list(merged.values())


def op_get(req: Request) -> dict:
    raw, hall = req.raw, req.hall
    services = []
    for s, rs in zip(hall.services, raw.get("services", []), strict=True):
        services.append({**rs, "code": s.code, "prefix": s.prefix, "appointments": s.appointments,
                         "daily_quota": s.daily_quota, "pickup": s.pickup})
    themes = []
    for th, rt in zip(hall.themes, raw.get("themes", []), strict=True):
        every = list(th.items) + [c for q in th.questions for c in q.adds]
        themes.append({**rt, "materials": _materials(req, dict.fromkeys(every))})
    windows = [{**req.window_view(w.number), "location": w.location} for w in hall.windows]
    return {"hall": {**raw["hall"], "hours": raw.get("hours", {}), "rules": raw.get("rules", {})},
            "services": services, "windows": windows, "themes": themes,
            # phone: whether the QR page may ask for a number for a bad rating's follow-up
            "rating": {"reasons": list(hall.rating.reasons), "phone": req.phones is not None}}


def _changes(a: Args, fields: dict) -> dict:
    out = {}
    for name, typ in fields.items():
        value = a.get(name, typ, None, maxlen=200)
        if value is not None:
            out[name] = value
    require(bool(out), "bad_request", "没有要修改的内容", "Nothing to change")
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
    entry.update(changes)
    req.set_config(new_raw, "config_service", {"code": code, **{
        k: v for k, v in changes.items() if k not in ("guide", "hours")}})
    return {"service": {**entry, "prefix": req.hall.service(code).prefix}}


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


PIN_TRIES = 5                  # wrong PINs from one console before it must wait
PIN_LOCKOUT = 300              # seconds


def op_login(req: Request) -> dict:
    """The manager PIN, checked here for every console: one PIN, one lockout, one audit."""
    dev, now = req.device, req.now
    pin = req.args.get("pin", str, maxlen=32)
    fails = req.consoles.recent_fails(dev.id, now, PIN_LOCKOUT)
    if len(fails) >= PIN_TRIES:
        wait = int(PIN_LOCKOUT - (now - fails[-PIN_TRIES]).total_seconds()) + 1
        raise DomainError("locked", f"密码错误次数过多，请 {wait} 秒后再试",
                          f"Too many wrong PINs; try again in {wait} s", retry_after_s=wait)
    ok = managerpin.check(req.store.path.parent, pin)
    if ok is None:
        raise DomainError("no_pin", "尚未设置管理密码：请在控制器上运行 onewindow pin set",
                          "No manager PIN yet: run `onewindow pin set` on the controller")
    if not ok:
        # an answer, not a refusal: the attempt is audited (a refusal would roll that back)
        req.consoles.failed(dev.id, now)
        req.audit("login_failed")
        left = PIN_TRIES - len(req.consoles.recent_fails(dev.id, now, PIN_LOCKOUT))
        return {"ok": False, "tries_left": left,
                "message": "密码不正确" + (f"，还可再试 {left} 次" if left else "，请稍后再试"),
                "message_en": "Wrong PIN" + (f"; {left} more tries" if left else "; wait a while")}
    req.consoles.logged_in(dev.id, now)
    req.audit("login")
    return {"ok": True, "session_s": managerpin.SESSION_S}


def op_logout(req: Request) -> dict:
    """The console locked (a button, or a quiet spell): its session ends here too."""
    if req.consoles.logged_out(req.device.id):
        req.audit("logout")
    return {"ok": True}


CLOCK_SKEW_ALERT_S = 30     # a device this far off shows the wrong time, and logs it too


def op_clock(req: Request) -> dict:
    """A device says what its clock reads; off by more than 30 s is an alert (time sync)."""
    dev = req.device
    text = req.args.get("now", str, maxlen=40)
    try:
        theirs = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError("bad_request", "时间格式不正确", "now must be ISO 8601 with an offset") from None
    require(theirs.tzinfo is not None, "bad_request", "时间须带时区", "now needs a UTC offset")
    skew = (theirs - req.now).total_seconds()
    key = f"clock:{dev.id}"
    if abs(skew) > CLOCK_SKEW_ALERT_S:
        req.alerts.raise_(key, "device", f"设备 {dev.id} 的时钟与控制器相差 {skew:+.0f} 秒，"
                          f"请检查时间同步（chrony）", device=dev.id, skew_s=round(skew))
    else:
        req.alerts.clear(key)
    return {"skew_s": round(skew, 1)}


HEALTH_PARTS = ("printer", "idcard", "sscard", "keypad", "rating", "led", "screen", "voice",
                "network")


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
        req.alerts.raise_(key, "printer" if part == "printer" else "device",
                          f"{dev.id} {part} 故障：{reason or status}", device=dev.id, status=status)
    return {"part": part, "status": status}
