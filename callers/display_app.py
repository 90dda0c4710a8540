"""The hall's calling screen: the call now (flashing), the calls before, every window, the queues,
the hall notice and a clock, readable from across the hall.

Everything shown comes from the bus: calls from evt/call, the rest from retained state, so the
screen is right again by itself after any outage. Calls carry no citizen data and the screen
shows none (not even the staff name a window's state carries).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Optional

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.stencilview import StencilView

from onewindow.appbase import HallApp
from onewindow.i18n import Catalogue, hall_languages, pick, test_mark
from onewindow.uikit import load_kv

from .voicepack import Call

log = logging.getLogger("onewindow.display")

TEXTS = Catalogue(
    "display",
    {
        "go_to": "请到 {window} 办理",
        "idle": "欢迎光临",
        "waiting_call": "请留意叫号",
        "open_idle": "等候叫号",
        "serving": "{ticket}",
        "paused": "暂停服务",
        "paused_reason": "暂停 · {reason}",
        "closed": "窗口关闭",
        "held": "{state} · 暂缓 {numbers}",
        "people": "{n}人",
        "window_n": "{n}号窗口",
        "now_calling": "正在呼叫",
        "recent_calls": "最近呼叫",
        "windows_title": "窗口状态",
        "waiting_title": "等候人数",
        "offline": "连接中断，正在恢复",
        "number_go_to": "{ticket}号 请到{window}办理",
        "weekdays": "星期一 星期二 星期三 星期四 星期五 星期六 星期日",
    },
)

RECENT_SLOTS = 8
STARTUP_GRACE_S = 2.0  # no banner while the first connection is being made
RESYNC_AFTER_S = 1.0  # retained state arrives within this after a reconnect
SHOWN_KEPT = 500  # calls remembered as shown: more than a hall's windows call in an outage
TICKER_FPS = 20
TICKER_SPEED = 70  # pixels a second at 1920x1080

YELLOW = (1, 0.85, 0.1, 1)
WHITE = (1, 1, 1, 1)
GREY = (0.55, 0.6, 0.7, 1)
ORANGE = (1, 0.6, 0.15, 1)


class WindowRow(BoxLayout):
    number = NumericProperty(0)
    name_text = StringProperty("")
    name_2 = StringProperty("")  # in the hall's second language, beside ("" none given)
    # the widest Chinese name of all rows, in ems of its font: one column, so the names in the
    # second language beside it line up
    name_em = NumericProperty(0)
    state_text = StringProperty("")
    state_color = ColorProperty(WHITE)
    state_bold = BooleanProperty(False)


class QueueCell(BoxLayout):
    code = StringProperty("")
    name_text = StringProperty("")
    name_2 = StringProperty("")  # in the hall's second language, beneath ("" none given)
    count_text = StringProperty("")
    waiting = NumericProperty(0)


class RecentCell(BoxLayout):
    index = NumericProperty(0)
    ticket = StringProperty("")
    window_text = StringProperty("")
    window_2 = StringProperty("")  # in the hall's second language, beneath ("" none given)


OFFLINE_TEXT = (
    "连接中断，正在恢复",
    "Connection lost, reconnecting: the calls shown may be out of date",
)


class OfflineBanner(BoxLayout):
    text = StringProperty(OFFLINE_TEXT[0])
    text_en = StringProperty(OFFLINE_TEXT[1])


class Ticker(StencilView):
    """The notice's strip: the notice scrolls inside it (tests read its text here, where it
    holds still)."""

    test_id = StringProperty("")
    text = StringProperty("")


class DisplayRoot(FloatLayout):
    hall_name = StringProperty("")
    hall_name_en = StringProperty("")
    clock_text = StringProperty("")
    date_text = StringProperty("")
    call_ticket = StringProperty("")
    call_window = StringProperty("")
    call_window_en = StringProperty("")
    notice = StringProperty("")
    flash_on = BooleanProperty(False)
    banner = ObjectProperty(None, allownone=True)


def window_state_text(w: dict) -> tuple[str, tuple, bool]:
    """(text, colour, bold) of one window's state on the screen; citizens held (挂起) there are
    shown as 暂缓, so one who stepped away sees their number is kept."""
    text, colour, bold = _state_text(w)
    held = [h.get("number") for h in w.get("held") or [] if h.get("number")]
    if held and w.get("status") != "closed":
        text = TEXTS("held", state=text, numbers=" ".join(held))
    return text, colour, bold


def _state_text(w: dict) -> tuple[str, tuple, bool]:
    status = w.get("status")
    if status == "closed":
        return TEXTS("closed"), GREY, False
    if status == "paused":
        reason = (w.get("reason") or "").strip()
        text = TEXTS("paused_reason", reason=reason) if reason else TEXTS("paused")
        return text, ORANGE, True
    if w.get("serving"):
        return TEXTS("serving", ticket=w["serving"]), YELLOW, True
    return TEXTS("open_idle"), WHITE, False


class DisplayApp(HallApp):
    TEXTS = TEXTS
    DESIGN_SIZE = (1920, 1080)
    # evt/ticket and evt/window for the announcements of a 过号 and a window pausing
    EVENTS = ("call", "ticket", "window")

    second = StringProperty("en")  # the hall's second language, under the Chinese ("" none)

    def __init__(
        self,
        settings: dict,
        announcer=None,
        flash_seconds: float = 6.0,
        ticker_fps: float = TICKER_FPS,
        **kw,
    ):
        super().__init__(settings, **kw)
        self.announcer = announcer
        self.flash_seconds = flash_seconds
        self.ticker_fps = ticker_fps
        self.calls: list[dict] = []  # newest first; calls[0] is the one shown big
        # every call shown lately, beyond the recent list: a resync must not take one that fell
        # off the list for a call missed during an outage, and show it big again
        self._shown: OrderedDict[str, None] = OrderedDict()
        self.started_at = 0.0
        self.offline_since: Optional[float] = None
        self._flash_event = None
        self._flash_until = 0.0
        self._ticker_x = None
        self._rows: dict[int, WindowRow] = {}
        self._cells: dict[str, QueueCell] = {}
        self._recent: list[RecentCell] = []
        self._voice_version = None  # the config_version the voice's languages were read at
        # what the hall's [voice] announces besides calls: unknown (nothing) until config.get
        self.announce_pause = False
        self.announce_no_show = False
        # each window's status as last heard (its first retained state, then its events), so
        # a pause is announced at the change only, not when a paused window changes its reason
        self._window_status: dict[int, str] = {}

    def build(self):
        self.title = "OneWindow 叫号屏"
        load_kv(Path(__file__).parent / "kv" / "display.kv")
        root = DisplayRoot()
        self.root_widget = root
        self.bind(u=lambda *_: self._place_banner())
        root.bind(size=lambda *_: self._place_banner())
        root.ids.windows_box.bind(size=lambda *_: self._size_rows())
        for i in range(RECENT_SLOTS):
            cell = RecentCell(index=i)
            self._recent.append(cell)
            root.ids.recent_grid.add_widget(cell)
        root.call_ticket = ""
        root.call_window = TEXTS("idle")
        root.call_window_en = TEXTS("waiting_call", self.second) if self.second else ""
        return root

    def on_start(self):
        self.started_at = Clock.get_time()
        super().on_start()
        self.tick_clock(0)
        Clock.schedule_interval(self.tick_clock, 1.0)
        if self.ticker_fps > 0:
            Clock.schedule_interval(self.tick_ticker, 1.0 / self.ticker_fps)
        Clock.schedule_interval(self.tick_watch, 0.3)
        self._size_rows()
        self._place_banner()

    def test_screen(self) -> str:
        return "offline" if self.root_widget.banner is not None else "main"

    # -- bus -----------------------------------------------------------------------------------

    def bus_event(self, kind: str, call: dict) -> None:
        if kind == "window":
            self.window_event(call)
            return
        if kind == "ticket":
            self.ticket_event(call)
            return
        if not call.get("ticket"):
            return
        # the panel shows a call the moment it is made, as the window strips do: in a burst the
        # voice reads its queue of calls seconds later, and the screen must not wait for it
        self.show_call(call)
        if self.announcer is not None:
            kind = "recall" if call.get("recall") else "call"
            self.announcer.announce(Call(call["ticket"], call.get("window") or 0, kind))

    def window_event(self, evt: dict) -> None:
        number = evt.get("window")
        if not isinstance(number, int):
            return
        before = self._window_status.get(number)
        self._window_status[number] = evt.get("status") or ""
        if (
            evt.get("event") == "pause"
            and before != "paused"
            and self.announce_pause
            and self.announcer is not None
        ):
            log.info("announcing: window %s paused", number)  # the hall's record of what it said
            self.announcer.announce(Call("", number, "pause"))

    def ticket_event(self, evt: dict) -> None:
        window = evt.get("window")
        if (
            evt.get("event") == "no_show"
            and evt.get("ticket")
            and isinstance(window, int)
            and self.announce_no_show
            and self.announcer is not None
        ):
            log.info("announcing: %s missed (过号) at window %s", evt["ticket"], window)
            self.announcer.announce(Call(evt["ticket"], window, "missed"))

    def bus_state(self, kind: str, value) -> None:
        if kind == "hall":
            self.update_hall(value or {})
            self.load_voice_settings()
        elif kind == "queues":
            self.update_queues(value or {})
        elif kind.startswith("window:"):
            if isinstance(value, dict) and isinstance(value.get("window"), int):
                self._window_status.setdefault(value["window"], value.get("status") or "")
            self.update_windows()
        else:
            self.update_banner()  # the controller or the bus's diagnosis changed

    def bus_connection(self, up: bool) -> None:
        if not up:  # events may be missed: the retained states say where the windows are
            self._window_status.clear()
        self.update_banner()

    def load_voice_settings(self) -> None:
        """The languages calls are announced in (config.get `voice`, the hall file's `[voice]`),
        fetched again whenever the hall's configuration changes."""
        version = self.hall_state.get("config_version")
        if self.announcer is None or not self.online or version == self._voice_version:
            return
        self._voice_version = version

        def done(result, error):
            if error is not None:
                log.warning("config.get: %s; the voice keeps its languages", error)
                self._voice_version = None  # asked again at the next state/hall
                return
            # a controller from before the [voice] section announces in Mandarin, as it did
            voice = result.get("voice") or {}
            languages = voice.get("languages") or ["zh"]
            if languages != self.announcer.synth.languages:
                log.info("calls are announced in %s", ", ".join(languages))
            self.announcer.synth.set_languages(languages)
            # a controller from before these options announced neither
            self.announce_pause = voice.get("pause") is True
            self.announce_no_show = voice.get("no_show") is True

        self.request("config.get", {}, done)

    def on_online(self, _app, online: bool) -> None:
        if online:  # calls made meanwhile were missed: the windows say who is called
            Clock.schedule_once(lambda dt: self.resync(), RESYNC_AFTER_S)
            self.load_voice_settings()

    # -- what is shown -------------------------------------------------------------------------

    def show_call(self, call: dict, flash: bool = True) -> None:
        key = call.get("ticket_id") or call.get("ticket")
        self._shown[key] = None
        self._shown.move_to_end(key)
        while len(self._shown) > SHOWN_KEPT:
            self._shown.popitem(last=False)
        self.calls = [c for c in self.calls if (c.get("ticket_id") or c.get("ticket")) != key]
        self.calls.insert(0, call)
        del self.calls[RECENT_SLOTS + 1 :]
        self.update_calls()
        if flash:
            self.start_flash()

    def update_calls(self) -> None:
        root = self.root_widget
        if self.calls:
            now = self.calls[0]
            root.call_ticket = now["ticket"]
            name = now.get("window_name") or TEXTS("window_n", n=now.get("window"))
            root.call_window = TEXTS("go_to", window=name)
            # the hall's second language ([hall] languages) on the line below, if it has one
            second = self.second
            name_2 = now.get(f"window_name_{second}") or TEXTS(
                "window_n", second, n=now.get("window")
            )
            root.call_window_en = (
                TEXTS("number_go_to", second, ticket=now["ticket"], window=name_2) if second else ""
            )
        for i, cell in enumerate(self._recent):
            c = self.calls[i + 1] if i + 1 < len(self.calls) else None
            cell.ticket = c["ticket"] if c else ""
            cell.window_text = (
                (c.get("window_name") or TEXTS("window_n", n=c.get("window"))) if c else ""
            )
            cell.window_2 = self.second_text(c, "window_name") if c else ""

    def second_text(self, obj: dict, field: str = "name") -> str:
        """`obj`'s `field` in the hall's second language as the hall file gives it, shown with
        the Chinese; "" where the file gives none (or the Chinese again): never made up."""
        if not self.second:
            return ""
        text = (obj.get(f"{field}_{self.second}") or "").strip()
        return "" if text == (obj.get(field) or "").strip() else text

    def start_flash(self) -> None:
        self._flash_until = Clock.get_time() + self.flash_seconds
        self.root_widget.flash_on = True
        if self._flash_event is None:
            self._flash_event = Clock.schedule_interval(self._flash_step, 0.5)

    def _flash_step(self, dt) -> None:
        root = self.root_widget
        if Clock.get_time() >= self._flash_until:
            root.flash_on = False
            self._flash_event.cancel()
            self._flash_event = None
            return
        root.flash_on = not root.flash_on

    def update_hall(self, hall: dict) -> None:
        root = self.root_widget
        root.hall_name = test_mark(hall) + hall.get("name", "")
        langs = [x for x in hall_languages(hall) if x != "zh"]
        before, self.second = self.second, langs[0] if langs else ""
        if self.second != before:  # the names with the Chinese are in the other language now
            self.update_windows()
            if self.client.state.get("queues") is not None:
                self.update_queues(self.client.state["queues"])
            self.update_calls()
        root.hall_name_en = pick(hall, "name", self.second) if self.second else ""
        if root.hall_name_en == hall.get("name"):
            root.hall_name_en = ""
        notice = (hall.get("notice") or "").strip()
        if notice != root.notice:
            root.notice = notice
            self._ticker_x = None
            Clock.schedule_once(self.tick_ticker, 0)

    def update_windows(self) -> None:
        box = self.root_widget.ids.windows_box
        windows = self.client.state["windows"]
        if set(windows) != set(self._rows):
            box.clear_widgets()
            self._rows = {}
            for number in sorted(windows):
                row = WindowRow(number=number)
                self._rows[number] = row
                box.add_widget(row)
            self._size_rows()
        for number, row in self._rows.items():
            w = windows.get(number) or {}
            row.name_text = w.get("name") or TEXTS("window_n", n=number)
            row.name_2 = self.second_text(w)
            row.state_text, row.state_color, row.state_bold = window_state_text(w)
        if self._rows:
            label = next(iter(self._rows.values())).ids.name
            widest = max(label._label.get_extents(r.name_text)[0] for r in self._rows.values())
            for row in self._rows.values():
                row.name_em = widest / max(1.0, label.font_size)

    def update_queues(self, queues: dict) -> None:
        grid = self.root_widget.ids.queues_grid
        if list(queues) != list(self._cells):
            grid.clear_widgets()
            self._cells = {}
            for code in queues:
                cell = QueueCell(code=code)
                self._cells[code] = cell
                grid.add_widget(cell)
        for code, cell in self._cells.items():
            q = queues.get(code) or {}
            n = int(q.get("waiting") or 0)
            cell.name_text = q.get("name") or code
            cell.name_2 = self.second_text(q)
            cell.waiting = n
            cell.count_text = TEXTS("people", n=n)

    def _size_rows(self) -> None:
        box = self.root_widget.ids.windows_box
        n = max(1, len(self._rows))
        height = max(10, (box.height - box.padding[3]) / n)
        for row in self._rows.values():
            row.height = height

    def _place_banner(self) -> None:
        root = self.root_widget
        if root.banner is not None:
            root.banner.pos = (0, root.height - 112 * self.u - root.banner.height)

    def update_banner(self) -> None:
        root = self.root_widget
        now = Clock.get_time()
        if self.online:
            self.offline_since = None
        elif self.offline_since is None:
            self.offline_since = now
        show = not self.online and now - self.started_at >= STARTUP_GRACE_S
        if show and root.banner is None:
            root.banner = OfflineBanner()
            root.add_widget(root.banner)
            self._place_banner()
            log.warning("hall controller unreachable: showing the offline banner")
        if root.banner is not None:
            banner = root.banner
            banner.text, banner.text_en = (
                (self.problem["message"], self.problem["message_en"])
                if self.problem
                else OFFLINE_TEXT
            )
        if not show and root.banner is not None:
            root.remove_widget(root.banner)
            root.banner = None
            log.info("hall controller reachable again")

    def resync(self) -> None:
        """After an outage: calls made meanwhile were not heard, but the windows say who is called."""
        if not self.online:
            return
        self.update_windows()
        if self.client.state.get("hall"):
            self.update_hall(self.client.state["hall"])
        if self.client.state.get("queues") is not None:
            self.update_queues(self.client.state["queues"])
        known = set(self._shown)
        missed = [
            w
            for w in self.client.state["windows"].values()
            if w.get("ticket_id")
            and w.get("ticket_status") in ("called", "recalled")
            and w["ticket_id"] not in known
        ]
        for w in sorted(missed, key=lambda w: w.get("since") or ""):
            self.show_call(
                {
                    "ticket": w["serving"],
                    "ticket_id": w["ticket_id"],
                    "window": w["window"],
                    "window_name": w.get("name"),
                    "window_name_en": w.get("name_en"),
                    "recall": False,
                },
                flash=False,
            )

    # -- clocks -----------------------------------------------------------------------------------

    def tick_clock(self, dt) -> None:
        now = self.hall_now()
        root = self.root_widget
        root.clock_text = now.strftime("%H:%M:%S")
        weekday = TEXTS("weekdays").split()[now.weekday()]
        root.date_text = f"{now.year}年{now.month}月{now.day}日 {weekday}"

    def tick_ticker(self, dt) -> None:
        root = self.root_widget
        label, box = root.ids.notice, root.ids.ticker
        if not root.notice:
            return
        if self._ticker_x is None:  # a new notice starts readable, then scrolls
            self._ticker_x = box.x + 30 * self.u
        elif self._ticker_x + label.width < box.x:
            self._ticker_x = box.right
        if self.ticker_fps > 0:
            self._ticker_x -= TICKER_SPEED * self.u * dt
        label.x = self._ticker_x

    def tick_watch(self, dt) -> None:
        self.update_banner()
