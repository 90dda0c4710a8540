"""`onewindow led`: a headless bridge from the hall bus to LED window strips and hall LED screens.

    onewindow led --device-config led-1.json --strip 3=/dev/ttyUSB0:3 --strip 4=/dev/ttyUSB0:4 \
                  --hall-screen /dev/ttyUSB1:1 --protocol gbtext

A window's strip follows that window's retained state (so it is right again after any outage):
"请A012号" (flashing) while a ticket is called, the number while it is served, 暂停服务, 窗口关闭,
欢迎光临 when open and idle. The hall screen shows the latest call, "请A012号到3号窗口".

In a hall whose `[hall] languages` include English, each text alternates with its English
("Number A012"), a frame every ALTERNATE_S: a strip's frame holds one line of GB2312 text, so a
second language can only take turns with the first. Tibetan is never sent: no strip's font ROM
has it, so a zh+bo hall's strips stay Chinese.

Each serial port gets one worker thread: frames to strips sharing a line never interleave, and
a dead strip on one line does not delay the others. A strip that fails is logged once and tried
again every second with what it should show now; nothing here ever stops the bridge.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from onewindow.i18n import Catalogue

log = logging.getLogger("onewindow.led")

RETRY_S = 1.0
ALTERNATE_S = 4.0  # each language's frame stays this long on a bilingual strip
HALL = "hall"  # the key of the hall screen among the targets
STRIP_LANGS = ("zh", "en")  # what a strip's GB2312 font can show, Chinese first

# short: a window strip is 8 Chinese characters (16 Latin letters) wide
TEXTS = Catalogue(
    "led",
    {
        "call": "请{ticket}号",
        "serving": "{ticket}",
        "paused": "暂停服务",
        "closed": "窗口关闭",
        "idle": "欢迎光临",
        "hall_call": "请{ticket}号到{window}号窗口",
        "hall_idle": "欢迎光临",
    },
)
Pages = tuple[str, ...]  # a strip's texts, shown in turn (one: shown alone)


def strip_langs(hall_languages: Optional[Sequence[str]]) -> tuple[str, ...]:
    """The languages a hall's strips show: Chinese, and English when the hall offers it.

    >>> strip_langs(["zh", "bo", "en"]), strip_langs(["zh", "bo"]), strip_langs(None)
    (('zh', 'en'), ('zh',), ('zh',))
    """
    return tuple(x for x in STRIP_LANGS if x == "zh" or x in (hall_languages or ()))


def pages(key: str, langs: Sequence[str], **fmt) -> Pages:
    """TEXTS[key] in each language, each text once (a number reads the same in both)."""
    return tuple(dict.fromkeys(TEXTS(key, lang, **fmt) for lang in langs))


def parse_port_addr(value: str, default_addr: int = 1) -> tuple[str, int]:
    """'/dev/ttyUSB0:3' -> ('/dev/ttyUSB0', 3); '/dev/ttyUSB0' -> ('/dev/ttyUSB0', 1)."""
    port, sep, addr = value.rpartition(":")
    if sep and addr.isdigit() and port:
        return port, int(addr)
    return value, default_addr


def parse_strip(value: str) -> tuple[int, str, int]:
    """'3=/dev/ttyUSB0:3' -> (3, '/dev/ttyUSB0', 3)."""
    window, sep, rest = value.partition("=")
    if not sep or not window.strip().isdigit() or not rest:
        raise ValueError(f"--strip {value!r}: expected WINDOW=PORT[:ADDR], e.g. 3=/dev/ttyUSB0:3")
    port, addr = parse_port_addr(rest)
    return int(window), port, addr


def window_text(state: Optional[dict], langs: Sequence[str] = ("zh",)) -> tuple[Pages, int]:
    """(texts, effect) a window's strip shows for its retained state."""
    from drivers.led import FLASH, STATIC

    if not state:
        return pages("idle", langs), STATIC
    status = state.get("status")
    if status == "paused":
        return pages("paused", langs), STATIC
    if status == "closed":
        return pages("closed", langs), STATIC
    ticket = state.get("serving")
    if ticket and state.get("ticket_status") in ("called", "recalled"):
        return pages("call", langs, ticket=ticket), FLASH
    if ticket:
        return pages("serving", langs, ticket=ticket), STATIC
    return pages("idle", langs), STATIC


