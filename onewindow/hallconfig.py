"""The hall configuration: a human-edited TOML file, validated whole before anything uses it."""
from __future__ import annotations

import logging
import re
import tomllib
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from .configreader import ConfigError, Table
from .domain.model import (ROUTING_MODES, WINDOW_KINDS, Guide, Hall, Hours, Material, Question,
                           Rules, Service, Theme, Window)

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HALL_ID = r"[a-z0-9-]{1,32}"
CODE = r"[A-Za-z0-9_-]{1,16}"
PREFIX = r"[A-Z]{1,2}"
RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def default_config_path() -> Path:
    """The shipped hall: next to the package in a checkout, or under share/ when installed."""
    here = Path(__file__).resolve().parent.parent / "config" / "hall.toml"
    if here.exists():
        return here
    import sys
    return Path(sys.prefix) / "share" / "onewindow" / "config" / "hall.toml"


def load_file(path: str | Path) -> tuple[Hall, dict]:
    """Parse and validate; raises ConfigError naming file, section and option."""
    path = Path(path)
    try:
        # utf-8-sig: Windows Notepad puts a BOM in front of UTF-8 files
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory; give the hall's .toml file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text (saved as GBK?): save the file as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse(raw, str(path)), raw


def parse(raw: dict, file: str = "<config>") -> Hall:
    problems: list[str] = []
    top = Table(file, "", raw, problems)
    hall_t = top.table("hall", required=True) or Table(file, "hall", {}, problems)
    hall_id = hall_t.get("id", str, pattern=HALL_ID)
    name = hall_t.get("name", str)
    tz = hall_t.get("timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        hall_t.fail("timezone", f"{tz!r} is not a known time zone (e.g. Asia/Shanghai)")
    extra = dict(name_en=hall_t.get("name_en", str, ""), address=hall_t.get("address", str, ""),
                 phone=hall_t.get("phone", str, ""), status_url=hall_t.get("status_url", str, ""),
                 notice=hall_t.get("notice", str, ""))
    hall_t.check_unused()

    hours = _hours(top.table("hours", required=True) or Table(file, "hours", {}, problems))
    rules = _rules(top.table("rules") or Table(file, "rules", {}, problems))
    services = tuple(_service(t) for t in top.tables("services", "code"))
    themes = tuple(_theme(t) for t in top.tables("themes", "code"))
    windows = tuple(_window(t) for t in top.tables("windows", "number"))
    top.check_unused()
    _cross_check(file, services, themes, windows, problems)
    if problems:
        raise ConfigError(problems)
    return Hall(id=hall_id, name=name, timezone=tz, hours=hours, rules=rules, services=services,
                windows=windows, themes=themes, **extra)


def dump(raw: dict) -> str:
    """The same TOML format the installer writes by hand (for `onewindow config export`)."""
    return tomli_w.dumps(raw)


def _ranges(t: Table, option: str, value) -> tuple:
    if not isinstance(value, list):
        t.fail(option, 'must be a list like ["08:30-12:00", "13:30-17:30"]')
        return ()
    out = []
    for item in value:
        m = RANGE.match(item) if isinstance(item, str) else None
        if not m:
            t.fail(option, f'{item!r} is not a range like "08:30-12:00"')
            continue
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            t.fail(option, f"{item!r} is not a valid time of day")
            continue
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        start = time(h1, m1)
        if end <= start:
            t.fail(option, f"{item!r} ends before it starts")
            continue
        if out and start < out[-1][1]:
            t.fail(option, f"{item!r} overlaps or is out of order")
            continue
        out.append((start, end))
    return tuple(out)


def _date(t: Table, option: str, value):
    try:
        return value if isinstance(value, date) else date.fromisoformat(value)
    except (TypeError, ValueError):
        t.fail(option, f"{value!r} is not a date like 2026-10-01")
        return None


def _hours(t: Table) -> Hours:
    week = tuple(_ranges(t, d, t.get(d, list, [])) for d in DAYS)
    closed = frozenset(d for d in (_date(t, "closed_dates", v)
                                   for v in t.get("closed_dates", list, [])) if d)
    extra = {}
    extra_t = t.table("extra_days")
    if extra_t is not None:
        for key, value in extra_t.data.items():
            extra_t._used.add(key)
            day = _date(extra_t, key, key)
            if day:
                extra[day] = _ranges(extra_t, key, value)
    t.check_unused()
    return Hours(week=week, closed_dates=closed, extra_days=extra)


def _rules(t: Table) -> Rules:
    defaults = Rules()
    values = {}
    for name, default in defaults.__dict__.items():
        if name == "routing":
            values[name] = t.get(name, str, default, choices=ROUTING_MODES)
        else:
            values[name] = t.get(name, int, default, minval=0, maxval=100000)
    if values["elder_age"] is not None and not 50 <= values["elder_age"] <= 100:
        t.fail("elder_age", "must be between 50 and 100")
    if values["appointment_slot_min"] is not None and values["appointment_slot_min"] < 5:
        t.fail("appointment_slot_min", "must be at least 5 minutes")
    t.check_unused()
    return Rules(**values)


def _guide(t: Table | None) -> Guide:
    if t is None:
        return Guide()
    materials = []
    for m in t.tables("materials", "name"):
        materials.append(Material(
            name=m.get("name", str), originals=m.get("originals", int, 1, minval=0, maxval=99),
            copies=m.get("copies", int, 0, minval=0, maxval=99),
            missing_ok=m.get("missing_ok", bool, False), issuer=m.get("issuer", str, ""),
            electronic=m.get("electronic", bool, False), note=m.get("note", str, "")))
        m.check_unused()
    faq = []
    for f in t.tables("faq"):
        faq.append((f.get("q", str), f.get("a", str)))
        f.check_unused()
    g = Guide(conditions=t.get("conditions", str, ""), process=t.get("process", str, ""),
              materials=tuple(materials),
              legal_limit_days=t.get("legal_limit_days", int, 0, minval=0, maxval=3650),
              time_limit_days=t.get("time_limit_days", int, 0, minval=0, maxval=3650),
              fee=t.get("fee", str, "免费"), place=t.get("place", str, ""),
              phone=t.get("phone", str, ""), url=t.get("url", str, ""),
              visits=t.get("visits", int, 1, minval=0, maxval=9), faq=tuple(faq))
    t.check_unused()
    return g


def _service(t: Table) -> Service:
    code = t.get("code", str, pattern=CODE)
    hours_t = t.table("hours")
    s = Service(
        code=code, name=t.get("name", str), department=t.get("department", str),
        prefix=t.get("prefix", str, code if isinstance(code, str) else "", pattern=PREFIX),
        name_en=t.get("name_en", str, ""), item_code=t.get("item_code", str, "", pattern=r".{0,36}"),
        item_type=t.get("item_type", str, ""),
        daily_quota=t.get("daily_quota", int, 0, minval=0, maxval=9999),
        appointments=t.get("appointments", bool, True),
        appointment_per_slot=t.get("appointment_per_slot", int, 2, minval=0, maxval=999),
        pickup=t.get("pickup", bool, False),
        hours=_hours(hours_t) if hours_t is not None else None,
        guide=_guide(t.table("guide")))
    t.check_unused()
    return s


def _theme(t: Table) -> Theme:
    questions = []
    for q in t.tables("questions", "id"):
        questions.append(Question(id=q.get("id", str, pattern=CODE), text=q.get("text", str),
                                  text_en=q.get("text_en", str, ""),
                                  adds=q.str_list("adds", pattern=CODE)))
        q.check_unused()
    th = Theme(code=t.get("code", str, pattern=CODE), name=t.get("name", str),
               prefix=t.get("prefix", str, pattern=PREFIX),
               lead_department=t.get("lead_department", str),
               items=t.str_list("items", pattern=CODE), name_en=t.get("name_en", str, ""),
               questions=tuple(questions),
               time_limit_days=t.get("time_limit_days", int, 0, minval=0, maxval=3650),
               daily_quota=t.get("daily_quota", int, 0, minval=0, maxval=9999))
    t.check_unused()
    return th


def _window(t: Table) -> Window:
    w = Window(number=t.get("number", int, minval=1, maxval=999), name=t.get("name", str),
               kind=t.get("kind", str, "specialist", choices=WINDOW_KINDS),
               services=t.str_list("services", pattern=CODE), name_en=t.get("name_en", str, ""),
               location=t.get("location", str, ""))
    t.check_unused()
    return w


def _cross_check(file, services, themes, windows, problems) -> None:
    codes: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for kind, items in (("services", services), ("themes", themes)):
        for i, item in enumerate(items):
            where = f"{file}: [{kind}[{i + 1}] {item.code!r}]"
            if item.code in codes:
                problems.append(f"{where} code: {item.code!r} is already used by {codes[item.code]}")
            codes.setdefault(item.code, f"{kind} {item.name}")
            if item.prefix in prefixes:
                problems.append(f"{where} prefix: {item.prefix!r} is already used by {prefixes[item.prefix]}")
            prefixes.setdefault(item.prefix, f"{kind} {item.name}")
    service_codes = {s.code for s in services}
    for i, th in enumerate(themes):
        for code in th.items + tuple(c for q in th.questions for c in q.adds):
            if code not in service_codes:
                problems.append(f"{file}: [themes[{i + 1}] {th.code!r}] items: unknown service {code!r}")
    numbers = set()
    for i, w in enumerate(windows):
        where = f"{file}: [windows[{i + 1}] {w.number!r}]"
        if w.number in numbers:
            problems.append(f"{where} number: window {w.number} is defined twice")
        numbers.add(w.number)
        for code in w.services:
            if code not in codes:
                problems.append(f"{where} services: unknown service or theme {code!r}")
        if w.kind != "comprehensive" and not w.services:
            problems.append(f"{where} services: a {w.kind} window needs its list of services")
    if not windows:
        problems.append(f"{file}: [windows]: the hall needs at least one window")
    served = {c for w in windows for c in (codes if w.serves_all() else w.services)}
    for code in codes:
        if code not in served:
            log.warning("%s: no window serves %r; its tickets will wait until one does", file, code)
