"""The kiosk app: the devices, the citizen of the moment, and the screens (the bus, texts,
clock and size units come from onewindow/appbase.py).

Threads: MQTT callbacks and device threads never touch widgets; they come back to the UI thread
through `@mainthread`. A transaction (status check, issue, print) runs in the background so the
screen keeps answering touches while a printer or the network takes its time.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Optional

from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition

from onewindow.domain.identity import mask_name
from onewindow.hallwords import opening_words
from onewindow.i18n import hall_languages
from onewindow.uikit import lazy_screen

from .devices import KioskDevices
from .issuing import Issuing
from .screens import SCREENS
from .texts import TEXTS, error_text, pick
from .widgets import load_kv

log = logging.getLogger(__name__)

CARD_EXTRA = ("sex", "nation", "birth", "address")  # the card's data beyond number and name
OUT_OF_SERVICE_AFTER_S = 1.5  # a reconnect shorter than this does not flash the screen
OFFLINE_SCREENS = ("home", "guides", "guide", "theme")  # what works from the last configuration
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CARD_MESSAGE_S = 6.0
ELDER_ZOOM = 1.3  # text and touch targets in elderly mode


class KeepRunning(ExceptionHandler):
    """A citizen's kiosk must not close on a bug: log it and carry on (the screen stays usable)."""

    def handle_exception(self, inst):
        if isinstance(inst, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        log.exception("unexpected error in the kiosk UI")
        return ExceptionManager.PASS


class KioskRoot(BoxLayout):
    pass


class KioskApp(Issuing):
    TEXTS = TEXTS
    DESIGN_SIZE = (1080, 1080)  # u0 = 1 when the shorter side is 1080
    WINDOWS_STATE = False  # a kiosk shows queues, not windows

    elder = BooleanProperty(False)
    cols = NumericProperty(3)
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    citizen_name = StringProperty("")
    open_case = DictProperty({})  # the card's open 容缺 case (补件签到), {} none
    card_text = StringProperty("")
    card_message = StringProperty("")
    simulate = BooleanProperty(False)
    hall_open = BooleanProperty(True)
    in_service = BooleanProperty(False)
    # the controller is away but its last good configuration is known: guides, themes and hours
    # stay on screen, numbers (and whatever else needs the controller) wait until it is back
    offline_mode = BooleanProperty(False)
    taking = BooleanProperty(False)  # a number can be taken now: in service and open
    queues = DictProperty({})

    def __init__(self, settings: dict, args):
        super().__init__(settings)
        self.args = args
        self.title = "OneWindow 自助服务"
        self.lang = args.lang
        self.simulate = bool(args.simulate)
        self.cfg: Optional[dict] = None
        self.services: dict = {}
        self.themes: dict = {}
        self.citizen: Optional[dict] = None  # {id_number, name}: memory only, one transaction
        self._pending_issue: Optional[tuple[str, str]] = None  # (args, request id) until answered
        self.session_ticket: Optional[dict] = None
        self.last_touch = time.monotonic()
        self._lost_since: Optional[float] = None
        self._card_message_until = 0.0
        self._config_version = None
        self._config_loading = False
        self.pinyin = None  # kiosk/pinyin.py with --pinyin: the form's Chinese text fields
        if getattr(args, "pinyin", False):
            from .pinyin import PinyinKeys

            self.pinyin = PinyinKeys()

    # -- set-up ----------------------------------------------------------------------------------

    def build(self):
        ExceptionManager.add_handler(KeepRunning())
        load_kv("root.kv")
        root = KioskRoot()
        self.sm = root.ids.sm
        self.sm.transition = NoTransition()
        self.screen("oos")
        self.sm.current = "oos"
        Window.bind(on_touch_down=self._touched)
        self.bind(in_service=self._update_taking, hall_open=self._update_taking)
        self.bind(
            elder=self._layout,
            portrait=self._layout,
            lang=self._update_card_text,
            citizen_name=self._update_card_text,
            card_message=self._update_card_text,
        )
        self._layout()
        self._update_card_text()
        self._read_cache()
        self.devices = KioskDevices(
            self.args,
            on_printer=self._on_printer,
            on_card=self._on_card,
            on_card_error=self._on_card_error,
            clock=self.hall_now,
        )
        return root

    def on_start(self):
        super().on_start()
        self.devices.start()
        Clock.schedule_interval(lambda dt: self._tick(), 1.0)
        Clock.schedule_interval(lambda dt: self._check_service(), 0.5)
        self._tick()

    def on_stop(self):
        self.devices.stop()
        if self.pinyin is not None:
            self.pinyin.pinyin(False)
            self.pinyin.stop()
        super().on_stop()

    def _layout(self, *_) -> None:
        self.zoom = ELDER_ZOOM if self.elder else 1.0
        self.cols = (2 if self.elder else 3) if self.portrait else (3 if self.elder else 5)

    # -- texts -----------------------------------------------------------------------------------

    def pick(self, obj: dict, field: str = "name") -> str:
        return pick(obj, field, self.lang)

    # the controller words a ticket or a case in the hall file's Chinese: a citizen reading
    # another language gets the file's own text for it, the controller's where the file has none

    def service_text(self, code: str, chinese: str = "") -> str:
        return self.pick(self.services.get(code) or self.themes.get(code) or {}) or chinese

    def window_text(self, number, chinese: str = "") -> str:
        windows = (self.cfg or {}).get("windows") or []
        return self.pick(next((w for w in windows if w.get("window") == number), {})) or chinese

    def material_text(self, code: str, chinese: str) -> str:
        """A material of service (or 一件事) `code`, by its Chinese name as a 容缺 case keeps it."""
        service = self.services.get(code) or {}
        materials = ((service.get("guide") or {}).get("materials") or []) + list(
            (self.themes.get(code) or {}).get("materials") or []
        )
        found = next((m for m in materials if isinstance(m, dict) and m.get("name") == chinese), {})
        return self.pick(found) or chinese

    def toggle_lang(self) -> None:
        self.lang = self.next_lang()
        self._apply_hall()

    def toggle_elder(self) -> None:
        self.elder = not self.elder

    def _update_card_text(self, *a) -> None:
        if self.card_message and time.monotonic() < self._card_message_until:
            self.card_text = self.card_message
        elif self.citizen_name:
            self.card_text = self.t("card_hello", name=self.citizen_name)
        else:
            self.card_text = self.t("card_prompt")

    # -- screens ---------------------------------------------------------------------------------

    def screen(self, name: str):
        """A screen, built the first time it is shown."""
        return lazy_screen(self.sm, name, SCREENS, "kiosk.screens")

    def go(self, name: str, **kw) -> None:
        if name == "home" and self.sm.current != "home":
            # back home = the transaction is over: the next person must not inherit the card
            self.clear_citizen()
            self._pending_issue = None
        screen = self.screen(name)
        if hasattr(screen, "prepare"):
            screen.prepare(**kw)
        self.sm.current = name

    def go_home(self, *a) -> None:
        self.go("home")

    def _refresh_home(self) -> None:
        if self.sm.has_screen("home"):  # else it is built from what is known when shown
            self.sm.get_screen("home").refresh()

    def test_screen(self) -> str:
        return self.sm.current

    def _touched(self, *a) -> None:
        self.last_touch = time.monotonic()

    def _tick(self) -> None:
        self.clock_text = self.hall_now().strftime("%Y-%m-%d  %H:%M")
        now = time.monotonic()
        if self.card_message and now >= self._card_message_until:
            self.card_message = ""
        if now - self.last_touch > self.args.idle:
            self.last_touch = now
            chosen = self.lang != self.args.lang or self.elder  # the last citizen's choices
            if self.citizen or chosen or self.sm.current not in ("home", "oos"):
                log.info("idle: back to the home screen")
                self.clear_citizen()
                self.session_ticket = None
                if self.lang != self.args.lang:
                    self.lang = self.args.lang
                    self._apply_hall()
                if self.elder:
                    self.toggle_elder()
                if self.sm.current != "oos":
                    self.go("home")

    # -- the bus ---------------------------------------------------------------------------------

    def bus_connection(self, up: bool) -> None:
        if up:
            self._load_config()
            if self.printer_reason not in ("none",):
                self._report_printer(self.printer_reason)

    def bus_state(self, kind: str, value) -> None:
        if kind == "hall" and isinstance(value, dict):
            if value.get("config_version") != self._config_version:
                self._load_config()
            self._apply_hall()
        elif kind == "queues" and isinstance(value, dict):
            self.queues = value

    def _use_config(self, cfg: dict) -> None:
        self.cfg = cfg
        self.services = {s["code"]: s for s in cfg.get("services", [])}
        self.themes = {t["code"]: t for t in cfg.get("themes", [])}
        self.langs = hall_languages(cfg.get("hall"))

    def _read_cache(self) -> None:
        """The last good configuration from --config-cache, when it is this hall's."""
        path = getattr(self.args, "config_cache", None)
        if not path:
            return
        try:
            with open(path, encoding="utf-8") as f:
                cached = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("config cache %s unreadable (%s): not used", path, exc)
            return
        if (
            not isinstance(cached, dict)
            or cached.get("hall_id") != self.settings["hall"]
            or not isinstance(cached.get("config"), dict)
        ):
            log.warning("config cache %s is not this hall's: not used", path)
            return
        self._use_config(cached["config"])
        self._apply_hall()
        log.info("last good configuration read from %s", path)

    def _write_cache(self, cfg: dict) -> None:
        """Keep it for a start while the controller is down: written whole, then renamed; the
        windows' staff names are left out (a kiosk shows none)."""
        path = getattr(self.args, "config_cache", None)
        if not path:
            return
        kept = {
            **cfg,
            "windows": [
                {k: v for k, v in w.items() if k != "staff"} for w in cfg.get("windows") or []
            ],
        }

        def work():
            import os

            tmp = f"{path}.tmp"
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"hall_id": self.settings["hall"], "config": kept}, f, ensure_ascii=False)
            os.replace(tmp, path)

        def done(result, error):
            if error:
                log.warning("config cache %s not written: %s", path, error)

        self.in_background(work, done)

    def _load_config(self) -> None:
        if self._config_loading:
            return
        self._config_loading = True

        def done(result, error):
            self._config_loading = False
            if error:
                log.warning("config.get failed: %s", error)
                return
            self._use_config(result)
            self._write_cache(result)
            self._config_version = self.hall_state.get("config_version")
            self._apply_hall()
            if self.sm.has_screen("home"):
                self.sm.get_screen("home").rebuild()

        self.request("config.get", done=done)

    def _apply_hall(self) -> None:
        hall = (self.cfg or {}).get("hall") or {}
        state = self.hall_state or {}
        self.hall_name = self.test_mark() + (
            pick(hall, "name", self.lang) or pick(state, "name", self.lang)
        )
        self.hall_open = bool(state.get("open", True))
        self._refresh_home()

    def next_opening_text(self) -> str:
        return opening_words(self.hall_state or {}, self.lang)

    def _update_taking(self, *_) -> None:
        self.taking = self.in_service and self.hall_open

    def _check_service(self) -> None:
        ok = self.online and self.cfg is not None and bool(self.hall_state)
        now = time.monotonic()
        if ok:
            self._lost_since = None
            if not self.in_service:
                self.in_service = True
                self.offline_mode = False
                log.info("in service")
                if self.sm.current in ("oos", "home"):
                    self.go("home")
                self._refresh_home()
            return
        if self._lost_since is None:
            self._lost_since = now
        # in service until now, or just started with a cached configuration and no controller
        starting = self.sm.current == "oos" and self.cfg is not None and not self.offline_mode
        if (self.in_service or starting) and now - self._lost_since > OUT_OF_SERVICE_AFTER_S:
            self.in_service = False
            self.clear_citizen()
            self.busy = False
            if self.cfg is None:
                log.warning("out of service: the hall controller cannot be reached")
                self.go("oos")
                return
            # what the kiosk read last still holds: guides, themes and hours stay; a screen
            # that needs the controller (a number, a booking, a query, a rating) goes home
            log.warning("hall controller unreachable: guides only, from the last configuration")
            self.offline_mode = True
            if self.sm.current not in OFFLINE_SCREENS:
                self.go("home")
            self._refresh_home()

    def offline_where(self) -> str:
        """Where to go while numbers cannot be taken, from the hall file: the comprehensive
        windows' location and the hall's phone, when the file gives them."""
        cfg = self.cfg or {}
        places = list(
            dict.fromkeys(
                w.get("location")
                for w in cfg.get("windows") or []
                if w.get("kind") == "comprehensive" and w.get("location")
            )
        )
        phone = (cfg.get("hall") or {}).get("phone")
        where = (
            self.t("offline_where", place="、".join(places)) if places else self.t("offline_desk")
        )
        return where + (self.t("offline_phone", phone=phone) if phone else "")

    def offline_hours(self) -> str:
        """Today's window hours from the last configuration (its closed dates and 调休 days
        included), as the hall file writes them."""
        hours = ((self.cfg or {}).get("hall") or {}).get("hours") or {}
        today = self.hall_now().date()
        iso = today.isoformat()
        if iso in [str(d) for d in hours.get("closed_dates") or []]:
            ranges = []
        else:
            extra = {str(k): v for k, v in (hours.get("extra_days") or {}).items()}
            ranges = extra.get(iso, hours.get(WEEKDAYS[today.weekday()]) or [])
        return (
            self.t("offline_hours", ranges="、".join(ranges))
            if ranges
            else self.t("offline_no_hours")
        )

    # -- citizens --------------------------------------------------------------------------------

    @mainthread
    def _on_card(self, card: dict) -> None:
        if not self.in_service:
            return
        # the card's other data only for the 一表申请 form, in memory for this transaction
        self.citizen = {k: card[k] for k in ("id_number", "name") + CARD_EXTRA if card.get(k)}
        self.citizen_name = mask_name(card["name"])
        self.card_message = ""
        self.last_touch = time.monotonic()
        log.info("citizen identified by %s", card.get("source"))
        screen = self.sm.current_screen
        if hasattr(screen, "on_citizen"):
            screen.on_citizen()
        self._find_case()

    def _find_case(self) -> None:
        """A card read: has this citizen a 容缺 case to bring materials for? (补件签到)"""
        citizen = dict(self.citizen or {})

        def work():
            return self.client.request("case.find", {"citizen": citizen})["cases"]

        def done(cases, error):
            if error is None and cases and self.citizen == citizen:
                self.open_case = cases[0]

        self.in_background(work, done)

    def case_text(self, case: dict, lang: str) -> str:
        code = case.get("service", "")
        materials = [self.material_text(code, m) for m in case.get("materials") or []]
        return self.t(
            "case_checkin",
            lang,
            number=case.get("number", ""),
            materials=self.t("list_sep", lang).join(materials),
            window=self.window_text(case.get("window"), case.get("window_name") or ""),
        )

    def checkin_case(self) -> None:
        if self.open_case:
            self.take_number(self.open_case.get("service", ""), checkin=self.open_case["id"])

    @mainthread
    def _on_card_error(self, zh: str, en: str) -> None:
        self._card_message_until = time.monotonic() + CARD_MESSAGE_S
        self.card_message = en if self.lang == "en" else zh

    def clear_citizen(self) -> None:
        self.citizen = None
        self.citizen_name = ""
        self.open_case = {}

    def insert_sample(self, kind: str) -> None:
        if self.devices.sim:
            self.devices.sim.insert_sample(kind)

    def citizen_args(self, form: bool = False) -> dict:
        """The card for a request: its number and name; the rest of it only with a form."""
        if not self.citizen:
            return {}
        keep = ("id_number", "name") + (CARD_EXTRA if form else ())
        return {"citizen": {k: v for k, v in self.citizen.items() if k in keep}}

    def request_help(self) -> None:
        place = self.args.place or self.settings["device"]

        def done(result, error):
            if error:
                self.go("message", message=error_text(error, self.lang))
            else:
                self.go("message", message=self.t("help_sent"), kind="help")

        if self.in_service:
            self.request("help.request", {"place": place}, done=done)
