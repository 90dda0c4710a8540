"""The hall file's [rating], [voice], [mobile] and [uplink]: how the hall hears citizens, speaks
to them and to their phones, and reports to the city."""

from __future__ import annotations

from .options import RULES_MAX, Option, Section

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
        Option(
            "announce_pause",
            bool,
            True,
            example=False,
            doc="When a window pauses, the displays say so (三号窗口暂停办理), once, at the "
            "change; the citizens waiting for it hear why it stopped calling.",
        ),
        Option(
            "announce_no_show",
            bool,
            False,
            example=True,
            doc="When a window marks a ticket 过号 (no-show), the displays say so "
            "(A012号，已过号). Off by default: halls announce calls, not those who missed "
            "theirs; a hall that reinstates no-shows may want it.",
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
                else (
                    "应为含 {token} 的 http:// 或 https:// 地址，例如 "
                    "http://192.168.10.2:8080/e/{token}",
                    "an http:// or https:// address holding {token}, e.g. "
                    "http://192.168.10.2:8080/e/{token}",
                )
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
