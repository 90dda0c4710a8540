"""What the controller has read from the broker and not yet handled: one queue in arrival order.

Each message is classified once, as it is read (a device's request, a device's presence, the
uplink's acknowledgements, the platform's appointments), so the loop never parses a topic again.
A device's requests beyond its burst are dropped here, unanswered: a device writing thousands at
once cannot queue them ahead of the other devices' requests.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Callable, NamedTuple, Optional

from .topics import Topics

REQUEST = "request"  # device: the device that sent it
STATUS = "status"  # device: the device whose presence (online/offline) changed
UPLINK = "uplink"  # the city's acknowledgements of the outbox, and the bridge's state
DOWN = "down"  # an appointment record from the provincial platform, over the bridge


class Message(NamedTuple):
    kind: str
    device: Optional[str]
    topic: str
    payload: bytes


class Intake:
    def __init__(
        self,
        topics: Topics,
        down_topic: str,
        uplink_topics: tuple[str, ...],
        burst_of: Callable[[str], int],
        on_flood: Callable[[str], None],
    ):
        """`burst_of(device)`: how many of its requests may wait at once; `on_flood(device)`:
        one request of it was dropped for going beyond that."""
        self._topics = topics
        self._down = down_topic
        self._uplink = uplink_topics
        self._burst_of = burst_of
        self._on_flood = on_flood
        self._queue: deque[Message] = deque()
        self._waiting: Counter[str] = Counter()  # per device: its requests in the queue

    def __bool__(self) -> bool:
        return bool(self._queue)

    def read(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Queue one message the broker delivered; what the controller has no use for is left."""
        if topic in self._uplink:
            self._queue.append(Message(UPLINK, None, topic, payload))
        elif topic == self._down:
            self._queue.append(Message(DOWN, None, topic, payload))
        elif (device := self._topics.device_of(topic, "req")) is not None:
            if retained:
                return  # a request left retained would be replayed at every reconnect
            waiting = self._waiting[device]
            if waiting and waiting >= self._burst_of(device):
                self._on_flood(device)
                return
            self._waiting[device] = waiting + 1
            self._queue.append(Message(REQUEST, device, topic, payload))
        elif topic.endswith("/status"):
            device = self._topics.device_of(topic[: -len("/status")], "dev")
            if device is not None:
                self._queue.append(Message(STATUS, device, topic, payload))

    def take(self, most: int) -> list[Message]:
        """Up to `most` messages, oldest first. Their devices' counts are released now, before
        anything can fail on them: a device is never left counted for requests already gone."""
        batch: list[Message] = []
        while self._queue and len(batch) < most:
            message = self._queue.popleft()
            if message.kind == REQUEST and message.device is not None:
                left = self._waiting[message.device] - 1
                if left > 0:
                    self._waiting[message.device] = left
                else:
                    del self._waiting[message.device]
            batch.append(message)
        return batch
