"""Services: daily quota, ticket prefix and appointments per slot; the hall notice."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from ..texts import TEXTS
from ..widgets import TButton, TInput, TLabel, TToggle
from . import ConsoleScreen, load_kv

QUOTA_STEP = 10
ROW_H = 46

load_kv("services")


class ServicesScreen(ConsoleScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self._built_for = None

    def shown(self, app) -> None:
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        hall = app.client.state.get("hall") or {}
        if dirty & {"all", "config"} and not self.ids.notice.focus:
            self.ids.notice.text = hall.get("notice") or ""
        if dirty & {"all", "config"} and app.config_data.get("services"):
            self._rows(app)

    def _rows(self, app) -> None:
        box = self.ids.rows
        box.clear_widgets()
        head = BoxLayout(size_hint_y=None, height=30, spacing=6)
        for text, hint in zip(TEXTS("svc_head").split("|"), (0.3, 0.12, 0.26, 0.12, 0.2), strict=True):
            head.add_widget(TLabel(text=text, bold=True, size_hint_x=hint))
        box.add_widget(head)
        for s in app.config_data["services"]:
            box.add_widget(self._row(app, s))

    def _row(self, app, s: dict):
        code = s["code"]
        row = BoxLayout(size_hint_y=None, height=ROW_H, spacing=6)
        row.add_widget(TLabel(text=f"{code} {s.get('name', '')}", size_hint_x=0.3,
                              test_id=f"svc-{code}-name"))
        prefix = TInput(text=s.get("prefix") or code, size_hint_x=0.12, test_id=f"svc-{code}-prefix")
        prefix.bind(on_text_validate=lambda inp: self.change(
            app, code, {"prefix": inp.text.strip().upper()}))
        row.add_widget(prefix)
        quota = int(s.get("daily_quota") or 0)
        row.add_widget(self._stepper(app, code, "quota", "daily_quota", quota, QUOTA_STEP,
                                     TEXTS("quota_none") if quota == 0 else str(quota), 0.26))
        appt = bool(s.get("appointments", True))
        row.add_widget(TToggle(text=TEXTS("appt_on") if appt else TEXTS("appt_off"),
                               state="down" if appt else "normal", size_hint_x=0.12,
                               test_id=f"svc-{code}-appt",
                               on_press=lambda b: self.change(app, code, {"appointments": not appt})))
        per_slot = int(s.get("appointment_per_slot") or 2)
        row.add_widget(self._stepper(app, code, "slot", "appointment_per_slot", per_slot, 1,
                                     str(per_slot), 0.2, minimum=1))
        return row

    def _stepper(self, app, code, name, field, value, step, shown, hint, minimum=0):
        box = BoxLayout(size_hint_x=hint, spacing=4)
        box.add_widget(TButton(text="−", size_hint_x=0.3, test_id=f"svc-{code}-{name}-minus",
                               on_press=lambda b: self.change(app, code, {field: max(minimum, value - step)})))
        box.add_widget(TLabel(text=shown, halign="center", test_id=f"svc-{code}-{name}"))
        box.add_widget(TButton(text="+", size_hint_x=0.3, test_id=f"svc-{code}-{name}-plus",
                               on_press=lambda b: self.change(app, code, {field: value + step})))
        return box

    def change(self, app, code: str, changes: dict) -> None:
        # the new figures come back through config_version -> config.get, so the row shows
        # what the controller accepted, not what was pressed
        app.act("config.service", {"code": code, **changes}, f"{code} {TEXTS('saved')}")

    def publish_notice(self, app) -> None:
        app.act("config.notice", {"notice": self.ids.notice.text.strip()}, TEXTS("notice_save"))
