"""The hall configuration: a human-edited TOML file, validated whole before anything uses it."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import fields
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from . import hallschema as schema
from .configreader import ConfigError, Table
from .domain.forms import FormField, FormTemplate, conflicts
from .domain.model import (
    Guide,
    Hall,
    Hours,
    Material,
    MobileRules,
    Question,
    RatingRules,
    Rules,
    Service,
    Theme,
    Window,
)
from .i18n import hall_languages

log = logging.getLogger(__name__)

RANGE = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")  # ASCII digits only


SYSTEM_CONFIG = Path("/etc/onewindow/hall.toml")
TRANSLATION_SUFFIXES = tuple(f"_{lang}" for lang in schema.LANGUAGES if lang != "zh")
MISSING_SHOWN = 5  # untranslated texts named per language at `config check`


def resolve_config(given: str | Path | None) -> Path:
    """The hall file a production command uses: --config, else the system's; never the demo's.

    A hall started on the sample by mistake serves the wrong hall's windows and numbers, and
    looks healthy doing it; so without a file the command stops and says how to give one.
    """
    if given:
        return Path(given)
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    raise ConfigError(
        [
            f"no hall file: give --config HALL_FILE, or install the hall's file as "
            f"{SYSTEM_CONFIG} (`onewindow demo` and ./run-hall run the shipped sample "
            f"hall, {default_config_path()})"
        ]
    )


ALL_DAY = ["00:00-24:00"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def always_open(raw: dict) -> dict:
    """The same hall, open around the clock, every service too (the demo; test mode)."""
    import copy

    raw = copy.deepcopy(raw)
    raw["hours"] = {d: ALL_DAY for d in DAYS}
    for service in raw.get("services", []):
        service.pop("hours", None)  # a service's own hours would close it again
    return raw


def default_config_path() -> Path:
    """The shipped sample hall (for the demo only): next to the package in a checkout, or under
    share/ when installed."""
    from .shipped import shipped

    return shipped("config/hall.toml")


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
        raise ConfigError(
            [f"{path}: not UTF-8 text (saved as GBK?): save the file as UTF-8"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse(raw, str(path)), raw


def parse(raw: dict, file: str = "<config>") -> Hall:
    problems: list[str] = []
    top = Table(file, "", raw, problems)
    hall_t = top.sub(schema.HALL) or Table(file, "hall", {}, problems)
    hall = hall_t.read_all(schema.HALL)
    hall_t.check_unused()

    hours = _hours(top.sub(schema.HOURS) or Table(file, "hours", {}, problems), schema.HOURS)
    rules = _rules(top.sub(schema.RULES) or Table(file, "rules", {}, problems))
    services = tuple(_service(t) for t in top.subs(schema.SERVICES))
    themes = tuple(_theme(t) for t in top.subs(schema.THEMES))
    windows = tuple(_window(t) for t in top.subs(schema.WINDOWS))
    rating = _rating(top.sub(schema.RATING) or Table(file, "rating", {}, problems))
    voice_t = top.sub(schema.VOICE) or Table(file, "voice", {}, problems)
    voice = _voice(voice_t)
    mobile_t = top.sub(schema.MOBILE) or Table(file, "mobile", {}, problems)
    mobile = MobileRules(**mobile_t.read_all(schema.MOBILE))
    mobile_t.check_unused()
    uplink_t = top.sub(schema.UPLINK) or Table(file, "uplink", {}, problems)
    uplink_keep_days = uplink_t.read_all(schema.UPLINK)["keep_days"]
    uplink_t.check_unused()
    top.check_unused()
    _cross_check(file, services, themes, windows, problems)
    if problems:
        raise ConfigError(problems)
    return Hall(
        hours=hours,
        rules=rules,
        services=services,
        windows=windows,
        themes=themes,
        rating=rating,
        voice_languages=voice["languages"],
        voice_pause=voice["announce_pause"],
        voice_no_show=voice["announce_no_show"],
        mobile=mobile,
        uplink_keep_days=uplink_keep_days,
        **_model(Hall, hall),
    )


def warnings(hall: Hall, raw: dict | None = None) -> list[str]:
    """What is valid but will probably hurt a hall: said at `config check` and at start.

    With the file's tables (`raw`), also each service's guide fields left out: citizens are
    shown nothing for them (domain/guide.py), so the installer should know."""
    out = []
    if raw is not None:
        from .domain.guide import missing

        for s in raw.get("services") or []:
            gaps = missing(s.get("guide"))
            if gaps:
                out.append(
                    f"[services {s.get('code')}] {s.get('name')}: the guide leaves out "
                    f"{', '.join(gaps)}; citizens are shown none of them"
                )
        for t in raw.get("themes") or []:
            if t.get("time_limit_days") is None:
                out.append(
                    f"[themes {t.get('code')}] {t.get('name')}: no time_limit_days "
                    f"(承诺时限); citizens are shown none"
                )
    # the QR codes a phone scans: an address on this box (loopback) is none the phone can reach
    for where, url, what, example in (
        (
            "[hall] status_url",
            hall.status_url,
            "the QR code on every ticket",
            "http://192.168.10.2:8080/t/{ticket_id}",
        ),
        (
            "[mobile] entrance_url",
            hall.mobile.entrance_url,
            "the QR code posted at the entrance",
            "http://192.168.10.2:8080/e/{token}",
        ),
    ):
        host = urlsplit(re.sub(r"\{\w+\}", "x", url)).hostname if url else None
        if host and (host == "localhost" or _loopback(host)):
            out.append(
                f"{where} points at {host}: {what} leads nowhere for a phone. Give the hall "
                f"Wi-Fi address of the box running `onewindow web`, e.g. {example}"
            )
    return out


def window_table(raw: dict, number: int) -> dict:
    """A window's table in the hall file, for its texts in other languages ({} if none)."""
    return next((w for w in raw.get("windows") or [] if w.get("number") == number), {})


