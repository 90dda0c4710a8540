"""The hall file's [hall], [hours] and [rules]: who the hall is, when it opens, how its queue
behaves."""

from __future__ import annotations

from dataclasses import fields
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.model import ROUTING_MODES, Rules
from .options import HALL_ID, RULES_MAX, Option, Section, tr

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _languages(value: list) -> Optional[tuple[str, str]]:
    if not value or value[0] != "zh":
        return '中文须排在第一位，例如 ["zh", "bo"]', 'Chinese comes first: e.g. ["zh", "bo"]'
    if len(set(value)) != len(value):
        return "有一种语言列了两次", "a language is listed twice"
    return None


def _known_zone(value: str) -> Optional[tuple[str, str]]:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return (
            f"“{value}”不是已知的时区，例如 Asia/Shanghai",
            f"{value!r} is not a known time zone (e.g. Asia/Shanghai)",
        )
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


def hours_options(for_service: bool) -> tuple[Option, ...]:
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


def extra_days(path: str) -> Section:
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
    options=hours_options(False),
    required=True,
    sections=(extra_days("hours.extra_days"),),
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
