"""`onewindow keypad`: hardware caller keypads and rating pads on one RS-485 line, bridged to the bus.

One caller device (registered for all the line's windows) sends the window ops; an optional
rating device submits the pads' ratings. Keys are handled one at a time, in the order pressed,
on a worker thread, so a slow controller never stalls the serial reader.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from onewindow.apps import device_settings

log = logging.getLogger("onewindow.keypad")

PROMPT_S = 60.0  # a bad rating's reason is taken from the pad's next key this long
PAUSE_REASON = "临时离开"  # a keypad has no reason list: its pause key means "away for a moment"


def _pairs(text: str, what: str) -> tuple[int, int]:
    key, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return int(key, 0), int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must look like ADDR=WINDOW (e.g. 1=3), not {text!r}"
        ) from None


def pad_arg(text: str) -> tuple[int, int]:
    return _pairs(text, "--pad / --rating-pad")


def rating_map_arg(text: str) -> dict[int, int]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, level = _pairs(part, "--rating-map")
        if not 1 <= level <= 5:
            raise argparse.ArgumentTypeError(f"--rating-map: level {level} is not 1..5")
        out[key] = level
    if not out:
        raise argparse.ArgumentTypeError("--rating-map is empty")
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port", required=True, help="serial port of the RS-485 line, e.g. /dev/ttyUSB0"
    )
    p.add_argument("--baud", type=int, default=9600, help="line speed (default 9600, 8N1)")
    p.add_argument(
        "--pad",
        type=pad_arg,
        action="append",
        default=[],
        metavar="ADDR=WINDOW",
        help="a caller keypad's bus address and its window (repeatable)",
    )
    p.add_argument(
        "--rating-pad",
        type=pad_arg,
        action="append",
        default=[],
        metavar="ADDR=WINDOW",
        help="a rating pad's bus address and its window (repeatable)",
    )
    p.add_argument(
        "--rating-map",
        type=rating_map_arg,
        default=None,
        metavar="KEY=LEVEL,...",
        help="rating pad key -> level 1..5 (default 0=5,1=4,2=2,3=1)",
    )
    p.add_argument(
        "--rating-device", help="device id of role rating bound to the rating pads' windows"
    )
    p.add_argument("--rating-secret", help="that rating device's secret")


class KeypadBridge:
    """Key events in, window ops out; window state and rating invitations back to the pads."""

    def __init__(
        self,
        keypads,
        caller,
        rater=None,
        pads: Optional[dict[int, int]] = None,
        rating_pads: Optional[dict[int, int]] = None,
    ):
        self.keypads = keypads  # drivers.keypad.KeypadBus (or anything with its methods)
        self.caller = caller  # DeviceClient of role caller, bound to every pad's window
        self.rater = rater  # DeviceClient of role rating, or None
        self.pads = dict(pads or {})  # keypad address -> window
        self.rating_pads = dict(rating_pads or {})  # rating pad address -> window
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keypad-ops")
        self._shown: dict[int, tuple] = {}
        self._prompts: dict[
            int, tuple
        ] = {}  # rating pad -> (level, reasons, until): a reason asked
        self._show_lock = threading.Lock()
        caller.on_state(self._on_state)
        caller.on_event("rating", self._on_rating_event)
        link = getattr(keypads, "link", None)
        if link is not None:
            link.listeners.append(self._on_link)

    # -- pad -> bus ------------------------------------------------------------------------------

    def on_key(self, ev) -> None:
        """Called on the serial reader's thread: queue it, never wait for the controller there."""
        self._work.submit(self._handle, ev)

    def _handle(self, ev) -> None:
        try:
            if ev.action == "rating":
                self._rate(ev)
                return
            window = self.pads.get(ev.addr)
            if window is None:
                log.warning("keypad at address %d is not mapped to a window (--pad)", ev.addr)
                return
            handler = getattr(self, f"_do_{ev.action}", None)
            if handler is None:
                log.warning("keypad %d: no handler for %s", ev.addr, ev.action)
                return
            handler(ev.addr, window)
        except Exception as exc:  # a refusal or an outage is logged; the bridge goes on
            from onewindow.bus.client import BusError

            if isinstance(exc, BusError):
                log.warning("keypad %d (%s): %s [%s]", ev.addr, ev.action, exc.message, exc.code)
            else:
                log.exception("keypad %d (%s) failed", ev.addr, ev.action)

    def _op(self, op: str, window: int, **args) -> dict:
        result = self.caller.request(op, {"window": window, **args})
        log.info("window %d: %s -> %s", window, op, _summary(result))
        return result

    def _do_call_next(self, addr: int, window: int) -> None:
        """A keypad has no 开始办理 key, so its 呼叫 means "办结, next": the ticket at the window is
        recorded done (`current: "done"`); staff mark a citizen who never came with 6 then 确认
        (过号) before pressing 呼叫."""
        from onewindow.bus.client import BusError

        try:
            result = self._op("window.call_next", window, current="done")
        except BusError as exc:
            # a keypad has no open or resume key: pressing call is how staff starts work
            if exc.code == "window_closed":
                self._op("window.open", window)
            elif exc.code == "window_paused":
                self._op("window.resume", window)
            else:
                raise
            result = self._op("window.call_next", window, current="done")
        ticket = result.get("ticket")
        self._show(addr, window, ticket["number"] if ticket else None, beep=ticket is not None)

    def _do_recall(self, addr: int, window: int) -> None:
        ticket = self._op("window.recall", window)["ticket"]
        self._show(addr, window, ticket["number"], beep=True)

    def _do_skip(self, addr: int, window: int) -> None:
        self._op("window.skip", window)
        self._show(addr, window, None)

    def _do_finish(self, addr: int, window: int) -> None:
        self._op("window.finish", window)  # the controller's evt/rating invite starts the pad
        self._show(addr, window, None)

    def _do_pause(self, addr: int, window: int) -> None:
        status = (self.caller.state["windows"].get(window) or {}).get("status")
        if status == "paused":
            self._op("window.resume", window)
        else:
            self._op("window.pause", window, reason=PAUSE_REASON)

    def _do_transfer(self, addr: int, window: int) -> None:
        """A keypad cannot pick a target: the ticket goes back to its own service's queue, keeping
        its queue time, for whichever window takes that service next."""
        ticket_id = (self.caller.state["windows"].get(window) or {}).get("ticket_id")
        if not ticket_id:
            log.warning("window %d: transfer pressed with no ticket at the window", window)
            return
        ticket = self.caller.request("queue.status", {"ticket_id": ticket_id})["ticket"]
        self._op("window.transfer", window, to_service=ticket["service"])
        self._show(addr, window, None)

    def _do_invite_rating(self, addr: int, window: int) -> None:
        self._invite(window)

    def _rate(self, ev) -> None:
        window = self.rating_pads.get(ev.addr)
        if window is None:
            log.warning(
                "rating pad at address %d is not mapped to a window (--rating-pad)", ev.addr
            )
            return
        if self.rater is None:
            log.error("rating pad %d pressed but no --rating-device is configured", ev.addr)
            return
        args = {"window": window, "level": ev.level, "channel": "pad"}
        pending = self._prompts.pop(ev.addr, None)
        if pending is not None and time.monotonic() < pending[2]:
            # the key after a bad rating picks its reason, as the caller screen lists them
            level, reasons, _ = pending
            if ev.position is None or ev.position >= len(reasons):
                self._prompts[ev.addr] = pending  # a key with no reason: ask again
                self._serial(self.keypads.start_rating, ev.addr)
                return
            args.update(level=level, reasons=[reasons[ev.position]])
        elif ev.level <= 2:
            # a 差评 is stored only with a reason: the window's caller screen shows them, the
            # pad's next key picks one (or the citizen answers on the ticket's QR page)
            keys = len(getattr(self.keypads, "rating_map", None) or {}) or 4
            asked = self.rater.request(
                "rating.prompt", {"window": window, "level": ev.level, "keys": keys}
            )
            self._prompts[ev.addr] = (ev.level, asked["reasons"], time.monotonic() + PROMPT_S)
            self._serial(self.keypads.start_rating, ev.addr)
            log.info("window %d: rated %s, asking for the reason", window, ev.level)
            return
        result = self.rater.request("rating.submit", args)
        rating = result.get("rating") or {}
        log.info("window %d: rated %s (%s)", window, args["level"], rating.get("level_name", ""))

    # -- bus -> pad ------------------------------------------------------------------------------

    def _invite(self, window: int) -> None:
        for addr, w in self.rating_pads.items():
            if w == window:
                self._serial(self.keypads.start_rating, addr)

    def _on_rating_event(self, data: dict) -> None:
        if data.get("event") == "invite" and data.get("window") in self.rating_pads.values():
            self._invite(data["window"])
        elif data.get("event") == "submitted":
            # rated (on the QR page, say) while a pad waited for a reason: it waits no more
            window = data.get("window")

            def forget():  # on the ops thread, like the keys
                for addr, w in self.rating_pads.items():
                    if w == window:
                        self._prompts.pop(addr, None)

            try:
                self._work.submit(forget)
            except RuntimeError:  # closing down
                pass

    def _on_state(self, kind: str, value) -> None:
        if not kind.startswith("window:") or not isinstance(value, dict):
            return
        window = value.get("window")
        for addr, w in self.pads.items():
            if w == window:
                # on the ops thread, after any reply being shown: the newest state is shown last
                try:
                    self._work.submit(self._show, addr, window, value.get("serving"))
                except RuntimeError:  # closing down
                    pass

    def _on_link(self, state) -> None:
        """The line is (back) up: pads kept no display through the outage, so repaint them all."""
        if state.value == "ready":
            with self._show_lock:
                self._shown.clear()
            try:
                self._work.submit(self._repaint)
            except RuntimeError:  # closing down
                pass

    def _repaint(self) -> None:
        for addr, window in self.pads.items():
            serving = (self.caller.state["windows"].get(window) or {}).get("serving")
            self._show(addr, window, serving)

    def _show(self, addr: int, window: int, ticket: Optional[str], beep: bool = False) -> None:
        waiting = (self.caller.state["windows"].get(window) or {}).get("waiting")
        with self._show_lock:
            unchanged = self._shown.get(addr) == (waiting, ticket)
            self._shown[addr] = (waiting, ticket)
        if not unchanged or beep:
            self._serial(self.keypads.show, addr, waiting, ticket)
        if beep:
            self._serial(self.keypads.beep, addr)

    def _serial(self, fn, *args) -> None:
        from drivers.serialport import SerialLinkError

        try:
            fn(*args)
        except SerialLinkError as exc:  # the line is down: KeypadBus reopens it on its own
            with self._show_lock:
                self._shown.clear()  # so the displays are refreshed once it is back
            log.warning("%s", exc)

    def close(self) -> None:
        self._work.shutdown(wait=True, cancel_futures=True)


