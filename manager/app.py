"""The manager console app: PIN lock, tabs, one bus client; every change is a controller op (the
controller audits it and pushes it to every device)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import StringProperty
from kivy.uix.scatter import Scatter
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from onewindow.appbase import HallApp
from onewindow.i18n import test_mark
from onewindow.uikit import lazy_screen, load_kv

from . import widgets  # noqa: F401  (registers the T* classes for the kv files)
from .screens.pin import PinScreen
from .texts import TEXTS

log = logging.getLogger(__name__)

KV = Path(__file__).parent / "kv"
# The console is laid out for at least LAYOUT_MIN pixels; a smaller window (the demo's 610x520)
# shows it scaled down, a screen larger than DESIGN_SIZE (a 1920x1080 touch screen) scaled up,
# so that nothing is cut off and a big screen's text is big
LAYOUT_MIN = (880, 560)
TICK_S = 0.3  # targets dump, session check, deferred refreshes
FIGURES_EVERY_S = 30.0  # KPIs and longest waits refresh even when nothing happens
AFTER_EVENT_S = 1.5  # coalesce a burst of ticket events into one KPI request
# the tabs, built when first shown
TABS = {
    "dashboard": "dashboard:DashboardScreen",
    "windows": "windows:WindowsScreen",
    "services": "services:ServicesScreen",
    "tickets": "tickets:TicketsScreen",
    "ratings": "ratings:RatingsScreen",
    "plan": "plan:PlanScreen",
    "hall": "hall:HallScreen",
}


class MainScreen(Screen):
    pass


class ManagerApp(HallApp):
    TEXTS = TEXTS
    DESIGN_SIZE = (1280, 800)
    EVENTS = ("alert", "ticket", "window", "rating")

    connection = StringProperty("")
    message = StringProperty("")
    hall_name = StringProperty("")

    def __init__(self, settings: dict, session_min: float, printer=None, **kw):
        super().__init__(settings, **kw)
        self.printer = printer  # (port, baud) of the duty desk's printer, or None
        self.session_s = session_min * 60
        self.tr = TEXTS
        self.config_data: dict = {}
        self._config_version = None
        self._last_touch = time.monotonic()
        self._dirty: set = set()
        self._figures_due = 0.0
        self.title = TEXTS("title")

    # -- build and lifecycle ------------------------------------------------------------------

    def build(self):
        Window.clearcolor = (0.94, 0.95, 0.97, 1)
        load_kv(KV / "console.kv")
        self.root_sm = ScreenManager(transition=NoTransition(), size_hint=(None, None))
        self.pin_screen = PinScreen(name="pin")
        self.main = MainScreen(name="main")
        self.root_sm.add_widget(self.pin_screen)
        self.root_sm.add_widget(self.main)
        self.tabs = self.main.ids.tabs
        self._show_connection()
        Window.bind(on_touch_down=self._touched, on_key_down=self._touched)
        Clock.schedule_interval(self._tick, TICK_S)
        self.stage = Scatter(
            do_rotation=False,
            do_scale=False,
            do_translation=False,
            auto_bring_to_front=False,
            size_hint=(None, None),
        )
        self.stage.add_widget(self.root_sm)
        Window.bind(size=self._fit)
        self._fit()
        return self.stage

    def _fit(self, *_) -> None:
        """The layout's size and its scale for this window (LAYOUT_MIN, DESIGN_SIZE)."""
        w, h = Window.size
        small = min(w / LAYOUT_MIN[0], h / LAYOUT_MIN[1])
        big = min(w / self.DESIGN_SIZE[0], h / self.DESIGN_SIZE[1])
        scale = small if small < 1 else max(1.0, big)
        self.stage.size = self.root_sm.size = (w / scale, h / scale)
        self.stage.scale = scale
        self.stage.pos = (0, 0)

    def tab(self, name: str):
        return lazy_screen(self.tabs, name, TABS, "manager.screens")

    # -- PIN and session ------------------------------------------------------------------------

    def check_pin(self, entered: str, answered: Callable[[str], None]) -> None:
        """The controller checks it (and counts wrong tries); `answered(message)` on the UI thread,
        with "" when the console opens. The PIN is never logged."""

        def done(result, error):
            if error is not None:
                answered(error.message)
            elif not result.get("ok"):
                answered(result.get("message") or TEXTS("offline"))
            else:
                answered("")
                self._last_touch = time.monotonic()
                self.root_sm.current = "main"
                self.show_tab("dashboard")
                self._dirty |= {"all", "figures", "ratings"}

        self.request("manager.login", {"pin": entered}, done=done, retries=0)

    def lock(self, reason: str = "") -> None:
        self.pin_screen.reset(reason)
        self.root_sm.current = "pin"
        self.request("manager.logout", retries=0)  # the controller's session ends too

    def _touched(self, *_):
        self._last_touch = time.monotonic()
        return False

    def show_tab(self, name: str) -> None:
        screen = self.tab(name)
        self.tabs.current = name
        for tab in TABS:
            self.main.ids[f"tab_{tab}"].state = "down" if tab == name else "normal"
        screen.shown(self)

    def screen_name(self) -> str:
        return "pin" if self.root_sm.current == "pin" else self.tabs.current

    def test_screen(self) -> str:
        return self.screen_name()

    # -- the bus ------------------------------------------------------------------------------------

    def _show_connection(self) -> None:
        if self.problem:
            self.connection = self.problem["message"]
        elif not self.connected:
            self.connection = TEXTS("offline")
        elif self.client.controller_online is False:
            self.connection = TEXTS("controller_down")
        else:
            self.connection = TEXTS("online")

    def bus_connection(self, up: bool) -> None:
        self._show_connection()
        if up:
            self._dirty |= {"all", "figures"}

    def bus_event(self, kind: str, data: dict) -> None:
        if kind == "ticket":
            self._figures_soon()
        elif kind == "rating":
            self._dirty.add("ratings")

    def bus_state(self, kind: str, value) -> None:
        if kind in ("controller", "problem"):
            self._show_connection()
            return
        if kind == "hall" and value:
            self.hall_name = test_mark(value) + value.get("name", "")
            if value.get("config_version") != self._config_version:
                self._config_version = value.get("config_version")
                self.fetch_config()
        self._dirty.add(kind.split(":")[0])

    def fetch_config(self) -> None:
        def done(result, error):
            if result:
                self.config_data = result
                self._dirty.add("config")

        self.request("config.get", {}, done=done)

    def act(self, op: str, args: dict, what: str, then=None) -> None:
        """A manager's change: the controller decides; its message (zh-CN) is shown either way."""

        def done(result, error):
            if error is not None:
                self.message = error.message
            else:
                self.message = TEXTS("done", what=what)
                if then:
                    then(result)

        self.message = "…"
        self.request(op, args, done=done)

    def _figures_soon(self) -> None:
        self._figures_due = min(self._figures_due or float("inf"), time.monotonic() + AFTER_EVENT_S)

    # -- the clock ------------------------------------------------------------------------------------

    def _tick(self, dt) -> None:
        now = time.monotonic()
        if self.root_sm.current == "main" and now - self._last_touch > self.session_s:
            self.lock(TEXTS("pin_timeout"))
        if self.root_sm.current == "main":
            if self._figures_due and now >= self._figures_due:
                self._figures_due = 0.0
                self._dirty.add("figures")
            if "figures" in self._dirty or "all" in self._dirty:
                self._figures_due = now + FIGURES_EVERY_S
            if self._dirty:
                dirty, self._dirty = self._dirty, set()
                for screen in self.tabs.screens:  # the tabs shown so far
                    screen.update(self, dirty)