def queue_tables(raw: dict) -> dict[str, dict]:
    """Each queue's table in the hall file (a service's or a 一件事 theme's) by its code, for
    its texts in other languages."""
    items = (raw.get("services") or []) + (raw.get("themes") or [])
    return {t["code"]: t for t in items if isinstance(t, dict) and t.get("code")}


def _tables(raw: dict, path: str, where: str = "") -> list[tuple[str, dict]]:
    """The file's tables at a schema path ("services.guide.materials"), each with its place."""
    head, _, rest = path.partition(".")
    value = raw.get(head)
    items = value if isinstance(value, list) else [value]
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        label = item.get("code") or item.get("number") or item.get("id") or item.get("name")
        here = f"{where}{head}" + (f" {label or i + 1}" if isinstance(value, list) else "")
        found += _tables(item, rest, here + " ") if rest else [(here, item)]
    return found


def translations(raw: dict) -> dict[str, tuple[int, int, list[str]]]:
    """How complete each language of the hall file is: {lang: (texts given in it, texts in
    Chinese, the places of some that are not)}, for `config check`."""
    report: dict[str, tuple[int, int, list[str]]] = {}
    for lang in schema.LANGUAGES[1:]:
        have, total, missing = 0, 0, []
        for section, _ in schema.FILE.walk():
            twins = [o for o in section.options if o.lang == lang]
            if not twins or not section.path:
                continue
            for where, table in _tables(raw, section.path):
                for opt in twins:
                    if not isinstance(table.get(opt.of), str) or not table[opt.of].strip():
                        continue
                    total += 1
                    if isinstance(table.get(opt.name), str) and table[opt.name].strip():
                        have += 1
                    else:
                        missing.append(f"[{where.strip()}] {opt.name}")
        report[lang] = (have, total, missing)
    return report


def translation_lines(raw: dict) -> list[str]:
    """`config check`'s lines on the languages: every language of `[hall] languages` other than
    Chinese, and any other the file has begun."""
    wanted = hall_languages(raw.get("hall"))
    lines = []
    for lang, (have, total, missing) in translations(raw).items():
        if lang not in wanted and not have:
            continue
        name = schema.LANGUAGE_NAMES[lang]
        line = f"{name} ({lang}): {have} of {total} texts" + (
            f" ({100 * have // total}%)" if total else ""
        )
        if missing:
            shown = ", ".join(missing[:MISSING_SHOWN])
            more = (
                f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
            )
            line += f"; shown in Chinese: {shown}{more}"
        if lang not in wanted:
            line += " (not in [hall] languages: not offered)"
        lines.append(line)
    return lines


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
            t.fail(option, f"{item!r} is not a valid time of day (00:00 to 24:00, minutes 00-59)")
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


def _hours(t: Table, section: schema.Section) -> Hours:
    v = t.read_all(section)
    week = tuple(_ranges(t, d, v[d]) for d in schema.DAYS)
    closed = frozenset(d for d in (_date(t, "closed_dates", x) for x in v["closed_dates"]) if d)
    extra = {}
    extra_t = t.sub(section.child("extra_days"))
    if extra_t is not None:
        for key, value in extra_t.data.items():
            extra_t._used.add(key)
            day = _date(extra_t, key, key)
            if day:
                extra[day] = _ranges(extra_t, key, value)
    t.check_unused()
    return Hours(week=week, closed_dates=closed, extra_days=extra)


def _rules(t: Table) -> Rules:
    values = t.read_all(schema.RULES)
    t.check_unused()
    return Rules(**values)


def _rating(t: Table) -> RatingRules:
    v = t.read_all(schema.RATING)
    t.check_unused()
    reasons = tuple(v["reasons"])
    if not 1 <= len(reasons) <= 9:
        t.fail(
            "reasons",
            f"give 1 to 9 reasons (a rating pad's keys 1-9 pick them), not {len(reasons)}",
        )
    for r in sorted({r for r in reasons if reasons.count(r) > 1}):
        t.fail("reasons", f"{r!r} is listed twice")
    return RatingRules(**{**v, "reasons": reasons})


