"""Retained state, as the views say it is now, sent wherever it differs from what was last sent.

Nothing keeps a list of what changed: after each batch the views are computed and compared with
the last ones sent. Two kinds of change are paced, since every device reads them and a busy
hall makes them many times a second: the queues' counts go out at most five times a second,
and a change to a window that is only its `waiting` count and `next` list goes out in a round
once a second, at most `PACED_WINDOWS` windows a round, those waiting longest first (a window's
own acts, a call or a pause, go out at once). In a hall of a hundred comprehensive windows every
call changes every window's `next`: so the bytes a call costs stay bounded, and each window's
list is at most a few seconds old. The alert list has a topic of its own, so the hall's state
stays small however many alerts there are.

A window's view is only computed when something it is made of moved (`Views.window_deps`:
counters the ticket index keeps, the window's own state, the minute), since a call would
otherwise compute a hundred windows' views to find that they are the same.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Callable, Optional

from .. import lograte

log = logging.getLogger(__name__)

QUEUES_EVERY_S = 0.2  # waiting counts go to every device: at most 5 times a second
QUEUES_COST_SHARE = 20  # ... and no more often than 20 times what computing them took
WAITING_EVERY_S = 1.0  # a window's `waiting` and `next` alone: in a round once a second
PACED_WINDOWS = 20  # ... of at most this many windows, the longest-waiting first
# a request waiting puts off the queues' view (milliseconds of estimates in a big hall), for
# at most this long after it was last computed: a hall that never pauses still sees its counts
QUEUES_DEFER_S = 2.0
HEARTBEAT_S = 60.0  # hall state carries the time; displays use it as a heartbeat


class StatePublisher:
    def __init__(
        self,
        publish: Callable[[str, bytes], None],
        topics,
        views,
        input_waiting: Callable[[], bool],
    ):
        self._publish = publish  # (topic, payload): retained, QoS 1
        self.topics = topics
        self.views = views
        self.input_waiting = input_waiting
        self.sent: dict = {}  # key -> the view last sent
        self._sent_at: dict = {}  # key -> when (monotonic)
        self._deps: dict[int, tuple] = {}  # window -> what its last computed view was made of
        self._round_at = 0.0  # when the next round of paced window changes may go
        self._round_sent = 0  # windows sent in the round under way (a request cut it short)
        self._queues_key = None  # what the queues' view last computed depended on
        self._queues_at = 0.0  # when it was computed
        self._queues_every = QUEUES_EVERY_S
        self.bytes_sent = 0  # for the benchmarks: what state costs the broker

    def forget(self) -> None:
        """The broker may have lost every retained copy (it restarted): send everything."""
        self.sent.clear()
        self._sent_at.clear()
        self._deps.clear()
        self._queues_key = None

    def publish(self, window_numbers) -> Optional[float]:
        """Send what differs. Returns when (monotonic) paced changes are due, or None; 0.0 when
        a request arrived meanwhile and the rest should follow it."""
        now = time.monotonic()
        hall = self.views.hall()
        if hall != self.sent.get("hall") or now - self._sent_at.get("hall", 0.0) >= HEARTBEAT_S:
            self._send(
                "hall",
                self.topics.state_hall,
                {**hall, "updated_at": self.views.ctl.now().isoformat()},
                hall,
                now,
            )
        alerts = self.views.alerts()
        if alerts != self.sent.get("alerts"):
            self._send("alerts", self.topics.state_alerts, alerts, alerts, now)
        due: list[float] = []
        key = self.views.queues_key()
        if key != self._queues_key:
            at = self._queues_at + self._queues_every
            if now >= at and now - self._queues_at < QUEUES_DEFER_S and self.input_waiting():
                return 0.0  # a big hall's estimates take milliseconds: the request goes first
            if now >= at:
                started = time.perf_counter()
                queues = self.views.queues()
                # a big hall's estimates take a while: never more than 5% of the controller
                self._queues_every = max(
                    QUEUES_EVERY_S, QUEUES_COST_SHARE * (time.perf_counter() - started)
                )
                self._queues_key, self._queues_at = key, now
                if queues != self.sent.get("queues"):
                    self._send("queues", self.topics.state_queues, queues, queues, now)
            else:
                due.append(at)
        first = True
        paced: list[int] = []
        for n in window_numbers:
            deps = self.views.window_deps(n)
            last = self._deps.get(n)
            if last == deps:
                continue
            if last is not None and last[0] == deps[0]:
                paced.append(n)  # only its queues moved: `waiting` and `next` at most
                continue
            if not first and self.input_waiting():
                return 0.0  # a request came in: it goes first, the rest right after
            first = False
            self._send_window(n, deps, now)
        if paced:
            if now < self._round_at:
                due.append(self._round_at)
            else:
                paced.sort(key=lambda n: self._sent_at.get(("window", n), 0.0))
                share = paced[: PACED_WINDOWS - self._round_sent]
                for i, n in enumerate(share):
                    if i and self.input_waiting():
                        return 0.0  # the round goes on after the request
                    self._send_window(n, self.views.window_deps(n), now)
                    self._round_sent += 1
                self._round_sent = 0
                self._round_at = now + WAITING_EVERY_S
                if len(paced) > len(share):
                    due.append(self._round_at)
        return min(due) if due else None

    def _send_window(self, n: int, deps: tuple, now: float) -> None:
        key = ("window", n)
        view = self.views.window(n)
        self._deps[n] = deps
        if view != self.sent.get(key):
            self._send(key, self.topics.state_window(n), view, view, now)

    def _send(self, key, topic: str, payload: dict, view: dict, now: float) -> None:
        try:
            data = json.dumps(
                payload, ensure_ascii=False, separators=(",", ":"), default=str
            ).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            lograte.error(
                log, ("encode", "state"), "state %s could not be encoded (%s): not sent", key, exc
            )
            return
        self._publish(topic, data)
        self.bytes_sent += len(data)
        self.sent[key] = view
        self._sent_at[key] = now
