"""Hall settings: a month calendar of closed and 调休 days, the weekly hours, the lunch break,
the rules and alert thresholds, and the manager PIN. Every change is a controller op; what the
screen shows afterwards is what the controller accepted (config_version -> config.get)."""

from __future__ import annotations

import calendar
import glob
from datetime import date
from pathlib import Path

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..texts import TEXTS
from ..widgets import TButton, TLabel
from . import ConsoleScreen, load_kv

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LUNCH_STEP_MIN = 15
# the rules a manager tunes by touch, with their steps; the rest stay in the hall file
RULES = (
    ("wait_alert_min", 5),
    ("idle_alert_min", 5),
    ("pause_alert_min", 5),
    ("fair_share", 1),
    ("elder_age", 1),
)
COLOURS = {
    "closed": (0.78, 0.2, 0.2, 1),
    "extra": (0.93, 0.55, 0.05, 1),
    "off": (0.72, 0.74, 0.78, 1),
    "open": (0.08, 0.40, 0.75, 1),
    "picked": (0.05, 0.15, 0.3, 1),
}

REPORTS_HOME = "~/OneWindow-reports"  # when no USB stick is mounted under /media

load_kv("hall")


def default_report_dir() -> str:
    """A USB stick mounted under /media (the desktop mounts one at /media/USER/LABEL), else a
    folder in the home directory; the manager may type another."""
    sticks = sorted(
        p
        for p in glob.glob("/media/*/*") + glob.glob("/media/*")
        if Path(p).is_dir() and Path(p).is_mount()
    )
    return sticks[0] if sticks else REPORTS_HOME


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def to_min(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:5])


def lunch_of(hours: dict) -> tuple[int, int] | None:
    """The lunch break as the hall has it: the gap of the first weekday with two ranges."""
    for day in DAYS:
        ranges = hours.get(day) or []
        if len(ranges) == 2:
            return to_min(ranges[0].split("-")[1]), to_min(ranges[1].split("-")[0])
    return None


def day_kind(hours: dict, day: date) -> str:
    key = day.isoformat()
    if key in {str(d) for d in hours.get("closed_dates", [])}:
        return "closed"
    if key in {str(d) for d in (hours.get("extra_days") or {})}:
        return "extra"
    return "open" if hours.get(DAYS[day.weekday()]) else "off"