def hall_text(call: dict, langs: Sequence[str] = ("zh",)) -> Pages:
    return pages("hall_call", langs, ticket=call.get("ticket", ""), window=call.get("window", ""))


@dataclass
class Target:
    key: object  # window number, or HALL
    strip: object  # an LedDisplay
    want: Optional[tuple[Pages, int]] = None
    shown: Optional[tuple[Pages, int]] = None
    page: int = 0  # of `shown`'s texts, the one on the strip
    force: bool = False  # send even if already shown (a recall flashes again)
    failing: bool = False
    retry_at: float = 0.0
    shown_at: float = field(default=0.0)


class PortWorker:
    """Sends what each target on one serial line should show, one frame at a time."""

    def __init__(self, port: str, refresh_s: float = 60.0, alternate_s: float = ALTERNATE_S):
        self.port = port
        self.refresh_s = refresh_s
        self.alternate_s = alternate_s
        self.targets: dict[object, Target] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"led-{port}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def set(self, key, texts: Pages, effect: int, force: bool = False) -> None:
        with self._cond:
            t = self.targets[key]
            if t.want == (texts, effect) and not force:
                return
            t.want = (texts, effect)
            t.force = t.force or force
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(5)
        for t in self.targets.values():
            try:
                t.strip.close()
            except Exception:
                pass

    def _hold(self, t: Target) -> float:
        """How long a text stays before it is sent again: its turn, or the refresh."""
        return self.alternate_s if t.want and len(t.want[0]) > 1 else self.refresh_s

    def _due(self, now: float) -> list[Target]:
        due = []
        for t in self.targets.values():
            if t.want is None:
                continue
            if t.failing:
                if now >= t.retry_at:
                    due.append(t)
            elif t.force or t.shown != t.want or now - t.shown_at >= self._hold(t):
                due.append(t)
        return due

    def _next_wake(self, now: float) -> float:
        wakes = [
            t.retry_at if t.failing else t.shown_at + self._hold(t)
            for t in self.targets.values()
            if t.want is not None
        ]
        return max(0.05, min(wakes) - now) if wakes else self.refresh_s

    @staticmethod
    def _turn(t: Target) -> tuple[int, tuple[str, int]]:
        """The page to send and (its text, effect): the next language of what is shown, or the
        first (Chinese) of something new or sent again on purpose (a recall)."""
        assert t.want is not None
        texts, effect = t.want
        page = (t.page + 1) % len(texts) if t.shown == t.want and not t.force else 0
        return page, (texts[page], effect)

    def _run(self) -> None:
        from drivers.led import LedError

        while True:
            with self._cond:
                while not self._stop:
                    now = time.monotonic()
                    due = self._due(now)
                    if due:
                        break
                    self._cond.wait(self._next_wake(now))
                if self._stop:
                    return
                jobs = [(t, t.want, *self._turn(t)) for t in due]
                for t in due:
                    t.force = False
            for t, want, page, frame in jobs:
                try:
                    t.strip.show(*frame)
                except (LedError, OSError) as exc:
                    if not t.failing:
                        log.warning(
                            "LED %s on %s: %s; retrying every %.0f s",
                            _name(t.key),
                            self.port,
                            exc,
                            RETRY_S,
                        )
                    t.failing = True
                    t.retry_at = time.monotonic() + RETRY_S
                    continue
                except Exception:  # a driver bug must not kill the line
                    log.exception("LED %s on %s: unexpected error", _name(t.key), self.port)
                    t.failing = True
                    t.retry_at = time.monotonic() + RETRY_S
                    continue
                if t.failing:
                    log.info("LED %s on %s is back: showing %r", _name(t.key), self.port, frame[0])
                t.failing = False
                t.shown, t.page = want, page
                t.shown_at = time.monotonic()


def _name(key) -> str:
    return "hall screen" if key == HALL else f"strip of window {key}"