def _voice(t: Table) -> dict[str, Any]:
    v = t.read_all(schema.VOICE)
    t.check_unused()
    languages = v["languages"] = tuple(v["languages"])
    if not 1 <= len(languages) <= 4:
        t.fail("languages", f"give 1 to 4 languages, not {len(languages)}")
    for lang in sorted({x for x in languages if languages.count(x) > 1}):
        t.fail("languages", f"{lang!r} is listed twice")
    return v


def _model(cls, values: dict) -> dict:
    """What the domain model keeps of an item: not the texts in other languages (`name_bo`) nor
    the hall's `languages`, which stay in the file's tables that `config.get` hands the apps."""
    keep = {f.name for f in fields(cls)}
    return {
        k: v
        for k, v in values.items()
        if k in keep or not (k == "languages" or k.endswith(TRANSLATION_SUFFIXES))
    }


def _guide(t: Table | None) -> Guide:
    if t is None:
        return Guide()
    materials = []
    for m in t.subs(schema.MATERIALS):
        materials.append(Material(**_model(Material, m.read_all(schema.MATERIALS))))
        m.check_unused()
    faq = []
    for f in t.subs(schema.FAQ):
        v = f.read_all(schema.FAQ)
        faq.append((v["q"], v["a"]))
        f.check_unused()
    g = Guide(materials=tuple(materials), faq=tuple(faq), **_model(Guide, t.read_all(schema.GUIDE)))
    t.check_unused()
    return g


def _service(t: Table) -> Service:
    v = t.read_all(schema.SERVICES)
    if v["prefix"] is None:  # not given (or not a string): the code is the prefix
        v["prefix"] = v["code"] if isinstance(v["code"], str) else ""
    hours_section = schema.SERVICES.child("hours")
    hours_t = t.sub(hours_section)
    s = Service(
        hours=_hours(hours_t, hours_section) if hours_t is not None else None,
        guide=_guide(t.sub(schema.GUIDE)),
        form=_form(t.sub(schema.FORM)),
        **_model(Service, v),
    )
    t.check_unused()
    return s


def _form(t: Table | None) -> FormTemplate | None:
    if t is None:
        return None
    fields = []
    for f in t.subs(schema.FORM_FIELDS):
        v = f.read_all(schema.FORM_FIELDS)
        fields.append(FormField(**{**v, "options": tuple(v["options"])}))
        f.check_unused()
    form = FormTemplate(fields=tuple(fields), **t.read_all(schema.FORM))
    t.check_unused()
    return form


def _theme(t: Table) -> Theme:
    question_section = schema.THEMES.child("questions")
    questions = []
    for q in t.subs(question_section):
        questions.append(Question(**_model(Question, q.read_all(question_section))))
        q.check_unused()
    th = Theme(questions=tuple(questions), **_model(Theme, t.read_all(schema.THEMES)))
    t.check_unused()
    return th


def _window(t: Table) -> Window:
    w = Window(**_model(Window, t.read_all(schema.WINDOWS)))
    t.check_unused()
    return w


def _cross_check(file, services, themes, windows, problems) -> None:
    codes: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for kind, items in (("services", services), ("themes", themes)):
        for i, item in enumerate(items):
            where = f"{file}: [{kind}[{i + 1}] {item.code!r}]"
            if item.code in codes:
                problems.append(
                    f"{where} code: {item.code!r} is already used by {codes[item.code]}"
                )
            codes.setdefault(item.code, f"{kind} {item.name}")
            if item.prefix in prefixes:
                problems.append(
                    f"{where} prefix: {item.prefix!r} is already used by {prefixes[item.prefix]}"
                )
            prefixes.setdefault(item.prefix, f"{kind} {item.name}")
    problems += [f"{file}: {p}" for p in conflicts(services)]
    service_codes = {s.code for s in services}
    for i, th in enumerate(themes):
        for code in th.items + tuple(c for q in th.questions for c in q.adds):
            if code not in service_codes:
                problems.append(
                    f"{file}: [themes[{i + 1}] {th.code!r}] items: unknown service {code!r}"
                )
    numbers = set()
    for i, w in enumerate(windows):
        where = f"{file}: [windows[{i + 1}] {w.number!r}]"
        if w.number in numbers:
            problems.append(f"{where} number: window {w.number} is defined twice")
        numbers.add(w.number)
        for code in w.services:
            if code not in codes:
                problems.append(
                    f"{where} services: unknown service or theme {code!r} (the file's: "
                    f"{', '.join(sorted(c for c in codes if isinstance(c, str)))})"
                )
        if w.kind != "comprehensive" and not w.services:
            problems.append(f"{where} services: a {w.kind} window needs its list of services")
    if not windows:
        problems.append(f"{file}: [windows]: the hall needs at least one window")
    served = {c for w in windows for c in (codes if w.serves_all() else w.services)}
    for code in codes:
        if code not in served:
            log.warning("%s: no window serves %r; its tickets will wait until one does", file, code)
