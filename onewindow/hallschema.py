"""Every section and option of the hall file, declared once: the validator reads its options
from here and docs/hall-file.md is generated from here, so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .configreader import REQUIRED
from .domain.forms import FIELD_TYPES
from .domain.model import ROUTING_MODES, WINDOW_KINDS, Rules

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HALL_ID = r"[a-z0-9-]{1,32}"
CODE = r"[A-Za-z0-9_-]{1,16}"
PREFIX = r"[A-Z]{1,2}"
RULES_MAX = 100000  # a sanity bound for every number in [rules]


@dataclass(frozen=True)
class Option:
    """One option: how it is checked when the file is read, and how it is documented."""

    name: str
    type: type | tuple[type, ...]
    default: Any = REQUIRED
    doc: str = ""
    example: Any = None
    choices: Optional[tuple] = None
    minval: Optional[int] = None
    maxval: Optional[int] = None
    pattern: Optional[str] = None  # the whole string, or each item of a string list
    items: str = ""  # lists: "string", "range" ("08:30-12:00") or "date"
    default_doc: str = ""  # when the default is not a constant (e.g. "the code")
    check: Optional[Callable[[Any], Optional[str]]] = None  # a present value: problem or None
    check_doc: str = ""  # what `check` allows, for the reference
    lang: str = ""  # a translation (`name_bo`) of the option named by `of`
    of: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Section:
    """A table (`[path]`) or an array of tables (`[[path]]`) and the options it may hold."""

    path: str
    doc: str
    options: tuple[Option, ...] = ()
    array: bool = False
    required: bool = False
    label: str = ""  # the option that names an item in messages
    keys: Optional[Option] = None  # a table of free keys (e.g. dates), each value like this
    sections: tuple["Section", ...] = field(default=())

    @property
    def key(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def child(self, key: str) -> "Section":
        return next(s for s in self.sections if s.key == key)

    def walk(self, parent: Optional["Section"] = None):
        """(section, parent) for this section, then its subsections, depth first."""
        yield self, parent
        for sub in self.sections:
            yield from sub.walk(self)


LANGUAGES = ("zh", "bo", "en")  # Chinese is the source; onewindow/i18n.py LANGS
LANGUAGE_NAMES = {"en": "English", "bo": "Tibetan"}
TRANSLATION_EXAMPLES = {"en": "(the text in English)", "bo": "བོད་ཡིག"}


def _languages(value: list) -> Optional[str]:
    if not value or value[0] != "zh":
        return 'Chinese comes first: e.g. ["zh", "bo"]'
    if len(set(value)) != len(value):
        return "a language is listed twice"
    return None


def tr(opt: Option, en: Any = None, bo: Any = None) -> tuple[Option, ...]:
    """A text option and its translations: `name`, `name_en`, `name_bo`. A translation left out
    or empty shows the Chinese (`pick` in onewindow/i18n.py)."""
    return (opt,) + tuple(
        Option(
            f"{opt.name}_{lang}",
            str,
            "",
            example=example or TRANSLATION_EXAMPLES[lang],
            lang=lang,
            of=opt.name,
            doc=f"{LANGUAGE_NAMES[lang]} of `{opt.name}`; empty: the Chinese.",
        )
        for lang, example in (("en", en), ("bo", bo))
    )


def _known_zone(value: str) -> Optional[str]:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not a known time zone (e.g. Asia/Shanghai)"
    return None


HALL = Section(
    "hall",
    "Who the hall is: its id on the bus, its names and contacts.",
    required=True,
    options=(
        Option(
            "id",
            str,
            pattern=HALL_ID,
            example="linxia-zwfw",
            doc="The hall's id: the root of every MQTT topic (`ow/ID/...`), in the broker's ACL "
            "and in every device's config. Lowercase letters, digits and `-`.",
        ),
        *tr(
            Option(
                "name",
                str,
                example="临夏州政务服务中心",
                doc="The hall's name, on screens and tickets.",
            ),
            en="Linxia Government Service Center",
            bo="ཀླུ་ཚ་ཁུལ་གཞུང་ཞབས་ཞུ་ལྟེ་གནས།",
        ),
        Option(
            "languages",
            list,
            ["zh", "en"],
            items="string",
            pattern="zh|bo|en",
            check=_languages,
            check_doc="Chinese first, each once",
            example=["zh", "bo"],
            doc="The citizens' languages: the kiosk's language button cycles through them, the "
            "hall display shows each call in the first two (`zh` 中文, `bo` 藏文 Tibetan, `en` "
            "English). The texts of the hall file in a language are its options' `_en` / `_bo` "
            "twins; `config check` reports how many each language has.",
        ),
        Option(
            "timezone",
            str,
            "Asia/Shanghai",
            check=_known_zone,
            check_doc="an IANA time zone name",
            example="Asia/Shanghai",
            doc="The hall's local time: opening hours, ticket days and reports follow it.",
        ),
        *tr(
            Option("address", str, "", example="临夏市团结路1号", doc="The hall's postal address.")
        ),
        Option("phone", str, "", example="0930-12345", doc="The hall's enquiry phone number."),
        Option(
            "area_code",
            str,
            "",
            pattern=r"([0-9]{6}([0-9]{6})?)?",
            example="622901",
            doc="The hall's administrative area code (行政区划代码, GB/T 2260: 6 digits, or 12 "
            "with the township level), in every rating exported (`onewindow ratings export`). "
            "Empty: the export leaves the area out.",
        ),
        Option(
            "status_url",
            str,
            "",
            example="http://192.168.10.2:8080/t/{ticket_id}",
            doc="Printed as each ticket's QR code; `{ticket_id}` is replaced by the ticket's page "
            "key (its id followed by a signature, so the id that events carry to every device "
            "opens no page). It must be an address phones on the hall Wi-Fi can reach "
            "(`onewindow web`). "
            "Empty: tickets carry no QR code.",
        ),
        *tr(
            Option(
                "notice",
                str,
                "",
                example="请取号后留意叫号屏和语音提示。",
                doc="The notice on the hall display and the kiosk's home screen; managers can "
                "change it on the console.",
            )
        ),
    ),
)


def _hours_options(for_service: bool) -> tuple[Option, ...]:
    whose = "the service's" if for_service else "the hall's"
    days = tuple(
        Option(
            d,
            list,
            [],
            items="range",
            example=["08:30-12:00", "13:30-17:30"] if d != "sun" else [],
            doc=f"{whose.capitalize()} opening ranges on "
            f"{['Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays', 'Sundays'][i]}, "
            "in order and not overlapping; `24:00` ends at midnight. Empty: closed.",
        )
        for i, d in enumerate(DAYS)
    )
    return days + (
        Option(
            "closed_dates",
            list,
            [],
            items="date",
            example=["2026-10-01", "2026-10-02"],
            doc='Public holidays and other closed days (TOML dates or "YYYY-MM-DD" strings).',
        ),
    )


def _extra_days(path: str) -> Section:
    return Section(
        path,
        "Working days outside the weekly pattern (调休上班, events): each key is "
        "a date, its value that day's opening ranges, replacing the weekday's.",
        keys=Option(
            '"YYYY-MM-DD"',
            list,
            items="range",
            example=["08:30-12:00", "13:30-17:30"],
            doc="That date's opening ranges.",
        ),
    )


HOURS = Section(
    "hours",
    "When windows take live tickets (the kiosks' guides, appointments and "
    "queries run around the clock). Times are the hall's local time.",
    options=_hours_options(False),
    required=True,
    sections=(_extra_days("hours.extra_days"),),
)

_RULE_DOCS = {
    "elder_age": "Citizens of this age or older (from the birth date on the ID card) get priority.",
    "routing": "How a window picks among its services: `fifo` = earliest ticket across them; "
    "`service_order` = the window's first service first (see docs/routing.md).",
    "fair_share": "At most this many priority or appointment tickets in a row at a window "
    "before the longest-waiting ordinary ticket goes.",
    "no_show_grace_min": "Minutes a skipped (过号) ticket can be reinstated.",
    "reinstate_after": "A reinstated ticket is placed behind this many waiting people.",
    "missing_days": "容缺受理: working days on the hall's calendar (holidays and 调休 counted, "
    "`[hours] closed_dates` / `extra_days`) a citizen has to bring the materials "
    "accepted as missing at `window.finish`.",
    "hold_min": "Minutes a held (挂起) citizen stays reserved at the head of the window that held "
    "them (`window.hold`); then they fall back to their queue, keeping their queue "
    "time.",
    "wait_alert_min": "Alert the managers when someone has waited this many minutes.",
    "idle_alert_min": "Alert when an open window has people waiting but called nobody for this "
    "many minutes.",
    "pause_alert_min": "Alert when a window has been paused this many minutes.",
    "estimate_samples": "How many recent handling times of a service feed its wait estimate.",
    "default_handling_min": "Handling minutes assumed for a service before it has samples.",
    "appointment_slot_min": "Length of an appointment slot, in minutes.",
    "appointment_days": "How many days ahead appointments can be booked.",
    "appointment_early_min": "Minutes before its slot an appointment can check in.",
    "appointment_late_min": "Minutes after its slot starts an appointment can still check in.",
    "retention_days": "Days after which citizens' hashed ID numbers and masked names are purged.",
    "reply_retention_days": "Days the controller remembers its replies to changes, so a retried "
    "request never issues a second ticket (at most the newest 2,000 per "
    "device and 32 MB in all; reads are not remembered).",
}
_RULE_BOUNDS = {
    "elder_age": (50, 100),
    "appointment_slot_min": (5, RULES_MAX),
    "hold_min": (1, 480),
    "missing_days": (1, 60),
}


def _rule_option(f) -> Option:
    default = getattr(Rules(), f.name)
    if f.name == "routing":
        return Option(
            f.name,
            str,
            default,
            choices=ROUTING_MODES,
            doc=_RULE_DOCS[f.name],
            example="service_order",
        )
    low, high = _RULE_BOUNDS.get(f.name, (0, RULES_MAX))
    return Option(
        f.name, int, default, minval=low, maxval=high, doc=_RULE_DOCS[f.name], example=default
    )


# every field of Rules is an option: a new rule without a line in _RULE_DOCS fails at import
RULES = Section(
    "rules",
    "How the queue behaves. Every option has a default; the section may be left out.",
    options=tuple(_rule_option(f) for f in fields(Rules)),
)

MATERIALS = Section(
    "services.guide.materials",
    "One required material (申请材料), in the order citizens "
    "should prepare them. 一件事 themes merge their items' lists.",
    array=True,
    label="name",
    options=(
        *tr(
            Option("name", str, example="居民身份证", doc="What to bring."),
            en="Resident ID card",
            bo="ཐོབ་ཐང་ལག་ཁྱེར།",
        ),
        Option("originals", int, 1, minval=0, maxval=99, example=1, doc="Originals to show."),
        Option("copies", int, 0, minval=0, maxval=99, example=1, doc="Photocopies to hand in."),
        Option(
            "missing_ok",
            bool,
            False,
            example=True,
            doc="容缺受理: the application is accepted without it; it can follow later.",
        ),
        *tr(Option("issuer", str, "", example="助产医院", doc="Who issues it.")),
        Option(
            "electronic",
            bool,
            False,
            example=True,
            doc="An electronic licence (电子证照) is accepted instead.",
        ),
        *tr(Option("note", str, "", example="可现场免费拍照", doc="A hint shown beside it.")),
    ),
)

FAQ = Section(
    "services.guide.faq",
    "A common question and its answer, shown in the guide.",
    array=True,
    options=(
        *tr(Option("q", str, example="身份证丢了能马上拿到临时身份证吗？", doc="The question.")),
        *tr(Option("a", str, example="可以，当场办理临时居民身份证。", doc="The answer.")),
    ),
)

GUIDE = Section(
    "services.guide",
    "The service's guide (办事指南), shown on the kiosk and the QR pages.",
    sections=(MATERIALS, FAQ),
    options=(
        *tr(
            Option(
                "conditions",
                str,
                "",
                example="年满16周岁的本县户籍居民。",
                doc="Who may apply (受理条件).",
            )
        ),
        *tr(
            Option(
                "process",
                str,
                "",
                example="取号 → 窗口核验材料 → 现场办结",
                doc="The steps (办理流程).",
            ),
            en="Take a number → documents checked at the window → done on the spot",
        ),
        Option(
            "legal_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=20,
            default_doc="not stated",
            doc="法定办结时限, working days; 0: not stated.",
        ),
        Option(
            "time_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=1,
            default_doc="not stated",
            doc="承诺办结时限 (the hall's promise), working days; 0: settled on the spot (即办). "
            "Left out, no time limit is shown and `config check` warns.",
        ),
        *tr(
            Option(
                "fee",
                str,
                None,
                example="不收费",
                default_doc="not stated",
                doc="Fees (收费标准), shown as written (e.g. 不收费). Left out, no fee is shown (never "
                "a made-up 免费) and `config check` warns.",
            ),
            en="Free",
        ),
        *tr(Option("place", str, "", example="一楼A区 4-5号窗口", doc="Where it is handled.")),
        Option("phone", str, "", example="0930-12345-101", doc="Enquiry phone for this service."),
        Option(
            "url",
            str,
            "",
            example="http://192.168.10.2:8080/guide/A",
            doc="The guide's web page, shown as a QR code on the kiosk's guide screen.",
        ),
        Option(
            "visits",
            int,
            None,
            minval=0,
            maxval=9,
            example=1,
            default_doc="not stated",
            doc="Visits needed (到现场次数): 0 = 零跑腿, 1 = 最多跑一次.",
        ),
    ),
)

FORM_FIELDS = Section(
    "services.form.fields",
    "One field of the service's own (beyond the applicant's basic data from the ID card and "
    "the contact phone, which every form has), in the order printed. A 一件事 theme's merged "
    "form shows a key once (docs/forms.md).",
    array=True,
    label="key",
    options=(
        Option(
            "key",
            str,
            pattern=r"[a-z][a-z0-9_]{0,31}",
            example="relation",
            doc="The field's key: the same key in two services is one field on a merged form "
            "(same type and options required). Not one of the card's or contact's keys "
            "(name, sex, nation, birth, address, id_number, phone).",
        ),
        Option(
            "label",
            str,
            example="申请人与新生儿关系",
            doc="Its label on screens and the printed form.",
        ),
        Option("label_en", str, "", example="Applicant is the baby's", doc="English label."),
        Option(
            "type",
            str,
            "text",
            choices=FIELD_TYPES,
            example="choice",
            doc="`text` (written by hand on the printed form: the kiosk has no Chinese "
            "keyboard), `digits` (numbers, a capital check letter allowed), `phone`, `date` "
            "(YYYY-MM-DD) or `choice` (one of `options`); the kiosk offers a number pad or "
            "buttons for the last four.",
        ),
        Option(
            "required",
            bool,
            False,
            example=True,
            doc="The kiosk does not confirm the form without it (a `text` field is left blank "
            "for the citizen's hand).",
        ),
        Option(
            "options",
            list,
            [],
            items="string",
            example=["父亲", "母亲", "其他监护人"],
            doc="The choices of a `choice` field, in order.",
        ),
    ),
)

FORM = Section(
    "services.form",
    "一表申请: the service's application form, pre-filled from the ID card at the kiosk, "
    "shown at the window and printed on A4 (docs/forms.md). Left out: the service has none.",
    sections=(FORM_FIELDS,),
    options=(Option("title", str, example="户口登记申请表", doc="The form's title."),),
)

SERVICES = Section(
    "services",
    "One service (事项) citizens take tickets for. Repeat `[[services]]` for each.",
    array=True,
    label="code",
    sections=(
        Section(
            "services.hours",
            "The service's own opening hours, replacing the hall's for its "
            "tickets and appointments (e.g. a desk open only in the mornings). Left out: the "
            "hall's hours.",
            options=_hours_options(True),
            sections=(_extra_days("services.hours.extra_days"),),
        ),
        GUIDE,
        FORM,
    ),
    options=(
        Option(
            "code",
            str,
            pattern=CODE,
            example="A",
            doc="The service's code: unique among services and themes; windows list it.",
        ),
        *tr(
            Option(
                "name", str, example="户籍业务", doc="The name on the kiosk's buttons and screens."
            ),
            en="Household registration",
            bo="ཐེམ་ཐོའི་ལས་དོན།",
        ),
        *tr(
            Option(
                "department",
                str,
                example="县公安局",
                doc="The department (部门) it belongs to; reports group by it.",
            ),
            en="County Public Security Bureau",
        ),
        Option(
            "prefix",
            str,
            None,
            pattern=PREFIX,
            default_doc="the code",
            example="A",
            doc="The letters in front of its ticket numbers (A001); unique among services and "
            "themes.",
        ),
        Option(
            "basic_code",
            str,
            "",
            pattern=r"[0-9A-Za-z-]{0,36}",
            example="000111000000",
            doc="The item's GB/T 39046 basic code (基本编码), up to 36 letters, digits and "
            "`-`; in every rating of the service exported. Empty: left out of the export.",
        ),
        Option(
            "item_code",
            str,
            "",
            pattern=r".{0,36}",
            example="11620000MB1234567X4000111000",
            doc="The item's GB/T 39046 implementation code (实施编码), up to 36 characters; in "
            "every rating of the service exported. Empty: left out of the export.",
        ),
        Option(
            "item_type",
            str,
            "",
            example="公共服务",
            doc="The item's type (事项类型): 行政许可, 行政确认, 公共服务, ...",
        ),
        Option(
            "daily_quota",
            int,
            0,
            minval=0,
            maxval=9999,
            example=200,
            doc="Walk-in tickets a day (每日号源); 0 = no limit. Appointments are not counted.",
        ),
        Option("appointments", bool, True, example=False, doc="Whether it can be booked ahead."),
        Option(
            "appointment_per_slot",
            int,
            2,
            minval=0,
            maxval=999,
            example=4,
            doc="Appointments per slot (`rules.appointment_slot_min`).",
        ),
        Option(
            "pickup",
            bool,
            False,
            example=True,
            doc="The 出件 queue: collecting finished documents (served by the windows that list "
            "it, usually a `pickup` window).",
        ),
    ),
)

THEMES = Section(
    "themes",
    "一件事: several services on one ticket, served at a comprehensive window (or one "
    "that lists the theme). Repeat `[[themes]]` for each.",
    array=True,
    label="code",
    sections=(
        Section(
            "themes.questions",
            "A yes/no question asked on the kiosk; a yes adds services.",
            array=True,
            label="id",
            options=(
                Option("id", str, pattern=CODE, example="fund", doc="The question's id."),
                *tr(
                    Option("text", str, example="父母是否需要提取公积金？", doc="The question."),
                    en="Will the parents withdraw housing fund?",
                ),
                Option(
                    "adds",
                    list,
                    [],
                    items="string",
                    pattern=CODE,
                    example=["L"],
                    doc="Service codes included when the answer is yes.",
                ),
            ),
        ),
    ),
    options=(
        Option(
            "code",
            str,
            pattern=CODE,
            example="T1",
            doc="The theme's code: unique among services and themes.",
        ),
        *tr(
            Option("name", str, example="新生儿出生一件事", doc="Its name on the kiosk."),
            en="Having a baby",
        ),
        Option(
            "prefix",
            str,
            pattern=PREFIX,
            example="Y",
            doc="The letters in front of its ticket numbers; unique among services and themes.",
        ),
        *tr(
            Option(
                "lead_department",
                str,
                example="县卫健局",
                doc="The department leading it (牵头部门).",
            )
        ),
        Option(
            "items",
            list,
            [],
            items="string",
            pattern=CODE,
            example=["A", "E", "D"],
            doc="Service codes always included.",
        ),
        Option(
            "form_title",
            str,
            "",
            example="新生儿出生一件事联办申请表",
            default_doc="the name followed by 申请表",
            doc="The title of the merged form of its items' forms (docs/forms.md).",
        ),
        Option(
            "time_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=5,
            default_doc="not stated",
            doc="Promised working days for the whole bundle; 0: settled on the spot (即办). "
            "Left out, none is shown and `config check` warns.",
        ),
        Option(
            "daily_quota",
            int,
            0,
            minval=0,
            maxval=9999,
            example=50,
            doc="Tickets a day; 0 = no limit.",
        ),
    ),
)

# required: "the hall needs at least one window" is checked with the cross checks
WINDOWS = Section(
    "windows",
    "One service window (窗口). Repeat `[[windows]]` for each; the hall needs at least one.",
    array=True,
    label="number",
    required=True,
    options=(
        Option(
            "number",
            int,
            minval=1,
            maxval=999,
            example=4,
            doc="The window's number: on tickets, screens, voice and caller devices.",
        ),
        *tr(
            Option("name", str, example="4号户籍窗口", doc="Its name on screens."),
            en="Window 4",
            bo="སྒེའུ་ཁུང་ཨང་4",
        ),
        Option(
            "kind",
            str,
            "specialist",
            choices=WINDOW_KINDS,
            example="specialist",
            doc="`comprehensive` (综合窗口: with no `services`, serves every service and theme), "
            "`specialist` (its services, in the order given) or `pickup` (出件).",
        ),
        Option(
            "services",
            list,
            [],
            items="string",
            pattern=CODE,
            example=["A", "B"],
            doc="Service and theme codes it serves, in order; required unless comprehensive.",
        ),
        *tr(Option("location", str, "", example="一楼A区", doc="Where it is, for directions.")),
    ),
)

DEFAULT_REASONS = ["态度", "效率", "材料反复要求", "等候太久", "环境", "其他"]
OTHER_REASON = "其他"  # the reason that needs the citizen's own words
REASON = r"[^,]{1,12}"  # a reason is stored in a comma-separated column

RATING = Section(
    "rating",
    "好差评: the reasons a citizen picks from at 不满意 and 非常不满意, and "
    "the follow-up of every bad rating (see docs/ratings-export.md). Every option "
    "has a default; the section may be left out.",
    options=(
        Option(
            "reasons",
            list,
            DEFAULT_REASONS,
            items="string",
            pattern=REASON,
            example=["态度", "效率", "材料反复要求", "等候太久", "环境", "其他"],
            doc="The reasons offered at a bad rating, in order (kiosk, QR page, caller screen for "
            "a rating pad: keys 1-9 pick the first nine). At least one must be picked before a "
            "bad rating is stored; `其他` needs the citizen's own words. Unique, 1-12 "
            "characters, no commas; 1 to 9 of them.",
        ),
        Option(
            "contact_days",
            int,
            1,
            minval=1,
            maxval=30,
            example=1,
            doc="Working days (the hall's calendar: `[hours]`, `closed_dates`, `extra_days`) to "
            "contact the citizen after a bad rating.",
        ),
        Option(
            "rectify_days",
            int,
            15,
            minval=1,
            maxval=120,
            example=15,
            doc="Working days, on the same calendar, to rectify after a bad rating.",
        ),
        Option(
            "phone_retention_days",
            int,
            30,
            minval=1,
            maxval=365,
            example=30,
            doc="Days a citizen's phone number (given, with consent, for the follow-up of a bad "
            "rating) is kept at most; it goes sooner, as soon as the case closes.",
        ),
    ),
)

VOICE = Section(
    "voice",
    "The announcements of calls on the hall displays (docs/voice-packs.md). The section may be "
    "left out: calls are then announced in Mandarin only.",
    options=(
        Option(
            "languages",
            list,
            ["zh"],
            items="string",
            pattern=r"[a-z]{2,3}",
            example=["zh", "bo"],
            doc="The languages each call is announced in, one after the other, in this order: "
            "`zh` Mandarin, `bo` Tibetan, `en` English... Each display speaks a language "
            "with the voice pack it has for it (`onewindow display --voice-pack`); one "
            "without such a pack leaves that language out and logs it. 1 to 4, each once.",
        ),
    ),
)

MOBILE = Section(
    "mobile",
    "The citizen's phone: numbers taken from the entrance QR page, and the call-ahead SMS "
    "sent through the hall's GSM modem (see docs/phone.md). Every option has a default; the "
    "section may be left out (then no numbers are taken from phones).",
    options=(
        Option(
            "entrance_url",
            str,
            "",
            example="http://192.168.10.2:8080/e/{token}",
            check=lambda v: (
                None
                if not v or (v.startswith(("http://", "https://")) and "{token}" in v)
                else "an http:// or https:// address holding {token}, e.g. "
                "http://192.168.10.2:8080/e/{token}"
            ),
            check_doc="empty, or an http(s) address holding `{token}`",
            doc="The entrance page behind the QR code posted at the door, with `{token}`, the "
            "day's signed code (the op `entrance.url` gives today's link). It must be an address "
            "phones on the hall Wi-Fi can reach (`onewindow web`). Empty: numbers are taken at "
            "the kiosks only.",
        ),
        Option(
            "notice_ahead",
            int,
            3,
            minval=1,
            maxval=50,
            example=3,
            doc="A citizen who left a mobile number gets an SMS when this many people are ahead, "
            "and another at the call.",
        ),
        Option(
            "tickets_per_phone",
            int,
            2,
            minval=1,
            maxval=20,
            example=2,
            doc="Numbers one phone may take from the entrance page in a day.",
        ),
        Option(
            "daily_max",
            int,
            0,
            minval=0,
            maxval=RULES_MAX,
            example=300,
            doc="Numbers taken from phones in a day, all phones together (the kiosks are not "
            "counted); 0: no cap beyond each service's daily quota.",
        ),
    ),
)

UPLINK = Section(
    "uplink",
    "The hall's events on their way to the city (docs/city.md). The section may be left out.",
    options=(
        Option(
            "keep_days",
            int,
            30,
            minval=1,
            maxval=3650,
            example=30,
            doc="Events the city has not acknowledged are kept this many days, then given up "
            "(deleted, and the city told which numbers it will never get), so a hall that is "
            "never bridged, or cut off for long, does not fill its disk. A busy hall makes "
            "~12,000 events a day, ~5 MB.",
        ),
    ),
)

FILE = Section(
    "",
    "The hall file.",
    sections=(HALL, HOURS, RULES, SERVICES, THEMES, WINDOWS, RATING, VOICE, MOBILE, UPLINK),
)

# checks that involve several options, made after every option was read (see _cross_check)
CROSS_CHECKS = (
    "Service and theme codes are unique, and so are their prefixes.",
    "A theme's `items` and its questions' `adds` name services.",
    "A window's `services` name services or themes; window numbers are unique.",
    "Every window other than a comprehensive one lists its services.",
    "`[rating] reasons`: 1 to 9, each once.",
    "Form fields: no key of the ID card or contact, no key twice in a form, a key in two "
    "services has one type and one set of options, a `choice` has options and only it has.",
    "The hall has at least one window. A service no window serves is a warning, not an error: "
    "its tickets wait until a window serves it.",
)
