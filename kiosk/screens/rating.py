"""好差评: five levels, reasons for the two bad ones, for this session's ticket or a window."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from onewindow.i18n import OTHER_REASON, rating_reasons, reason_text

from ..texts import error_text
from ..widgets import Choice, load_kv

load_kv("rating.kv")

LEVELS = (5, 4, 3, 2, 1)


def kiosk_reasons(cfg: dict | None) -> list[str]:
    """The hall's reasons a kiosk offers: all but 其他, which needs the citizen's own words and a
    kiosk has no Chinese keyboard (其他 is on the ticket's QR page)."""
    return [r for r in rating_reasons(cfg) if r != OTHER_REASON]


class RatingScreen(Screen):
    error = StringProperty("")
    bad = BooleanProperty(False)
    can_submit = BooleanProperty(False)
    need_reason = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ticket = None
        self.target: tuple[str, object] | None = None
        self.level = 0
        self.reasons: set[str] = set()
        App.get_running_app().bind(lang=lambda *a: self.build())

    def prepare(self, ticket: dict | None = None) -> None:
        app = App.get_running_app()
        self.ticket = ticket or app.session_ticket
        self.target = ("ticket", self.ticket["id"]) if self.ticket else None
        self.level, self.reasons, self.error = 0, set(), ""
        self.build()

    def build(self) -> None:
        app = App.get_running_app()
        if not getattr(app, "sm", None):
            return
        targets = self.ids.targets
        targets.clear_widgets()
        targets.cols = 4 if app.portrait else 7
        if self.ticket:
            c = Choice(
                title=app.t("rate_ticket", number=self.ticket["number"]),
                test_id="target-ticket",
                size_hint_y=None,
                height=app.u * 100,
            )
            c.key = ("ticket", self.ticket["id"])
            targets.add_widget(c)
        for w in (app.cfg or {}).get("windows") or []:
            c = Choice(
                title=app.pick(w),
                test_id=f"target-window-{w['window']}",
                size_hint_y=None,
                height=app.u * 100,
            )
            c.key = ("window", w["window"])
            targets.add_widget(c)
        for c in targets.children:
            c.bind(on_release=lambda w: self.pick_target(w.key))
        levels = self.ids.levels
        levels.clear_widgets()
        for level in LEVELS:
            c = Choice(title=app.t(f"rate_level_{level}"), test_id=f"level-{level}")
            c.key = level
            c.bind(on_release=lambda w: self.pick_level(w.key))
            levels.add_widget(c)
        reasons = self.ids.reasons
        reasons.clear_widgets()
        for i, key in enumerate(kiosk_reasons(app.cfg)):
            c = Choice(title=reason_text(key, app.lang), test_id=f"reason-{i + 1}")
            c.key = key
            c.bind(on_release=lambda w: self.toggle_reason(w.key))
            reasons.add_widget(c)
        self.update()

    def pick_target(self, key) -> None:
        self.target = key
        self.update()

    def pick_level(self, level: int) -> None:
        self.level = level
        if level > 2:
            self.reasons.clear()
        self.update()

    def toggle_reason(self, key: str) -> None:
        self.reasons.symmetric_difference_update({key})
        self.update()

    def update(self) -> None:
        for c in self.ids.targets.children:
            c.selected = c.key == self.target
        for c in self.ids.levels.children:
            c.selected = c.key == self.level
        for c in self.ids.reasons.children:
            c.selected = c.key in self.reasons
        self.bad = 0 < self.level <= 2
        # at 不满意 / 非常不满意 nothing is sent before a reason is picked (the hall refuses it too)
        self.can_submit = bool(self.target and self.level and (not self.bad or self.reasons))
        self.need_reason = self.bad and not self.reasons

    def submit(self) -> None:
        app = App.get_running_app()
        kind, value = self.target
        args = {
            "ticket_id" if kind == "ticket" else "window": value,
            "level": self.level,
            "channel": "kiosk",
        }
        if self.bad:
            args["reasons"] = [k for k in kiosk_reasons(app.cfg) if k in self.reasons]
        self.can_submit = False
        app.request("rating.submit", args, self.done)

    def done(self, result, error) -> None:
        app = App.get_running_app()
        if error:
            self.error = error_text(error, app.lang)
            self.update()
            return
        bad = (result.get("rating") or {}).get("bad")
        app.session_ticket = None
        app.go("message", message=app.t("rate_thanks_bad" if bad else "rate_thanks"), kind="rated")
