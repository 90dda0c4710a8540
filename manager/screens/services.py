"""Services: add, edit (name, department, prefix, guide basics, quota, windows) and retire a
service; daily quota, prefix and appointments per row; the hall notice."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from ..texts import TEXTS
from ..widgets import TButton, TInput, TLabel, TToggle
from . import ConsoleScreen, load_kv

QUOTA_STEP = 10
QUOTA_FIRST = 50  # a limit switched on starts here, shown before it is saved
ROW_H = 46

load_kv("services")


def quota_after(value: int, step: int) -> int:
    """The quota a − or + makes of `value` (0 = 不限): a limit never steps into 不限 by
    accident (− stops at one step), and nothing steps out of it (不限 is its own switch)."""
    if value == 0:
        return 0
    return max(QUOTA_STEP, value + step)


class ServiceForm(ModalView):
    """Add or edit one service; `code` is "" when adding."""

    code = StringProperty("")
    title = StringProperty("")
    quota = StringProperty("")
    unlimited = BooleanProperty(True)

    def __init__(self, screen, app, service: dict | None, **kw):
        super().__init__(**kw)
        self.screen, self.app = screen, app
        s = service or {}
        self.code = s.get("code", "")
        self.title = TEXTS("svc_form_edit", code=self.code) if s else TEXTS("svc_form_add")
        guide = s.get("guide") or {}
        ids = self.ids
        ids.code.text, ids.code.disabled = self.code, bool(s)
        ids.name.text, ids.department.text = s.get("name", ""), s.get("department", "")
        ids.prefix.text = s.get("prefix") or ""
        ids.fee.text, ids.place.text = guide.get("fee", ""), guide.get("place", "")
        self.set_quota(int(s.get("daily_quota") or 0))
        ids.retire.disabled = not s
        self._windows: dict[int, TToggle] = {}
        for w in app.config_data.get("windows", []):
            serves = bool(s) and self.code in (w.get("services") or [])
            t = TToggle(
                text=str(w["window"]),
                test_id=f"form-win-{w['window']}",
                font_size=15,
                size_hint_y=None,
                height=38,
                state="down" if serves else "normal",
                disabled=bool(s),
            )  # an existing service's windows: the 窗口 tab
            ids.windows.add_widget(t)
            self._windows[w["window"]] = t

    def set_quota(self, value: int) -> None:
        self.unlimited = value == 0
        self.quota = TEXTS("quota_none") if value == 0 else str(value)

    def quota_value(self) -> int:
        return 0 if self.unlimited else int(self.quota)

    def toggle_unlimited(self) -> None:
        self.set_quota(QUOTA_FIRST if self.unlimited else 0)

    def step_quota(self, step: int) -> None:
        self.set_quota(quota_after(self.quota_value(), step))

    def save(self) -> None:
        ids = self.ids
        code, name, dept = ids.code.text.strip(), ids.name.text.strip(), ids.department.text.strip()
        if not (code and name and dept):
            self.app.message = TEXTS("svc_need")
            return
        args = {
            "code": code,
            "name": name,
            "department": dept,
            "daily_quota": self.quota_value(),
            "guide": {"fee": ids.fee.text.strip() or "免费", "place": ids.place.text.strip()},
        }
        if ids.prefix.text.strip():
            args["prefix"] = ids.prefix.text.strip().upper()
        if self.code:
            op = "config.service"
        else:
            op = "config.service_add"
            args["windows"] = [n for n, t in self._windows.items() if t.state == "down"]
        self.app.act(op, args, f"{code} {name} {TEXTS('saved')}", then=lambda r: self.dismiss())

    def retire(self) -> None:
        self.app.act(
            "config.service_retire",
            {"code": self.code},
            f"{self.code} {TEXTS('svc_retire')}",
            then=lambda r: self.dismiss(),
        )


class ServicesScreen(ConsoleScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self._built_for = None
        self.form: ServiceForm | None = None

    def shown(self, app) -> None:
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        hall = app.client.state.get("hall") or {}
        if dirty & {"all", "config"} and not self.ids.notice.focus:
            self.ids.notice.text = hall.get("notice") or ""
        if dirty & {"all", "config"} and app.config_data.get("services"):
            self._rows(app)

    def open_form(self, app, code: str = "") -> None:
        service = next((s for s in app.config_data.get("services", []) if s["code"] == code), None)
        self.form = ServiceForm(self, app, service)
        self.form.open()

    def _rows(self, app) -> None:
        box = self.ids.rows
        box.clear_widgets()
        head = BoxLayout(size_hint_y=None, height=30, spacing=6)
        for text, hint in zip(
            TEXTS("svc_head").split("|"), (0.3, 0.1, 0.3, 0.12, 0.18), strict=True
        ):
            head.add_widget(TLabel(text=text, bold=True, size_hint_x=hint, font_size=15))
        box.add_widget(head)
        for s in app.config_data["services"]:
            box.add_widget(self._row(app, s))

    def _row(self, app, s: dict):
        code = s["code"]
        row = BoxLayout(size_hint_y=None, height=ROW_H, spacing=6)
        name = BoxLayout(size_hint_x=0.3, spacing=4)
        name.add_widget(
            TButton(
                text=TEXTS("svc_edit"),
                size_hint_x=None,
                width=52,
                font_size=15,
                test_id=f"svc-{code}-edit",
                background_color=(0.3, 0.3, 0.45, 1),
                on_press=lambda b: self.open_form(app, code),
            )
        )
        name.add_widget(
            TLabel(text=f"{code} {s.get('name', '')}", test_id=f"svc-{code}-name", font_size=15)
        )
        row.add_widget(name)
        prefix = TInput(text=s.get("prefix") or code, size_hint_x=0.1, test_id=f"svc-{code}-prefix")
        prefix.bind(
            on_text_validate=lambda inp: self.change(
                app, code, {"prefix": inp.text.strip().upper()}
            )
        )
        row.add_widget(prefix)
        row.add_widget(self._quota(app, code, int(s.get("daily_quota") or 0)))
        appt = bool(s.get("appointments", True))
        row.add_widget(
            TToggle(
                text=TEXTS("appt_on") if appt else TEXTS("appt_off"),
                state="down" if appt else "normal",
                size_hint_x=0.12,
                font_size=15,
                test_id=f"svc-{code}-appt",
                on_press=lambda b: self.change(app, code, {"appointments": not appt}),
            )
        )
        per_slot = int(s.get("appointment_per_slot") or 2)
        row.add_widget(
            self._stepper(
                f"svc-{code}-slot",
                str(per_slot),
                0.18,
                lambda: self.change(app, code, {"appointment_per_slot": max(1, per_slot - 1)}),
                lambda: self.change(app, code, {"appointment_per_slot": per_slot + 1}),
            )
        )
        return row

    def _quota(self, app, code: str, quota: int):
        """不限 is a switch of its own; − and + change a limit and are off while there is none."""
        box = BoxLayout(size_hint_x=0.3, spacing=3)
        box.add_widget(
            TToggle(
                text=TEXTS("quota_none"),
                state="down" if quota == 0 else "normal",
                size_hint_x=0.34,
                font_size=14,
                test_id=f"svc-{code}-unlimited",
                on_press=lambda b: self.change(
                    app, code, {"daily_quota": QUOTA_FIRST if quota == 0 else 0}
                ),
            )
        )
        stepper = self._stepper(
            f"svc-{code}-quota",
            TEXTS("quota_none") if quota == 0 else str(quota),
            0.66,
            lambda: self.change(app, code, {"daily_quota": quota_after(quota, -QUOTA_STEP)}),
            lambda: self.change(app, code, {"daily_quota": quota_after(quota, QUOTA_STEP)}),
            disabled=quota == 0,
        )
        box.add_widget(stepper)
        return box

    def _stepper(self, tid: str, shown: str, hint: float, minus, plus, disabled: bool = False):
        box = BoxLayout(size_hint_x=hint, spacing=3)
        box.add_widget(
            TButton(
                text="−",
                size_hint_x=0.3,
                test_id=f"{tid}-minus",
                disabled=disabled,
                on_press=lambda b: minus(),
            )
        )
        box.add_widget(TLabel(text=shown, halign="center", test_id=tid, font_size=15))
        box.add_widget(
            TButton(
                text="+",
                size_hint_x=0.3,
                test_id=f"{tid}-plus",
                disabled=disabled,
                on_press=lambda b: plus(),
            )
        )
        return box

    def change(self, app, code: str, changes: dict) -> None:
        # the new figures come back through config_version -> config.get, so the row shows
        # what the controller accepted, not what was pressed
        app.act("config.service", {"code": code, **changes}, f"{code} {TEXTS('saved')}")

    def publish_notice(self, app) -> None:
        app.act("config.notice", {"notice": self.ids.notice.text.strip()}, TEXTS("notice_save"))
