"""预约: a service, a slot in the coming days, the ID card, booked."""

from __future__ import annotations

from datetime import datetime

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..texts import error_text
from ..widgets import Choice, load_kv

load_kv("booking.kv")


def day_label(app, day: str) -> str:
    d = datetime.fromisoformat(day)
    weekday = app.t("weekday").split("|")[d.weekday()]
    return app.t("day_label", date=f"{d:%m-%d}", weekday=weekday)


class BookScreen(Screen):
    """The services that take appointments."""

    def on_pre_enter(self, *a) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        for s in app.services.values():
            if not s.get("appointments", True):
                continue
            c = Choice(
                title=app.pick(s),
                subtitle=app.pick(s, "department"),
                test_id=f"book-{s['code']}",
                size_hint_y=None,
                height=app.u * 130,
            )
            c.bind(on_release=lambda w, code=s["code"]: app.go("slots", code=code))
            grid.add_widget(c)


class SlotsScreen(Screen):
    code = StringProperty("")
    title = StringProperty("")
    message = StringProperty("")
    confirm_text = StringProperty("")
    can_book = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.slots: list[dict] = []
        self.day = ""
        self.slot: dict | None = None
        App.get_running_app().bind(
            lang=lambda *a: self.code and self.show(),
            citizen_name=lambda *a: self.code and self.update(),
        )

    def prepare(self, code: str) -> None:
        app = App.get_running_app()
        self.code = code
        self.title = app.pick(app.services.get(code) or {})
        self.slots, self.day, self.slot = [], "", None
        self.message = app.t("working")
        self.ids.days.clear_widgets()
        self.ids.grid.clear_widgets()
        self.update()
        app.request("appointment.slots", {"service": code}, self.loaded)

    def loaded(self, result, error) -> None:
        app = App.get_running_app()
        if error:
            self.message = error_text(error, app.lang)
            return
        self.slots = result.get("slots") or []
        days = list(dict.fromkeys(s["start"][:10] for s in self.slots))
        self.day = next(
            (s["start"][:10] for s in self.slots if s.get("free")), days[0] if days else ""
        )
        self.message = "" if any(s.get("free") for s in self.slots) else app.t("book_none")
        self.show()

    def show(self) -> None:
        app = App.get_running_app()
        days = list(dict.fromkeys(s["start"][:10] for s in self.slots))[:7]
        row = self.ids.days
        row.clear_widgets()
        row.cols = max(1, len(days))
        for i, day in enumerate(days):
            c = Choice(title=day_label(app, day), test_id=f"day-{i}", selected=day == self.day)
            c.bind(on_release=lambda w, d=day: self.pick_day(d))
            row.add_widget(c)
        grid = self.ids.grid
        grid.clear_widgets()
        for i, s in enumerate(x for x in self.slots if x["start"].startswith(self.day)):
            free = s.get("free", 0)
            c = Choice(
                title=f"{s['start'][11:16]}-{s['end'][11:16]}",
                subtitle=app.t("book_free", n=free) if free else app.t("book_full"),
                test_id=f"slot-{i}",
                disabled=not free,
                size_hint_y=None,
                height=app.u * 110,
                selected=self.slot is s,
            )
            c.bind(on_release=lambda w, slot=s: self.pick_slot(slot))
            grid.add_widget(c)
        self.ids.scroll.scroll_y = 1
        self.update()

    def pick_day(self, day: str) -> None:
        self.day, self.slot = day, None
        self.show()

    def pick_slot(self, slot: dict) -> None:
        self.slot = slot
        for c in self.ids.grid.children:
            c.selected = c.title == f"{slot['start'][11:16]}-{slot['end'][11:16]}"
        self.update()

    def update(self) -> None:
        app = App.get_running_app()
        when = (
            f"{day_label(app, self.slot['start'][:10])} {self.slot['start'][11:16]}"
            if self.slot
            else ""
        )
        self.confirm_text = app.t("book_confirm", time=when) if self.slot else app.t("book_slots")
        self.can_book = bool(self.slot and app.citizen)

    def on_citizen(self) -> None:
        self.update()

    def book(self) -> None:
        app = App.get_running_app()
        if not (self.slot and app.citizen):
            return
        self.can_book = False
        self.message = app.t("working")
        app.request(
            "appointment.book",
            {"service": self.code, "slot_start": self.slot["start"], **app.citizen_args()},
            self.booked,
        )

    def booked(self, result, error) -> None:
        app = App.get_running_app()
        if error:
            self.message = error_text(error, app.lang)
            self.update()
            return
        app.clear_citizen()
        app.go("booked", appointment=result.get("appointment") or result)


class BookDoneScreen(Screen):
    service = StringProperty("")
    when = StringProperty("")
    detail = StringProperty("")

    def prepare(self, appointment: dict) -> None:
        app = App.get_running_app()
        self.service = app.service_text(
            appointment.get("service"), appointment.get("service_name", "")
        )
        start = appointment.get("slot_start", "")
        self.when = (
            f"{day_label(app, start[:10])} {start[11:16]}-{appointment.get('slot_end', '')[11:16]}"
        )
        early = ((app.cfg or {}).get("hall", {}).get("rules") or {}).get(
            "appointment_early_min", 30
        )
        self.detail = app.t("book_done_text", time=self.when, early=early)