class HallScreen(ConsoleScreen):
    month_title = StringProperty("")
    picked_text = StringProperty("")
    lunch_start = StringProperty("--:--")
    lunch_end = StringProperty("--:--")

    def __init__(self, **kw):
        super().__init__(**kw)
        today = date.today()
        self.month = (today.year, today.month)
        self.picked: date | None = None
        self.rules: dict = {}
        self._rule_labels: dict = {}
        for name in TEXTS("cal_weekdays").split("|"):
            self.ids.weekdays.add_widget(TLabel(text=name, halign="center", font_size=14))

    def shown(self, app) -> None:
        if not self.ids.report_dir.text:
            self.ids.report_dir.text = default_report_dir()
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        if not dirty & {"all", "config"} or not app.config_data.get("hall"):
            return
        hours = self.hours(app)
        gap = lunch_of(hours)
        if gap:
            self.lunch_start, self.lunch_end = hhmm(gap[0]), hhmm(gap[1])
        self.rules = dict(app.config_data["hall"].get("rules") or {})
        self.ids.hours_text.text = "\n".join(
            TEXTS(
                "hours_line",
                day=TEXTS("cal_weekdays").split("|")[i],
                ranges="  ".join(hours.get(d) or []) or TEXTS("hours_none"),
            )
            for i, d in enumerate(DAYS)
        )
        self._build_rules()
        self.build_calendar(app)

    def hours(self, app) -> dict:
        return (app.config_data.get("hall") or {}).get("hours") or {}

    # -- the calendar ------------------------------------------------------------------------

    def turn(self, app, step: int) -> None:
        year, month = self.month
        month += step
        self.month = (year + (month - 1) // 12, (month - 1) % 12 + 1)
        self.build_calendar(app)

    def build_calendar(self, app) -> None:
        year, month = self.month
        self.month_title = TEXTS("cal_title", year=year, month=month)
        hours = self.hours(app)
        grid = self.ids.cal
        grid.clear_widgets()
        for week in calendar.monthcalendar(year, month):
            for n in week:
                if not n:
                    grid.add_widget(TLabel(text=""))
                    continue
                day = date(year, month, n)
                kind = day_kind(hours, day)
                mark = {"closed": TEXTS("cal_closed"), "extra": TEXTS("cal_extra")}.get(kind, "")
                colour = COLOURS["picked"] if day == self.picked else COLOURS[kind]
                grid.add_widget(
                    TButton(
                        text=f"{n}{mark}",
                        test_id=f"day-{day.isoformat()}",
                        font_size=15,
                        background_color=colour,
                        on_press=lambda b, d=day: self.pick(app, d),
                    )
                )
        self._say_picked(hours)

    def pick(self, app, day: date) -> None:
        self.picked = day
        self.build_calendar(app)

    def _say_picked(self, hours: dict) -> None:
        day = self.picked
        if day is None:
            self.picked_text = TEXTS("cal_pick")
            return
        kind = day_kind(hours, day)
        ranges = (
            (hours.get("extra_days") or {}).get(day.isoformat())
            if kind == "extra"
            else hours.get(DAYS[day.weekday()])
        )
        what = TEXTS(f"cal_is_{kind}", ranges="  ".join(ranges or []))
        self.picked_text = TEXTS(
            "cal_picked",
            date=day.isoformat(),
            what=what,
            weekday="周" + TEXTS("cal_weekdays").split("|")[day.weekday()],
        )

    def set_day(self, app, kind: str) -> None:
        if self.picked is None:
            app.message = TEXTS("cal_pick")
            return
        app.act(
            "config.day",
            {"date": self.picked.isoformat(), "kind": kind},
            f"{self.picked.isoformat()} {TEXTS('day_' + kind)}",
        )

    # -- lunch --------------------------------------------------------------------------------

    def step_lunch(self, which: str, step: int) -> None:
        value = getattr(self, which)
        if value.startswith("-"):
            return
        minutes = min(max(to_min(value) + step * LUNCH_STEP_MIN, 10 * 60), 15 * 60)
        setattr(self, which, hhmm(minutes))

    def save_lunch(self, app) -> None:
        app.act(
            "config.lunch",
            {"start": self.lunch_start, "end": self.lunch_end},
            f"{TEXTS('lunch_title')} {self.lunch_start}-{self.lunch_end}",
        )

    # -- rules --------------------------------------------------------------------------------

    def _build_rules(self) -> None:
        box = self.ids.rules
        box.clear_widgets()
        self._rule_labels = {}
        for name, step in RULES:
            row = BoxLayout(size_hint_y=None, height=40, spacing=4)
            row.add_widget(TLabel(text=TEXTS(f"rule_{name}"), font_size=15))
            row.add_widget(
                TButton(
                    text="−",
                    size_hint_x=None,
                    width=44,
                    test_id=f"rule-{name}-minus",
                    on_press=lambda b, n=name, s=step: self.step_rule(n, -s),
                )
            )
            label = TLabel(
                text=str(self.rules.get(name, "")),
                halign="center",
                size_hint_x=None,
                width=56,
                test_id=f"rule-{name}",
            )
            row.add_widget(label)
            row.add_widget(
                TButton(
                    text="+",
                    size_hint_x=None,
                    width=44,
                    test_id=f"rule-{name}-plus",
                    on_press=lambda b, n=name, s=step: self.step_rule(n, s),
                )
            )
            box.add_widget(row)
            self._rule_labels[name] = label

    def step_rule(self, name: str, step: int) -> None:
        if name not in self.rules:
            return
        self.rules[name] = max(0, int(self.rules[name]) + step)
        self._rule_labels[name].text = str(self.rules[name])

    def save_rules(self, app) -> None:
        app.act(
            "config.rules",
            {name: self.rules[name] for name, _ in RULES if name in self.rules},
            TEXTS("rules_title"),
        )

    # -- the PIN ------------------------------------------------------------------------------

    def change_pin(self, app) -> None:
        old, new = self.ids.pin_old.text.strip(), self.ids.pin_new.text.strip()

        def done(_result):
            self.ids.pin_old.text = self.ids.pin_new.text = ""

        app.act("config.pin", {"old": old, "new": new}, TEXTS("pin_changed"), then=done)

    # -- the 晒成绩单 ------------------------------------------------------------------------

    def export_report(self, app, which: str) -> None:
        """Today's (`day`) or this month's (`month`) report, CSVs and PDF, into the folder."""
        from onewindow import reports
        from onewindow.bus.client import BusError
        from onewindow.reportpdf import ReportFontMissing

        hall = app.client.state.get("hall") or {}
        day = hall.get("day")
        if not day:
            app.message = TEXTS("offline")
            return
        period = day if which == "day" else day[:7]
        folder = Path(self.ids.report_dir.text.strip() or default_report_dir()).expanduser()
        app.message = TEXTS("report_running", period=period)

        def work():
            try:
                paths = reports.export(
                    lambda op, a: app.client.request(op, a, timeout=10),
                    period,
                    folder,
                    hall.get("name", ""),
                )
            except (OSError, BusError, TimeoutError, ReportFontMissing) as exc:
                return TEXTS("report_failed", why=getattr(exc, "message", None) or str(exc))
            pdf = next(p for p in paths if p.suffix == ".pdf")
            return TEXTS("report_done", path=str(pdf), n=len(paths))

        app.in_background(
            work,
            lambda text, error: setattr(app, "message", text or TEXTS("report_failed", why=error)),
        )
