"""Windows: open, pause, resume, close any window; staff on duty; services assigned by touch."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..texts import TEXTS
from ..widgets import TButton, TLabel, TToggle
from . import ConsoleScreen, load_kv

ACTIONS = (
    ("open", "window.open", (0.1, 0.6, 0.3, 1)),
    ("pause", "window.pause", (0.85, 0.5, 0.05, 1)),
    ("resume", "window.resume", (0.08, 0.4, 0.75, 1)),
    ("close", "window.close", (0.5, 0.5, 0.55, 1)),
)
ROW_H = 52
TOGGLE_MIN_H = 44  # a service toggle: two lines of its 13 px text

load_kv("windows")


def status_text(w: dict) -> str:
    text = _status(w)
    held = [h.get("number") for h in w.get("held") or [] if h.get("number")]
    if held:  # 挂起: kept at this window for a while, then back to their queue
        text += TEXTS("status_held", numbers=" ".join(held))
    return text


def _status(w: dict) -> str:
    if w["status"] == "open":
        return (
            TEXTS("status_busy", number=w["serving"]) if w.get("serving") else TEXTS("status_open")
        )
    if w["status"] == "paused":
        return TEXTS("status_paused", reason=w.get("reason") or TEXTS("no_reason"))
    return TEXTS("status_closed")


class WindowsScreen(ConsoleScreen):
    selected = NumericProperty(0)
    panel_title = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._rows: dict[int, dict] = {}
        self._codes: tuple = ()
        self._toggles: dict[str, TToggle] = {}

    def shown(self, app) -> None:
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        windows = app.client.state.get("windows", {})
        if set(windows) != set(self._rows) or "config" in dirty:
            self._build_rows(app, windows)
        if dirty & {"all", "window", "config", "queues"}:
            for number, w in windows.items():
                self._fill_row(number, w)
        if dirty & {"all", "config"} or not self._toggles:
            self._build_toggles(app)

    # -- the list -------------------------------------------------------------------------------

    def _build_rows(self, app, windows) -> None:
        box = self.ids.rows
        box.clear_widgets()
        self._rows = {}
        for number in sorted(windows):
            row = BoxLayout(size_hint_y=None, height=ROW_H, spacing=4)
            # the name above, status and staff below: a narrow window keeps whole names
            who = BoxLayout(orientation="vertical", size_hint_x=0.4)
            name = TLabel(test_id=f"win-{number}-name", bold=True, font_size=15)
            facts = BoxLayout(spacing=6)
            status = TLabel(test_id=f"win-{number}-status", font_size=14)
            staff = TLabel(test_id=f"win-{number}-staff", font_size=14)
            facts.add_widget(status)
            facts.add_widget(staff)
            who.add_widget(name)
            who.add_widget(facts)
            row.add_widget(who)
            for action, op, colour in ACTIONS:
                row.add_widget(
                    TButton(
                        text=TEXTS(f"win_{action}"),
                        test_id=f"win-{number}-{action}",
                        size_hint_x=0.12,
                        background_color=colour,
                        font_size=15,
                        on_press=lambda b, n=number, a=action, o=op: self.act(app, n, a, o),
                    )
                )
            row.add_widget(
                TButton(
                    text=TEXTS("win_edit"),
                    test_id=f"win-{number}-edit",
                    size_hint_x=0.12,
                    background_color=(0.3, 0.3, 0.45, 1),
                    font_size=15,
                    on_press=lambda b, n=number: self.select(app, n),
                )
            )
            box.add_widget(row)
            self._rows[number] = {"name": name, "status": status, "staff": staff}

    def _fill_row(self, number: int, w: dict) -> None:
        row = self._rows.get(number)
        if not row:
            return
        row["name"].text = w.get("name", str(number))
        row["status"].text = status_text(w)
        row["status"].color = {"open": (0.1, 0.5, 0.2, 1), "paused": (0.85, 0.45, 0.05, 1)}.get(
            w["status"], (0.45, 0.45, 0.45, 1)
        )
        staff = w.get("staff") or {}
        row["staff"].text = " ".join(x for x in (staff.get("id"), staff.get("name")) if x) or TEXTS(
            "no_staff"
        )
        if number == self.selected:
            self._mark_toggles(w)

    def act(self, app, number: int, action: str, op: str) -> None:
        args = {"window": number}
        if action == "open" and number == self.selected:
            staff_id, staff_name = self.ids.staff_id.text.strip(), self.ids.staff_name.text.strip()
            if staff_id or staff_name:
                args["staff"] = {"id": staff_id, "name": staff_name}
        if action == "pause" and self.ids.pause_reason.text.strip():
            args["reason"] = self.ids.pause_reason.text.strip()
        name = app.client.state["windows"].get(number, {}).get("name", str(number))
        app.act(op, args, f"{name} {TEXTS('win_' + action)}")

    # -- the panel: staff, pause reason, services -------------------------------------------------

    def select(self, app, number: int) -> None:
        self.selected = number
        w = app.client.state["windows"].get(number) or {}
        self.panel_title = TEXTS("win_panel", name=w.get("name", number))
        staff = w.get("staff") or {}
        self.ids.win_name.text = w.get("name", "")
        for kind in ("comprehensive", "specialist", "pickup"):
            self.ids[f"kind_{kind}"].state = "down" if w.get("kind") == kind else "normal"
        self.ids.staff_id.text = staff.get("id", "")
        self.ids.staff_name.text = staff.get("name", "")
        self._mark_toggles(w)

    def _build_toggles(self, app) -> None:
        cfg = app.config_data
        codes = [(s["code"], s.get("name", s["code"])) for s in cfg.get("services", [])]
        codes += [(t["code"], t.get("name", t["code"])) for t in cfg.get("themes", [])]
        if not codes:
            return
        grid = self.ids.toggles
        grid.clear_widgets()
        self._toggles = {}
        for code, name in codes:
            # a long name takes the lines it needs, never cut off (two services could read
            # alike); the code stays on the name's line (a no-break space)
            t = TToggle(
                text=f"{code}\u00a0{name}",
                test_id=f"svc-{code}",
                font_size=13,
                size_hint_y=None,
                height=TOGGLE_MIN_H,
                halign="center",
                valign="middle",
            )
            t.bind(width=lambda btn, width: setattr(btn, "text_size", (width - 6, None)))
            t.bind(
                texture_size=lambda btn, ts: setattr(btn, "height", max(TOGGLE_MIN_H, ts[1] + 8))
            )
            grid.add_widget(t)
            self._toggles[code] = t
        w = app.client.state["windows"].get(self.selected)
        if w:
            self._mark_toggles(w)

    def _mark_toggles(self, w: dict) -> None:
        chosen = set(w.get("services") or ())
        for code, t in self._toggles.items():
            t.state = "down" if code in chosen else "normal"

    def save_services(self, app) -> None:
        if not self.selected:
            app.message = TEXTS("win_panel_none")
            return
        order = list(self._toggles)
        w = app.client.state["windows"].get(self.selected) or {}
        before = [c for c in (w.get("services") or ()) if c in self._toggles]
        chosen = {c for c, t in self._toggles.items() if t.state == "down"}
        # keep the window's own order (routing may follow it), new codes at the end
        services = [c for c in before if c in chosen] + [
            c for c in order if c in chosen and c not in before
        ]
        if w.get("kind") == "comprehensive" and set(services) == set(order):
            services = []  # a comprehensive window serving everything stays "all"
        app.act(
            "config.window",
            {"window": self.selected, "services": services},
            f"{w.get('name', self.selected)} {TEXTS('saved')}",
        )

    def _kind(self) -> str | None:
        return next(
            (
                k
                for k in ("comprehensive", "specialist", "pickup")
                if self.ids[f"kind_{k}"].state == "down"
            ),
            None,
        )

    def save_window(self, app) -> None:
        """The window's name and kind (a rename shows on every screen and in the voice)."""
        if not self.selected:
            app.message = TEXTS("win_panel_none")
            return
        args = {"window": self.selected, "name": self.ids.win_name.text.strip()}
        if self._kind():
            args["kind"] = self._kind()
        app.act("config.window", args, f"{args['name']} {TEXTS('saved')}")

    def add_window(self, app) -> None:
        """A new window: the next number, comprehensive unless a kind is picked with services."""
        number = max(app.client.state.get("windows", {}) or [0]) + 1
        kind = self._kind() or "comprehensive"
        args = {
            "window": number,
            "kind": kind,
            "name": self.ids.win_name.text.strip()
            if not self.selected and self.ids.win_name.text.strip()
            else TEXTS("win_added", n=number),
        }
        if kind != "comprehensive":
            args["services"] = [c for c, t in self._toggles.items() if t.state == "down"]
        app.act(
            "config.window",
            args,
            f"{args['name']} {TEXTS('saved')}",
            then=lambda r: self.select(app, number),
        )

    def select_all(self, app) -> None:
        for t in self._toggles.values():
            t.state = "down"
