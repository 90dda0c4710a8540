"""The one shape of every Kivy app of the hall (kiosk, display, caller, manager console).

`HallApp` owns what they all need: the device's bus client and its connection state (the
broker, the controller, and the bus's own diagnosis of what is wrong), the hall's clock, the
texts, the size unit, work off the UI thread, and the test hooks. An app adds its screens (one
KV file each) and overrides the `bus_*` hooks.

Threads: paho's network thread, the request workers, device threads and the voice never touch a
widget. They come back to the UI thread through Kivy's `@mainthread`, and no other way.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable, Optional

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)

from .bus.client import DeviceClient
from .i18n import LANG_NAMES, Catalogue, next_lang, test_mark
from .uikit import TargetsFile, hall_now

log = logging.getLogger(__name__)

TARGETS_LOOK_S = 0.05  # tests only: how often the widgets are looked at
WORKERS = 2  # transactions in flight at once (a print, a reprint, a lookup)

Done = Callable[[Optional[object], Optional[Exception]], None]


class HallApp(App):
    """A device's app: subclasses set the class constants and override `bus_state`,
    `bus_connection`, `bus_event` (all called on the UI thread) and `test_screen`."""

    TEXTS = Catalogue("app", {})
    DESIGN_SIZE = (1080, 1080)  # window pixels at which the size unit `u0` is 1
    EVENTS: tuple = ()  # the evt/<kind> topics the app shows
    WINDOWS_STATE = True  # whether it follows every window's retained state

    lang = StringProperty("zh")
    # the languages the citizen's button cycles through: the hall's ([hall] languages) and the
    # one the app started in
    langs = ListProperty(["zh", "en"])
    u0 = NumericProperty(1.0)  # the size unit of this screen
    zoom = NumericProperty(1.0)  # text and touch targets enlarged (the kiosk's elderly mode)
    u = NumericProperty(1.0)  # u0 * zoom: what text and touch targets are sized in
    portrait = BooleanProperty(False)
    connected = BooleanProperty(False)  # the broker answers
    problem = DictProperty({})  # the bus's own diagnosis: {code, message, message_en}
    online = BooleanProperty(False)  # connected, the controller up, and nothing wrong

    def __init__(self, settings: dict, **kw):
        super().__init__(**kw)
        self.settings = settings
        s = settings
        self.client = DeviceClient(
            s["mqtt"],
            s["device"],
            s["secret"],
            s["hall"],
            events=self.EVENTS,
            windows_state=self.WINDOWS_STATE,
        )
        self.client.on_state(self._state_arrived)
        self.client.on_connection = self._connection_changed
        for kind in self.EVENTS:
            self.client.on_event(kind, partial(self._event_arrived, kind))
        self._workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="app")
        self._targets: Optional[TargetsFile] = TargetsFile.from_env()
        self.bind(zoom=self._resize)
        Window.bind(size=self._resize)
        self._resize()

    # -- lifecycle -------------------------------------------------------------------------------

    def on_start(self):
        if self._targets is not None:
            Clock.schedule_interval(
                lambda dt: self._targets.look(self.test_screen()), TARGETS_LOOK_S
            )
        self.client.start()

    def on_stop(self):
        self.client.stop()
        self._workers.shutdown(wait=False, cancel_futures=True)

    def _resize(self, *_) -> None:
        w, h = Window.size
        dw, dh = self.DESIGN_SIZE
        self.u0 = min(w / dw, h / dh) or 1.0
        self.u = self.u0 * self.zoom
        self.portrait = h >= w

    # -- texts and the clock -----------------------------------------------------------------------

    def t(self, key: str, lang: Optional[str] = None, **fmt) -> str:
        return self.TEXTS(key, lang or self.lang, **fmt)

    def next_lang(self) -> str:
        return next_lang(self.lang, [*self.langs, self.lang])

    def lang_button(self, lang: str, langs: list) -> str:
        """The language button's text: the next language's name, in that language (KV passes
        `app.lang, app.langs` so the button follows both)."""
        return LANG_NAMES[next_lang(lang, [*langs, lang])]

    @property
    def hall_state(self) -> dict:
        """state/hall as last published ({} until it arrives)."""
        return self.client.state.get("hall") or {}

    def hall_now(self):
        """The hall's wall clock, in the hall's zone whatever this box's own."""
        return hall_now(self.hall_state)

    def test_mark(self) -> str:
        """【测试 TEST】 while the hall runs in test mode, else ""."""
        return test_mark(self.hall_state)

    # -- the bus -----------------------------------------------------------------------------------

    def bus_state(self, kind: str, value) -> None:
        """A retained state changed: 'hall', 'queues', 'window:<n>', 'controller' or 'problem'."""

    def bus_connection(self, up: bool) -> None:
        """The broker connection went up or down."""

    def bus_event(self, kind: str, data: dict) -> None:
        """An evt/<kind> of EVENTS arrived."""

    @mainthread
    def _state_arrived(self, kind: str, value) -> None:
        if kind == "problem":
            self.problem = value or {}
        self._refresh_online()
        self.bus_state(kind, value)

    @mainthread
    def _connection_changed(self, up: bool) -> None:
        self.connected = bool(up)
        self._refresh_online()
        self.bus_connection(up)

    @mainthread
    def _event_arrived(self, kind: str, data: dict) -> None:
        self.bus_event(kind, data)

    def _refresh_online(self) -> None:
        self.online = (
            self.client.connected.is_set()
            and self.client.controller_online is not False
            and not self.problem
        )

    def request(self, op: str, args: Optional[dict] = None, done: Optional[Done] = None, **kw):
        """Never blocks the UI: `done(result, error)` runs on the UI thread."""
        return self.client.request_async(op, args, mainthread(done) if done else None, **kw)

    # -- work off the UI thread --------------------------------------------------------------------

    def in_background(self, work: Callable[[], object], done: Optional[Done] = None) -> None:
        """Run `work()` on a worker (a printer or the network may take seconds); `done(result,
        error)` on the UI thread. An unexpected error is logged with its traceback and handed to
        `done` as the error."""
        back = mainthread(done) if done else None

        def run():
            try:
                result = work()
            except Exception as exc:  # a bug in work(): logged, the screen carries on
                log.exception("background work failed")
                if back:
                    back(None, exc)
                return
            if back:
                back(result, None)

        self._workers.submit(run)

    # -- tests -------------------------------------------------------------------------------------

    def test_screen(self) -> str:
        """The name tests know the current screen by."""
        return "main"