def _summary(result: dict) -> str:
    if "ticket" in result:
        t = result["ticket"]
        return f"ticket {t['number']} {t['status']}" if t else "nobody waiting"
    if "window" in result:
        return f"window {result['window'].get('status')}"
    return "ok"


def main(args) -> int:
    from drivers.keypad import KeypadBus
    from onewindow.bus.client import DeviceClient

    settings = device_settings(args)
    # the rating pads' identity may live in the device config too, out of `ps`
    args.rating_device = args.rating_device or settings.get("rating_device")
    args.rating_secret = args.rating_secret or settings.get("rating_secret")
    if not args.pad and not args.rating_pad:
        print("onewindow keypad: give at least one --pad ADDR=WINDOW or --rating-pad ADDR=WINDOW")
        return 2
    if args.rating_pad and not (args.rating_device and args.rating_secret):
        print(
            "onewindow keypad: --rating-pad needs --rating-device and --rating-secret, or "
            "rating_device and rating_secret in the device config "
            "(a device of role rating bound to those windows)"
        )
        return 2
    caller = DeviceClient(
        settings["mqtt"],
        settings["device"],
        settings["secret"],
        settings["hall"],
        events=("rating",),
    )
    rater = None
    if args.rating_device:
        rater = DeviceClient(
            settings["mqtt"],
            args.rating_device,
            args.rating_secret,
            settings["hall"],
            events=(),
            windows_state=False,
        )
    keypads = KeypadBus(args.port, args.baud, rating_map=args.rating_map)
    bridge = KeypadBridge(keypads, caller, rater, dict(args.pad), dict(args.rating_pad))
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    caller.start()
    if rater:
        rater.start()
    keypads.start(bridge.on_key)
    log.info(
        "keypad bridge on %s: pads %s, rating pads %s",
        args.port,
        dict(args.pad),
        dict(args.rating_pad),
    )
    stopping.wait()
    keypads.stop()
    bridge.close()
    caller.stop()
    if rater:
        rater.stop()
    return 0
