"""The kiosk app: the bus, the devices, the citizen of the moment, and the screens.

Threads: MQTT callbacks and device threads never touch widgets; they hop to the main thread
(UiBus, `_main`). A transaction (status check, issue, print) runs on a worker so the screen
keeps answering touches while a printer or the network takes its time.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition

from drivers import escpos
from drivers.printer import REASONS, PrinterError
from onewindow.bus.client import BusError, BusUnavailable, DeviceClient
from onewindow.domain.identity import mask_name
from onewindow.i18n import test_mark
from onewindow.uikit import UiBus, dump_targets, hall_now

from .devices import KioskDevices
from .texts import error_text, pick, text
from .widgets import load_kv

log = logging.getLogger(__name__)

OUT_OF_SERVICE_AFTER_S = 1.5      # a reconnect shorter than this does not flash the screen
CARD_MESSAGE_S = 6.0


def _main(fn: Callable, *args) -> None:
    Clock.schedule_once(lambda dt: fn(*args), 0)


class KeepRunning(ExceptionHandler):
    """A citizen's kiosk must not close on a bug: log it and carry on (the screen stays usable)."""

    def handle_exception(self, inst):
        if isinstance(inst, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        log.exception("unexpected error in the kiosk UI")
        return ExceptionManager.PASS


class KioskRoot(BoxLayout):
    pass


class KioskApp(App):
    lang = StringProperty("zh")
    elder = BooleanProperty(False)
    u0 = NumericProperty(1.0)        # size unit of the screen
    u = NumericProperty(1.0)         # the same, enlarged in elderly mode
    portrait = BooleanProperty(True)
    cols = NumericProperty(3)
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    citizen_name = StringProperty("")
    card_text = StringProperty("")
    card_message = StringProperty("")
    simulate = BooleanProperty(False)
    hall_open = BooleanProperty(True)
    printer_reason = StringProperty("none")
    problem = DictProperty({})        # what the bus says is wrong (another device has our id...)
    can_print_now = BooleanProperty(False)
    in_service = BooleanProperty(False)
    busy = BooleanProperty(False)
    queues = DictProperty({})

    def __init__(self, settings: dict, args):
        super().__init__()
        self.settings, self.args = settings, args
        self.title = "OneWindow 自助服务"
        self.lang = args.lang
        self.simulate = bool(args.simulate)
        self.cfg: Optional[dict] = None
        self.services: dict = {}
        self.themes: dict = {}
        self.hall_state: dict = {}
        self.citizen: Optional[dict] = None      # {id_number, name}: memory only, one transaction
        self._pending_issue: Optional[tuple[str, str]] = None   # (args, request id) until answered
        self.session_ticket: Optional[dict] = None
        self.last_touch = time.monotonic()
        self._lost_since: Optional[float] = None
        self._last_sig = self._written_sig = None
        self._card_message_until = 0.0
        self._config_version = None
        self._config_loading = False
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kiosk")

    # -- set-up ----------------------------------------------------------------------------------

    def build(self):
        ExceptionManager.add_handler(KeepRunning())
        load_kv("root.kv")
        from .screens import all_screens
        root = KioskRoot()
        self.sm = root.ids.sm
        self.sm.transition = NoTransition()
        for screen in all_screens():
            self.sm.add_widget(screen)
        self.sm.current = "oos"
        Window.bind(size=lambda *a: self._resize(), on_touch_down=self._touched)
        self.bind(elder=lambda *a: self._resize(), lang=self._update_card_text,
                  citizen_name=self._update_card_text, card_message=self._update_card_text)
        self._resize()
        self._update_card_text()

        s = self.settings
        self.client = DeviceClient(s["mqtt"], s["device"], s["secret"], s["hall"], events=(),
                                   windows_state=False)
        self.bus = UiBus(self.client)
        self.bus.on_state(self._on_state)
        self.bus.on_connection(self._on_connection)
        self.devices = KioskDevices(self.args, on_printer=lambda r: _main(self._on_printer, r),
                                    on_card=lambda c: _main(self._on_card, c),
                                    on_card_error=lambda zh, en: _main(self._on_card_error, zh, en))
        self.client.start()
        self.devices.start()
        Clock.schedule_interval(lambda dt: self._tick(), 1.0)
        Clock.schedule_interval(lambda dt: self._check_service(), 0.5)
        Clock.schedule_interval(lambda dt: self.dump(), 0.1)
        self._tick()
        return root

    def on_stop(self):
        self.devices.stop()
        self.client.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _resize(self) -> None:
        w, h = Window.size
        self.u0 = min(w, h) / 1080.0
        self.u = self.u0 * (1.3 if self.elder else 1.0)
        self.portrait = h >= w
        self.cols = (2 if self.elder else 3) if self.portrait else (3 if self.elder else 5)

    # -- texts -----------------------------------------------------------------------------------

    def t(self, key: str, lang: Optional[str] = None, **fmt) -> str:
        return text(key, lang or self.lang, **fmt)

    def pick(self, obj: dict, field: str = "name") -> str:
        return pick(obj, field, self.lang)

    def toggle_lang(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
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

    def go(self, name: str, **kw) -> None:
        if name == "home" and self.sm.current != "home":
            # back home = the transaction is over: the next person must not inherit the card
            self.clear_citizen()
            self._pending_issue = None
        screen = self.sm.get_screen(name)
        if hasattr(screen, "prepare"):
            screen.prepare(**kw)
        self.sm.current = name

    def go_home(self, *a) -> None:
        self.go("home")

    def dump(self) -> None:
        """Tests' view of the screen, written once it holds still: a screen being laid out
        (ScrollView contents take a few frames) would send a touch to the wrong place."""
        sig = (self.sm.current, self._signature())
        if sig == self._last_sig and sig != self._written_sig:
            dump_targets(self.root, self.sm.current)
            self._written_sig = sig
        self._last_sig = sig

    def _signature(self) -> list:
        found = []

        def walk(w):
            tid = getattr(w, "test_id", None)
            if tid:
                found.append((tid, tuple(round(v) for v in w.to_window(w.center_x, w.center_y)),
                              tuple(round(v) for v in w.size), str(getattr(w, "text", ""))))
            for child in w.children:
                walk(child)
        walk(self.root)
        return found

    def _touched(self, *a) -> None:
        self.last_touch = time.monotonic()

    def _tick(self) -> None:
        self.clock_text = hall_now(self.hall_state).strftime("%Y-%m-%d  %H:%M")
        now = time.monotonic()
        if self.card_message and now >= self._card_message_until:
            self.card_message = ""
        if now - self.last_touch > self.args.idle:
            self.last_touch = now
            chosen = self.lang != self.args.lang or self.elder   # the last citizen's choices
            if self.citizen or chosen or self.sm.current not in ("home", "oos"):
                log.info("idle: back to the home screen")
                self.clear_citizen()
                self.session_ticket = None
                if self.lang != self.args.lang:
                    self.toggle_lang()
                if self.elder:
                    self.toggle_elder()
                if self.sm.current != "oos":
                    self.go("home")

    # -- the bus ---------------------------------------------------------------------------------

    def _on_connection(self, up: bool) -> None:
        if up:
            self._load_config()
            if self.printer_reason not in ("none",):
                self._report_printer(self.printer_reason)

    def _on_state(self, kind: str, value) -> None:
        if kind == "problem":
            self.problem = value or {}
        elif kind == "hall" and isinstance(value, dict):
            self.hall_state = value
            if value.get("config_version") != self._config_version:
                self._load_config()
            self._apply_hall()
        elif kind == "queues" and isinstance(value, dict):
            self.queues = value

    def _load_config(self) -> None:
        if self._config_loading:
            return
        self._config_loading = True

        def done(result, error):
            self._config_loading = False
            if error:
                log.warning("config.get failed: %s", error)
                return
            self.cfg = result
            self.services = {s["code"]: s for s in result.get("services", [])}
            self.themes = {t["code"]: t for t in result.get("themes", [])}
            self._config_version = self.hall_state.get("config_version")
            self._apply_hall()
            self.sm.get_screen("home").rebuild()
        self.bus.request("config.get", done=done)

    def _apply_hall(self) -> None:
        hall = (self.cfg or {}).get("hall") or {}
        state = self.hall_state or {}
        self.hall_name = test_mark(state) + (pick(hall, "name", self.lang) or pick(state, "name", self.lang))
        self.hall_open = bool(state.get("open", True))
        home = self.sm.get_screen("home")
        home.refresh()

    def next_opening_text(self) -> str:
        return pick(self.hall_state or {}, "next_opening_text", self.lang)

    def _check_service(self) -> None:
        c = self.client
        ok = (c.connected.is_set() and c.controller_online is not False and not self.problem
              and self.cfg is not None and bool(self.hall_state))
        now = time.monotonic()
        if ok:
            self._lost_since = None
            if not self.in_service:
                self.in_service = True
                log.info("in service")
                self.go("home")
            return
        if self._lost_since is None:
            self._lost_since = now
        if self.in_service and now - self._lost_since > OUT_OF_SERVICE_AFTER_S:
            self.in_service = False
            log.warning("out of service: the hall controller cannot be reached")
            self.clear_citizen()
            self.busy = False
            self.go("oos")

    # -- citizens --------------------------------------------------------------------------------

    def _on_card(self, card: dict) -> None:
        if not self.in_service:
            return
        self.citizen = {"id_number": card["id_number"], "name": card["name"]}
        self.citizen_name = mask_name(card["name"])
        self.card_message = ""
        self.last_touch = time.monotonic()
        log.info("citizen identified by %s", card.get("source"))
        screen = self.sm.current_screen
        if hasattr(screen, "on_citizen"):
            screen.on_citizen()

    def _on_card_error(self, zh: str, en: str) -> None:
        self._card_message_until = time.monotonic() + CARD_MESSAGE_S
        self.card_message = en if self.lang == "en" else zh

    def clear_citizen(self) -> None:
        self.citizen = None
        self.citizen_name = ""

    def insert_sample(self, kind: str) -> None:
        if self.devices.sim:
            self.devices.sim.insert_sample(kind)

    def citizen_args(self) -> dict:
        return {"citizen": dict(self.citizen)} if self.citizen else {}

    # -- the printer -----------------------------------------------------------------------------

    @property
    def can_print(self) -> bool:
        return self.printer_reason in ("ready", "paper_near_end")

    def printer_message(self, reason: Optional[str] = None) -> str:
        reason = reason or self.printer_reason
        zh, en = REASONS.get(reason, REASONS["error"])
        return en if self.lang == "en" else zh

    def _on_printer(self, reason: str) -> None:
        log.info("printer: %s", reason)
        self.printer_reason = reason
        self.can_print_now = self.can_print
        self._report_printer(reason)
        self.sm.get_screen("home").refresh()

    def _report_printer(self, reason: str) -> None:
        if reason == "none":
            return
        self.bus.request("device.health", {"part": "printer", "status": reason,
                                           "reason": REASONS.get(reason, ("", ""))[0]},
                         done=lambda r, e: e and log.warning("device.health not sent: %s", e))

    # -- transactions ----------------------------------------------------------------------------

    def take_number(self, code: str, answers: Optional[dict] = None,
                    appointment_id: Optional[str] = None,
                    failed: Optional[Callable[[str], None]] = None) -> None:
        """Issue (printed or not, as the printer stands right now), show, print, report."""
        if self.busy:
            return
        self.busy = True
        args = {"service": code, "channel": "kiosk", **self.citizen_args()}
        if answers is not None:
            args["answers"] = answers
        if appointment_id:
            args["appointment_id"] = appointment_id
        # the paper ticket is always Chinese: it is shown at the windows too
        hall_name = ((self.cfg or {}).get("hall") or {}).get("name") or self.hall_name

        # a retry after "unavailable" reuses the request id: if the first try did reach the
        # controller, the citizen gets that ticket again, never a second one
        key = json.dumps(args, sort_keys=True, ensure_ascii=False)
        if self._pending_issue is None or self._pending_issue[0] != key:
            self._pending_issue = (key, self.client.new_id())
        req_id = self._pending_issue[1]

        def work():
            reason = self.devices.printer_status() if self.devices.printer else "none"
            printing = reason in ("ready", "paper_near_end")
            try:
                ticket = self.client.request("ticket.issue", {**args, "printed": printing},
                                             req_id=req_id)["ticket"]
            except BusError as exc:
                _main(self._issue_failed, exc, failed)
                return
            _main(self._issued, ticket, "printing" if printing else
                  ("screen" if reason == "none" else "failed"), reason)
            if not printing:
                return
            try:
                self.devices.print(escpos.ticket(ticket, hall_name), ticket["number"])
            except PrinterError as exc:
                why = exc.status.reason
                log.warning("ticket %s did not print: %s", ticket["number"], why)
                _main(self._print_result, ticket, "failed", why)
                try:
                    self.client.request("ticket.printed", {"ticket_id": ticket["id"], "printed": False,
                                                           "reason": exc.status.message})
                except BusError as err:
                    log.warning("ticket.printed not sent: %s", err)
                return
            _main(self._print_result, ticket, "printed", "ready")
        self.pool.submit(work)

    def _issued(self, ticket: dict, print_state: str, reason: str) -> None:
        self.busy = False
        self._pending_issue = None
        self.clear_citizen()            # the controller has what it needs; the kiosk forgets
        self.session_ticket = ticket
        self.go("ticket", ticket=ticket, print_state=print_state, reason=reason)

    def _print_result(self, ticket: dict, print_state: str, reason: str) -> None:
        screen = self.sm.get_screen("ticket")
        if screen.ticket and screen.ticket.get("id") == ticket["id"]:
            screen.set_print_state(print_state, reason)

    def _issue_failed(self, exc: BusError, failed) -> None:
        self.busy = False
        log.warning("ticket.issue refused: %s", exc.code)
        message = error_text(exc, self.lang)
        if isinstance(exc, BusUnavailable):
            message = self.t("err_unavailable")
        else:
            self._pending_issue = None  # a definite answer: the transaction is over
            self.clear_citizen()
        if failed:
            failed(message)
        else:
            self.go("message", message=message)

    def print_guide(self, service: dict, done: Callable[[str, str], None]) -> None:
        """Print a 明白卡; done('printed'|'failed', reason) on the main thread."""
        def work():
            try:
                self.devices.print(escpos.guide_card(service), f"guide-{service['code']}")
            except PrinterError as exc:
                _main(done, "failed", exc.status.reason)
                return
            _main(done, "printed", "ready")
        self.pool.submit(work)

    def request(self, op: str, args: dict, done: Callable) -> None:
        self.bus.request(op, args, done=done)

    def request_help(self) -> None:
        place = self.args.place or self.settings["device"]

        def done(result, error):
            if error:
                self.go("message", message=error_text(error, self.lang))
            else:
                self.go("message", message=self.t("help_sent"), kind="help")
        if self.in_service:
            self.bus.request("help.request", {"place": place}, done=done)
