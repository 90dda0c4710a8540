"""The hall's side of the uplink: the outbox's events out on `ow/<hall>/up/<kind>` (QoS 1), again
and again until the city acknowledges them (docs/protocol.md §9).

Runs on the controller's thread (bus/service.py calls it), like everything that touches the
store. The hall's Mosquitto bridges `up/#` to the city and `ack` back (broker-config --uplink);
the bridge says on `uplink/state` when its link is up (1) or down (0). Events are sent again
- from the first unacknowledged one whenever the controller (re)connects to its broker (a
  restarted broker lost what its bridge had queued), or the bridge's link comes back;
- from where the city asks (`ack` with `resend`: it saw a gap);
- when the link is up, events are waiting and no acknowledgement came for ACK_WAIT_S (the
  collector lost what it had not committed, or no collector was there).
A hall without an uplink publishes each event once and never again: nobody asked for more.
Events not acknowledged within the hall's `[uplink] keep_days` are given up: forgotten, and an
`uplink` event (`given_up`, numbered after them) tells the city which numbers it will never get,
so that it stops asking for them (a hall never bridged does not fill its disk).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta
from typing import Callable, Optional

from .. import lograte
from ..store import Store
from ..uplink import envelope

log = logging.getLogger(__name__)

SEND_BATCH = 1000  # events published per pass of the controller's loop
ACK_WAIT_S = 30.0  # no acknowledgement for this long while events wait: send them again


class Outbox:
    def __init__(
        self,
        store: Store,
        hall_id: str,
        publish: Callable[[str, bytes], None],
        clock: Callable[[], float] = time.monotonic,
        hall_now: Optional[Callable[[], datetime]] = None,
        keep_days: Callable[[], int] = lambda: 30,
    ):
        self.store = store
        self.hall_id = hall_id
        self.root = f"ow/{hall_id}"
        self.publish = publish
        self.clock = clock
        self.hall_now = hall_now
        self.keep_days = keep_days  # read each time: the console may change the hall file
        self._gave_up_on: Optional[date] = None  # the hall day the old events were last looked at
        self.sent = store.outbox_state()[1]  # published up to here (on this connection)
        self.link_up: Optional[bool] = None  # what the bridge last said; None: no bridge seen
        self._waiting_since: Optional[float] = None  # no ack progress since then

    @property
    def ack_topic(self) -> str:
        return f"{self.root}/ack"

    @property
    def state_topic(self) -> str:
        return f"{self.root}/uplink/state"

    def topic(self, kind: str) -> str:
        return f"{self.root}/up/{kind}"

    def rewind(self, why: str) -> None:
        """Send everything not acknowledged again, from the first."""
        acked = self.store.outbox_state()[1]
        if self.sent > acked:
            log.info("uplink: sending events %d.. again (%s)", acked + 1, why)
        self.sent = acked
        self._waiting_since = None

    def message(self, topic: str, payload: bytes) -> bool:
        """An acknowledgement or the bridge's link state; False for any other topic. Never raises
        for what arrives (the city's or anyone's bytes)."""
        if topic == self.state_topic:
            up = payload.strip() == b"1"
            if up and self.link_up is not True:
                self.link_up = True
                self.rewind("the uplink is back")
            elif not up:
                self.link_up = False
            return True
        if topic != self.ack_topic:
            return False
        try:
            body = json.loads(payload)
            upto = int(body["upto"])
            resend = bool(body.get("resend", False))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError):
            lograte.warn(log, "ack", "uplink: unreadable acknowledgement ignored: %.80r", payload)
            return True
        before = self.store.outbox_state()[1]
        acked = self.store.outbox_ack(upto)
        if acked > before:
            self._waiting_since = None
        if resend:
            self.sent = min(self.sent, max(acked, upto))
        return True

    def pump(self) -> bool:
        """Publish what is not yet sent on this connection; True when more is waiting."""
        rows = self.store.outbox_after(self.sent, SEND_BATCH)
        for seq, kind, at, body in rows:
            self.publish(self.topic(kind), envelope(self.hall_id, seq, kind, at, body))
            self.sent = seq
        return len(rows) == SEND_BATCH

    def check(self) -> None:
        """On the controller's tick: events waiting long without an acknowledgement go again
        (only while the bridge says its link is up: a hall without one sends once); events
        older than keep_days are given up."""
        if self.hall_now is not None and self.hall_now().date() != self._gave_up_on:
            # once a hall day, whole days at a time: one notice and one log line a day at most
            today = self.hall_now()
            self._gave_up_on = today.date()
            days = self.keep_days()
            cut = datetime.combine(
                today.date() - timedelta(days=days), datetime.min.time(), today.tzinfo
            )
            given = self.store.outbox_give_up(cut, today)
            if given:
                log.warning(
                    "uplink: %d events up to number %d were not acknowledged by the city within "
                    "%d days and are given up (the city is told); is the hall bridged "
                    "(broker-config --uplink)?",
                    given[1],
                    given[0],
                    days,
                )
                self.sent = max(self.sent, given[0])
        last, acked = self.store.outbox_state()
        if last == acked or self.link_up is not True:
            self._waiting_since = None
            return
        now = self.clock()
        if self._waiting_since is None:
            self._waiting_since = now
        elif now - self._waiting_since >= ACK_WAIT_S:
            self.rewind(f"no acknowledgement for {ACK_WAIT_S:.0f} s")
