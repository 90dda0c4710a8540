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
from .configreader import ConfigError, FileProblem, Said, Step, Table, place, problem
from .domain.forms import FormField, FormTemplate, conflicts
from .domain.hours import DAY_END
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

        # a service named as the errors name it: `[[services]] #2 (code = "B")`
        for i, s in enumerate(raw.get("services") or []):
            gaps = missing(s.get("guide"))
            if gaps:
                out.append(
                    f"{place(item_steps('services', i + 1, s))} {s.get('name')}: the guide "
                    f"leaves out {', '.join(gaps)}; citizens are shown none of them"
                )
        for i, t in enumerate(raw.get("themes") or []):
            if t.get("time_limit_days") is None:
                out.append(
                    f"{place(item_steps('themes', i + 1, t))} {t.get('name')}: no "
                    f"time_limit_days (承诺时限); citizens are shown none"
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


def _tables(raw: dict, path: str, steps: tuple[Step, ...] = ()) -> list[tuple[str, dict]]:
    """The file's tables at a schema path ("services.guide.materials"), each with its place
    as the validator names it (`[[services]] #1 (code = "A"), [[services.guide.materials]] #2
    (name = "户口簿")`)."""
    head, _, rest = path.partition(".")
    value = raw.get(head)
    full = f"{steps[-1].path}.{head}" if steps else head
    label = _label(full)
    found = []
    for i, item in enumerate(value if isinstance(value, list) else [value]):
        if not isinstance(item, dict):
            continue
        if isinstance(value, list):
            here = steps + (Step(full, i + 1, label, item.get(label) if label else None),)
        else:
            here = steps + (Step(full),)
        found += _tables(item, rest, here) if rest else [(place(here), item)]
    return found


def _label(path: str) -> str:
    """The option naming an item of the array of tables at `path`, as the schema says."""
    return next((sec.label for sec, _ in schema.FILE.walk() if sec.path == path), "")


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
                        missing.append(f"{where} {opt.name}")
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


# what the validator's own checks say, ("中文", "English") with {parameters} (configreader.py)
NOT_RANGES = (
    '应为时段列表，例如 ["08:30-12:00", "13:30-17:30"]',
    'must be a list like ["08:30-12:00", "13:30-17:30"]',
)
NOT_A_RANGE = (
    "“{item}”不是时段，请写成 08:30-12:00 这样",
    '{item!r} is not a range like "08:30-12:00"',
)
NOT_A_TIME = (
    "“{item}”中的时间不存在，时间应在 00:00 到 24:00 之间，分钟为 00-59",
    "{item!r} is not a valid time of day (00:00 to 24:00, minutes 00-59)",
)
BACKWARDS = ("“{item}”结束得比开始还早，请把开始时间写在前面", "{item!r} ends before it starts")
OVERLAPS = (
    "“{item}”与前一个时段重叠或顺序颠倒，请按时间先后写、互不重叠",
    "{item!r} overlaps or is out of order",
)
NOT_A_DATE = (
    "“{value}”不是日期，请写成 2026-10-01 这样",
    "{value!r} is not a date like 2026-10-01",
)
REASONS_COUNT = (
    "评价原因应有 1 到 9 条（评价器的 1-9 键选择），现有 {n} 条",
    "give 1 to 9 reasons (a rating pad's keys 1-9 pick them), not {n}",
)
LISTED_TWICE = ("“{item}”列了两次，请删去一个", "{item!r} is listed twice")
LANGUAGES_COUNT = ("播报语言应有 1 到 4 种，现有 {n} 种", "give 1 to 4 languages, not {n}")
CODE_TAKEN = ("代码 {code} 已被{other_zh}使用，请换一个", "{code!r} is already used by {other}")
PREFIX_TAKEN = (
    "号码前缀 {prefix} 已被{other_zh}使用，请换一个",
    "{prefix!r} is already used by {other}",
)
UNKNOWN_ITEM = ("没有代码为 {code} 的业务，请从已有业务中选", "unknown service {code!r}")
WINDOW_TWICE = ("{number} 号窗口定义了两次，请删去一个", "window {number} is defined twice")
UNKNOWN_SERVED = (
    "没有代码为 {code} 的业务或一件事，请从已有的 {known_zh} 中选",
    "unknown service or theme {code!r} (the file's: {known})",
)
NEEDS_SERVICES = (
    "{kind_zh}须列出它办理的业务，请至少选一项（或改为综合窗口）",
    "a {kind} window needs its list of services",
)
NO_WINDOWS = ("大厅至少要有一个窗口", "the hall needs at least one window")
# a window's kind (domain/model.py WINDOW_KINDS) as the console's window screen names it
KIND_ZH = {"specialist": "专业窗口", "comprehensive": "综合窗口", "pickup": "出件窗口"}


def _ranges(t: Table, option: str, value) -> tuple:
    if not isinstance(value, list):
        t.fail(option, NOT_RANGES)
        return ()
    out = []
    for item in value:
        m = RANGE.match(item) if isinstance(item, str) else None
        if not m:
            t.fail(option, NOT_A_RANGE, item=item)
            continue
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            t.fail(option, NOT_A_TIME, item=item)
            continue
        end = DAY_END if h2 == 24 else time(h2, m2)
        start = time(h1, m1)
        if end <= start:
            t.fail(option, BACKWARDS, item=item)
            continue
        if out and start < out[-1][1]:
            t.fail(option, OVERLAPS, item=item)
            continue
        out.append((start, end))
    return tuple(out)


def _date(t: Table, option: str, value):
    try:
        return value if isinstance(value, date) else date.fromisoformat(value)
    except (TypeError, ValueError):
        t.fail(option, NOT_A_DATE, value=value)
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
        t.fail("reasons", REASONS_COUNT, n=len(reasons))
    for r in sorted({r for r in reasons if reasons.count(r) > 1}):
        t.fail("reasons", LISTED_TWICE, item=r)
    return RatingRules(**{**v, "reasons": reasons})


def _voice(t: Table) -> dict[str, Any]:
    v = t.read_all(schema.VOICE)
    t.check_unused()
    languages = v["languages"] = tuple(v["languages"])
    if not 1 <= len(languages) <= 4:
        t.fail("languages", LANGUAGES_COUNT, n=len(languages))
    for lang in sorted({x for x in languages if languages.count(x) > 1}):
        t.fail("languages", LISTED_TWICE, item=lang)
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


def item_steps(kind: str, index: int, item: Any) -> tuple[Step, ...]:
    """The place of the `index`-th (1-based) item of [[services]], [[themes]] or [[windows]],
    named by its label as the validator names it (`[[windows]] #3 (number = 7)`)."""
    label = schema.FILE.child(kind).label
    value = item.get(label) if isinstance(item, dict) else getattr(item, label, None)
    return (Step(kind, index, label, value),)


def _refused(problems: list[str], kind: str, index: int, option: str) -> bool:
    """Whether `option` of the `index`-th [[kind]] block has a problem already."""
    return any(
        isinstance(p, FileProblem)
        and p.option == option
        and p.steps[:1]
        and (p.steps[0].path, p.steps[0].index) == (kind, index)
        for p in problems
    )


def _cross_check(file, services, themes, windows, problems) -> None:
    # a code and a number prefix each belong to one service or theme: option -> {value: who
    # uses it, in Chinese and English}
    taken: dict[str, dict[str, tuple[str, str]]] = {"code": {}, "prefix": {}}
    words = {"code": CODE_TAKEN, "prefix": PREFIX_TAKEN}
    for kind, items in (("services", services), ("themes", themes)):
        noun = "业务" if kind == "services" else "一件事"
        for i, item in enumerate(items):
            steps = item_steps(kind, i + 1, item)
            who = (f"{noun}“{item.name}”", f"{place(steps)} {item.name}")  # in Chinese, English
            for option, seen in taken.items():
                value = getattr(item, option)
                if value in seen:
                    other_zh, other = seen[value]
                    problems.append(
                        problem(
                            file,
                            steps,
                            option,
                            words[option],
                            other=other,
                            other_zh=other_zh,
                            **{option: value},
                        )
                    )
                seen.setdefault(value, who)
    codes = taken["code"]
    for i, j, field_key, words in conflicts(services):
        steps = item_steps("services", i + 1, services[i]) + (
            Step("services.form.fields", j + 1, "key", field_key),
        )
        problems.append(problem(file, steps, None, Said(*words)))
    service_codes = {s.code for s in services}
    for i, th in enumerate(themes):
        for code in th.items + tuple(c for q in th.questions for c in q.adds):
            if code not in service_codes:
                steps = item_steps("themes", i + 1, th)
                problems.append(problem(file, steps, "items", UNKNOWN_ITEM, code=code))
    numbers = set()
    for i, w in enumerate(windows):
        steps = item_steps("windows", i + 1, w)
        if w.number in numbers:
            problems.append(problem(file, steps, "number", WINDOW_TWICE, number=w.number))
        numbers.add(w.number)
        for code in w.services:
            if code not in codes:
                known = sorted(c for c in codes if isinstance(c, str))
                problems.append(
                    problem(
                        file,
                        steps,
                        "services",
                        UNKNOWN_SERVED,
                        code=code,
                        known=", ".join(known),
                        known_zh="、".join(known),
                    )
                )
        # a kind refused above (misspelt, or not text) is not the window's kind: no more on it
        kind_refused = _refused(problems, "windows", i + 1, "kind")
        if not kind_refused and w.kind != "comprehensive" and not w.services:
            problems.append(
                problem(
                    file,
                    steps,
                    "services",
                    NEEDS_SERVICES,
                    kind=w.kind,
                    kind_zh=KIND_ZH[w.kind],
                )
            )
    if not windows:
        problems.append(problem(file, (), "windows", NO_WINDOWS))
    served = {c for w in windows for c in (codes if w.serves_all() else w.services)}
    for code in codes:
        if code not in served:
            log.warning("%s: no window serves %r; its tickets will wait until one does", file, code)
