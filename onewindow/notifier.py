"""`onewindow notifier`: the call-ahead SMS, sent through the hall's GSM modem.

A device of role `notifier` on the bus, on the box the modem is plugged into. Woken by every
call and ticket event (and every few seconds besides), it asks the controller which notices are
due (`notice.pending`), sends each through the modem (drivers/modem.py: split, retried up to a
limit) and says what became of it (`notice.sent`). Sending takes seconds; it happens here, so
the controller never waits on a modem. Numbers pass through memory only: never logged.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

POLL_S = 5.0  # a notice due without an event to wake us (an estimate that moved) waits this long


class Notifier:
    def __init__(self, client, modem):
        self.client = client
        self.modem = modem
        self.wake = threading.Event()
        self.stopped = threading.Event()
        for kind in ("call", "ticket"):
            client.on_event(kind, lambda evt: self.wake.set())

    def run_once(self) -> int:
        """Send what is due now; how many went."""
        from drivers.modem import ModemError

        from .bus.client import BusError

        try:
            due = self.client.request("notice.pending", {}, timeout=5)["due"]
        except (BusError, TimeoutError) as exc:
            log.warning("notifier: the controller did not answer (%s)", type(exc).__name__)
            return 0
        sent = 0
        for n in due:
            args = {"ticket_id": n["ticket_id"], "stage": n["stage"]}
            try:
                parts = self.modem.send(n["phone"], n["text"])
                args.update(ok=True)
                sent += 1
                log.info("notifier: %s notice sent (%d part(s))", n["stage"], parts)
            except ModemError as exc:
                args.update(ok=False, reason=exc.message_zh)
                log.warning("notifier: %s notice not sent: %s", n["stage"], exc.message_en)
            try:
                self.client.request("notice.sent", args, timeout=5)
            except (BusError, TimeoutError) as exc:
                # it will be due again and sent twice rather than never: said in the log
                log.warning("notifier: could not report a notice (%s)", type(exc).__name__)
        return sent

    def run(self) -> None:
        while not self.stopped.is_set():
            self.wake.wait(POLL_S)
            self.wake.clear()
            if not self.stopped.is_set():
                self.run_once()

    def start(self) -> "Notifier":
        threading.Thread(target=self.run, name="notifier", daemon=True).start()
        self.wake.set()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()


def add_arguments(p) -> None:
    p.add_argument("--modem-port", required=True, help="the GSM modem's serial port")
    p.add_argument("--modem-baud", type=int, default=115200)
    p.add_argument("--attempts", type=int, default=3, help="tries per SMS part before giving up")


def main(args) -> int:
    import signal

    from drivers.modem import GsmModem

    from .apps import device_settings
    from .bus.client import DeviceClient

    s = device_settings(args)
    client = DeviceClient(
        s["mqtt"],
        s["device"],
        s["secret"],
        s["hall"],
        events=("call", "ticket"),
        windows_state=False,
    ).start(wait=5)
    modem = GsmModem(args.modem_port, args.modem_baud, attempts=args.attempts)
    notifier = Notifier(client, modem)
    signal.signal(signal.SIGTERM, lambda *_: notifier.stop())
    print(f"OneWindow notifier: SMS through the modem on {args.modem_port}", flush=True)
    try:
        notifier.wake.set()
        notifier.run()
    except KeyboardInterrupt:
        pass
    modem.close()
    client.stop()
    return 0


def register(sub) -> None:
    from .apps import register_command

    register_command(sub, "notifier", "onewindow.notifier", "call-ahead SMS through a GSM modem")