class LedBridge:
    """Bus events and retained state -> what each strip and the hall screen show."""

    def __init__(
        self,
        client,
        strips: dict[int, tuple[str, int]],
        hall_screen: Optional[tuple[str, int]] = None,
        protocol: str = "gbtext",
        refresh_s: float = 60.0,
        strip_factory: Optional[Callable] = None,
        alternate_s: float = ALTERNATE_S,
    ):
        from drivers.led import PROTOCOLS

        factory = strip_factory or PROTOCOLS[protocol]
        self.client = client
        self.workers: dict[str, PortWorker] = {}
        self._where: dict[object, PortWorker] = {}
        self.last_call: Optional[dict] = None
        self.langs: tuple[str, ...] = ("zh",)  # until the hall's state names its languages
        for key, (port, addr) in list(strips.items()) + (
            [(HALL, hall_screen)] if hall_screen else []
        ):
            worker = self.workers.setdefault(port, PortWorker(port, refresh_s, alternate_s))
            worker.targets[key] = Target(key, factory(port, addr))
            self._where[key] = worker
        client.on_event("call", self._on_call)
        client.on_state(self._on_state)

    def start(self) -> "LedBridge":
        # until the bus speaks, strips show the neutral text rather than yesterday's number
        self._show_all()
        for worker in self.workers.values():
            worker.start()
        return self

    def _show_all(self) -> None:
        from drivers.led import FLASH, STATIC

        for key, worker in self._where.items():
            if key != HALL:
                worker.set(key, *window_text(self.client.state["windows"].get(key), self.langs))
            elif self.last_call:
                worker.set(key, hall_text(self.last_call, self.langs), FLASH)
            else:
                worker.set(key, pages("hall_idle", self.langs), STATIC)

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()

    def _on_call(self, call: dict) -> None:
        from drivers.led import FLASH

        window = call.get("window")
        ticket = call.get("ticket")
        if not ticket:
            return
        if window in self._where:
            self._where[window].set(window, pages("call", self.langs, ticket=ticket), FLASH, True)
        if HALL in self._where:
            self.last_call = call
            self._where[HALL].set(HALL, hall_text(call, self.langs), FLASH, force=True)

    def _on_state(self, kind: str, value) -> None:
        if kind == "hall" and isinstance(value, dict):
            langs = strip_langs(value.get("languages"))
            if langs != self.langs:
                log.info("strips show %s", " and ".join(langs))
                self.langs = langs
                self._show_all()
            return
        if not kind.startswith("window:"):
            return
        number = int(kind.split(":", 1)[1])
        if number in self._where:
            self._where[number].set(number, *window_text(value, self.langs))


def add_arguments(p) -> None:
    p.add_argument(
        "--strip",
        action="append",
        default=[],
        metavar="WINDOW=PORT[:ADDR]",
        help="a window's LED strip, e.g. 3=/dev/ttyUSB0:3 (repeat for each window; "
        "strips may share a port at different addresses)",
    )
    p.add_argument(
        "--hall-screen", metavar="PORT[:ADDR]", help="the hall's LED screen showing the latest call"
    )
    p.add_argument(
        "--protocol",
        default="gbtext",
        help="LED protocol (drivers/led.py PROTOCOLS; default gbtext)",
    )
    p.add_argument(
        "--refresh",
        type=float,
        default=60.0,
        help="resend every strip's text this often (s): a strip that lost power "
        "shows it again (default 60)",
    )


def main(args) -> int:
    import sys

    from drivers.led import PROTOCOLS
    from onewindow.apps import device_settings
    from onewindow.bus.client import DeviceClient

    settings = device_settings(args)
    if args.protocol not in PROTOCOLS:
        print(
            f"onewindow led: unknown --protocol {args.protocol!r} "
            f"(known: {', '.join(sorted(PROTOCOLS))})",
            file=sys.stderr,
        )
        return 2
    try:
        strips = {}
        for value in args.strip:
            window, port, addr = parse_strip(value)
            strips[window] = (port, addr)
    except ValueError as exc:
        print(f"onewindow led: {exc}", file=sys.stderr)
        return 2
    hall_screen = parse_port_addr(args.hall_screen) if args.hall_screen else None
    if not strips and not hall_screen:
        print("onewindow led: nothing to drive: give --strip and/or --hall-screen", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    client = DeviceClient(
        settings["mqtt"],
        settings["device"],
        settings["secret"],
        settings["hall"],
        events=("call",),
        windows_state=True,
    )
    bridge = LedBridge(client, strips, hall_screen, args.protocol, refresh_s=args.refresh)
    bridge.start()
    client.start()
    print(
        f"OneWindow LED bridge {settings['device']}: {len(strips)} window strips"
        f"{' and the hall screen' if hall_screen else ''}",
        flush=True,
    )
    stopping.wait()
    client.stop()
    bridge.stop()
    print("OneWindow LED bridge stopped", flush=True)
    return 0
